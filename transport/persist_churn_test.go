package transport_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestChurningRejections: a server that refuses tokens which a replay has just
// shown to work — an API that answers 401 and 200 in turn whatever the token (a
// bad node behind a load balancer), one that accepts each token once and then
// refuses it (two processes on one legacy package invalidating each other's
// tokens, or a token not yet known to every node) — must not cost a token request
// per call: from the second fresh token refused within a minute of curing a
// rejection, the rejection persists and rounds are spaced by the backoff, as for
// a path the credential may not use. Real
// revocations still heal at once with one token request each, whether they are
// minutes apart or follow one another.
func TestChurningRejections(t *testing.T) {
	tests := []struct {
		name string
		// refuse says whether the API refuses a request, given the token it
		// carries and the tokens it has accepted before.
		refuse func(tok string, seen map[string]bool, n int) bool
		// revoke: before each call the test revokes the token in use, and moves
		// the clock on by gap.
		revoke bool
		gap    time.Duration
		calls  int
		// maxRequests bounds the token requests the calls may make; with
		// healed, every call must be accepted and make exactly one.
		maxRequests int64
		healed      bool
	}{
		{
			name:   "401 and 200 in turn, whatever the token",
			refuse: func(_ string, _ map[string]bool, n int) bool { return n%2 == 1 },
			calls:  50, maxRequests: 3,
		},
		{
			name:   "401 and 200 in turn, a call a second",
			refuse: func(_ string, _ map[string]bool, n int) bool { return n%2 == 1 },
			// The backoff grows to its cap of 30 s in 8 rounds, then a round
			// every 30 s: 8 + 300/30 at most, against 300 before.
			gap: time.Second, calls: 300, maxRequests: 20,
		},
		{
			name:   "each token accepted once, then refused",
			refuse: func(tok string, seen map[string]bool, _ int) bool { return seen[tok] },
			calls:  50, maxRequests: 3,
		},
		{
			name:   "each token accepted once, then refused, a call every ten seconds",
			refuse: func(tok string, seen map[string]bool, _ int) bool { return seen[tok] },
			// Two calls a round until the backoff passes 10 s, then a round a
			// little over every 30 s: 1000 s make about 30, against 100 before.
			gap: 10 * time.Second, calls: 100, maxRequests: 32,
		},
		{
			name:   "revocations minutes apart",
			revoke: true, gap: 2 * time.Minute, calls: 10, healed: true,
		},
		{
			name:   "revocations one after another",
			revoke: true, calls: 2, healed: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				mu   sync.Mutex
				seen = map[string]bool{}
				n    int
			)
			rig := newPersistRig(t, nil)
			rig.mustCall(t, "/send")
			seen[rig.api.last().token] = true
			if tt.refuse != nil {
				rig.api.refuse = func(r *http.Request) bool {
					tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
					mu.Lock()
					defer mu.Unlock()
					n++
					refused := tt.refuse(tok, seen, n)
					seen[tok] = seen[tok] || !refused
					return refused
				}
			}
			before := rig.tokens.requests.Load()
			for i := range tt.calls {
				if tt.revoke {
					rig.tokens.revoke(rig.api.last().token)
				}
				rig.clock.Advance(tt.gap)
				status, _ := rig.mustCall(t, "/send") // the caller gets what the API sent
				if tt.healed && status != http.StatusOK {
					t.Fatalf("call %d: %d, want 200", i, status)
				}
			}
			requests := rig.tokens.requests.Load() - before
			st := rig.tr.Source().Stats()
			t.Logf("FIGURE churning rejections, %s: %d calls → %d token requests, %d replays, %d returned as they came",
				tt.name, tt.calls, requests, st.Replays, st.Persisted)
			switch {
			case tt.healed && (requests != int64(tt.calls) || st.Replays != uint64(tt.calls)):
				t.Errorf("%d token requests and %d replays for %d revocations, want one of each per revocation", requests, st.Replays, tt.calls)
			case !tt.healed && requests > tt.maxRequests:
				t.Errorf("%d token requests for %d calls, want at most %d", requests, tt.calls, tt.maxRequests)
			}
			if state := rig.tr.Source().Stats().Breaker; state != "closed" {
				t.Errorf("breaker %s, want closed: the credentials work", state)
			}
		})
	}
}
