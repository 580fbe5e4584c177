package benchmarks

import (
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/oauth2"

	"github.com/tokentrip/tokentrip/transport"
)

// concurrentCallers is how many goroutines call at once in BenchmarkConcurrentCalls.
const concurrentCallers = 100

// BenchmarkConcurrentCalls sends authenticated calls from 100 goroutines at once to
// a loopback API through each library's default base, and reports the connections
// the server accepted per 1,000 calls (conns/1000calls) once a warm-up has filled
// the pool: tokentrip's Transport over DefaultBase, and x/oauth2's Transport over
// http.DefaultTransport, which keeps 2 idle connections per host. ns/op is the
// time per call with 100 in flight.
func BenchmarkConcurrentCalls(b *testing.B) {
	l := newLoopback(b)
	cc := &clientCredentials{client: &http.Client{}, url: l.srv.URL + "/token", id: "client", secret: "benchmark-secret"}
	kinds := []struct {
		name string
		rt   http.RoundTripper
	}{
		{"tokentrip", transport.New(transport.NewSource(cc, transport.Settings{}), transport.Options{Hosts: []string{l.srv.Listener.Addr().String()}})},
		{"oauth2", &oauth2.Transport{Source: oauth2.ReuseTokenSource(nil, cc)}},
	}
	for _, k := range kinds {
		b.Run(k.name, func(b *testing.B) {
			// Warm-up: every caller makes a few calls, so that the pool holds the
			// connections it is going to keep.
			if err := callConcurrently(l, k.rt, concurrentCallers*20); err != nil {
				b.Fatal(err)
			}
			opened := l.conns.Load()
			b.ResetTimer()
			if err := callConcurrently(l, k.rt, b.N); err != nil {
				b.Fatal(err)
			}
			b.StopTimer()
			b.ReportMetric(float64(l.conns.Load()-opened)*1000/float64(b.N), "conns/1000calls")
		})
	}
}

// callConcurrently makes n calls through rt from concurrentCallers goroutines.
func callConcurrently(l *loopback, rt http.RoundTripper, n int) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, concurrentCallers)
	for range concurrentCallers {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				if err := l.call(rt); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}
