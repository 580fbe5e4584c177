package transport

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tokentrip/tokentrip/internal/tokenwire"
)

// maxWaitForOther bounds how long a Source waits for another process's fetch
// (real time; at most half the fetch timeout) before it fetches alone.
const maxWaitForOther = 15 * time.Second

// shared is what a Source with a Store keeps about it.
type shared struct {
	storeConfig
	s       *Source
	breaker breaker // the fleet's, when the Store shares breaker state (breaker_shared.go)

	mu        sync.Mutex
	down      bool      // the Store failed and has not answered since
	downUntil time.Time // no Store operation before this
	rejection string    // the access token last invalidated here, not to be adopted again
	// rejectedExpiry is the expiry of the token last invalidated here: a stored
	// token that expires before it was issued before it, and is not adopted either
	// (a writer to the Store may put back recorded tokens the API rejects).
	rejectedExpiry time.Time
	poisoned       bool // the Store's value was found corrupt and not replaced since
}

// attachStore sets up sharing when Settings.Store was given.
func (s *Source) attachStore() {
	if s.cfg.store == nil || s.cfg.store.st == nil {
		return
	}
	s.shared = &shared{storeConfig: *s.cfg.store, s: s}
	s.shared.breaker = newSharedBreaker(s, (*localBreaker)(s), s.cfg.store.key)
}

// fetchShared is fetch with a Store: adopt the fleet's token, or fetch it for the
// fleet under the lock, or wait for the process that holds the lock. Whenever the
// Store fails it falls back to fetching alone.
func (s *Source) fetchShared(ctx context.Context, seen *entry) (*entry, error) {
	sh := s.shared
	waitUntil := time.Now().Add(min(maxWaitForOther, s.cfg.fetchTimeout/2))
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
		if time.Now().After(waitUntil) {
			// The lock's holder neither saves nor lets go — stuck, or a lock that
			// someone who can write to the Store keeps planting: fetch alone.
			return s.fetchDirect(ctx)
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
		Hint:    "the fetch timeout ended the wait; see Settings.FetchTimeout",
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
	switch err := lock.Save(sctx, tokenwire.EncodeFields(tokenwire.Fields(e.tok), fetched), ttl); {
	case err == nil:
		sh.worked()
		sh.cured()
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
	sh.rejection, sh.rejectedExpiry = tok.AccessToken, tok.Expiry
	sh.mu.Unlock()
}

// corrupt books a value of the Store that cannot be trusted: it counts as absent,
// the Source fetches, and its save replaces it. It is reported once until then.
func (sh *shared) corrupt(err error) {
	sh.mu.Lock()
	first := !sh.poisoned
	sh.poisoned = true
	sh.mu.Unlock()
	if first {
		sh.s.emit(Event{Kind: EventStoreCorrupt, Err: err})
	}
}

// cured books a trustworthy value in the Store: adopted, or saved by this Source.
func (sh *shared) cured() {
	sh.mu.Lock()
	sh.poisoned = false
	sh.mu.Unlock()
}

// adopt loads the fleet's token and makes it the Source's own if it is usable: it
// passes the checks a token from the network would (checkStored), and it is not
// expired, not rejected here, not issued before the token last rejected here, and
// not the very token being refreshed. It returns
// nil and no error when there is nothing to adopt; a corrupt or forged value is
// nothing, reported as such.
func (sh *shared) adopt(ctx context.Context, seen *entry) (*entry, error) {
	s := sh.s
	lctx, cancel := context.WithTimeout(ctx, sh.timeout)
	data, ok, err := sh.st.Load(lctx, sh.key)
	cancel()
	var (
		tok     Token
		fetched time.Time
	)
	if err == nil && ok {
		var f tokenwire.Fields
		if f, fetched, err = tokenwire.DecodeFields(data); err != nil {
			err = fmt.Errorf("%w: %w", ErrCorruptValue, err)
		}
		tok = Token(f)
	}
	switch {
	case err != nil && errors.Is(err, ErrCorruptValue):
		sh.worked()
		sh.corrupt(err)
		return nil, nil
	case err != nil:
		if ctx.Err() == nil {
			sh.failed(err)
		}
		return nil, err
	}
	sh.worked()
	if !ok {
		return nil, nil
	}
	if err := s.checkStored(tok, fetched); err != nil {
		sh.corrupt(fmt.Errorf("%w: %w", ErrCorruptValue, err))
		return nil, nil
	}
	sh.cured()
	sh.mu.Lock()
	rejected := tok.AccessToken == sh.rejection || tok.Expiry.Before(sh.rejectedExpiry)
	sh.mu.Unlock()
	e := s.newEntry(tok, fetched)
	now := s.now()
	switch {
	case rejected, !now.Before(e.expireAt):
		return nil, nil
	case seen != nil && seen.tok.AccessToken == tok.AccessToken && !now.Before(e.refreshAt):
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
