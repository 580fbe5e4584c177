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
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tokentrip/tokentrip/internal/redact"
	"github.com/tokentrip/tokentrip/transport"
)

// Store keeps tokentrip's shared state in Redis. It implements transport.Store
// (set it as transport.Settings.Store: the Sources of a fleet share their token
// and their circuit breaker's state through it), and hands out RefreshTokens and
// Semaphores that share its client and settings. A Store is safe for concurrent
// use; make one per Redis client and share it.
//
// Every value that carries a secret or trust — access tokens, refresh tokens, the
// breaker's state — is sealed with AES-GCM under the fleet's key
// (Options.EncryptionKey) and bound to the Redis key it is stored under; New
// refuses to make a Store without a key unless Options.Unencrypted says so.
// Whatever it reads is checked as if it came from the network: a value that does
// not open is an error wrapping transport.ErrCorruptValue (and one that does not
// decode or make sense is refused by the Source), which the Source treats as
// absent. Every Redis operation ends within Options.Timeout, whatever the client's
// own options say.
type Store struct {
	client redis.UniversalClient
	cfg    Options     // with every default set, and no key
	aead   cipher.AEAD // nil: values are stored as they are (Unencrypted)
	// digestKey keys the digests that identify refresh tokens (RefreshTokens). It is
	// derived from the encryption key, which the Store does not keep; a pointer, so
	// that no rendering of the Store shows it.
	digestKey *[sha256.Size]byte
	notify    *notifier

	mu         sync.Mutex
	refresh    *RefreshTokens
	semaphores map[semaphoreID]*Semaphore
}

// ErrNoEncryptionKey is returned by New when Options has neither an EncryptionKey
// nor Unencrypted.
var ErrNoEncryptionKey = errors.New("redisstore: no encryption key: set Options.EncryptionKey to 16, 24 or 32 random bytes shared by every process of the fleet, or Options.Unencrypted for a Redis nobody else can read or write")

// New returns a Store on client with the settings of o. It fails on a malformed
// option — an encryption key of the wrong size, or none at all without
// Unencrypted (ErrNoEncryptionKey); it does not contact Redis. Close it when done.
func New(client redis.UniversalClient, o Options) (*Store, error) {
	if client == nil {
		return nil, errors.New("redisstore: nil client")
	}
	key := o.EncryptionKey
	switch {
	case len(key) > 0 && o.Unencrypted:
		return nil, errors.New("redisstore: Options.EncryptionKey and Options.Unencrypted contradict each other")
	case len(key) == 0 && !o.Unencrypted:
		return nil, ErrNoEncryptionKey
	}
	s := &Store{client: client, cfg: o.withDefaults()}
	if len(key) > 0 {
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, fmt.Errorf("redisstore: encryption key: %w (want 16, 24 or 32 bytes)", err)
		}
		if s.aead, err = cipher.NewGCM(block); err != nil {
			return nil, fmt.Errorf("redisstore: %w", err)
		}
	}
	// The AEAD and the digest key are all the Store keeps of the key.
	dk := sha256.Sum256(append([]byte("tokentrip refresh-token digest\x00"), key...))
	s.digestKey = &dk
	s.notify = newNotifier(client, s.cfg.Prefix+"events:*")
	return s, nil
}

// Close stops the Store's pub/sub subscription. It does not close the client.
func (s *Store) Close() error { return s.notify.close() }

// Format prints the Store's prefix and whether it encrypts, the same for every
// verb: never a token, a key or a semaphore's name.
func (s *Store) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, fmt.Sprintf("redisstore.Store{prefix:%q encrypted:%t}", s.cfg.Prefix, s.aead != nil))
}

// Keys. An id is a transport.Settings.StoreKey (tokentrip's providers give a
// hash); the braces make every key of one id land in one Redis Cluster slot, as
// the scripts need. A Source keeps its token under its id, and its breaker's
// state under the id followed by ":breaker".
func (s *Store) lockKey(id string) string { return s.cfg.Prefix + "{" + id + "}:lock" }
func (s *Store) channel(id string) string { return s.cfg.Prefix + "events:" + id }

// valueKey is where the value of a Store key is kept, and what it holds.
func (s *Store) valueKey(key string) (rk, what string) {
	if id, ok := strings.CutSuffix(key, breakerSuffix); ok {
		return s.cfg.Prefix + "{" + id + "}:breaker", "the breaker state"
	}
	return s.cfg.Prefix + "{" + key + "}:token", "the token"
}

// breakerSuffix ends the Store key of a Source's breaker state.
const breakerSuffix = ":breaker"

// hashName turns a name a caller chose (a refresh-token key, a semaphore name) into
// a key part that reveals nothing.
func hashName(kind, name string) string {
	h := sha256.Sum256([]byte("tokentrip " + kind + "\x00" + name))
	return hex.EncodeToString(h[:])
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
		return lockScript.Run(ctx, s.client, []string{lk}, fence, s.cfg.LockTTL.Milliseconds()).Int()
	}, func(took int) {
		if took != 0 { // taken after the caller gave up: give it back rather than let it block the fleet
			_ = s.unlock(context.Background(), key, fence)
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
	renew := s.renewEvery(s.cfg.LockTTL, "renewing the fetch lock", func(ctx context.Context) (int, error) {
		return renewScript.Run(ctx, s.client, []string{lk}, fence, s.cfg.LockTTL.Milliseconds()).Int()
	})
	return &fetchLock{s: s, id: key, fence: fence, renewal: renew}, nil
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
	t := time.NewTimer(s.cfg.PollInterval)
	defer t.Stop()
	select {
	case <-sub.woken:
		if d := s.cfg.PollInterval/10 - time.Since(began); d > 0 {
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

// randomID returns 128 random bits in hex: fencing values and lease ids.
func randomID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}
