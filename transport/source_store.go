package transport

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
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

// shared is what a Source with a Store keeps about it.
type shared struct {
	storeConfig
	s *Source

	mu        sync.Mutex
	down      bool      // the Store failed and has not answered since
	downUntil time.Time // no Store operation before this
	rejection string    // the access token last invalidated here, not to be adopted again
}

// attachStore sets up sharing when WithStore was given.
func (s *Source) attachStore() {
	if s.cfg.store == nil || s.cfg.store.st == nil {
		return
	}
	s.shared = &shared{storeConfig: *s.cfg.store, s: s}
	if bs, ok := s.cfg.store.st.(BreakerSharer); ok {
		if data := bs.BreakerStore(s.shared.key); data != nil {
			s.breaker = newSharedBreaker(s, s.breaker, data)
		}
	}
}

// fetchShared is fetch with a Store: adopt the fleet's token, or fetch it for the
// fleet under the lock, or wait for the process that holds the lock. Whenever the
// Store fails it falls back to fetching alone.
func (s *Source) fetchShared(ctx context.Context, seen *entry) (*entry, error) {
	sh := s.shared
	for {
		if !sh.available() {
			return s.fetchDirect(ctx)
		}
		e, err := sh.adopt(ctx, seen)
		if err != nil {
			return s.aloneAfter(ctx)
		}
		if e != nil {
			return e, nil
		}
		lock, err := sh.lock(ctx)
		if err != nil {
			return s.aloneAfter(ctx)
		}
		if lock != nil {
			return s.fetchLocked(ctx, seen, lock)
		}
		if err := sh.st.Wait(ctx, sh.key); err != nil {
			if ctx.Err() == nil {
				sh.failed(err)
			}
			return s.aloneAfter(ctx)
		}
		sh.worked()
	}
}

// aloneAfter follows a failed Store operation: the Source fetches alone, unless
// the failure was the fetch's own deadline, which ends the fetch.
func (s *Source) aloneAfter(ctx context.Context) (*entry, error) {
	if ctx.Err() == nil {
		return s.fetchDirect(ctx)
	}
	err := &FetchError{
		Kind:    ErrEndpoint,
		Message: "gave up waiting for the fetch of another process",
		Hint:    "the fetch timeout ended the wait; see WithFetchTimeout",
		Err:     fmt.Errorf("%w: %w", ErrTimeout, ctx.Err()),
	}
	s.failed(err)
	return nil, err
}

// fetchLocked fetches for the fleet while holding the lock, and saves the result.
func (s *Source) fetchLocked(ctx context.Context, seen *entry, lock FetchLock) (*entry, error) {
	sh := s.shared
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sh.timeout)
		defer cancel()
		if err := lock.Unlock(uctx); err != nil {
			sh.failed(err)
		}
	}()
	// Another process may have saved its token between our look and our lock.
	if e, err := sh.adopt(ctx, seen); err != nil || e != nil {
		if e != nil {
			return e, nil
		}
		return s.aloneAfter(ctx)
	}
	fetched := s.now()
	e, err := s.fetchDirect(ctx)
	if err != nil {
		// A process that raced this one (its lock had expired) may have won: use its
		// token rather than fail.
		if won, aerr := sh.adopt(ctx, seen); aerr == nil && won != nil {
			return won, nil
		}
		return nil, err
	}
	ttl := e.expireAt.Sub(s.now())
	if ttl <= 0 {
		return e, nil
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sh.timeout)
	defer cancel()
	switch err := lock.Save(sctx, StoredToken{Token: e.tok, Fetched: fetched}, ttl); {
	case err == nil:
		sh.worked()
	case errors.Is(err, ErrLockLost):
		// Another process took over and may have saved its token: the fleet uses that.
		if won, aerr := sh.adopt(ctx, e); aerr == nil && won != nil {
			return won, nil
		}
	default:
		sh.failed(err)
	}
	return e, nil
}

// available reports whether the Store may be used now: it has not failed, or it
// failed long enough ago to be tried again.
func (sh *shared) available() bool {
	sh.mu.Lock()
	defer sh.mu.Unlock()
	return !sh.down || !sh.s.now().Before(sh.downUntil)
}

// failed books a Store failure: the Source works alone until the retry time, and
// says so once.
func (sh *shared) failed(err error) {
	now := sh.s.now()
	sh.mu.Lock()
	first := !sh.down
	sh.down, sh.downUntil = true, now.Add(sh.retry)
	sh.mu.Unlock()
	if first {
		sh.s.emit(Event{Kind: EventStoreDown, Err: err})
	}
}

// worked books a Store success, and says so if the Store had failed.
func (sh *shared) worked() {
	sh.mu.Lock()
	back := sh.down
	sh.down = false
	sh.mu.Unlock()
	if back {
		sh.s.emit(Event{Kind: EventStoreUp})
	}
}

// rejected remembers an invalidated token so that the copy in the Store is not
// adopted again. It does nothing on a Source without a Store.
func (sh *shared) rejected(tok Token) {
	if sh == nil {
		return
	}
	sh.mu.Lock()
	sh.rejection = tok.AccessToken
	sh.mu.Unlock()
}

// adopt loads the fleet's token and makes it the Source's own if it is usable: not
// expired, not rejected here, and not the very token being refreshed. It returns
// nil and no error when there is nothing to adopt.
func (sh *shared) adopt(ctx context.Context, seen *entry) (*entry, error) {
	s := sh.s
	lctx, cancel := context.WithTimeout(ctx, sh.timeout)
	st, ok, err := sh.st.Load(lctx, sh.key)
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			sh.failed(err)
		}
		return nil, err
	}
	sh.worked()
	if !ok || st.Token.AccessToken == "" {
		return nil, nil
	}
	sh.mu.Lock()
	rejected := st.Token.AccessToken == sh.rejection
	sh.mu.Unlock()
	e := s.newEntry(st.Token, st.Fetched)
	now := s.now()
	switch {
	case rejected, !now.Before(e.expireAt):
		return nil, nil
	case seen != nil && seen.tok.AccessToken == st.Token.AccessToken && !now.Before(e.refreshAt):
		return nil, nil // the token being refreshed: this process fetches its successor
	}
	s.cur.Store(e)
	s.emit(Event{Kind: EventAdopted, Expiry: e.tok.Expiry})
	return e, nil
}

// lock tries to take the fleet's fetch lock.
func (sh *shared) lock(ctx context.Context) (FetchLock, error) {
	lctx, cancel := context.WithTimeout(ctx, sh.timeout)
	defer cancel()
	l, err := sh.st.Lock(lctx, sh.key)
	if err != nil {
		if ctx.Err() == nil {
			sh.failed(err)
		}
		return nil, err
	}
	return l, nil
}

// sharedBreaker is the circuit breaker of a Source whose fleet shares breaker state:
// a gobreaker.DistributedCircuitBreaker over the Store, and the Source's own breaker
// for the times the Store cannot be reached.
type sharedBreaker struct {
	s        *Source
	local    breaker
	data     gobreaker.SharedDataStore
	settings gobreaker.Settings

	mu   sync.Mutex
	dist *gobreaker.DistributedCircuitBreaker[Token] // made on first use
}

// sharedBreakerName is the name the breaker has in the Store; the Store's key
// already tells credentials apart.
const sharedBreakerName = "tokentrip"

func newSharedBreaker(s *Source, local breaker, data gobreaker.SharedDataStore) *sharedBreaker {
	return &sharedBreaker{
		s:     s,
		local: local,
		data:  data,
		settings: gobreaker.Settings{
			Name:          sharedBreakerName,
			MaxRequests:   1,
			Timeout:       s.cfg.breakerCooldown,
			ReadyToTrip:   s.readyToTripShared,
			OnStateChange: s.onBreakerChange,
			IsSuccessful:  countsAsSuccess,
			IsExcluded:    isExcluded,
		},
	}
}

// readyToTripShared opens the fleet's breaker when this process's own streak says so,
// or when the fleet's consecutive failures reach the threshold for the kind of the
// latest failure.
func (s *Source) readyToTripShared(c gobreaker.Counts) bool {
	if s.readyToTrip() {
		return true
	}
	s.mu.Lock()
	last := s.lastErr
	s.mu.Unlock()
	n := int(c.ConsecutiveFailures)
	if last != nil && kindOf(last) == ErrEndpoint {
		return s.cfg.tripAfterOutages > 0 && n >= s.cfg.tripAfterOutages
	}
	return s.cfg.tripAfterRejections > 0 && n >= s.cfg.tripAfterRejections
}

// State reports the state last read from the Store; it never touches the Store.
func (b *sharedBreaker) State() gobreaker.State {
	b.mu.Lock()
	d := b.dist
	b.mu.Unlock()
	if d != nil && b.s.shared.available() {
		return d.CircuitBreaker.State()
	}
	return b.local.State()
}

// Execute runs req through the fleet's breaker, or through the local one when the
// Store cannot be reached or its breaker lock is busy.
func (b *sharedBreaker) Execute(req func() (Token, error)) (Token, error) {
	sh := b.s.shared
	for attempt := 0; ; attempt++ {
		if !sh.available() {
			return b.local.Execute(req)
		}
		d, err := b.distributed()
		if err != nil {
			sh.failed(err)
			return b.local.Execute(req)
		}
		var (
			tok  Token
			rerr error
			ran  bool
		)
		_, err = d.Execute(func() (Token, error) {
			ran = true
			tok, rerr = req()
			return tok, rerr
		})
		switch {
		case ran:
			if err != nil && err != rerr { // identity: not req's own error
				sh.failed(err) // the fetch ran; only saving the breaker state failed
			}
			return tok, rerr
		case errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
			b.noteOpened()
			return Token{}, err
		case errors.Is(err, gobreaker.ErrNoSharedState) && attempt == 0:
			// The state is gone (a Redis restarted empty): make it again.
			b.mu.Lock()
			b.dist = nil
			b.mu.Unlock()
		case errors.Is(err, ErrStoreBusy):
			return b.local.Execute(req)
		default:
			sh.failed(err)
			return b.local.Execute(req)
		}
	}
}

// distributed returns the fleet's breaker, making it on first use. The Store is
// probed first, so that an unreachable one fails fast instead of in gobreaker's
// lock retries.
func (b *sharedBreaker) distributed() (*gobreaker.DistributedCircuitBreaker[Token], error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dist != nil {
		return b.dist, nil
	}
	if _, err := b.data.GetData(stateKey); err != nil {
		return nil, err
	}
	d, err := gobreaker.NewDistributedCircuitBreaker[Token](b.data, b.settings)
	if err != nil {
		return nil, err
	}
	b.dist = d
	return d, nil
}

// stateKey is the name under which gobreaker keeps the shared state.
const stateKey = "gobreaker:state:" + sharedBreakerName

// noteOpened records when the fleet's breaker opened, read from the shared state,
// so that a refusal says when the next probe goes out even in a process that did
// not see the breaker trip.
func (b *sharedBreaker) noteOpened() {
	data, err := b.data.GetData(stateKey)
	if err != nil || len(data) == 0 {
		return
	}
	var st gobreaker.SharedState
	if json.Unmarshal(data, &st) != nil || st.State != gobreaker.StateOpen || st.Expiry.IsZero() {
		return
	}
	// gobreaker's expiry is on the wall clock; CircuitOpenError.Retry is on the
	// Source's.
	s := b.s
	retry := s.now().Add(time.Until(st.Expiry))
	s.mu.Lock()
	s.openedAt = retry.Add(-s.cfg.breakerCooldown)
	s.mu.Unlock()
}

// MemoryStore is a Store for Sources in one process: they share one token per key
// and one fetch, as a fleet does through a shared Store. It is also a reference for
// Store implementations. The zero value is ready to use.
type MemoryStore struct {
	mu     sync.Mutex
	tokens map[string]memoryToken
	locks  map[string]*memoryLock
	wake   map[string]chan struct{} // closed when key's token is saved or lock released
}

type memoryToken struct {
	tok   StoredToken
	until time.Time
}

// memoryWaitLimit bounds one Wait, as a poll interval does for a remote Store.
const memoryWaitLimit = time.Second

// Load implements Store.
func (m *MemoryStore) Load(_ context.Context, key string) (StoredToken, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tokens[key]
	if !ok || !time.Now().Before(t.until) {
		return StoredToken{}, false, nil
	}
	return t.tok, true, nil
}

// Lock implements Store. A lock of a MemoryStore never expires: its holders cannot
// die without the process.
func (m *MemoryStore) Lock(_ context.Context, key string) (FetchLock, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.locks[key] != nil {
		return nil, nil
	}
	if m.locks == nil {
		m.locks = map[string]*memoryLock{}
	}
	l := &memoryLock{m: m, key: key}
	m.locks[key] = l
	return l, nil
}

// Wait implements Store.
func (m *MemoryStore) Wait(ctx context.Context, key string) error {
	m.mu.Lock()
	if m.locks[key] == nil {
		m.mu.Unlock()
		return nil
	}
	if m.wake == nil {
		m.wake = map[string]chan struct{}{}
	}
	ch := m.wake[key]
	if ch == nil {
		ch = make(chan struct{})
		m.wake[key] = ch
	}
	m.mu.Unlock()
	t := time.NewTimer(memoryWaitLimit)
	defer t.Stop()
	select {
	case <-ch:
		return nil
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// String never shows the tokens.
func (m *MemoryStore) String() string { return "transport.MemoryStore{[REDACTED]}" }

// wakeLocked wakes the waiters of key; m.mu is held.
func (m *MemoryStore) wakeLocked(key string) {
	if ch := m.wake[key]; ch != nil {
		close(ch)
		delete(m.wake, key)
	}
}

type memoryLock struct {
	m   *MemoryStore
	key string
}

func (l *memoryLock) Save(_ context.Context, tok StoredToken, ttl time.Duration) error {
	m := l.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.locks[l.key] != l {
		return ErrLockLost
	}
	if m.tokens == nil {
		m.tokens = map[string]memoryToken{}
	}
	m.tokens[l.key] = memoryToken{tok: tok, until: time.Now().Add(ttl)}
	m.wakeLocked(l.key)
	return nil
}

func (l *memoryLock) Unlock(context.Context) error {
	m := l.m
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.locks[l.key] == l {
		delete(m.locks, l.key)
		m.wakeLocked(l.key)
	}
	return nil
}
