package resilience_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/transport"
)

// TestSlowTokenEndpointTimesOut: a token endpoint that does not answer costs the
// caller a bounded wait and a typed error, and leaves no goroutine behind. The
// endpoint would take a minute; each bound is a fraction of a second of real time,
// since a timeout is what is under test.
func TestSlowTokenEndpointTimesOut(t *testing.T) {
	tests := []struct {
		name         string
		retry        provider.Retry
		fetchTimeout time.Duration // 0: the default, a minute
		callerWait   time.Duration // 0: the caller waits as long as tokentrip does
		wantRequests int
		wantUnder    time.Duration // how soon the caller has its error
		callerErr    []error       // what the caller's error matches
	}{
		{
			name:         "attempt timeout, no retry",
			retry:        provider.Retry{AttemptTimeout: 100 * time.Millisecond, MaxRetries: -1},
			wantRequests: 1,
			wantUnder:    2 * time.Second,
			callerErr:    []error{transport.ErrTimeout, transport.ErrEndpoint},
		},
		{
			name:         "attempt timeout, retried twice",
			retry:        provider.Retry{AttemptTimeout: 100 * time.Millisecond, MaxRetries: 2, WaitMin: time.Millisecond, WaitMax: time.Millisecond},
			wantRequests: 3,
			wantUnder:    3 * time.Second,
			callerErr:    []error{transport.ErrTimeout, transport.ErrEndpoint},
		},
		{
			name:         "fetch deadline",
			retry:        provider.Retry{AttemptTimeout: time.Minute},
			fetchTimeout: 150 * time.Millisecond,
			wantRequests: 1,
			wantUnder:    2 * time.Second,
			callerErr:    []error{transport.ErrTimeout, transport.ErrEndpoint},
		},
		{
			name:         "caller deadline",
			retry:        provider.Retry{AttemptTimeout: time.Minute},
			fetchTimeout: 300 * time.Millisecond,
			callerWait:   50 * time.Millisecond,
			wantRequests: 1,
			wantUnder:    time.Second,
			callerErr:    []error{context.DeadlineExceeded},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Registered first, so it runs after every other cleanup: the emulator
			// and the connections are closed by then.
			others := goleak.IgnoreCurrent()
			t.Cleanup(func() { goleak.VerifyNone(t, others) })

			fetchEnded := make(chan error, 1)
			h := newHarness(t, mcv1Vendor, setup{
				tokenLatency: time.Minute,
				settings: func(s *settings) {
					s.HTTPClient = nil // the token client a user gets by default
					s.Retry = tt.retry
					s.Source.Hook = func(ev transport.Event) {
						if ev.Kind == transport.EventFetchFailed {
							fetchEnded <- ev.Err
						}
					}
					if tt.fetchTimeout > 0 {
						s.Source.FetchTimeout = tt.fetchTimeout
					}
				},
			})
			ctx := t.Context()
			if tt.callerWait > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.callerWait)
				defer cancel()
			}

			o := h.rest(ctx)
			wantKind(t, "caller", o.err, tt.callerErr...)
			if o.took >= tt.wantUnder {
				t.Errorf("the caller waited %v, want under %v", o.took, tt.wantUnder)
			}
			// The shared fetch ends by its own deadline, whether or not the caller
			// stayed for it, with the typed timeout.
			var fetchErr error
			select {
			case fetchErr = <-fetchEnded:
			case <-time.After(10 * time.Second):
				t.Fatal("the fetch did not end")
			}
			wantKind(t, "fetch", fetchErr, transport.ErrTimeout, transport.ErrEndpoint)
			if fe, ok := errors.AsType[*transport.FetchError](fetchErr); !ok || fe.Provider != "mcv1" || fe.Hint == "" {
				t.Errorf("fetch error %#v, want a *transport.FetchError from mcv1 with a hint", fetchErr)
			}
			if got := h.tokenRequests(); got != tt.wantRequests {
				t.Errorf("token requests = %d, want %d", got, tt.wantRequests)
			}
			t.Logf("FIGURE %s: caller's error after %v (%v), %d token requests", tt.name, o.took.Round(time.Millisecond), o.err, h.tokenRequests())
		})
	}
}
