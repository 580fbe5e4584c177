package redisstore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/tokentrip/tokentrip/internal/redact"
)

// Semaphore caps how many requests a whole fleet has in flight, as Acoustic's
// ten-per-org limit needs. Each slot is a lease in a Redis sorted set scored by its
// expiry: a living holder renews it, a dead holder's lease expires after the
// Store's lease TTL and frees the slot. Acquire has the shape of
// acoustic.Limiter, so a Semaphore can stand in for the in-process one.
//
// When Redis cannot be reached, Acquire falls back to a semaphore of the same limit
// inside the process (the fleet may then exceed the limit, each process keeping
// to it), warns once, and returns to Redis when it answers again. Waiters are
// woken by pub/sub when a slot is released and look again every poll interval;
// there is no queue order across processes.
type Semaphore struct {
	s       *Store
	key     string
	channel string
	limit   int
	local   chan struct{}
	health  *health
}

type semaphoreID struct {
	name  string
	limit int
}

// Semaphore returns the fleet-wide semaphore called name with limit slots (at
// least one). Processes that use the same name and prefix share it; within a
// process every call with the same name and limit returns the same Semaphore.
func (s *Store) Semaphore(name string, limit int) *Semaphore {
	limit = max(limit, 1)
	s.mu.Lock()
	defer s.mu.Unlock()
	id := semaphoreID{name, limit}
	if m := s.semaphores[id]; m != nil {
		return m
	}
	if s.semaphores == nil {
		s.semaphores = map[semaphoreID]*Semaphore{}
	}
	h := hashName("semaphore", name)
	m := &Semaphore{
		s:       s,
		key:     s.cfg.Prefix + "{sem:" + h + "}",
		channel: s.cfg.Prefix + "events:sem:" + h,
		limit:   limit,
		local:   make(chan struct{}, limit),
		health:  &health{s: s, what: "semaphore"},
	}
	s.semaphores[id] = m
	return m
}

// Format prints the semaphore's limit, the same for every verb; its name, which
// may name a customer, is hashed and never printed.
func (m *Semaphore) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, fmt.Sprintf("redisstore.Semaphore{limit:%d}", m.limit))
}

// Limit reports how many slots the semaphore has.
func (m *Semaphore) Limit() int { return m.limit }

// InFlight reports how many slots the fleet holds now, by Redis.
func (m *Semaphore) InFlight(ctx context.Context) (int, error) {
	return bound(ctx, m.s, "counting leases", func(ctx context.Context) (int, error) {
		return countScript.Run(ctx, m.s.client, []string{m.key}, m.s.cfg.LeaseTTL.Milliseconds()).Int()
	}, nil)
}

// Acquire takes a slot, waiting until one is free or ctx ends. It returns a
// release function, to be called when the request is over (calls after the first
// do nothing), or ctx's error. It never fails because Redis is down.
func (m *Semaphore) Acquire(ctx context.Context) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !m.health.available() {
		return m.acquireLocal(ctx)
	}
	sub, err := bound(ctx, m.s, "subscribing to notifications", func(ctx context.Context) (subscription, error) {
		return m.s.notify.subscribe(ctx, m.channel)
	}, func(sub subscription) { sub.stop() })
	if err != nil {
		return m.fallBack(ctx, err)
	}
	defer sub.stop()
	id := randomID()
	var t *time.Timer
	for {
		res, err := bound(ctx, m.s, "taking a lease", func(ctx context.Context) ([]int64, error) {
			return acquireScript.Run(ctx, m.s.client, []string{m.key}, m.limit, m.s.cfg.LeaseTTL.Milliseconds(), id).Int64Slice()
		}, func(res []int64) {
			if len(res) > 0 && res[0] == 1 { // taken after the caller gave up: give the slot back
				m.release(id)
			}
		})
		if err == nil && len(res) != 2 {
			err = fmt.Errorf("redisstore: taking a lease: %d values in Redis's answer, want 2", len(res))
		}
		if err != nil {
			return m.fallBack(ctx, err)
		}
		m.health.mark(nil)
		if res[1] == 1 {
			m.health.corrupt(corrupt("leases no process of the fleet writes (expiring later than one lease TTL from now), or a key of another type, held the semaphore's slots; dropped"))
		}
		if res[0] == 1 {
			return m.lease(id), nil
		}
		if t == nil {
			t = time.NewTimer(m.s.cfg.PollInterval)
			defer t.Stop()
		} else {
			t.Reset(m.s.cfg.PollInterval)
		}
		select {
		case <-sub.woken:
		case <-t.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// fallBack follows a Redis failure: a slot of the process's own semaphore, unless
// the failure was ctx ending.
func (m *Semaphore) fallBack(ctx context.Context, err error) (func(), error) {
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	m.health.mark(err)
	return m.acquireLocal(ctx)
}

func (m *Semaphore) acquireLocal(ctx context.Context) (func(), error) {
	select {
	case m.local <- struct{}{}:
		var once sync.Once
		return func() { once.Do(func() { <-m.local }) }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// lease keeps the lease id alive until its release function is called.
func (m *Semaphore) lease(id string) func() {
	renew := m.s.renewEvery(m.s.cfg.LeaseTTL, "renewing a lease", func(ctx context.Context) (int, error) {
		return renewLeaseScript.Run(ctx, m.s.client, []string{m.key}, m.s.cfg.LeaseTTL.Milliseconds(), id).Int()
	})
	var once sync.Once
	return func() {
		once.Do(func() {
			renew.end()
			m.release(id)
		})
	}
}

// release gives the lease id back and wakes the waiters, within the Store's
// timeout; when Redis does not answer, the lease expires by itself.
func (m *Semaphore) release(id string) {
	_, _ = bound(context.Background(), m.s, "releasing a lease", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, releaseScript.Run(ctx, m.s.client, []string{m.key}, id, m.channel).Err()
	}, nil)
}
