package transport

import (
	"context"
	"sync"
	"time"
)

// MemoryStore is a Store for Sources in one process: they share one token per key
// and one fetch, as a fleet does through a shared Store. It is also a reference for
// Store implementations. The zero value is ready to use.
type MemoryStore struct {
	mu     sync.Mutex
	tokens map[string]memoryToken
	locks  map[string]*memoryLock
	wake   map[string]chan struct{} // closed when key's token is saved or lock released
}

type memoryToken struct {
	tok   StoredToken
	until time.Time
}

// memoryWaitLimit bounds one Wait, as a poll interval does for a remote Store.
const memoryWaitLimit = time.Second

// Load implements Store.
func (m *MemoryStore) Load(_ context.Context, key string) (StoredToken, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tokens[key]
	if !ok || !time.Now().Before(t.until) {
		return StoredToken{}, false, nil
	}
	return t.tok, true, nil
}

// Lock implements Store. A lock of a MemoryStore never expires: its holders cannot
// die without the process.
func (m *MemoryStore) Lock(_ context.Context, key string) (FetchLock, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.locks[key] != nil {
		return nil, nil
	}
	if m.locks == nil {
		m.locks = map[string]*memoryLock{}
	}
	l := &memoryLock{m: m, key: key}
	m.locks[key] = l
	return l, nil
}

// Wait implements Store.
func (m *MemoryStore) Wait(ctx context.Context, key string) error {
	m.mu.Lock()
	if m.locks[key] == nil {
		m.mu.Unlock()
		return nil
	}
	if m.wake == nil {
		m.wake = map[string]chan struct{}{}
	}
	ch := m.wake[key]
	if ch == nil {
		ch = make(chan struct{})
		m.wake[key] = ch
	}
	m.mu.Unlock()
	t := time.NewTimer(memoryWaitLimit)
	defer t.Stop()
	select {
	case <-ch:
		return nil
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// String never shows the tokens.
func (m *MemoryStore) String() string { return "transport.MemoryStore{[REDACTED]}" }

// wakeLocked wakes the waiters of key; m.mu is held.
func (m *MemoryStore) wakeLocked(key string) {
	if ch := m.wake[key]; ch != nil {
		close(ch)
		delete(m.wake, key)
	}
}

type memoryLock struct {
	m   *MemoryStore
	key string
}

func (l *memoryLock) Save(_ context.Context, tok StoredToken, ttl time.Duration) error {
	m := l.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.locks[l.key] != l {
		return ErrLockLost
	}
	if m.tokens == nil {
		m.tokens = map[string]memoryToken{}
	}
	m.tokens[l.key] = memoryToken{tok: tok, until: time.Now().Add(ttl)}
	m.wakeLocked(l.key)
	return nil
}

func (l *memoryLock) Unlock(context.Context) error {
	m := l.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.locks[l.key] == l {
		delete(m.locks, l.key)
		m.wakeLocked(l.key)
	}
	return nil
}
