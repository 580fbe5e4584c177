package resilience_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/provider/mcv1"
	"github.com/tokentrip/tokentrip/provider/mcv1/mcv1test"
	"github.com/tokentrip/tokentrip/transport"
)

// TestTokenEndpointFaultsAreRetried: twenty callers need a token while the token
// endpoint misbehaves. Transient failures are retried inside one shared fetch, so no
// caller sees them; a failure that outlasts the retries, and rejected credentials,
// reach every caller as a typed error after a bounded number of requests.
func TestTokenEndpointFaultsAreRetried(t *testing.T) {
	const callers = 20
	tests := []struct {
		name         string
		fault        func(srv *mcv1test.Server)
		wantRequests int
		wantErr      error // nil: every call succeeds
	}{
		{
			name:         "500 three times",
			fault:        func(srv *mcv1test.Server) { srv.FailTokenRequests(3, http.StatusInternalServerError, 0) },
			wantRequests: 4,
		},
		{
			name:         "503 three times",
			fault:        func(srv *mcv1test.Server) { srv.FailTokenRequests(3, http.StatusServiceUnavailable, 0) },
			wantRequests: 4,
		},
		{
			name:         "429 three times",
			fault:        func(srv *mcv1test.Server) { srv.FailTokenRequests(3, http.StatusTooManyRequests, 0) },
			wantRequests: 4,
		},
		{
			name:         "503 past the retries",
			fault:        func(srv *mcv1test.Server) { srv.FailTokenRequests(100, http.StatusServiceUnavailable, 0) },
			wantRequests: 5, // the first attempt and the default 4 retries
			wantErr:      transport.ErrEndpoint,
		},
		{
			name:         "credentials rejected",
			fault:        func(srv *mcv1test.Server) { srv.RevokeClient(mcv1test.DefaultClientID) },
			wantRequests: 1, // a 401 is final: never retried
			wantErr:      transport.ErrCredentialsRejected,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// The clock stands still, so the Source's backoff after a failed fetch
			// never lets a second fetch start: every request counted is a retry.
			h := newHarness(t, frozenClock(manualClock()))
			tt.fault(h.srv)

			outs := concurrently(callers, func() outcome { return restAPI.call(t.Context(), h) })

			failed := failures(outs)
			t.Logf("FIGURE %s: %d callers, %d failed calls, %d token requests", tt.name, callers, len(failed), h.tokenRequests())
			if got := h.tokenRequests(); got != tt.wantRequests {
				t.Errorf("token requests = %d, want %d", got, tt.wantRequests)
			}
			if tt.wantErr == nil {
				mustSucceed(t, "calls during the fault", outs...)
				return
			}
			if len(failed) != callers {
				t.Fatalf("%d of %d calls failed, want all", len(failed), callers)
			}
			for _, o := range failed {
				wantKind(t, "failed call", o.err, tt.wantErr)
			}
		})
	}
}

// TestRetryAfterIsHonoured: a 429 with Retry-After makes the token client wait that
// long before it asks again, up to RetryPolicy.MaxRetryAfter, and then the call
// succeeds. The wait is real time: it is what is under test.
func TestRetryAfterIsHonoured(t *testing.T) {
	tests := []struct {
		name               string
		retryAfter         time.Duration
		maxRetryAfter      time.Duration // 0: the default, 30s
		wantMin, wantUnder time.Duration
	}{
		{name: "Retry-After 1", retryAfter: time.Second, wantMin: time.Second, wantUnder: 3 * time.Second},
		{name: "Retry-After 30 capped at 250ms", retryAfter: 30 * time.Second, maxRetryAfter: 250 * time.Millisecond, wantMin: 250 * time.Millisecond, wantUnder: 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, setup{config: func(cfg *mcv1.Config) { cfg.Retry.MaxRetryAfter = tt.maxRetryAfter }})
			h.srv.FailTokenRequests(1, http.StatusTooManyRequests, tt.retryAfter)

			mustSucceed(t, "call after a 429", restAPI.call(t.Context(), h))

			ex := h.tap.seen()
			if len(ex) != 2 || ex[0].status != http.StatusTooManyRequests || ex[1].status != http.StatusOK {
				t.Fatalf("token exchanges %+v, want a 429 then a 200", ex)
			}
			waited := ex[1].sent.Sub(ex[0].answered)
			t.Logf("FIGURE %s: waited %v between the 429 and the next token request, %d token requests, 0 failed calls", tt.name, waited.Round(time.Millisecond), len(ex))
			if waited < tt.wantMin || waited >= tt.wantUnder {
				t.Errorf("waited %v, want at least %v and under %v", waited, tt.wantMin, tt.wantUnder)
			}
		})
	}
}
