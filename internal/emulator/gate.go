package emulator

import (
	"context"
	"sync"
)

// Gate lets a test stop requests at a known point and let them go later, so it can
// synchronise with a server without sleeping. The zero value is an open gate.
//
// While the gate is held, every request that reaches Pass waits there until Release
// (or until its own context ends); Wait tells the test when enough have arrived.
type Gate struct {
	mu      sync.Mutex
	held    bool
	open    chan struct{} // closed by Release; requests held meanwhile wait on it
	waiting int
	changed chan struct{} // closed and replaced whenever waiting changes
}

// Hold makes requests that reach the gate from now on wait there.
func (g *Gate) Hold() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.held {
		g.held = true
		g.open = make(chan struct{})
	}
}

// Release lets every waiting request through and opens the gate.
func (g *Gate) Release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.held {
		g.held = false
		close(g.open)
	}
}

// Pass returns at once when the gate is open. When it is held, Pass waits for
// Release and returns nil, or returns ctx's error if ctx ends first.
func (g *Gate) Pass(ctx context.Context) error {
	g.mu.Lock()
	if !g.held {
		g.mu.Unlock()
		return nil
	}
	open := g.open
	g.waiting++
	g.notifyLocked()
	g.mu.Unlock()

	var err error
	select {
	case <-open:
	case <-ctx.Done():
		err = ctx.Err()
	}

	g.mu.Lock()
	g.waiting--
	g.notifyLocked()
	g.mu.Unlock()
	return err
}

// Waiting reports how many requests are waiting at the gate now.
func (g *Gate) Waiting() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.waiting
}

// Wait blocks until at least n requests are waiting at the gate, or ctx ends.
func (g *Gate) Wait(ctx context.Context, n int) error {
	for {
		g.mu.Lock()
		if g.waiting >= n {
			g.mu.Unlock()
			return nil
		}
		if g.changed == nil {
			g.changed = make(chan struct{})
		}
		changed := g.changed
		g.mu.Unlock()

		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (g *Gate) notifyLocked() {
	if g.changed != nil {
		close(g.changed)
		g.changed = nil
	}
}
