// Package singleflight de-duplicates concurrent calls that share a key, so that a
// thousand goroutines asking for the same token cause one fetch. It adds to
// golang.org/x/sync/singleflight what a token cache needs: generic results, waiters
// that give up on their own context without cancelling the shared call, a deadline of
// the call's own, and panics turned into errors.
package singleflight

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	xsf "golang.org/x/sync/singleflight"
)

// Group runs at most one call per key at a time and hands its result to every caller
// that asked for that key while it ran. The zero value is ready to use. An idle Group
// holds nothing but its settings: the table of calls in flight is made by the first
// Do and dropped when the last one has returned, so that an application holding one
// Group per credential pays for the table only while a call runs.
type Group[T any] struct {
	// Timeout bounds each shared call. The call runs on a context detached from every
	// waiter, so this is what keeps an abandoned call from running forever. Zero means
	// one minute.
	Timeout time.Duration

	mu    sync.Mutex
	calls *calls // nil while no Do is in progress
}

// calls is the table of calls in flight, with the number of callers still to hear
// from it: Do calls that have not returned, and waits abandoned by a caller whose
// context ended, which last until their call has delivered. While a call runs, at
// least one of those is counted, so a Do that comes meanwhile finds the table and
// joins the call instead of starting another.
type calls struct {
	g    xsf.Group
	refs int
}

// DefaultTimeout is the deadline of a shared call when Group.Timeout is zero.
const DefaultTimeout = time.Minute

// PanicError is what every waiter receives when the shared call panics.
type PanicError struct {
	Value any    // the value passed to panic
	Stack []byte // the stack of the panicking goroutine
}

// Error reports the panic value; the stack is in Stack.
func (e *PanicError) Error() string {
	return fmt.Sprintf("singleflight: call panicked: %v", e.Value)
}

// Do returns the result of fn for key, starting fn only if no call for key is in
// flight. The call runs on a context that keeps ctx's values but not its cancellation,
// bounded by g.Timeout. If ctx ends first, Do returns ctx.Err() at once and the call
// goes on for the other waiters; its result still lands for them. shared reports
// whether the result went to more than one caller.
func (g *Group[T]) Do(ctx context.Context, key string, fn func(context.Context) (T, error)) (v T, shared bool, err error) {
	if err := ctx.Err(); err != nil {
		return v, false, err
	}
	c := g.hold()
	ch := c.g.DoChan(key, func() (any, error) {
		return g.run(ctx, fn)
	})
	select {
	case r := <-ch:
		g.release(c)
		if r.Err != nil {
			return v, r.Shared, r.Err
		}
		return r.Val.(T), r.Shared, nil
	case <-ctx.Done():
		// The call goes on, and the table must stay until it has delivered: a caller
		// that comes meanwhile joins it.
		go func() {
			<-ch
			g.release(c)
		}()
		return v, false, ctx.Err()
	}
}

// Forget makes the next Do for key start a new call even if one is in flight.
func (g *Group[T]) Forget(key string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.calls != nil {
		g.calls.g.Forget(key)
	}
}

// hold returns the table of calls in flight, making it if there is none, and counts
// one more caller to hear from it.
func (g *Group[T]) hold() *calls {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.calls == nil {
		g.calls = new(calls)
	}
	g.calls.refs++
	return g.calls
}

// release counts one caller of c done, and drops the table after the last: with
// nobody left to hear from it, no call of c is in flight.
func (g *Group[T]) release(c *calls) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if c.refs--; c.refs == 0 && g.calls == c {
		g.calls = nil
	}
}

// idle reports whether the Group holds no table of calls (for tests).
func (g *Group[T]) idle() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.calls == nil
}

func (g *Group[T]) run(parent context.Context, fn func(context.Context) (T, error)) (v any, err error) {
	timeout := g.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), timeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			err = &PanicError{Value: p, Stack: debug.Stack()}
		}
	}()
	val, err := fn(ctx)
	return val, err
}
