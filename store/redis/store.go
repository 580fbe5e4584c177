package redisstore

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tokentrip/tokentrip/transport"
)

// Store keeps tokentrip's shared state in Redis. It implements transport.Store
// (set it as transport.Settings.Store: the Sources of a fleet share their token
// and their circuit breaker's state through it), and hands out RefreshTokens and
// Semaphores that share its client and settings. A Store is safe
// for concurrent use; make one per Redis client and share it.
//
// Every value that carries a secret or trust — access tokens, refresh tokens, the
// breaker's state — is sealed with AES-GCM under the fleet's key (WithEncryptionKey)
// and bound to the Redis key it is stored under; New refuses to make a Store
// without a key unless WithoutEncryption says so. Whatever it reads is checked as
// if it came from the network: a value that does not open is an error wrapping
// transport.ErrCorruptValue (and one that does not decode or make sense is refused
// by the Source), which the Source treats as absent.
// Every Redis operation ends within the Store's timeout (WithTimeout), whatever the
// client's own options say.
type Store struct {
	client redis.UniversalClient
	cfg    config
	aead   cipher.AEAD // nil: values are stored as they are (WithoutEncryption)
	// digestKey keys the digests that identify refresh tokens (RefreshTokens). It is
	// derived from the encryption key, which the Store does not keep; a pointer, so
	// that no rendering of the Store shows it.
	digestKey *[sha256.Size]byte
	notify    *notifier

	mu         sync.Mutex
	refresh    *RefreshTokens
	semaphores map[semaphoreID]*Semaphore
}

// Option configures a Store.
type Option func(*config)

type config struct {
	prefix   string
	key      []byte
	keySet   bool // WithEncryptionKey was given
	plain    bool // WithoutEncryption was given
	lockTTL  time.Duration
	poll     time.Duration
	leaseTTL time.Duration
	timeout  time.Duration
	retry    time.Duration
	logger   *slog.Logger
	hook     func(transport.Event)
}

// Defaults of a Store, each changed by the option of the same name.
const (
	DefaultPrefix       = "tokentrip:"
	DefaultLockTTL      = 10 * time.Second
	DefaultPollInterval = 100 * time.Millisecond
	DefaultLeaseTTL     = 30 * time.Second
	DefaultTimeout      = 2 * time.Second
	DefaultRetry        = 5 * time.Second
)

// WithPrefix sets the prefix of every key and channel the Store uses (default
// "tokentrip:"), to keep several applications apart in one Redis.
func WithPrefix(p string) Option { return func(c *config) { c.prefix = p } }

// WithEncryptionKey seals every value the Store writes — access tokens, refresh
// tokens and the breaker's state — with AES-GCM under key (16, 24 or 32 random
// bytes: AES-128, -192 or -256), bound to the Redis key it is stored under, and
// refuses every value that does not open with it. Whoever can write to Redis but
// does not have the key can then neither read a token nor forge one. Every process
// of a fleet needs the same key. New copies the key.
func WithEncryptionKey(key []byte) Option {
	return func(c *config) { c.key, c.keySet = append([]byte(nil), key...), true }
}

// WithoutEncryption makes the Store keep access tokens, refresh tokens and breaker
// state in Redis as they are, for a Redis that nobody but the fleet can read or
// write. Anyone who can read it can use the tokens; anyone who can write it can
// make the fleet adopt a token of theirs (which the providers' checks limit to
// their vendor's hosts) or hold its breaker open for a cooldown. See
// docs/RELIABILITY.md for the threat model. A Store that only serves Semaphores
// keeps no secret and may use it freely.
func WithoutEncryption() Option { return func(c *config) { c.plain = true } }

// WithLockTTL sets how long a fetch lock outlives a holder that died (default ten
// seconds). A living holder renews its lock every third of it, however long its
// fetch takes.
func WithLockTTL(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.lockTTL = d
		}
	}
}

// WithPollInterval sets how often a process that waits for another's fetch, or for
// a semaphore slot, looks again when no notification has come (default 100ms).
// Notifications arrive through Redis pub/sub; polling covers the ones missed.
func WithPollInterval(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.poll = d
		}
	}
}

// WithLeaseTTL sets how long a semaphore slot outlives a holder that died (default
// thirty seconds). A living holder renews its lease every third of it. Every
// process that shares a semaphore must use the same lease TTL: a lease that
// expires later than one lease TTL from now is taken for a forged one and dropped.
func WithLeaseTTL(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.leaseTTL = d
		}
	}
}

// WithTimeout bounds every Redis operation of the Store (default two seconds):
// those a caller starts, which its context may end sooner, and those the Store
// starts on its own — lock and lease renewals, releases. The bound holds whatever
// the client's options (go-redis ignores a context's deadline unless its
// ContextTimeoutEnabled is set): an operation Redis has not answered in time is
// abandoned and returns an error, and its late answer is undone where it took
// something (a lock, a lease).
func WithTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.timeout = d
		}
	}
}

// WithRetry sets how long a Semaphore or RefreshTokens works inside its process
// after Redis failed before it asks Redis again (default five seconds). Sources set
// theirs with transport.Settings.StoreRetry.
func WithRetry(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.retry = d
		}
	}
}

// WithLogger logs a warning when a Semaphore or RefreshTokens loses Redis and
// falls back to its process, or finds a corrupt or forged value, and a notice when
// Redis is back. Logging is off by default; nothing secret is logged.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithHook calls f with a transport.Event: EventStoreDown or EventStoreUp when a
// Semaphore or RefreshTokens loses Redis or finds it again, EventStoreCorrupt when
// a refresh token, a fetch lock or a semaphore's leases in Redis were corrupt or
// forged (the Sources report their own token and breaker values). f must be quick.
func WithHook(f func(transport.Event)) Option { return func(c *config) { c.hook = f } }

// ErrNoEncryptionKey is returned by New when neither WithEncryptionKey nor
// WithoutEncryption was given.
var ErrNoEncryptionKey = errors.New("redisstore: no encryption key: pass WithEncryptionKey with 16, 24 or 32 random bytes shared by every process of the fleet, or WithoutEncryption for a Redis nobody else can read or write")

// New returns a Store on client. It fails on a malformed option — an encryption
// key of the wrong size, or none at all without WithoutEncryption
// (ErrNoEncryptionKey); it does not contact Redis. Close it when done.
func New(client redis.UniversalClient, opts ...Option) (*Store, error) {
	if client == nil {
		return nil, errors.New("redisstore: nil client")
	}
	cfg := config{
		prefix:   DefaultPrefix,
		lockTTL:  DefaultLockTTL,
		poll:     DefaultPollInterval,
		leaseTTL: DefaultLeaseTTL,
		timeout:  DefaultTimeout,
		retry:    DefaultRetry,
	}
	for _, o := range opts {
		o(&cfg)
	}
	s := &Store{client: client, cfg: cfg}
	switch {
	case cfg.keySet && cfg.plain:
		return nil, errors.New("redisstore: WithEncryptionKey and WithoutEncryption contradict each other")
	case !cfg.keySet && !cfg.plain:
		return nil, ErrNoEncryptionKey
	}
	if cfg.keySet {
		block, err := aes.NewCipher(cfg.key)
		if err != nil {
			return nil, fmt.Errorf("redisstore: encryption key: %w (want 16, 24 or 32 bytes)", err)
		}
		if s.aead, err = cipher.NewGCM(block); err != nil {
			return nil, fmt.Errorf("redisstore: %w", err)
		}
	}
	dk := sha256.Sum256(append([]byte("tokentrip refresh-token digest\x00"), cfg.key...))
	s.digestKey = &dk
	clear(s.cfg.key) // the AEAD and the digest key are all the Store needs of it
	s.cfg.key = nil
	s.notify = newNotifier(client, cfg.prefix+"events:*")
	return s, nil
}

// Close stops the Store's pub/sub subscription. It does not close the client.
func (s *Store) Close() error { return s.notify.close() }

// String shows the prefix, never a token or a key.
func (s *Store) String() string {
	return fmt.Sprintf("redisstore.Store{prefix:%q encrypted:%t}", s.cfg.prefix, s.aead != nil)
}

// GoString keeps %#v from printing the Store's fields.
func (s *Store) GoString() string { return "&" + s.String() }

// Keys. An id is a transport.Settings.StoreKey (tokentrip's providers give a
// hash); the braces make every key of one id land in one Redis Cluster slot, as
// the scripts need. A Source keeps its token under its id, and its breaker's
// state under the id followed by ":breaker".
func (s *Store) lockKey(id string) string { return s.cfg.prefix + "{" + id + "}:lock" }
func (s *Store) channel(id string) string { return s.cfg.prefix + "events:" + id }

// valueKey is where the value of a Store key is kept, and what it holds.
func (s *Store) valueKey(key string) (rk, what string) {
	if id, ok := strings.CutSuffix(key, breakerSuffix); ok {
		return s.cfg.prefix + "{" + id + "}:breaker", "the breaker state"
	}
	return s.cfg.prefix + "{" + key + "}:token", "the token"
}

// breakerSuffix ends the Store key of a Source's breaker state.
const breakerSuffix = ":breaker"

// hashName turns a name a caller chose (a refresh-token key, a semaphore name) into
// a key part that reveals nothing.
func hashName(kind, name string) string {
	h := sha256.Sum256([]byte("tokentrip " + kind + "\x00" + name))
	return hex.EncodeToString(h[:])
}

// opContext bounds an operation the Store starts on its own.
func (s *Store) opContext(parent context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(parent), s.cfg.timeout)
}

// Load implements transport.Store: the value under key — a Source's token, or its
// breaker's state — opened with the Store's encryption key. A value that does not
// open, is larger than any value tokentrip writes, or sits under a key of another
// Redis type is an error wrapping transport.ErrCorruptValue.
func (s *Store) Load(ctx context.Context, key string) ([]byte, bool, error) {
	rk, what := s.valueKey(key)
	data, err := s.getBounded(ctx, "loading "+what, rk)
	switch {
	case errors.Is(err, redis.Nil):
		return nil, false, nil
	case wrongType(err):
		return nil, false, corrupt(what + "'s key holds another type of value")
	case err != nil:
		return nil, false, err
	}
	plain, err := s.open(rk, data)
	if err != nil {
		return nil, false, err
	}
	return plain, true, nil
}

// Put implements transport.Store: the value — a Source's breaker state — is sealed
// like a token and lives ttl past its last change, so that an abandoned
// credential's state does not stay forever.
func (s *Store) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	rk, what := s.valueKey(key)
	sealed := s.seal(rk, value)
	_, err := bound(ctx, s, "saving "+what, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, s.client.Set(ctx, rk, sealed, ttl).Err()
	}, nil)
	return err
}

// Lock implements transport.Store. The lock holds a random fencing value: only its
// holder can save under it, renew it or release it.
func (s *Store) Lock(ctx context.Context, key string) (transport.FetchLock, error) {
	fence := randomID()
	lk := s.lockKey(key)
	n, err := bound(ctx, s, "taking the fetch lock", func(ctx context.Context) (int, error) {
		return lockScript.Run(ctx, s.client, []string{lk}, fence, s.cfg.lockTTL.Milliseconds()).Int()
	}, func(took int) {
		if took != 0 { // taken after the caller gave up: give it back rather than let it block the fleet
			ctx, cancel := s.opContext(context.Background())
			defer cancel()
			_ = unlockScript.Run(ctx, s.client, []string{lk}, fence, s.channel(key)).Err()
		}
	})
	if err != nil {
		return nil, err
	}
	if n == lockTookOverForged {
		s.report(transport.Event{Kind: transport.EventStoreCorrupt, Err: corrupt("the fetch lock was not one a process of the fleet takes (no expiry, a longer one, or another value); taken over")})
	}
	if n == 0 {
		return nil, nil
	}
	l := &fetchLock{s: s, id: key, fence: fence, stop: make(chan struct{}), done: make(chan struct{})}
	go l.keepAlive()
	return l, nil
}

// Wait implements transport.Store: it returns when the key's token is saved or its
// lock released (a pub/sub notification), when the lock is already gone, after the
// poll interval, or when ctx ends. A notification wakes it no sooner than a tenth
// of the poll interval after it began: anyone who can publish on Redis can send a
// flood of them, and each wake costs the waiter a look at Redis.
func (s *Store) Wait(ctx context.Context, key string) error {
	began := time.Now()
	sub, err := bound(ctx, s, "subscribing to notifications", func(ctx context.Context) (subscription, error) {
		return s.notify.subscribe(ctx, s.channel(key))
	}, func(sub subscription) { sub.stop() })
	if err != nil {
		return err
	}
	defer sub.stop()
	// A release before the subscription would go unnoticed: look once.
	n, err := bound(ctx, s, "looking at the fetch lock", func(ctx context.Context) (int64, error) {
		return s.client.Exists(ctx, s.lockKey(key)).Result()
	}, nil)
	if err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	t := time.NewTimer(s.cfg.poll)
	defer t.Stop()
	select {
	case <-sub.woken:
		if d := s.cfg.poll/10 - time.Since(began); d > 0 {
			t.Reset(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	case <-t.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// fetchLock is a held fetch lock, renewed until Unlock.
type fetchLock struct {
	s     *Store
	id    string
	fence string
	once  sync.Once
	stop  chan struct{}
	done  chan struct{}
}

// keepAlive renews the lock every third of its TTL until Unlock, or until it finds
// the lock lost.
func (l *fetchLock) keepAlive() {
	defer close(l.done)
	t := time.NewTicker(l.s.cfg.lockTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			n, err := bound(context.Background(), l.s, "renewing the fetch lock", func(ctx context.Context) (int, error) {
				return renewScript.Run(ctx, l.s.client, []string{l.s.lockKey(l.id)}, l.fence, l.s.cfg.lockTTL.Milliseconds()).Int()
			}, nil)
			if err == nil && n == 0 {
				return // lost: another process may hold it now
			}
		}
	}
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
	l.once.Do(func() { close(l.stop) })
	<-l.done // a renewal in flight ends within the Store's timeout
	_, err := bound(ctx, l.s, "releasing the fetch lock", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, unlockScript.Run(ctx, l.s.client, []string{l.s.lockKey(l.id)}, l.fence, l.s.channel(l.id)).Err()
	}, nil)
	return err
}

// randomID returns 128 random bits in hex: fencing values and lease ids.
func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}
