// Package slots is the counting semaphore behind tokentrip's in-flight caps: a
// fixed number of slots, taken at once when one is free or waited for in arrival
// order, each freed by a release function that counts only its first call.
package slots

import (
	"context"
	"sync/atomic"
)

// Slots holds n slots; a taken slot is one element in the channel.
type Slots chan struct{}

// New returns n slots, all free.
func New(n int) Slots { return make(Slots, n) }

// Try takes a slot if one is free (release, true, nil) and does not wait (nil,
// false, nil). A ctx that has already ended gets its error and no slot.
func (s Slots) Try(ctx context.Context) (release func(), ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	select {
	case s <- struct{}{}:
		return s.releaser(), true, nil
	default:
		return nil, false, nil
	}
}

// Wait takes a slot, waiting for one in arrival order until ctx ends, when it
// returns ctx's error and no slot.
func (s Slots) Wait(ctx context.Context) (release func(), err error) {
	select {
	case s <- struct{}{}:
		return s.releaser(), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// releaser frees one slot on its first call; later calls do nothing, so a second
// call cannot free another request's slot.
func (s Slots) releaser() func() {
	var done atomic.Bool
	return func() {
		if done.CompareAndSwap(false, true) {
			<-s
		}
	}
}
