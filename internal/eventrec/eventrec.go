// Package eventrec records what a Source reports, its events and its log lines, for
// tests: one recorder that every package's tests share instead of keeping a copy each.
package eventrec

import (
	"bytes"
	"sync"

	"github.com/tokentrip/tokentrip/transport"
)

// Recorder keeps every event handed to Hook, safe for concurrent use. Its zero
// value is ready.
type Recorder struct {
	mu     sync.Mutex
	events []transport.Event
}

// Hook records ev; pass it to transport.Settings.Hook, a provider's Config.Source.Hook.
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

// Log is a log destination that slog handlers may write to from many goroutines
// while a test reads what they wrote.
type Log struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns everything written so far.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
