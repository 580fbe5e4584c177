package testkit_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/manualclock"
	"github.com/tokentrip/tokentrip/internal/testkit"
	"github.com/tokentrip/tokentrip/transport"
)

// TestTimedFetch: each Fetch moves the clock on by Took, then fails with Err or
// issues Token for an hour from then.
func TestTimedFetch(t *testing.T) {
	for _, f := range []testkit.TimedFetch{
		{Name: "a failure", Took: 7 * time.Second, Err: &transport.FetchError{Kind: transport.ErrCredentialsRejected, Provider: "test"}},
		{Name: "a token", Took: 450 * time.Millisecond, Token: "tok"},
	} {
		start := time.Unix(1_800_000_000, 0)
		clock := manualclock.New(start)
		p := f.Provider(clock)
		for i := 1; i <= 2; i++ {
			tok, err := p.Fetch(context.Background())
			now := start.Add(time.Duration(i) * f.Took)
			if got := clock.Now(); !got.Equal(now) {
				t.Errorf("%s, fetch %d: the clock stands at %v, want %v", f.Name, i, got, now)
			}
			if f.Err != nil {
				if !errors.Is(err, f.Err) || tok.AccessToken != "" {
					t.Errorf("%s, fetch %d: %q, %v; want %v", f.Name, i, tok.AccessToken, err, f.Err)
				}
				continue
			}
			if err != nil || tok.AccessToken != f.Token || !tok.Expiry.Equal(now.Add(time.Hour)) {
				t.Errorf("%s, fetch %d: %q expiring %v, %v; want %q expiring an hour on", f.Name, i, tok.AccessToken, tok.Expiry, err, f.Token)
			}
		}
	}
}
