package benchmarks

import (
	"fmt"
	"net/http"
	"runtime"
	"testing"

	"golang.org/x/oauth2"

	"github.com/tokentrip/tokentrip/transport"
)

// BenchmarkCredentials measures what one credential costs in live heap, for an
// application that keeps many tenants' credentials at once: n RoundTrippers over
// one shared base transport and one shared token-endpoint client, each fetching
// its own 1 KiB token from a loopback endpoint. It reports heap bytes per
// credential once all are built (B/cred-before) and once each has made one
// authenticated call (B/cred-after), for tokentrip's Source and Transport and for
// x/oauth2's Transport over a ReuseTokenSource. Both fetch with the same client
// code, so they differ only in what they keep. Run it with -benchtime=1x: one
// iteration builds and calls all n credentials.
func BenchmarkCredentials(b *testing.B) {
	l := newLoopback(b)
	base := &http.Transport{MaxIdleConnsPerHost: 16}
	b.Cleanup(base.CloseIdleConnections)
	endpoint := &http.Client{Transport: base}
	host := l.srv.Listener.Addr().String()
	tokenURL := l.srv.URL + "/token"

	kinds := []struct {
		name string
		make func(cc *clientCredentials) http.RoundTripper
	}{
		{"tokentrip", func(cc *clientCredentials) http.RoundTripper {
			return transport.New(transport.NewSource(cc, transport.Settings{}), transport.Options{Hosts: []string{host}, Base: base})
		}},
		{"oauth2", func(cc *clientCredentials) http.RoundTripper {
			return &oauth2.Transport{Source: oauth2.ReuseTokenSource(nil, cc), Base: base}
		}},
	}
	for _, n := range []int{1000, 10000} {
		for _, k := range kinds {
			b.Run(fmt.Sprintf("n=%d/%s", n, k.name), func(b *testing.B) {
				newCred := func(i int) http.RoundTripper {
					return k.make(&clientCredentials{client: endpoint, url: tokenURL,
						id: fmt.Sprintf("client-%05d", i), secret: "benchmark-secret"})
				}
				// One credential used before the count opens the connections the
				// shared base keeps, so that they are not charged to the first one.
				if err := l.call(newCred(-1)); err != nil {
					b.Fatal(err)
				}
				var before, after float64
				for range b.N {
					creds := make([]http.RoundTripper, n)
					heap0 := liveHeap()
					for i := range creds {
						creds[i] = newCred(i)
					}
					heap1 := liveHeap()
					for _, rt := range creds {
						if err := l.call(rt); err != nil {
							b.Fatal(err)
						}
					}
					heap2 := liveHeap()
					runtime.KeepAlive(creds)
					before += float64(heap1-heap0) / float64(n)
					after += float64(heap2-heap0) / float64(n)
				}
				b.ReportMetric(before/float64(b.N), "B/cred-before")
				b.ReportMetric(after/float64(b.N), "B/cred-after")
			})
		}
	}
}

// liveHeap returns the bytes of live heap objects after a full collection.
func liveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
