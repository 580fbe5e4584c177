// Package manualclock is the one clock tokentrip's tests and its demo move by
// hand: it stands still until told to advance, so that an hour of a token's life
// passes in a function call, and the emulators and the library, reading the same
// clock, agree on every expiry.
package manualclock

import (
	"sync"
	"time"
)

// Clock is a clock that moves only when Advance is called. It is safe for
// concurrent use; its Now method is what WithClock options take.
type Clock struct {
	mu    sync.Mutex
	start time.Time
	now   time.Time
}

// New returns a clock standing at start.
func New(start time.Time) *Clock { return &Clock{start: start, now: start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Elapsed is how far the clock has moved since it started.
func (c *Clock) Elapsed() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now.Sub(c.start)
}
