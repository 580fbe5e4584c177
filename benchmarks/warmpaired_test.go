package benchmarks

import (
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// pairedSlice is how many requests one goroutine sends through one RoundTripper per
// timed slice in BenchmarkWarmPathPaired: about a tenth of a millisecond, far
// shorter than a scheduler's time slice, and far longer than reading the clock.
const pairedSlice = 256

// BenchmarkWarmPathPaired measures the RoundTrippers of BenchmarkWarmPath in
// alternation rather than one after another. Each of GOMAXPROCS goroutines sends
// slices of 256 requests through each RoundTripper in turn, the order rotating from
// turn to turn, and times every slice; the figure of a RoundTripper is its median
// slice, so that the slices during which another process took the CPU drop out. It
// reports each one's median divided by the limit's (NAME÷limit). On a busy machine,
// where BenchmarkWarmPath's medians, taken seconds apart, move by tens of per cent,
// these ratios stay within a few per cent (the limit against a copy of itself reads
// 1.00 ± 0.04 there). One iteration is one request through each RoundTripper.
func BenchmarkWarmPathPaired(b *testing.B) {
	req, rts := warmPathTransports(b)
	procs := runtime.GOMAXPROCS(0)
	turns := (b.N + procs*pairedSlice - 1) / (procs * pairedSlice) // per goroutine
	slicesOf := make([][][]time.Duration, procs)                   // [goroutine][RoundTripper][turn]
	var wg sync.WaitGroup
	errs := make(chan error, procs)
	b.ResetTimer()
	for g := range procs {
		slicesOf[g] = make([][]time.Duration, len(rts))
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := slicesOf[g]
			for turn := range turns {
				for k := range rts {
					i := (turn + g + k) % len(rts)
					start := time.Now()
					for range pairedSlice {
						if _, err := rts[i].rt.RoundTrip(req); err != nil {
							errs <- err
							return
						}
					}
					mine[i] = append(mine[i], time.Since(start))
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	medians := make([]float64, len(rts))
	for i := range rts {
		var all []time.Duration
		for g := range procs {
			all = append(all, slicesOf[g][i]...)
		}
		slices.Sort(all)
		medians[i] = float64(all[len(all)/2])
	}
	limit := medians[len(rts)-1]
	for i, c := range rts[:len(rts)-1] {
		b.ReportMetric(medians[i]/limit, c.name+"÷limit")
	}
}
