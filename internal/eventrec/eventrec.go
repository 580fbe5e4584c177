// Package eventrec records the events a Source reports, for tests: one recorder
// that every package's tests share instead of keeping a copy each.
package eventrec

import (
	"sync"

	"github.com/tokentrip/tokentrip/transport"
)

// Recorder keeps every event handed to Hook, safe for concurrent use. Its zero
// value is ready.
type Recorder struct {
	mu     sync.Mutex
	events []transport.Event
}

// Hook records ev; pass it to transport.WithHook or a provider's Config.Hook.
func (r *Recorder) Hook(ev transport.Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
}

// Count returns how many events of kind were recorded.
func (r *Recorder) Count(kind transport.EventKind) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, ev := range r.events {
		if ev.Kind == kind {
			n++
		}
	}
	return n
}

// Events returns a copy of the events recorded so far, in order.
func (r *Recorder) Events() []transport.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]transport.Event(nil), r.events...)
}
