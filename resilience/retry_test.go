package resilience_test

import (
	"net/http"
	"testing"
	"time"

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
		fault        func(t *testing.T, h *harness)
		wantRequests int
		wantErr      error // nil: every call succeeds
	}{
		{
			name:         "500 three times",
			fault:        failTokenRequests(3, http.StatusInternalServerError),
			wantRequests: 4,
		},
		{
			name:         "503 three times",
			fault:        failTokenRequests(3, http.StatusServiceUnavailable),
			wantRequests: 4,
		},
		{
			name:         "429 three times",
			fault:        failTokenRequests(3, http.StatusTooManyRequests),
			wantRequests: 4,
		},
		{
			name:         "503 past the retries",
			fault:        failTokenRequests(100, http.StatusServiceUnavailable),
			wantRequests: 5, // the first attempt and the default 4 retries
			wantErr:      transport.ErrEndpoint,
		},
		{
			name:         "credentials rejected",
			fault:        revokeCredentials,
			wantRequests: 1, // a 401 is final: never retried
			wantErr:      transport.ErrCredentialsRejected,
		},
	}
	for _, v := range vendors {
		for _, tt := range tests {
			t.Run(v.name+" "+tt.name, func(t *testing.T) {
				t.Parallel()
				// The clock stands still, so the Source's backoff after a failed
				// fetch never lets a second fetch start: every request counted is
				// an attempt of the one shared fetch.
				h := newHarness(t, v, setup{clock: manualClock().Now})
				tt.fault(t, h)

				outs := concurrently(callers, func() outcome { return h.rest(t.Context()) })

				failed := failures(outs)
				t.Logf("FIGURE %s %s: %d callers, %d failed calls, %d token requests", v.name, tt.name, callers, len(failed), h.tokenRequests())
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
	for _, v := range vendors {
		for _, tt := range tests {
			t.Run(v.name+" "+tt.name, func(t *testing.T) {
				t.Parallel()
				h := newHarness(t, v, setup{settings: func(s *settings) { s.Retry.MaxRetryAfter = tt.maxRetryAfter }})
				h.srv.FailTokenRequests(1, http.StatusTooManyRequests, tt.retryAfter)

				mustSucceed(t, "call after a 429", h.rest(t.Context()))

				ex := h.tap.seen()
				if len(ex) != 2 || ex[0].status != http.StatusTooManyRequests || ex[1].status != http.StatusOK {
					t.Fatalf("token exchanges %+v, want a 429 then a 200", ex)
				}
				waited := ex[1].sent.Sub(ex[0].answered)
				t.Logf("FIGURE %s %s: waited %v between the 429 and the next token request, %d token requests, 0 failed calls", v.name, tt.name, waited.Round(time.Millisecond), len(ex))
				if waited < tt.wantMin || waited >= tt.wantUnder {
					t.Errorf("waited %v, want at least %v and under %v", waited, tt.wantMin, tt.wantUnder)
				}
			})
		}
	}
}

// failTokenRequests is a fault: the next n token requests fail with status.
func failTokenRequests(n, status int) func(*testing.T, *harness) {
	return func(_ *testing.T, h *harness) { h.srv.FailTokenRequests(n, status, 0) }
}
