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
	"time"

	xsf "golang.org/x/sync/singleflight"
)

// Group runs at most one call per key at a time and hands its result to every caller
// that asked for that key while it ran. The zero value is ready to use.
type Group[T any] struct {
	// Timeout bounds each shared call. The call runs on a context detached from every
	// waiter, so this is what keeps an abandoned call from running forever. Zero means
	// one minute.
	Timeout time.Duration

	g xsf.Group
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
	ch := g.g.DoChan(key, func() (any, error) {
		return g.run(ctx, fn)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return v, r.Shared, r.Err
		}
		return r.Val.(T), r.Shared, nil
	case <-ctx.Done():
		return v, false, ctx.Err()
	}
}

// Forget makes the next Do for key start a new call even if one is in flight.
func (g *Group[T]) Forget(key string) { g.g.Forget(key) }

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
