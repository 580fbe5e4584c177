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
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tokentrip/tokentrip/transport"
)

// Store keeps tokentrip's shared state in Redis. It implements transport.Store
// (pass it to transport.WithStore) and transport.BreakerSharer, and hands out
// RefreshTokens and Semaphores that share its client and settings. A Store is safe
// for concurrent use; make one per Redis client and share it.
type Store struct {
	client redis.UniversalClient
	cfg    config
	aead   cipher.AEAD // nil: values are stored as they are
	notify *notifier

	mu         sync.Mutex
	refresh    *RefreshTokens
	semaphores map[semaphoreID]*Semaphore
}

// Option configures a Store.
type Option func(*config)

type config struct {
	prefix   string
	key      []byte
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

// WithEncryptionKey seals every token the Store writes with AES-GCM under key (16,
// 24 or 32 bytes: AES-128, -192 or -256), bound to the Redis key it is stored
// under. Every process of a fleet needs the same key. New copies the key.
func WithEncryptionKey(key []byte) Option {
	return func(c *config) { c.key = append([]byte(nil), key...) }
}

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
// thirty seconds). A living holder renews its lease every third of it.
func WithLeaseTTL(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.leaseTTL = d
		}
	}
}

// WithTimeout bounds each Redis operation the Store starts on its own — lock and
// lease renewals, releases, breaker state, refresh tokens (default two seconds).
// Operations a caller starts are bounded by the caller's context too.
func WithTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.timeout = d
		}
	}
}

// WithRetry sets how long a Semaphore or RefreshTokens works inside its process
// after Redis failed before it asks Redis again (default five seconds). Sources set
// theirs with transport.WithStoreFallback.
func WithRetry(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.retry = d
		}
	}
}

// WithLogger logs a warning when a Semaphore or RefreshTokens loses Redis and
// falls back to its process, and a notice when Redis is back. Logging is off by
// default; nothing secret is logged.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithHook calls f with a transport.Event (EventStoreDown or EventStoreUp) when a
// Semaphore or RefreshTokens loses Redis or finds it again. f must be quick.
func WithHook(f func(transport.Event)) Option { return func(c *config) { c.hook = f } }

// New returns a Store on client. It fails only on a malformed option (an
// encryption key of the wrong size); it does not contact Redis. Close it when done.
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
	if cfg.key != nil {
		block, err := aes.NewCipher(cfg.key)
		if err != nil {
			return nil, fmt.Errorf("redisstore: encryption key: %w (want 16, 24 or 32 bytes)", err)
		}
		if s.aead, err = cipher.NewGCM(block); err != nil {
			return nil, fmt.Errorf("redisstore: %w", err)
		}
	}
	s.notify = newNotifier(client, cfg.prefix+"events:*")
	return s, nil
}

// Close stops the Store's pub/sub subscription. It does not close the client.
func (s *Store) Close() error { return s.notify.close() }

// String shows the prefix, never a token or a key.
func (s *Store) String() string {
	return fmt.Sprintf("redisstore.Store{prefix:%q encrypted:%t}", s.cfg.prefix, s.aead != nil)
}

// Keys. An id is a transport.StoreKey.ID (already a hash); the braces make every
// key of one id land in one Redis Cluster slot, as the scripts need.
func (s *Store) tokenKey(id string) string { return s.cfg.prefix + "{" + id + "}:token" }
func (s *Store) lockKey(id string) string  { return s.cfg.prefix + "{" + id + "}:lock" }
func (s *Store) channel(id string) string  { return s.cfg.prefix + "events:" + id }

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

// Load implements transport.Store.
func (s *Store) Load(ctx context.Context, key string) (transport.StoredToken, bool, error) {
	rk := s.tokenKey(key)
	data, err := s.client.Get(ctx, rk).Bytes()
	if errors.Is(err, redis.Nil) {
		return transport.StoredToken{}, false, nil
	}
	if err != nil {
		return transport.StoredToken{}, false, fmt.Errorf("redisstore: loading the token: %w", err)
	}
	plain, err := s.open(rk, data)
	if err != nil {
		return transport.StoredToken{}, false, err
	}
	st, err := decodeToken(plain)
	if err != nil {
		return transport.StoredToken{}, false, err
	}
	return st, true, nil
}

// Lock implements transport.Store. The lock holds a random fencing value: only its
// holder can save under it, renew it or release it.
func (s *Store) Lock(ctx context.Context, key string) (transport.FetchLock, error) {
	fence := randomID()
	ok, err := s.client.SetNX(ctx, s.lockKey(key), fence, s.cfg.lockTTL).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: taking the fetch lock: %w", err)
	}
	if !ok {
		return nil, nil
	}
	l := &fetchLock{s: s, id: key, fence: fence, stop: make(chan struct{}), done: make(chan struct{})}
	go l.keepAlive()
	return l, nil
}

// Wait implements transport.Store: it returns when the key's token is saved or its
// lock released (a pub/sub notification), when the lock is already gone, after the
// poll interval, or when ctx ends.
func (s *Store) Wait(ctx context.Context, key string) error {
	woken, cancel, err := s.notify.subscribe(ctx, s.channel(key))
	if err != nil {
		return err
	}
	defer cancel()
	// A release before the subscription would go unnoticed: look once.
	n, err := s.client.Exists(ctx, s.lockKey(key)).Result()
	if err != nil {
		return fmt.Errorf("redisstore: %w", err)
	}
	if n == 0 {
		return nil
	}
	t := time.NewTimer(s.cfg.poll)
	defer t.Stop()
	select {
	case <-woken:
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
			ctx, cancel := l.s.opContext(context.Background())
			n, err := renewScript.Run(ctx, l.s.client, []string{l.s.lockKey(l.id)}, l.fence, l.s.cfg.lockTTL.Milliseconds()).Int()
			cancel()
			if err == nil && n == 0 {
				return // lost: another process may hold it now
			}
		}
	}
}

// Save implements transport.FetchLock.
func (l *fetchLock) Save(ctx context.Context, tok transport.StoredToken, ttl time.Duration) error {
	rk := l.s.tokenKey(l.id)
	plain, err := encodeToken(tok)
	if err != nil {
		return err
	}
	ms := max(ttl.Milliseconds(), 1)
	n, err := saveScript.Run(ctx, l.s.client, []string{rk, l.s.lockKey(l.id)},
		l.fence, l.s.seal(rk, plain), ms, l.s.channel(l.id)).Int()
	if err != nil {
		return fmt.Errorf("redisstore: saving the token: %w", err)
	}
	if n == 0 {
		return transport.ErrLockLost
	}
	return nil
}

// Unlock implements transport.FetchLock.
func (l *fetchLock) Unlock(ctx context.Context) error {
	l.once.Do(func() { close(l.stop) })
	<-l.done
	if err := unlockScript.Run(ctx, l.s.client, []string{l.s.lockKey(l.id)}, l.fence, l.s.channel(l.id)).Err(); err != nil {
		return fmt.Errorf("redisstore: releasing the fetch lock: %w", err)
	}
	return nil
}

// randomID returns 128 random bits in hex: fencing values and lease ids.
func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}
