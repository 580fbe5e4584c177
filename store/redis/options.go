package redisstore

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/tokentrip/tokentrip/internal/redact"
	"github.com/tokentrip/tokentrip/transport"
)

// Options configures a Store. Every knob is documented here, with its default; a
// zero (or negative) field takes that default. Encryption is the one choice New
// makes no default for: set EncryptionKey, or Unencrypted to say that the fleet's
// Redis needs none, or New returns ErrNoEncryptionKey. New reads the Options once.
// No rendering of Options shows the key: fmt prints it redacted, JSON leaves it
// out.
type Options struct {
	// EncryptionKey seals every value the Store writes — access tokens, refresh
	// tokens and the breaker's state — with AES-GCM under this key (16, 24 or 32
	// random bytes: AES-128, -192 or -256), bound to the Redis key it is stored
	// under, and refuses every value that does not open with it. Whoever can write
	// to Redis but does not have the key can then neither read a token nor forge
	// one. Every process of a fleet needs the same key. The Store keeps the
	// cipher made from it, not the slice. Required unless Unencrypted is set.
	EncryptionKey []byte `json:"-"`

	// Unencrypted makes the Store keep access tokens, refresh tokens and breaker
	// state in Redis as they are, for a Redis that nobody but the fleet can read or
	// write (default false: EncryptionKey is required). Anyone who can read it can
	// use the tokens; anyone who can write it can make the fleet adopt a token of
	// theirs (which the providers' checks limit to their vendor's hosts) or hold
	// its breaker open for a cooldown. See docs/RELIABILITY.md for the threat
	// model. A Store that only serves Semaphores keeps no secret and may use it
	// freely. Setting it with an EncryptionKey is an error.
	Unencrypted bool

	// Prefix starts every key and channel the Store uses (default "tokentrip:"),
	// to keep several applications apart in one Redis.
	Prefix string

	// LockTTL is how long a fetch lock outlives a holder that died (default ten
	// seconds). A living holder renews its lock every third of it, however long
	// its fetch takes.
	LockTTL time.Duration

	// PollInterval is how often a process that waits for another's fetch, or for
	// a semaphore slot, looks again when no notification has come (default
	// 100ms). Notifications arrive through Redis pub/sub; polling covers the ones
	// missed.
	PollInterval time.Duration

	// LeaseTTL is how long a semaphore slot outlives a holder that died (default
	// thirty seconds). A living holder renews its lease every third of it. Every
	// process that shares a semaphore must use the same LeaseTTL: a lease that
	// expires later than one lease TTL from now is taken for a forged one and
	// dropped.
	LeaseTTL time.Duration

	// Timeout bounds every Redis operation of the Store (default two seconds):
	// those a caller starts, which its context may end sooner, and those the
	// Store starts on its own — lock and lease renewals, releases. The bound
	// holds whatever the client's options (go-redis ignores a context's deadline
	// unless its ContextTimeoutEnabled is set): an operation Redis has not
	// answered in time is abandoned and returns an error wrapping ErrTimeout, and
	// its late answer is undone where it took something (a lock, a lease).
	Timeout time.Duration

	// Retry is how long a Semaphore or RefreshTokens works inside its process
	// after Redis failed before it asks Redis again (default five seconds).
	// Sources set theirs with transport.Settings.StoreRetry.
	Retry time.Duration

	// Logger, when set, logs a warning when a Semaphore or RefreshTokens loses
	// Redis and falls back to its process, or finds a corrupt or forged value, and
	// a notice when Redis is back (default: no logging). Nothing secret is logged.
	Logger *slog.Logger `json:"-"`

	// Hook, when set, is called with a transport.Event: EventStoreDown or
	// EventStoreUp when a Semaphore or RefreshTokens loses Redis or finds it
	// again, EventStoreCorrupt when a refresh token, a fetch lock or a
	// semaphore's leases in Redis were corrupt or forged (the Sources report
	// their own token and breaker values). It must be quick (default: none).
	Hook func(transport.Event) `json:"-"`
}

// Format prints the Options with the encryption key redacted, the same for every
// verb of fmt.
func (o Options) Format(f fmt.State, verb rune) {
	key := "none"
	if len(o.EncryptionKey) > 0 {
		key = "[REDACTED]"
	}
	redact.Format(f, verb, fmt.Sprintf("redisstore.Options{EncryptionKey:%s Unencrypted:%t Prefix:%q LockTTL:%v PollInterval:%v LeaseTTL:%v Timeout:%v Retry:%v Logger:%t Hook:%t}",
		key, o.Unencrypted, o.Prefix, o.LockTTL, o.PollInterval, o.LeaseTTL, o.Timeout, o.Retry, o.Logger != nil, o.Hook != nil))
}

// The defaults of Options, as its fields' comments state them.
const (
	defaultPrefix       = "tokentrip:"
	defaultLockTTL      = 10 * time.Second
	defaultPollInterval = 100 * time.Millisecond
	defaultLeaseTTL     = 30 * time.Second
	defaultTimeout      = 2 * time.Second
	defaultRetry        = 5 * time.Second
)

// withDefaults returns o with every unset field at its default, and no key: the
// Store keeps the cipher made from it, not the key.
func (o Options) withDefaults() Options {
	if o.Prefix == "" {
		o.Prefix = defaultPrefix
	}
	for _, d := range []struct {
		field *time.Duration
		def   time.Duration
	}{
		{&o.LockTTL, defaultLockTTL},
		{&o.PollInterval, defaultPollInterval},
		{&o.LeaseTTL, defaultLeaseTTL},
		{&o.Timeout, defaultTimeout},
		{&o.Retry, defaultRetry},
	} {
		if *d.field <= 0 {
			*d.field = d.def
		}
	}
	o.EncryptionKey = nil
	return o
}
