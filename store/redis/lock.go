package redisstore

import (
	"context"
	"sync"
	"time"

	"github.com/tokentrip/tokentrip/transport"
)

// fetchLock is a held fetch lock, renewed until Unlock.
type fetchLock struct {
	s       *Store
	id      string
	fence   string
	renewal *renewal
}

// Save implements transport.FetchLock.
func (l *fetchLock) Save(ctx context.Context, value []byte, ttl time.Duration) error {
	rk, _ := l.s.valueKey(l.id)
	ms := max(ttl.Milliseconds(), 1)
	sealed := l.s.seal(rk, value)
	n, err := bound(ctx, l.s, "saving the token", func(ctx context.Context) (int, error) {
		return saveScript.Run(ctx, l.s.client, []string{rk, l.s.lockKey(l.id)}, l.fence, sealed, ms, l.s.channel(l.id)).Int()
	}, nil)
	if err != nil {
		return err
	}
	if n == 0 {
		return transport.ErrLockLost
	}
	return nil
}

// Unlock implements transport.FetchLock.
func (l *fetchLock) Unlock(ctx context.Context) error {
	l.renewal.end()
	return l.s.unlock(ctx, l.id, l.fence)
}

// unlock releases id's fetch lock if it still holds fence, and wakes the waiters,
// within the Store's timeout: a holder's Unlock, and Lock giving back a lock
// Redis granted after the caller gave up.
func (s *Store) unlock(ctx context.Context, id, fence string) error {
	_, err := bound(ctx, s, "releasing the fetch lock", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, unlockScript.Run(ctx, s.client, []string{s.lockKey(id)}, fence, s.channel(id)).Err()
	}, nil)
	return err
}

// renewal keeps alive something a process holds in Redis for a TTL — a fetch
// lock, a semaphore lease — by renewing it every third of the TTL, until end, or
// until a renewal finds it lost (expired, or taken by another process).
type renewal struct {
	once sync.Once
	stop chan struct{}
	done chan struct{} // closed when the renewals have stopped
}

// renewEvery starts renewing: renew (one Redis operation, bounded by the Store's
// timeout) reports 0 when what it renews is lost.
func (s *Store) renewEvery(ttl time.Duration, what string, renew func(context.Context) (int, error)) *renewal {
	r := &renewal{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		t := time.NewTicker(ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-r.stop:
				return
			case <-t.C:
				if n, err := bound(context.Background(), s, what, renew, nil); err == nil && n == 0 {
					return // lost: another process may hold it now
				}
			}
		}
	}()
	return r
}

// end stops the renewals and waits for one in flight, which ends within the
// Store's timeout. Calls after the first only wait.
func (r *renewal) end() {
	r.once.Do(func() { close(r.stop) })
	<-r.done
}
