package transport

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"time"
)

// Store shares a Source's token among every process that uses the same credential,
// so that a fleet makes one token fetch per token lifetime instead of one per
// process. A Source with a Store reads through it: at a miss or a refresh point it
// adopts a token another process saved; if there is none, one process takes the
// key's fetch lock and fetches while the others Wait for its result. A Source
// without a Store keeps its token to itself, in memory.
//
// Keys are StoreKey.ID values: hashes, never a client id or a secret. Every method
// must be safe for concurrent use and should end by ctx's deadline. Errors mean
// the Store is unreachable — the Source then works alone and tries the Store again
// later (see Settings.StoreRetry) — except ErrCorruptValue.
//
// The Source trusts nothing it reads from a Store: a token that does not pass its
// checks and the Provider's (see TokenChecker) counts as absent, is reported as an
// EventStoreCorrupt, and is overwritten by the next token the Source fetches.
type Store interface {
	// Load returns the token saved under key, and false when there is none. A value
	// that is there but cannot be read (it does not decode, is not a token, or fails
	// its authentication) is an error wrapping ErrCorruptValue.
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
var ErrLockLost = errors.New("the fetch lock was lost")

// ErrCorruptValue is wrapped by the error of a Store's Load (or LoadBreaker) when
// a value is there but cannot be trusted: it does not decode, has the wrong shape,
// or fails its authentication (sealed under another key, truncated, forged). The
// Source treats it as absent — it fetches, and its next save replaces the value —
// and reports an EventStoreCorrupt, not a Store outage.
var ErrCorruptValue = errors.New("the stored value is corrupt or forged")

// ErrSuperseded is wrapped by a Provider's error when its fetch lost a race to
// another holder of the same credential (a rotating refresh token spent first
// elsewhere) and the winner's result could not be adopted in time. It says nothing
// about the credential or the endpoint, so the circuit breaker ignores it; the
// next fetch uses what the winner left.
var ErrSuperseded = errors.New("fetch superseded by another holder of the credential")

// TokenChecker is implemented by a Provider that can tell whether a token it did
// not fetch itself — one read from a Store — is one it could have fetched. The
// Source asks it about every token it would adopt from a Store, after its own
// checks (characters, a fetch time and an expiry that make sense), and treats a
// token that fails as absent. The providers of tokentrip check the characters of
// the token, its lifetime, and that its instance URLs are ones their vendor issues.
type TokenChecker interface {
	// CheckToken returns why tok cannot be one of this Provider's tokens, or nil. The
	// error never quotes the token.
	CheckToken(tok Token) error
}

// BreakerSharer is implemented by a Store that can also keep a Source's circuit
// breaker state, so that a breaker opened by one process is open for the fleet;
// key is the Source's StoreKey.ID. The Source checks what it loads (an open-until
// beyond its cooldown is forged) and falls back to its own breaker whenever the
// state cannot be read.
type BreakerSharer interface {
	// LoadBreaker returns the breaker state saved under key, and false when there is
	// none. A value that cannot be read is an error wrapping ErrCorruptValue.
	LoadBreaker(ctx context.Context, key string) (BreakerRecord, bool, error)
	// SaveBreaker saves rec under key for ttl.
	SaveBreaker(ctx context.Context, key string, rec BreakerRecord, ttl time.Duration) error
}

// BreakerRecord is a fleet's circuit breaker as a Store keeps it.
type BreakerRecord struct {
	// OpenUntil is when the fleet's breaker lets a probe through, on the wall clock
	// (the breaker's cooldown runs in real time). Zero or past: closed.
	OpenUntil time.Time
	// Failures counts the fleet's consecutive failed fetches; a success resets it.
	Failures int
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
