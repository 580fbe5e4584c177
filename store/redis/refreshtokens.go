package redisstore

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/tokentrip/tokentrip/store"
)

// RefreshTokens is a store.RefreshTokens in Redis, shared by a fleet: rotation is
// one atomic compare-and-swap (a Lua script comparing digests, since sealed values
// differ on every write), so of two processes that spent the same refresh token
// only one stores its successor; the other gets store.ErrConflict and adopts the
// winner's. Values are sealed when the Store has an encryption key; keys are
// hashed.
//
// It remembers the last token it read or wrote for each key. When Redis cannot be
// reached, Load returns that copy and CompareAndSwap rotates it in the process;
// when Redis answers again the rotation is written back with the same
// compare-and-swap, and if another process rotated the token meanwhile its token
// wins. Each change of reachability is reported once (WithLogger, WithHook).
type RefreshTokens struct {
	s      *Store
	mac    []byte
	health *health

	mu    sync.Mutex
	known map[string]*localToken
}

// localToken is the process's copy of one key's refresh token.
type localToken struct {
	value   string
	pending bool   // rotated here while Redis was unreachable
	base    string // what Redis held before the pending rotations
}

// errValue marks a stored value this Store cannot read: not an unreachable Redis.
var errValue = errors.New("redisstore: unreadable refresh token")

var _ store.RefreshTokens = (*RefreshTokens)(nil)

// RefreshTokens returns the Store's refresh-token store; every call returns the
// same one.
func (s *Store) RefreshTokens() *RefreshTokens {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refresh == nil {
		mac := sha256.Sum256(append([]byte("tokentrip refresh-token digest\x00"), s.cfg.key...))
		s.refresh = &RefreshTokens{s: s, mac: mac[:], health: &health{s: s, what: "refresh tokens"}, known: map[string]*localToken{}}
	}
	return s.refresh
}

// String never shows the tokens.
func (r *RefreshTokens) String() string { return "redisstore.RefreshTokens{[REDACTED]}" }

func (r *RefreshTokens) key(key string) string {
	return r.s.cfg.prefix + "{rt:" + hashName("refresh token", key) + "}"
}

// digest identifies a token in compare-and-swap without revealing it.
func (r *RefreshTokens) digest(tok string) string {
	if tok == "" {
		return ""
	}
	m := hmac.New(sha256.New, r.mac)
	m.Write([]byte(tok))
	return hex.EncodeToString(m.Sum(nil))
}

// Load implements store.RefreshTokens.
func (r *RefreshTokens) Load(ctx context.Context, key string) (string, error) {
	var err error
	if r.health.available() {
		var v string
		if v, err = r.loadRemote(ctx, key); err == nil {
			r.health.worked()
			return v, nil
		}
		if errors.Is(err, errValue) || ctx.Err() != nil {
			return "", err
		}
		r.health.failed(err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if t := r.known[key]; t != nil {
		return t.value, nil
	}
	if err == nil {
		err = errors.New("redis was unreachable moments ago")
	}
	return "", fmt.Errorf("redisstore: no refresh token in this process to fall back on: %w", err)
}

func (r *RefreshTokens) loadRemote(ctx context.Context, key string) (string, error) {
	if err := r.writeBack(ctx, key); err != nil {
		return "", err
	}
	rk := r.key(key)
	data, err := r.s.client.HGet(ctx, rk, "v").Bytes()
	if errors.Is(err, redis.Nil) {
		r.remember(key, "")
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("redisstore: loading the refresh token: %w", err)
	}
	plain, err := r.s.open(rk, data)
	if err != nil {
		return "", fmt.Errorf("%w: %w", errValue, err)
	}
	r.remember(key, string(plain))
	return string(plain), nil
}

// CompareAndSwap implements store.RefreshTokens.
func (r *RefreshTokens) CompareAndSwap(ctx context.Context, key, prev, next string) error {
	if r.health.available() {
		err := r.writeBack(ctx, key)
		if err == nil {
			var ok bool
			if ok, err = r.casRemote(ctx, key, prev, next, false); err == nil {
				r.health.worked()
				if !ok {
					r.forget(key)
					return store.ErrConflict
				}
				r.remember(key, next)
				return nil
			}
		}
		if ctx.Err() != nil {
			return err
		}
		r.health.failed(err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.known[key]
	switch {
	case t == nil:
		return errors.New("redisstore: Redis is unreachable and this process has no copy of the refresh token")
	case t.value != prev:
		return store.ErrConflict
	}
	if !t.pending {
		t.pending, t.base = true, t.value
	}
	t.value = next
	return nil
}

func (r *RefreshTokens) casRemote(ctx context.Context, key, prev, next string, orMissing bool) (bool, error) {
	rk := r.key(key)
	var sealed []byte
	if next != "" {
		sealed = r.s.seal(rk, []byte(next))
	}
	flag := "0"
	if orMissing {
		flag = "1"
	}
	n, err := casScript.Run(ctx, r.s.client, []string{rk}, r.digest(prev), r.digest(next), sealed, flag).Int()
	if err != nil {
		return false, fmt.Errorf("redisstore: rotating the refresh token: %w", err)
	}
	return n == 1, nil
}

// writeBack stores in Redis a rotation made while Redis was unreachable, also when
// Redis came back empty. If another process rotated the token meanwhile, Redis
// keeps its token.
func (r *RefreshTokens) writeBack(ctx context.Context, key string) error {
	r.mu.Lock()
	t := r.known[key]
	if t == nil || !t.pending {
		r.mu.Unlock()
		return nil
	}
	base, value := t.base, t.value
	r.mu.Unlock()
	ok, err := r.casRemote(ctx, key, base, value, true)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if ok {
		if t.value == value {
			t.pending = false
		} else {
			t.base = value // rotated again meanwhile: still pending, from what Redis holds now
		}
		return nil
	}
	delete(r.known, key)
	if l := r.s.cfg.logger; l != nil {
		l.LogAttrs(ctx, slog.LevelWarn, "tokentrip: a refresh token rotated while Redis was unreachable was rotated elsewhere too; keeping the one in Redis")
	}
	return nil
}

func (r *RefreshTokens) remember(key, value string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if t := r.known[key]; t != nil && t.pending {
		return
	}
	r.known[key] = &localToken{value: value}
}

func (r *RefreshTokens) forget(key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.known, key)
}
