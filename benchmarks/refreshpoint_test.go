package benchmarks

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/tokentrip/tokentrip/internal/providerfunc"
	"github.com/tokentrip/tokentrip/transport"
)

// endpointLatency is how long the emulated token endpoint takes to answer.
const endpointLatency = 50 * time.Millisecond

// BenchmarkRefreshPoint runs callers across token refresh points with a 50 ms token
// endpoint and reports how many calls waited longer than 5 ms (blocked/op) and the
// longest wait (maxwait-ms): tokentrip refreshes ahead in the background, x/oauth2's
// ReuseTokenSource fetches on the caller's path once the token expires. Run it with
// -benchtime=3x: each iteration lasts about 400 ms.
func BenchmarkRefreshPoint(b *testing.B) {
	b.Run("tokentrip", func(b *testing.B) {
		runRefreshPoint(b, func() func() error {
			src := transport.NewSource(providerfunc.Func(func(context.Context) (transport.Token, error) {
				time.Sleep(endpointLatency) // emulated endpoint latency
				return transport.Token{AccessToken: "t", Expiry: time.Now().Add(200 * time.Millisecond)}, nil
			}), transport.Settings{RefreshLead: 100 * time.Millisecond})
			return func() error { _, err := src.Token(context.Background()); return err }
		})
	})
	b.Run("oauth2", func(b *testing.B) {
		runRefreshPoint(b, func() func() error {
			// x/oauth2 treats a token as expired 10 s before its Expiry.
			ts := oauth2.ReuseTokenSource(nil, tokenSourceFunc(func() (*oauth2.Token, error) {
				time.Sleep(endpointLatency) // emulated endpoint latency
				return &oauth2.Token{AccessToken: "t", Expiry: time.Now().Add(10*time.Second + 100*time.Millisecond)}, nil
			}))
			return func() error { _, err := ts.Token(); return err }
		})
	})
}

type tokenSourceFunc func() (*oauth2.Token, error)

func (f tokenSourceFunc) Token() (*oauth2.Token, error) { return f() }

func runRefreshPoint(b *testing.B, setup func() func() error) {
	const callers, runFor, slow = 8, 400 * time.Millisecond, 5 * time.Millisecond
	var blocked, maxWait atomic.Int64
	for range b.N {
		get := setup()
		if err := get(); err != nil { // the first, cold fetch is not counted
			b.Fatal(err)
		}
		deadline := time.Now().Add(runFor)
		var wg sync.WaitGroup
		for range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Now().Before(deadline) {
					start := time.Now()
					if err := get(); err != nil {
						b.Error(err)
						return
					}
					wait := time.Since(start)
					if wait > slow {
						blocked.Add(1)
					}
					for {
						cur := maxWait.Load()
						if int64(wait) <= cur || maxWait.CompareAndSwap(cur, int64(wait)) {
							break
						}
					}
					time.Sleep(100 * time.Microsecond) // pace the callers like real traffic
				}
			}()
		}
		wg.Wait()
	}
	b.ReportMetric(float64(blocked.Load())/float64(b.N), "blocked/op")
	b.ReportMetric(float64(maxWait.Load())/float64(time.Millisecond), "maxwait-ms")
}
