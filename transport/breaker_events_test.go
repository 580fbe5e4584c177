package transport

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"
)

// TestBreakerEventsUnderFailureAndRecovery: the breaker, whose state machine exists
// only while it holds state, reports exactly the transitions a breaker that always
// existed would — no more, no fewer, in order — through sequences of failures,
// successes, cancelled fetches and cooldowns, and Stats counts the same.
func TestBreakerEventsUnderFailureAndRecovery(t *testing.T) {
	const (
		R = "rejected" // credentials rejected: 3 in a row open the breaker
		O = "outage"   // endpoint unavailable: 2 in a row open it
		C = "cancel"   // a cancelled fetch: counts for nothing
		S = "success"
		W = "wait" // the cooldown passes
	)
	cases := []struct {
		steps []string
		want  []string // from→to, in order
		state string   // at the end
	}{
		{[]string{S, S, S}, nil, "closed"},
		{[]string{R, R, S, R, R, S, R, R}, nil, "closed"},
		{[]string{R, R, R}, []string{"closed→open"}, "open"},
		{[]string{R, R, C, R}, []string{"closed→open"}, "open"},
		{[]string{R, O, R, S, R, R}, nil, "closed"},
		{[]string{R, O, O}, []string{"closed→open"}, "open"},
		{[]string{R, R, R, W, S}, []string{"closed→open", "open→half-open", "half-open→closed"}, "closed"},
		{[]string{R, R, R, W, R}, []string{"closed→open", "open→half-open", "half-open→open"}, "open"},
		{[]string{R, R, R, W, C}, []string{"closed→open", "open→half-open"}, "half-open"},
		{[]string{R, R, R, W, C, S}, []string{"closed→open", "open→half-open", "half-open→closed"}, "closed"},
		{[]string{R, R, R, W, R, W, O, W, S}, []string{
			"closed→open", "open→half-open", "half-open→open", "open→half-open", "half-open→open", "open→half-open", "half-open→closed",
		}, "closed"},
		// After a recovery counting starts again from nothing, and again after that.
		{[]string{O, O, W, S, O, S, O, O, W, S, R, R, R}, []string{
			"closed→open", "open→half-open", "half-open→closed",
			"closed→open", "open→half-open", "half-open→closed",
			"closed→open",
		}, "open"},
		// Successes while open never reach the provider: the breaker refuses them.
		{[]string{R, R, R, S, S, W, S}, []string{"closed→open", "open→half-open", "half-open→closed"}, "closed"},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.steps), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var answer error
				var got []string
				src := NewSource(providerFunc(func(context.Context) (Token, error) {
					if answer != nil {
						return Token{}, answer
					}
					return Token{AccessToken: "t", Expiry: time.Now().Add(time.Hour)}, nil
				}), Settings{Breaker: BreakerSettings{Rejections: 3, Outages: 2, Cooldown: time.Minute}, Backoff: func(int) time.Duration { return 0 }, Hook: func(ev Event) {
					if ev.Kind == EventBreaker {
						got = append(got, ev.From+"→"+ev.To)
					}
				}})
				for _, step := range c.steps {
					switch step {
					case W:
						time.Sleep(time.Minute + time.Second) // the bubble's clock: no real wait
						continue
					case R:
						answer = &FetchError{Kind: ErrCredentialsRejected}
					case O:
						answer = &FetchError{Kind: ErrEndpoint}
					case C:
						answer = context.Canceled
					case S:
						answer = nil
					}
					src.cur.Store(nil) // every step asks for a token
					src.Token(context.Background())
				}
				if fmt.Sprint(got) != fmt.Sprint(c.want) {
					t.Fatalf("transitions %v, want %v", got, c.want)
				}
				if st := src.Stats(); st.Breaker != c.state || st.BreakerChanges != uint64(len(c.want)) {
					t.Fatalf("Stats: breaker %s after %d changes, want %s after %d", st.Breaker, st.BreakerChanges, c.state, len(c.want))
				}
			})
		})
	}
}
