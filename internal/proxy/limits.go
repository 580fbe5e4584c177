package proxy

import "sync/atomic"

// gate caps how many requests are forwarded at once. Past the cap a request is
// answered 503 at once rather than queued: a queue would hold its connection and
// its body all the same.
type gate struct {
	max    int64
	inside atomic.Int64
}

// enter takes a place, reporting false when all are taken.
func (g *gate) enter() bool {
	if g.inside.Add(1) > g.max {
		g.inside.Add(-1)
		return false
	}
	return true
}

// leave gives a place back.
func (g *gate) leave() { g.inside.Add(-1) }

// budget bounds the bytes held in request-body buffers across every request, so
// that memory stays bounded however many clients send bodies at once.
type budget struct {
	max  int64
	used atomic.Int64
}

// take reserves n bytes, reporting false (and reserving nothing) when they would
// exceed the budget.
func (b *budget) take(n int64) bool {
	for {
		used := b.used.Load()
		if used+n > b.max {
			return false
		}
		if b.used.CompareAndSwap(used, used+n) {
			return true
		}
	}
}

// give returns n reserved bytes.
func (b *budget) give(n int64) { b.used.Add(-n) }
