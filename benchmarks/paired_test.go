package benchmarks

import (
	"bytes"
	"fmt"
	"io"
	"testing"
	"time"
)

// BenchmarkInjectPaired measures the ratios that the injection claims rest
// on, in a way that load on a shared machine cannot skew: every iteration
// runs tokentrip, the rawtoken anchor and the plain copy one after the
// other on the same envelope (in alternating order), so that all three
// meet the same conditions, and the ratios are taken from their summed
// times. It reports tokentrip's ns/op, the anchor's and the copy's as
// rawtoken-ns/op and copy-ns/op, and the ratios tokentrip/rawtoken and
// tokentrip/copy. Over several runs, benchstat gives each ratio's median
// and its confidence interval (see bench-inject.sh).
func BenchmarkInjectPaired(b *testing.B) {
	for _, header := range []bool{true, false} {
		for _, size := range injectSizes {
			doc := createRequest(size.bytes, header)
			b.Run(fmt.Sprintf("header=%t/size=%s", header, size.name), func(b *testing.B) {
				t := benchPaired(b, doc, tokentripInject, rawTokenInject, plainCopy)
				b.ReportMetric(t[0], "ns/op")
				b.ReportMetric(t[1], "rawtoken-ns/op")
				b.ReportMetric(t[2], "copy-ns/op")
				b.ReportMetric(t[0]/t[1], "tokentrip/rawtoken")
				b.ReportMetric(t[0]/t[2], "tokentrip/copy")
			})
		}
	}
}

// BenchmarkInjectNamespaces is tokentrip on an envelope of 1 MiB that is
// all prefix: a Header of about 140,000 empty elements under an Envelope
// with 35,000 namespace declarations, paired as BenchmarkInjectPaired pairs
// its runs with the same envelope with ordinary attributes of the same
// length in place of the declarations, which is tokenized alike but has
// nothing to look up. It reports the first's ns/op, the second's as
// plain-ns/op, and their ratio as decls/plain.
func BenchmarkInjectNamespaces(b *testing.B) {
	hostile, plain := manyDeclarations(35000, false), manyDeclarations(35000, true)
	// benchPaired hands each a stream of hostile; the second reads plain,
	// of the same length, instead.
	t := benchPaired(b, hostile,
		tokentripInject,
		func(w io.Writer, _ io.Reader) error {
			return tokentripInject(w, struct{ io.Reader }{bytes.NewReader(plain)})
		})
	b.ReportMetric(t[0], "ns/op")
	b.ReportMetric(t[1], "plain-ns/op")
	b.ReportMetric(t[0]/t[1], "decls/plain")
}

// benchPaired runs each of impls in turn, in every iteration, from a
// stream of doc into io.Discard, and returns the mean time of one run of
// each, in nanoseconds. Small envelopes are run in batches of about 32 KiB
// so that reading the clock costs nothing next to them.
func benchPaired(b *testing.B, doc []byte, impls ...func(dst io.Writer, src io.Reader) error) []float64 {
	reps := max(1, (32<<10)/len(doc))
	r := bytes.NewReader(doc)
	stream := struct{ io.Reader }{r} // hides WriteTo, as a network body would
	total := make([]time.Duration, len(impls))
	runs := 0
	for i := 0; b.Loop(); i++ {
		for j := range impls {
			k := j
			if i%2 == 1 {
				k = len(impls) - 1 - j
			}
			start := time.Now()
			for range reps {
				r.Reset(doc)
				if err := impls[k](io.Discard, stream); err != nil {
					b.Fatal(err)
				}
			}
			total[k] += time.Since(start)
		}
		runs += reps
	}
	mean := make([]float64, len(impls))
	for k, d := range total {
		mean[k] = float64(d.Nanoseconds()) / float64(runs)
	}
	return mean
}
