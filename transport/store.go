package transport

import (
	"context"
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
// A Store keeps opaque values under string keys: the Source encodes what it saves
// and decodes what it loads. It keeps its token under Settings.StoreKey, and its
// circuit breaker's state under StoreKey+":breaker" (through Put), so that a
// breaker opened by one process is open for the fleet. Every method must be safe
// for concurrent use and should end by ctx's deadline. Errors mean the Store is
// unreachable — the Source then works alone and tries the Store again later (see
// Settings.StoreRetry) — except ErrCorruptValue.
//
// The Source trusts nothing it reads from a Store: a value that does not decode,
// or a token that does not pass its checks and the Provider's (see TokenChecker),
// counts as absent, is reported as an EventStoreCorrupt, and is overwritten by the
// next value the Source saves.
type Store interface {
	// Load returns the value saved under key, and false when there is none. A
	// value that is there but cannot be trusted as the Store's own (it fails its
	// authentication, say) is an error wrapping ErrCorruptValue.
	Load(ctx context.Context, key string) ([]byte, bool, error)
	// Put saves value under key for ttl, whoever holds the key's fetch lock: the
	// Source shares its breaker's state this way. A Store that keeps tokens only
	// may keep nothing (Put returns nil, Load finds nothing): each Source then
	// keeps its breaker to itself.
	Put(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Lock tries once to take key's fetch lock. It returns nil and no error when
	// another holder has it. A lock lasts until Unlock, or until it expires when
	// its holder dies without unlocking; a Store keeps a living holder's lock
	// alive.
	Lock(ctx context.Context, key string) (FetchLock, error)
	// Wait blocks until key's value may have been saved or its lock released, or
	// until a short poll interval has passed, or until ctx ends. Spurious returns
	// are fine: the Source looks again and waits again.
	Wait(ctx context.Context, key string) error
}

// FetchLock is a Store's fetch lock, held by the process that fetches for the fleet.
type FetchLock interface {
	// Save stores value under the lock's key for ttl, but only while the lock is
	// still held by this holder: otherwise it returns ErrLockLost and stores
	// nothing.
	Save(ctx context.Context, value []byte, ttl time.Duration) error
	// Unlock releases the lock if this holder still has it, and wakes the waiters.
	Unlock(ctx context.Context) error
}

// ErrLockLost is returned by FetchLock.Save when the lock expired and another
// process may have taken it over: the fetched token is used, but not shared.
var ErrLockLost = errors.New("the fetch lock was lost")

// ErrCorruptValue is wrapped by the error of a Store's Load when a value is there
// but cannot be trusted: it fails its authentication (sealed under another key,
// truncated, forged) or is not a value the Store writes. The Source wraps it too
// when a value does not decode or make sense. The Source treats such a value as
// absent — it fetches, and its next save replaces the value — and reports an
// EventStoreCorrupt, not a Store outage.
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
