package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sony/gobreaker/v2"

	"github.com/tokentrip/tokentrip/transport"
)

// BreakerStore implements transport.BreakerSharer: a gobreaker.SharedDataStore
// that keeps the circuit breaker of the credential key (a transport.StoreKey.ID)
// in Redis, so that a breaker opened by one process is open in all.
func (s *Store) BreakerStore(key string) gobreaker.SharedDataStore {
	return &breakerData{s: s, id: key, fences: map[string]string{}}
}

// breakerData is a SharedDataStore for one credential. gobreaker names its lock
// and its state; both map to keys under the credential's id.
type breakerData struct {
	s  *Store
	id string

	mu     sync.Mutex
	fences map[string]string // Redis key → fencing value of a lock held here
}

func (b *breakerData) key(name string) string {
	base := b.s.cfg.prefix + "{" + b.id + "}:breaker"
	switch {
	case strings.HasPrefix(name, "gobreaker:state:"):
		return base
	case strings.HasPrefix(name, "gobreaker:mutex:"):
		return base + ":lock"
	default:
		return base + ":" + hashName("breaker", name)
	}
}

// Lock takes the lock name once; it returns transport.ErrStoreBusy when another
// holder has it (gobreaker retries every 500ms). gobreaker holds it for a whole
// fetch, so it expires after half the Store's lock TTL, before the fetch lock of
// a holder that died: the process that takes the fetch over finds it free. Only
// the fetch lock's holder runs the breaker, so a living holder's breaker lock may
// lapse without harm.
func (b *breakerData) Lock(name string) error {
	k := b.key(name)
	fence := randomID()
	ctx, cancel := b.s.opContext(context.Background())
	defer cancel()
	ok, err := b.s.client.SetNX(ctx, k, fence, max(b.s.cfg.lockTTL/2, time.Millisecond)).Result()
	if err != nil {
		return fmt.Errorf("redisstore: breaker lock: %w", err)
	}
	if !ok {
		return transport.ErrStoreBusy
	}
	b.mu.Lock()
	b.fences[k] = fence
	b.mu.Unlock()
	return nil
}

// Unlock releases the lock name if it is still the one this store took.
func (b *breakerData) Unlock(name string) error {
	k := b.key(name)
	b.mu.Lock()
	fence, ok := b.fences[k]
	delete(b.fences, k)
	b.mu.Unlock()
	if !ok {
		return nil
	}
	ctx, cancel := b.s.opContext(context.Background())
	defer cancel()
	if err := unlockScript.Run(ctx, b.s.client, []string{k}, fence, "").Err(); err != nil {
		return fmt.Errorf("redisstore: breaker unlock: %w", err)
	}
	return nil
}

// GetData returns the state saved under name, or nothing.
func (b *breakerData) GetData(name string) ([]byte, error) {
	ctx, cancel := b.s.opContext(context.Background())
	defer cancel()
	data, err := b.s.client.Get(ctx, b.key(name)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("redisstore: breaker state: %w", err)
	}
	return data, nil
}

// SetData saves the state under name. It lives a day past its last change, so an
// abandoned credential's state does not stay forever.
func (b *breakerData) SetData(name string, data []byte) error {
	ctx, cancel := b.s.opContext(context.Background())
	defer cancel()
	if err := b.s.client.Set(ctx, b.key(name), data, breakerStateTTL).Err(); err != nil {
		return fmt.Errorf("redisstore: breaker state: %w", err)
	}
	return nil
}

// breakerStateTTL is how long a breaker state outlives its last change.
const breakerStateTTL = 24 * time.Hour
