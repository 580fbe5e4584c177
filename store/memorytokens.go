package store

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/tokentrip/tokentrip/internal/redact"
	"github.com/tokentrip/tokentrip/transport"
)

// MemoryTokens is a transport.Store for Sources in one process: they share one
// token per key and one fetch, as a fleet does through a shared Store. It keeps
// tokens only: Put keeps nothing, so each Source keeps its breaker to itself. It
// is also a reference for Store implementations. The zero value is ready to use.
type MemoryTokens struct {
	mu     sync.Mutex
	values map[string]memoryValue
	locks  map[string]*memoryLock
	wake   map[string]chan struct{} // closed when key's value is saved or lock released
}

var _ transport.Store = (*MemoryTokens)(nil)

type memoryValue struct {
	value []byte
	until time.Time
}

// memoryWaitLimit bounds one Wait, as a poll interval does for a remote Store.
const memoryWaitLimit = time.Second

// Load implements transport.Store.
func (m *MemoryTokens) Load(_ context.Context, key string) ([]byte, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.values[key]
	if !ok || !time.Now().Before(v.until) {
		return nil, false, nil
	}
	return v.value, true, nil
}

// Put implements transport.Store: it keeps nothing (see MemoryTokens).
func (m *MemoryTokens) Put(context.Context, string, []byte, time.Duration) error { return nil }

// Lock implements transport.Store. A lock of a MemoryTokens never expires: its
// holders cannot die without the process.
func (m *MemoryTokens) Lock(_ context.Context, key string) (transport.FetchLock, error) {
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

// Wait implements transport.Store.
func (m *MemoryTokens) Wait(ctx context.Context, key string) error {
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
	case <-ch: // saved or released
	case <-t.C: // the waiter looks again
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// Format prints the same text for every verb, never a token.
func (m *MemoryTokens) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, "store.MemoryTokens{[REDACTED]}")
}

// wakeLocked wakes the waiters of key; m.mu is held.
func (m *MemoryTokens) wakeLocked(key string) {
	if ch := m.wake[key]; ch != nil {
		close(ch)
		delete(m.wake, key)
	}
}

type memoryLock struct {
	m   *MemoryTokens
	key string
}

func (l *memoryLock) Save(_ context.Context, value []byte, ttl time.Duration) error {
	m := l.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.locks[l.key] != l {
		return transport.ErrLockLost
	}
	if m.values == nil {
		m.values = map[string]memoryValue{}
	}
	m.values[l.key] = memoryValue{value: append([]byte(nil), value...), until: time.Now().Add(ttl)}
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
