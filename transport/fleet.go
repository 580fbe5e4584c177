package transport

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokentrip/tokentrip/internal/tokenwire"
)

// maxWaitForOther bounds how long a Source waits for another process's fetch
// (real time; at most half the fetch timeout) before it fetches alone.
const maxWaitForOther = 15 * time.Second

// fleet is the layer a Source with a Store fetches through, composed over the
// Source's own fetch (its gate and Provider, Source.fetch): it adopts the token
// another process saved, or takes the key's fetch lock, fetches through the
// layer below and saves the result for the others, or waits for the process that
// holds the lock. It trusts nothing it reads (checkStored); whenever the Store
// fails it fetches alone, and asks the Store again after StoreRetry. It reports
// through the Source's events, and shares the breaker's state through the same
// Store (fleet_breaker.go).
type fleet struct {
	storeConfig
	s *Source // its clock, cache, checks and events, and the fetch below

	mu        sync.Mutex
	down      bool      // the Store failed and has not answered since
	downUntil time.Time // no Store operation before this
	rejection string    // the access token last invalidated here, not to be adopted again
	// rejectedExpiry is the expiry of the token last invalidated here: a stored
	// token that expires before it was issued before it, and is not adopted either
	// (a writer to the Store may put back recorded tokens the API rejects).
	rejectedExpiry time.Time
	poisoned       bool // the Store's value was found corrupt and not replaced since

	breakerKey string       // where the Store keeps the fleet's breaker
	trip       atomic.Bool  // the fleet's streak reached the threshold: the local breaker opens at this failure
	until      atomic.Int64 // Unix nanoseconds (wall clock) until which the fleet's breaker was last read open
}

func newFleet(s *Source, c storeConfig) *fleet {
	return &fleet{storeConfig: c, s: s, breakerKey: c.key + breakerKeySuffix}
}

// fetch adopts the fleet's token, or fetches it for the fleet under the lock, or
// waits for the process that holds the lock. Whenever the Store fails it falls
// back to fetching alone. Every fetch below it is a direct call, so that the
// Provider runs two frames under the single flight's work.
func (f *fleet) fetch(ctx context.Context, seen *entry) (*entry, error) {
	e, lock, err := f.acquire(ctx, seen)
	switch {
	case e != nil:
		return e, nil
	case err != nil:
		return nil, err
	case lock == nil:
		return f.s.fetch(ctx, seen) // alone
	}
	defer f.unlock(ctx, lock)
	// Another process may have saved its token between our look and our lock.
	e, err = f.adopt(ctx, seen)
	if e != nil {
		return e, nil
	}
	if err != nil {
		if err := f.gaveUp(ctx); err != nil {
			return nil, err
		}
		return f.s.fetch(ctx, seen)
	}
	fetched := f.s.now()
	if e, err = f.s.fetch(ctx, seen); err != nil {
		// A process that raced this one (its lock had expired) may have won: use its
		// token rather than fail.
		if won, aerr := f.adopt(ctx, seen); aerr == nil && won != nil {
			return won, nil
		}
		return nil, err
	}
	return f.save(ctx, lock, e, fetched), nil
}

// acquire adopts the fleet's token, or takes the fetch lock, waiting while
// another process holds it. It returns neither when the Source must fetch alone
// (the Store failed, or the lock's holder neither saves nor lets go), and an
// error only when the fetch's own deadline ended the wait.
func (f *fleet) acquire(ctx context.Context, seen *entry) (*entry, FetchLock, error) {
	waitUntil := time.Now().Add(min(maxWaitForOther, f.s.cfg.fetchTimeout/2))
	for {
		if !f.available() {
			return nil, nil, nil
		}
		e, err := f.adopt(ctx, seen)
		if err != nil {
			return nil, nil, f.gaveUp(ctx)
		}
		if e != nil {
			return e, nil, nil
		}
		lock, err := f.lock(ctx)
		if err != nil {
			return nil, nil, f.gaveUp(ctx)
		}
		if lock != nil {
			return nil, lock, nil
		}
		if time.Now().After(waitUntil) {
			// The lock's holder neither saves nor lets go — stuck, or a lock that
			// someone who can write to the Store keeps planting: fetch alone.
			return nil, nil, nil
		}
		if err := f.st.Wait(ctx, f.key); err != nil {
			if ctx.Err() == nil {
				f.failed(err)
			}
			return nil, nil, f.gaveUp(ctx)
		}
		f.worked()
	}
}

// gaveUp follows a failed Store operation: it returns nil, and the Source
// fetches alone, unless the failure was the fetch's own deadline, which ends the
// fetch with the error it returns.
func (f *fleet) gaveUp(ctx context.Context) error {
	if ctx.Err() == nil {
		return nil
	}
	err := &FetchError{
		Kind:    ErrEndpoint,
		Message: "gave up waiting for the fetch of another process",
		Hint:    "the fetch timeout ended the wait; see Settings.FetchTimeout",
		Err:     fmt.Errorf("%w: %w", ErrTimeout, ctx.Err()),
	}
	f.s.failed(err)
	return err
}

// save shares e, fetched at fetched under the lock, and returns the token the
// fleet uses: e, or the token of a process that took the lock over and saved.
func (f *fleet) save(ctx context.Context, lock FetchLock, e *entry, fetched time.Time) *entry {
	ttl := e.expireAt.Sub(f.s.now())
	if ttl <= 0 {
		return e
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.timeout)
	defer cancel()
	switch err := lock.Save(sctx, tokenwire.EncodeFields(tokenwire.Fields(e.tok), fetched), ttl); {
	case err == nil:
		f.worked()
		f.cured()
	case errors.Is(err, ErrLockLost):
		// Another process took over and may have saved its token: the fleet uses that.
		if won, aerr := f.adopt(ctx, e); aerr == nil && won != nil {
			return won
		}
	default:
		f.failed(err)
	}
	return e
}

// unlock lets the fetch lock go, within the Store's timeout even when the fetch's
// context has ended.
func (f *fleet) unlock(ctx context.Context, lock FetchLock) {
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.timeout)
	defer cancel()
	if err := lock.Unlock(uctx); err != nil {
		f.failed(err)
	}
}

// available reports whether the Store may be used now: it has not failed, or it
// failed long enough ago to be tried again.
func (f *fleet) available() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return !f.down || !f.s.now().Before(f.downUntil)
}

// failed books a Store failure: the Source works alone until the retry time, and
// says so once.
func (f *fleet) failed(err error) {
	now := f.s.now()
	f.mu.Lock()
	first := !f.down
	f.down, f.downUntil = true, now.Add(f.retry)
	f.mu.Unlock()
	if first {
		f.s.emit(Event{Kind: EventStoreDown, Err: err})
	}
}

// worked books a Store success, and says so if the Store had failed.
func (f *fleet) worked() {
	var back bool
	f.mu.Lock()
	back, f.down = f.down, false
	f.mu.Unlock()
	if back {
		f.s.emit(Event{Kind: EventStoreUp})
	}
}

// dropped remembers a token the Source invalidated so that the copy in the Store
// is not adopted again.
func (f *fleet) dropped(tok Token) {
	f.mu.Lock()
	f.rejection, f.rejectedExpiry = tok.AccessToken, tok.Expiry
	f.mu.Unlock()
}

// corrupt books a value of the Store that cannot be trusted: it counts as absent,
// the Source fetches, and its save replaces it. It is reported once until then.
func (f *fleet) corrupt(err error) {
	f.mu.Lock()
	first := !f.poisoned
	f.poisoned = true
	f.mu.Unlock()
	if first {
		f.s.emit(Event{Kind: EventStoreCorrupt, Err: err})
	}
}

// cured books a trustworthy value in the Store: adopted, or saved by this Source.
func (f *fleet) cured() {
	f.mu.Lock()
	f.poisoned = false
	f.mu.Unlock()
}

// adopt loads the fleet's token and makes it the Source's own if it is usable: it
// passes the checks a token from the network would (checkStored), and it is not
// expired, not rejected here, not issued before the token last rejected here, and
// not the very token being refreshed. It returns nil and no error when there is
// nothing to adopt; a corrupt or forged value is nothing, reported as such.
func (f *fleet) adopt(ctx context.Context, seen *entry) (*entry, error) {
	s := f.s
	lctx, cancel := context.WithTimeout(ctx, f.timeout)
	data, ok, err := f.st.Load(lctx, f.key)
	cancel()
	var (
		tok     Token
		fetched time.Time
	)
	if err == nil && ok {
		var w tokenwire.Fields
		if w, fetched, err = tokenwire.DecodeFields(data); err != nil {
			err = fmt.Errorf("%w: %w", ErrCorruptValue, err)
		}
		tok = Token(w)
	}
	switch {
	case err != nil && errors.Is(err, ErrCorruptValue):
		f.worked()
		f.corrupt(err)
		return nil, nil
	case err != nil:
		if ctx.Err() == nil {
			f.failed(err)
		}
		return nil, err
	}
	f.worked()
	if !ok {
		return nil, nil
	}
	if err := s.checkStored(tok, fetched); err != nil {
		f.corrupt(fmt.Errorf("%w: %w", ErrCorruptValue, err))
		return nil, nil
	}
	f.cured()
	f.mu.Lock()
	rejected := tok.AccessToken == f.rejection || tok.Expiry.Before(f.rejectedExpiry)
	f.mu.Unlock()
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
func (f *fleet) lock(ctx context.Context) (FetchLock, error) {
	lctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	l, err := f.st.Lock(lctx, f.key)
	if err != nil {
		if ctx.Err() == nil {
			f.failed(err)
		}
		return nil, err
	}
	return l, nil
}
