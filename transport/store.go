package transport

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"time"

	"github.com/sony/gobreaker/v2"
)

// Store shares a Source's token among every process that uses the same credential,
// so that a fleet makes one token fetch per token lifetime instead of one per
// process. A Source with a Store reads through it: at a miss or a refresh point it
// adopts a token another process saved; if there is none, one process takes the
// key's fetch lock and fetches while the others Wait for its result. A Source
// without a Store keeps its token to itself, in memory.
//
// Keys are StoreKey.ID values: hashes, never a client id or a secret. Every method
// must be safe for concurrent use. Errors mean the Store is unreachable: the Source
// then works alone and tries the Store again later (see WithStoreFallback).
type Store interface {
	// Load returns the token saved under key, and false when there is none.
	Load(ctx context.Context, key string) (StoredToken, bool, error)
	// Lock tries once to take key's fetch lock. It returns nil and no error when
	// another holder has it. A lock lasts until Unlock, or until it expires when its
	// holder dies without unlocking; a Store keeps a living holder's lock alive.
	Lock(ctx context.Context, key string) (FetchLock, error)
	// Wait blocks until key's token may have been saved or its lock released, or
	// until a short poll interval has passed, or until ctx ends. Spurious returns
	// are fine: the Source looks again and waits again.
	Wait(ctx context.Context, key string) error
}

// FetchLock is a Store's fetch lock, held by the process that fetches for the fleet.
type FetchLock interface {
	// Save stores tok under the lock's key for ttl, but only while the lock is still
	// held by this holder: otherwise it returns ErrLockLost and stores nothing.
	Save(ctx context.Context, tok StoredToken, ttl time.Duration) error
	// Unlock releases the lock if this holder still has it, and wakes the waiters.
	Unlock(ctx context.Context) error
}

// StoredToken is a token as a Store keeps it: the token and when its fetch
// started, from which every process works out the same refresh point.
type StoredToken struct {
	Token   Token
	Fetched time.Time
}

// ErrLockLost is returned by FetchLock.Save when the lock expired and another
// process may have taken it over: the fetched token is used, but not shared.
var ErrLockLost = errors.New("store: the fetch lock was lost")

// ErrStoreBusy is returned by the Lock of a Store's gobreaker.SharedDataStore when
// another process holds the breaker state's lock. The Source then runs that fetch
// through its own breaker instead of treating the Store as unreachable.
var ErrStoreBusy = errors.New("store: locked by another process")

// BreakerSharer is implemented by a Store that can also keep a Source's circuit
// breaker state, so that a breaker opened by one process is open for the fleet.
// The Source then fetches through a gobreaker.DistributedCircuitBreaker over the
// returned SharedDataStore; key is the Source's StoreKey.ID.
type BreakerSharer interface {
	BreakerStore(key string) gobreaker.SharedDataStore
}

// StoreKey names one credential's token in a Store. Tokens differ per provider,
// client, business unit (account) and scope, so all of them belong in the key;
// Subject tells apart the users of an authorization-code flow.
type StoreKey struct {
	Provider  string // "mcv1", "mcv2", "acoustic", …
	ClientID  string
	AccountID string // the MID of a Marketing Cloud business unit, if any
	Scope     string
	Subject   string // the user a token was issued to, in code flows
}

// ID returns the key under which a Store keeps the token: the hex SHA-256 of the
// fields, so that no client id appears in the Store.
func (k StoreKey) ID() string {
	h := sha256.New()
	h.Write([]byte("tokentrip store key v1"))
	for _, f := range []string{k.Provider, k.ClientID, k.AccountID, k.Scope, k.Subject} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		h.Write(n[:])
		h.Write([]byte(f))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// String names the key by its ID only.
func (k StoreKey) String() string { return "StoreKey{" + k.ID()[:16] + "…}" }

// GoString keeps %#v from printing the client id.
func (k StoreKey) GoString() string { return k.String() }

// Defaults of WithStoreFallback.
const (
	DefaultStoreTimeout = 2 * time.Second
	DefaultStoreRetry   = 5 * time.Second
)

type storeConfig struct {
	st      Store
	key     string
	timeout time.Duration
	retry   time.Duration
}

// WithStore makes the Source share its token through st under key: one process of
// the fleet fetches, the others adopt its token. If st also implements
// BreakerSharer, the breaker's state is shared too. A nil st changes nothing.
func WithStore(st Store, key StoreKey) SourceOption {
	return func(c *sourceConfig) {
		if st == nil {
			c.store = nil
			return
		}
		sc := storeConfig{timeout: DefaultStoreTimeout, retry: DefaultStoreRetry}
		if c.store != nil {
			sc = *c.store
		}
		sc.st, sc.key = st, key.ID()
		c.store = &sc
	}
}

// WithStoreFallback sets how long one Store operation may take (default two
// seconds) and, once the Store has failed, how long the Source works alone before
// it asks the Store again (default five seconds). While it works alone it fetches
// its own tokens, so no call ever fails because the Store is down.
func WithStoreFallback(timeout, retry time.Duration) SourceOption {
	return func(c *sourceConfig) {
		sc := storeConfig{timeout: DefaultStoreTimeout, retry: DefaultStoreRetry}
		if c.store != nil {
			sc = *c.store
		}
		if timeout > 0 {
			sc.timeout = timeout
		}
		if retry > 0 {
			sc.retry = retry
		}
		c.store = &sc
	}
}
