package redisstore

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// ErrTimeout is wrapped by the error of a Store operation that Redis did not answer
// within the Store's timeout (Options.Timeout).
var ErrTimeout = errors.New("redisstore: no answer from Redis within the Store's timeout")

// bound runs op, one Redis operation, and returns its result — or gives up when ctx
// ends or the Store's timeout passes, whichever comes first. go-redis bounds an
// operation by the client's read and write timeouts and its retries, not by the
// context's deadline (unless the client has ContextTimeoutEnabled), so op runs on a
// goroutine of its own and is abandoned when time is up; its context is cancelled,
// which ends it at once where the client honours contexts. When an abandoned op
// later succeeds, undo (if any) gets its result, to give back what it took.
//
// Errors are wrapped with what the operation was, except redis.Nil (no such key).
func bound[T any](ctx context.Context, s *Store, what string, op func(context.Context) (T, error), undo func(T)) (T, error) {
	octx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	type result struct {
		v   T
		err error
	}
	ch := make(chan result, 1)
	var state atomic.Int32 // 0 running, 1 answered in time, 2 abandoned
	go func() {
		v, err := op(octx)
		if state.CompareAndSwap(0, 1) {
			ch <- result{v, err}
			return
		}
		if undo != nil && err == nil {
			undo(v)
		}
	}()
	var r result
	select {
	case r = <-ch:
	case <-octx.Done():
		if state.CompareAndSwap(0, 2) {
			var zero T
			if ctx.Err() != nil {
				return zero, fmt.Errorf("redisstore: %s: %w", what, ctx.Err())
			}
			return zero, fmt.Errorf("%w (%v), %s", ErrTimeout, s.cfg.Timeout, what)
		}
		r = <-ch // it answered just in time
	}
	if r.err != nil && !errors.Is(r.err, redis.Nil) {
		r.err = fmt.Errorf("redisstore: %s: %w", what, r.err)
	}
	return r.v, r.err
}
