package transport_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokentrip/tokentrip/internal/storetest"
	"github.com/tokentrip/tokentrip/store"
	"github.com/tokentrip/tokentrip/transport"
)

// The Stores the tests share a token through: store.MemoryTokens, each with one
// way a real Store, its network or someone who can write to it misbehaves.

// lockBeforeSave takes m's fetch lock for key; its Save runs before first, and
// fails with before's error, if any, instead of saving.
func lockBeforeSave(ctx context.Context, m *store.MemoryTokens, key string, before func() error) (transport.FetchLock, error) {
	l, err := m.Lock(ctx, key)
	if l == nil || err != nil {
		return l, err
	}
	return hookedLock{l, before}, nil
}

// hookedLock is a FetchLock whose Save runs before first.
type hookedLock struct {
	transport.FetchLock
	before func() error
}

func (l hookedLock) Save(ctx context.Context, value []byte, ttl time.Duration) error {
	if err := l.before(); err != nil {
		return err
	}
	return l.FetchLock.Save(ctx, value, ttl)
}

// flakyStore is a MemoryTokens that can be made to fail like an unreachable server.
type flakyStore struct {
	store.MemoryTokens
	down atomic.Bool
}

var errUnreachable = errors.New("dial tcp 127.0.0.1:6379: connection refused")

func (f *flakyStore) Load(ctx context.Context, key string) ([]byte, bool, error) {
	if f.down.Load() {
		return nil, false, errUnreachable
	}
	return f.MemoryTokens.Load(ctx, key)
}

func (f *flakyStore) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if f.down.Load() {
		return errUnreachable
	}
	return f.MemoryTokens.Put(ctx, key, value, ttl)
}

func (f *flakyStore) Lock(ctx context.Context, key string) (transport.FetchLock, error) {
	if f.down.Load() {
		return nil, errUnreachable
	}
	return f.MemoryTokens.Lock(ctx, key)
}

// raceStore is a MemoryTokens where another process's winning token can appear at
// a chosen moment, and whose lock can be lost.
type raceStore struct {
	store.MemoryTokens
	winner   atomic.Pointer[storetest.Stored]
	lockLost atomic.Bool
}

func (r *raceStore) Load(ctx context.Context, key string) ([]byte, bool, error) {
	if w := r.winner.Load(); w != nil && !strings.HasSuffix(key, transport.BreakerKeySuffix) {
		return w.Value(), true, nil
	}
	return r.MemoryTokens.Load(ctx, key)
}

// Lock takes the lock, whose Save fails with ErrLockLost while lockLost says so.
func (r *raceStore) Lock(ctx context.Context, key string) (transport.FetchLock, error) {
	return lockBeforeSave(ctx, &r.MemoryTokens, key, func() error {
		if r.lockLost.Load() {
			return transport.ErrLockLost
		}
		return nil
	})
}

// poisonedStore is a MemoryTokens whose Load of the token returns a poisoned
// value (a token, raw bytes, or an error) until a token is saved over it.
type poisonedStore struct {
	store.MemoryTokens
	mu     sync.Mutex
	poison *storetest.Stored
	raw    []byte
	err    error
}

func (p *poisonedStore) Load(ctx context.Context, key string) ([]byte, bool, error) {
	p.mu.Lock()
	poison, raw, err := p.poison, p.raw, p.err
	p.mu.Unlock()
	switch {
	case strings.HasSuffix(key, transport.BreakerKeySuffix):
	case err != nil:
		return nil, false, err
	case poison != nil:
		return poison.Value(), true, nil
	case raw != nil:
		return raw, true, nil
	}
	return p.MemoryTokens.Load(ctx, key)
}

// Lock takes the lock, whose Save replaces the poison, as a Store's save does.
func (p *poisonedStore) Lock(ctx context.Context, key string) (transport.FetchLock, error) {
	return lockBeforeSave(ctx, &p.MemoryTokens, key, func() error {
		p.mu.Lock()
		p.poison, p.raw, p.err = nil, nil, nil
		p.mu.Unlock()
		return nil
	})
}

// memoryBreakers keeps a fleet's breaker state in memory, with poison and panics
// on demand.
type memoryBreakers struct {
	mu        sync.Mutex
	rec       *transport.BreakerRecord
	raw       []byte // a value that is not ours, returned until a save replaces it
	loadErr   error
	loadPanic bool
	savePanic bool
	saves     int
}

func (m *memoryBreakers) load() ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case m.loadPanic:
		panic("index out of range [0] with length 0")
	case m.loadErr != nil:
		return nil, false, m.loadErr
	case m.raw != nil:
		return m.raw, true, nil
	case m.rec == nil:
		return nil, false, nil
	}
	return transport.EncodeBreaker(*m.rec), true, nil
}

func (m *memoryBreakers) save(value []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.savePanic {
		panic("save")
	}
	rec, err := transport.DecodeBreaker(value)
	if err != nil {
		return err
	}
	m.saves++
	m.rec, m.raw, m.loadErr = &rec, nil, nil
	return nil
}

// breakerStore is a MemoryTokens that also keeps the fleet's breaker state, in
// memoryBreakers.
type breakerStore struct {
	store.MemoryTokens
	*memoryBreakers
}

func (b *breakerStore) Load(ctx context.Context, key string) ([]byte, bool, error) {
	if strings.HasSuffix(key, transport.BreakerKeySuffix) {
		return b.memoryBreakers.load()
	}
	return b.MemoryTokens.Load(ctx, key)
}

func (b *breakerStore) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if strings.HasSuffix(key, transport.BreakerKeySuffix) {
		return b.memoryBreakers.save(value)
	}
	return b.MemoryTokens.Put(ctx, key, value, ttl)
}

// heldStore is a MemoryTokens whose fetch lock someone else always holds: a holder
// that never saves, or a lock someone who can write to the Store keeps planting.
type heldStore struct{ store.MemoryTokens }

func (*heldStore) Lock(context.Context, string) (transport.FetchLock, error) { return nil, nil }

func (*heldStore) Wait(ctx context.Context, _ string) error {
	t := time.NewTimer(5 * time.Millisecond) // a Store's poll interval
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// replayStore is a MemoryTokens under a writer who keeps putting back genuine
// values recorded earlier: each Load returns the next of them, whatever was saved.
type replayStore struct {
	store.MemoryTokens
	replays []storetest.Stored
	loads   atomic.Int64
}

func (r *replayStore) Load(ctx context.Context, key string) ([]byte, bool, error) {
	if strings.HasSuffix(key, transport.BreakerKeySuffix) {
		return r.MemoryTokens.Load(ctx, key)
	}
	return r.replays[int(r.loads.Add(1)-1)%len(r.replays)].Value(), true, nil
}
