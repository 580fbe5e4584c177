package benchmarks

import (
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"
)

// pairedSlice is how many requests each RoundTripper sends per turn in
// BenchmarkWarmPathPaired: a few milliseconds' worth, long enough that starting the
// goroutines of a turn (the same for every RoundTripper) costs about 0.1 %.
const pairedSlice = 4096

// BenchmarkWarmPathPaired measures the RoundTrippers of BenchmarkWarmPath in
// alternation rather than one after another: in turns of a few milliseconds each,
// the order rotating from turn to turn, each sends a slice of requests on
// GOMAXPROCS goroutines. It reports each one's time per request divided by the
// limit's (NAME÷limit). Load from other processes then weighs on all of them alike,
// so the ratios hold still on a busy machine where BenchmarkWarmPath's medians,
// taken seconds apart, move by tens of per cent. One iteration is one request
// through each RoundTripper; ns/op is their sum.
func BenchmarkWarmPathPaired(b *testing.B) {
	req, rts := warmPathTransports(b)
	procs := runtime.GOMAXPROCS(0)
	spent := make([]time.Duration, len(rts))
	b.ResetTimer()
	for turn := 0; turn*pairedSlice < b.N; turn++ {
		n := min(pairedSlice, b.N-turn*pairedSlice)
		for k := range rts {
			i := (turn + k) % len(rts)
			start := time.Now()
			if err := sendParallel(rts[i].rt, req, n, procs); err != nil {
				b.Fatal(err)
			}
			spent[i] += time.Since(start)
		}
	}
	b.StopTimer()
	limit := spent[len(rts)-1]
	for i, c := range rts[:len(rts)-1] {
		b.ReportMetric(float64(spent[i])/float64(limit), c.name+"÷limit")
	}
}

// sendParallel sends n requests through rt from procs goroutines.
func sendParallel(rt http.RoundTripper, req *http.Request, n, procs int) error {
	var wg sync.WaitGroup
	errs := make(chan error, procs)
	for p := range procs {
		share := n / procs
		if p < n%procs {
			share++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range share {
				if _, err := rt.RoundTrip(req); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}
