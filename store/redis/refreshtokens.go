package redisstore

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/tokentrip/tokentrip/internal/redact"
	"github.com/tokentrip/tokentrip/internal/tokenpairs"
	"github.com/tokentrip/tokentrip/internal/tokenwire"
	"github.com/tokentrip/tokentrip/store"
	"github.com/tokentrip/tokentrip/transport"
)

// RefreshTokens is a store.RefreshTokens in Redis, shared by a fleet: rotation is
// one atomic compare-and-swap (a Lua script comparing digests, since sealed values
// differ on every write), so of two processes that spent the same refresh token
// only one stores its successor; the other gets store.ErrConflict and adopts the
// winner's. The access token issued with a refresh token is kept with it, sealed
// (LoadPair, CompareAndSwapPair), so that the process that lost a rotation race
// can adopt it. Values are sealed under the Store's key; keys are hashed.
//
// What it reads is checked: a value that does not open, is not a token, or does
// not match its digest counts as absent (reported as transport.EventStoreCorrupt
// through the Store's hook and logger), and the next rotation replaces it.
//
// A refresh token is single use: one this process saw replaced is spent, and an
// older copy written back into Redis (a Redis restarted from an older snapshot, a
// replica promoted behind its primary, a replayed sealed value) counts as corrupt
// too; the process keeps using the newer token it holds, and its next rotation
// writes over the old copy.
//
// It remembers the last token it read or wrote for each key. When Redis cannot be
// reached, Load returns that copy and CompareAndSwap rotates it in the process;
// when Redis answers again the rotation is written back with the same
// compare-and-swap, and if another process rotated the token meanwhile its token
// wins. When Redis answers without the token — it restarted empty, or evicted it —
// the process stores its copy again, the only one that still works. Delete a
// token through CompareAndSwap (next ""): that leaves a marker, and no process
// restores it. Each change of reachability is reported once (Options.Logger,
// Options.Hook).
type RefreshTokens struct {
	s      *Store
	health *health

	mu    sync.Mutex
	known map[string]*localToken
	bad   map[string]string   // key → marker of a corrupt value seen in Redis (see casScript)
	gone  map[string][]string // key → digests of the tokens this process saw replaced, newest last
}

// localToken is the process's copy of one key's refresh token.
type localToken struct {
	value   string
	pending bool // rotated here while Redis was unreachable
	// chain holds, while pending, what Redis may hold: the token it held before
	// the pending rotations, then each token rotated away here since. Redis may
	// hold a later one than the first when a rotation it was sent was abandoned at
	// the Store's timeout and then done.
	chain []string
}

// maxGone bounds the replaced tokens remembered per key.
const maxGone = 16

var _ tokenpairs.Store = (*RefreshTokens)(nil)

// RefreshTokens returns the Store's refresh-token store; every call returns the
// same one.
func (s *Store) RefreshTokens() *RefreshTokens {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refresh == nil {
		s.refresh = &RefreshTokens{s: s, health: &health{s: s, what: "refresh tokens"},
			known: map[string]*localToken{}, bad: map[string]string{}, gone: map[string][]string{}}
	}
	return s.refresh
}

// Format prints the same text for every verb, never a token the process holds.
func (r *RefreshTokens) Format(f fmt.State, verb rune) {
	redact.Format(f, verb, "redisstore.RefreshTokens{[REDACTED]}")
}

func (r *RefreshTokens) key(key string) string {
	return r.s.cfg.Prefix + "{rt:" + hashName("refresh token", key) + "}"
}

// accessAAD binds a sealed access token to its refresh token's Redis key and field.
func accessAAD(rk string) string { return rk + "#access" }

// digest identifies a token in compare-and-swap without revealing it.
func (r *RefreshTokens) digest(tok string) string {
	if tok == "" {
		return ""
	}
	m := hmac.New(sha256.New, r.s.digestKey[:])
	m.Write([]byte(tok))
	return hex.EncodeToString(m.Sum(nil))
}

// Load implements store.RefreshTokens.
func (r *RefreshTokens) Load(ctx context.Context, key string) (string, error) {
	v, _, err := r.LoadPair(ctx, key)
	return v, err
}

// LoadPair returns the refresh token stored for key and the access token kept
// with it, as store.Memory's does. The access token comes back only when it
// opens, decodes and was stored with this very refresh token; the caller checks it
// as it would a token from the network.
func (r *RefreshTokens) LoadPair(ctx context.Context, key string) (string, transport.Token, error) {
	var err error
	if r.health.available() {
		var v string
		var access transport.Token
		if v, access, err = r.loadRemote(ctx, key, false); err == nil {
			r.health.mark(nil)
			return v, access, nil
		}
		if ctx.Err() != nil {
			return "", transport.Token{}, err
		}
		r.health.mark(err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if t := r.known[key]; t != nil {
		return t.value, transport.Token{}, nil
	}
	if err == nil {
		err = errors.New("redis was unreachable moments ago")
	}
	return "", transport.Token{}, fmt.Errorf("redisstore: no refresh token in this process to fall back on: %w", err)
}

// loadRemote loads key's tokens from Redis. When Redis has lost the refresh token
// (restarted empty, evicted it) and the process holds a copy, the copy is stored
// again, unless restored says that was just tried.
func (r *RefreshTokens) loadRemote(ctx context.Context, key string, restored bool) (string, transport.Token, error) {
	if err := r.writeBack(ctx, key); err != nil {
		return "", transport.Token{}, err
	}
	rk := r.key(key)
	vals, err := bound(ctx, r.s, "loading the refresh token", func(ctx context.Context) ([]any, error) {
		return loadPairScript.Run(ctx, r.s.client, []string{rk}, maxValueLen).Slice()
	}, nil)
	switch {
	case wrongType(err):
		return r.poisoned(key, "!type", corrupt("the refresh token's key holds another type of value")), transport.Token{}, nil
	case err != nil:
		return "", transport.Token{}, err
	case len(vals) != 4:
		return "", transport.Token{}, fmt.Errorf("redisstore: loading the refresh token: %d values in Redis's answer, want 4", len(vals))
	}
	d, dok := vals[0].(string)
	v, vok := vals[1].(string)
	a, aok := vals[2].(string)
	_, dbig := vals[0].(int64)
	_, vbig := vals[1].(int64)
	_, abig := vals[2].(int64)
	switch {
	case dbig:
		return r.poisoned(key, "!big", errTooLarge), transport.Token{}, nil
	case vbig:
		return r.poisoned(key, d, errTooLarge), transport.Token{}, nil
	case !vok && !dok && !aok:
		if exists, _ := vals[3].(int64); exists == 0 && !restored && r.current(key) != "" {
			switch ok, err := r.restore(ctx, key); {
			case err != nil:
				return "", transport.Token{}, err
			case ok:
				return r.current(key), transport.Token{}, nil
			}
			return r.loadRemote(ctx, key, true) // another process stored one meanwhile
		}
		r.remember(key, "")
		return "", transport.Token{}, nil
	case !vok || !dok:
		return r.poisoned(key, d, corrupt("the refresh token's entry is incomplete")), transport.Token{}, nil
	}
	plain, err := r.s.open(rk, []byte(v))
	if err != nil {
		return r.poisoned(key, d, err), transport.Token{}, nil
	}
	tok := string(plain)
	if !visibleToken(tok) || !hmac.Equal([]byte(d), []byte(r.digest(tok))) {
		return r.poisoned(key, d, corrupt("the stored refresh token is not one a provider issues, or does not match its digest")), transport.Token{}, nil
	}
	if r.replaced(key, d) {
		return r.poisoned(key, d, corrupt("the stored refresh token is one this process saw replaced, so it is spent: an older copy was written back (a Redis restored from an older snapshot, or a replayed value)")), transport.Token{}, nil
	}
	r.remember(key, tok)
	var access transport.Token
	switch {
	case abig:
		r.health.corrupt(errTooLarge)
	case aok:
		if access, err = r.openAccess(rk, a, d); err != nil {
			r.health.corrupt(err)
		}
	}
	return tok, access, nil
}

// restore stores the process's copy of key's refresh token in a Redis that has
// lost it (restarted empty, or evicted it): the copy is the only one that still
// works. It reports false when another process stored a token first. A token deleted through CompareAndSwap leaves a marker,
// and is not restored.
func (r *RefreshTokens) restore(ctx context.Context, key string) (bool, error) {
	cur := r.current(key)
	ok, err := r.casRemote(ctx, key, []string{""}, cur, transport.Token{}, true)
	if ok {
		if l := r.s.cfg.Logger; l != nil {
			l.LogAttrs(ctx, slog.LevelWarn, "tokentrip: Redis had lost a refresh token (restarted empty, or evicted it); stored this process's copy again")
		}
	}
	return ok, err
}

// current returns the process's copy of key's refresh token, or "".
func (r *RefreshTokens) current(key string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if t := r.known[key]; t != nil {
		return t.value
	}
	return ""
}

// openAccess opens the access token kept with the refresh token of digest d.
func (r *RefreshTokens) openAccess(rk, sealed, d string) (transport.Token, error) {
	plain, err := r.s.open(accessAAD(rk), []byte(sealed))
	if err != nil {
		return transport.Token{}, err
	}
	w, err := tokenwire.DecodeToken(plain)
	if err != nil {
		return transport.Token{}, corrupt(err.Error())
	}
	if !hmac.Equal([]byte(w.Refresh), []byte(d)) {
		return transport.Token{}, corrupt("the access token kept with the refresh token belongs to another one")
	}
	f, _ := w.Fields()
	return transport.Token(f), nil
}

// poisoned books a corrupt value found under key: it is reported once, the next
// compare-and-swap may replace it, and the process's own copy (or nothing) stands
// in for it.
func (r *RefreshTokens) poisoned(key, digest string, err error) string {
	marker := "x" + digest
	r.mu.Lock()
	first := r.bad[key] != marker
	r.bad[key] = marker
	var local string
	if t := r.known[key]; t != nil {
		local = t.value
	}
	r.mu.Unlock()
	if first {
		r.health.corrupt(err)
	}
	return local
}

// CompareAndSwap implements store.RefreshTokens.
func (r *RefreshTokens) CompareAndSwap(ctx context.Context, key, prev, next string) error {
	return r.CompareAndSwapPair(ctx, key, prev, next, transport.Token{})
}

// CompareAndSwapPair is CompareAndSwap that also keeps access, the access token
// issued with next.
func (r *RefreshTokens) CompareAndSwapPair(ctx context.Context, key, prev, next string, access transport.Token) error {
	if r.health.available() {
		err := r.writeBack(ctx, key)
		if err == nil {
			var ok bool
			if ok, err = r.casRemote(ctx, key, []string{prev}, next, access, false); err == nil {
				r.health.mark(nil)
				if !ok {
					r.forget(key, prev)
					return store.ErrConflict
				}
				r.remember(key, next)
				return nil
			}
		}
		if ctx.Err() != nil {
			return err
		}
		r.health.mark(err)
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
		t.pending, t.chain = true, []string{t.value}
	} else {
		t.chain = append(t.chain, t.value)
	}
	r.addGone(key, t.value)
	t.value = next
	return nil
}

// casRemote stores next in Redis if Redis holds one of prevs ("" for none), or next
// already.
func (r *RefreshTokens) casRemote(ctx context.Context, key string, prevs []string, next string, access transport.Token, orMissing bool) (bool, error) {
	rk := r.key(key)
	ds := make([]string, len(prevs))
	for i, p := range prevs {
		if ds[i] = r.digest(p); ds[i] == "" {
			ds[i] = "-"
		}
	}
	var sealed, sealedAccess []byte
	dnext := r.digest(next)
	if next != "" {
		sealed = r.s.seal(rk, []byte(next))
		if access.AccessToken != "" {
			w := tokenwire.New(tokenwire.Fields(access), time.Time{})
			w.Refresh = dnext
			sealedAccess = r.s.seal(accessAAD(rk), w.Encode())
		}
	}
	flag := "0"
	if orMissing {
		flag = "1"
	}
	r.mu.Lock()
	marker := r.bad[key]
	r.mu.Unlock()
	n, err := bound(ctx, r.s, "rotating the refresh token", func(ctx context.Context) (int, error) {
		return casScript.Run(ctx, r.s.client, []string{rk}, strings.Join(ds, " "), dnext, sealed, flag, marker, sealedAccess, maxValueLen).Int()
	}, nil)
	if err != nil {
		return false, err
	}
	if n == 1 && marker != "" {
		r.mu.Lock()
		if r.bad[key] == marker {
			delete(r.bad, key)
		}
		r.mu.Unlock()
	}
	return n == 1, nil
}

// writeBack stores in Redis a rotation made while Redis was unreachable, also when
// Redis came back empty, or holding a token of the pending chain. If another
// process rotated the token meanwhile, Redis keeps its token.
func (r *RefreshTokens) writeBack(ctx context.Context, key string) error {
	r.mu.Lock()
	t := r.known[key]
	if t == nil || !t.pending {
		r.mu.Unlock()
		return nil
	}
	chain, value := append([]string(nil), t.chain...), t.value
	r.mu.Unlock()
	ok, err := r.casRemote(ctx, key, chain, value, transport.Token{}, true)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if ok {
		if t.value == value {
			t.pending, t.chain = false, nil
		} else {
			// Rotated again meanwhile: still pending, from what Redis holds now
			// (value, the first token rotated away since the snapshot).
			t.chain = t.chain[len(chain):]
		}
		return nil
	}
	delete(r.known, key)
	if l := r.s.cfg.Logger; l != nil {
		l.LogAttrs(ctx, slog.LevelWarn, "tokentrip: a refresh token rotated while Redis was unreachable was rotated elsewhere too; keeping the one in Redis")
	}
	return nil
}

// remember makes value the process's copy of key's token; the copy it replaces,
// if any, is spent.
func (r *RefreshTokens) remember(key, value string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.bad, key)
	t := r.known[key]
	if t != nil && t.pending {
		return
	}
	if t != nil && t.value != value {
		r.addGone(key, t.value)
	}
	r.known[key] = &localToken{value: value}
}

// forget drops the process's copy of key's token after a rotation of spent lost
// to another process's: spent is replaced in Redis.
func (r *RefreshTokens) forget(key, spent string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.known, key)
	r.addGone(key, spent)
}

// addGone books tok as replaced. r.mu is held.
func (r *RefreshTokens) addGone(key, tok string) {
	if tok == "" {
		return
	}
	d := r.digest(tok)
	g := r.gone[key]
	for _, x := range g {
		if x == d {
			return
		}
	}
	if len(g) >= maxGone {
		g = g[1:]
	}
	r.gone[key] = append(g, d)
}

// replaced reports whether the token of digest d was replaced while this process
// looked: it is spent.
func (r *RefreshTokens) replaced(key, d string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, x := range r.gone[key] {
		if hmac.Equal([]byte(x), []byte(d)) {
			return true
		}
	}
	return false
}

// visibleToken reports whether a stored refresh token looks like one a provider
// issues: visible ASCII, of a sane length.
func visibleToken(s string) bool {
	if s == "" || len(s) > maxTokenLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// maxTokenLen bounds a stored refresh token.
const maxTokenLen = 16 << 10
