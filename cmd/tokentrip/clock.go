package main

import (
	"sync"
	"time"
)

// manualClock is the demo's accelerated time: it stands still until a scenario
// moves it, so an hour of a token's life passes in a function call. The emulators
// and the providers read the same clock, so they agree on every expiry.
type manualClock struct {
	mu    sync.Mutex
	start time.Time
	now   time.Time
}

// newManualClock returns a clock standing at start.
func newManualClock(start time.Time) *manualClock {
	return &manualClock{start: start, now: start}
}

// Now returns the clock's time; it is safe for concurrent use.
func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Elapsed is how far the clock has moved since it started.
func (c *manualClock) Elapsed() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now.Sub(c.start)
}
