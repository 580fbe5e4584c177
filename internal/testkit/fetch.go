package testkit

import (
	"context"
	"time"

	"github.com/tokentrip/tokentrip/internal/providerfunc"
	"github.com/tokentrip/tokentrip/transport"
)

// Clock is a clock a test moves by hand, as manualclock.Clock is.
type Clock interface {
	Now() time.Time
	Advance(d time.Duration)
}

// TimedFetch is one scripted token fetch: how long it takes on a test's clock,
// and how it ends. Tests of what reports a fetch's duration (events, log lines,
// spans, histograms) make a table of them.
type TimedFetch struct {
	Name  string        // the case's name
	Took  time.Duration // how far each Fetch moves the clock
	Err   error         // what each Fetch fails with; nil for a token
	Token string        // the access token issued when Err is nil, good for an hour
}

// Provider returns a Provider whose every Fetch moves clock on by f.Took and
// then ends as f says.
func (f TimedFetch) Provider(clock Clock) transport.Provider {
	return providerfunc.Func(func(context.Context) (transport.Token, error) {
		clock.Advance(f.Took)
		if f.Err != nil {
			return transport.Token{}, f.Err
		}
		return transport.Token{AccessToken: f.Token, Expiry: clock.Now().Add(time.Hour)}, nil
	})
}
