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

func TestTimedFetch(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	rejected := &transport.FetchError{Kind: transport.ErrCredentialsRejected, Provider: "test"}
	for _, f := range []testkit.TimedFetch{
		{Name: "a failure", Took: 7 * time.Second, Err: rejected},
		{Name: "a token", Took: 450 * time.Millisecond, Token: "tok"},
	} {
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
