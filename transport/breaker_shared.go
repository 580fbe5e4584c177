package transport

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
)

// sharedBreaker is the circuit breaker of a Source whose fleet shares breaker state
// through its Store, under StoreKey+":breaker" (a Store that keeps tokens only
// keeps none: the state then always reads closed, and the Source's own breaker
// decides alone). The Source's own breaker does the counting
// and the opening, as it does alone; the Store carries what the fleet must agree
// on: how many fetches in a row failed across the fleet, and until when the
// fleet's breaker is open. Every state read from the Store is checked before it is
// believed, and whenever the Store cannot be read or written the Source's own
// breaker carries on alone. Nothing the Store holds ever reaches gobreaker.
type sharedBreaker struct {
	s     *Source
	local breaker
	key   string // where the Store keeps the fleet's state

	trip  atomic.Bool  // the fleet's streak reached the threshold: the local breaker opens at this failure
	until atomic.Int64 // Unix nanoseconds (wall clock) until which the fleet's breaker was last read open
}

// Bounds on a breaker state read from the Store.
const (
	// breakerSkew is how much further than one cooldown from now an open-until may
	// lie, for the clocks of a fleet's hosts disagree a little (a state within it
	// is believed for one cooldown from now at most). Beyond it the state is forged
	// ("open until 9999") and ignored.
	breakerSkew = time.Minute
	// maxFleetFailures bounds a believable streak.
	maxFleetFailures = 1 << 20
	// breakerStateTTL is how long a saved state outlives its last change, so that an
	// abandoned credential's state does not stay forever.
	breakerStateTTL = 24 * time.Hour
)

func newSharedBreaker(s *Source, local breaker, key string) *sharedBreaker {
	return &sharedBreaker{s: s, local: local, key: key + breakerKeySuffix}
}

// State reports the local breaker's state, or open while the fleet's breaker was
// last read open; it never touches the Store.
func (b *sharedBreaker) State() gobreaker.State {
	st := b.local.State()
	if st != gobreaker.StateOpen && time.Now().UnixNano() < b.until.Load() {
		return gobreaker.StateOpen
	}
	return st
}

// Execute runs req through the fleet's breaker: refused while the fleet's breaker
// is open, otherwise through the local breaker, with the outcome shared. When the
// Store cannot be used, through the local breaker alone.
func (b *sharedBreaker) Execute(req func() (Token, error)) (Token, error) {
	sh := b.s.shared
	if !sh.available() {
		return b.local.Execute(req)
	}
	rec, err := b.load()
	if err != nil {
		sh.failed(err)
		return b.local.Execute(req)
	}
	if now := time.Now(); now.Before(rec.OpenUntil) {
		b.until.Store(rec.OpenUntil.UnixNano())
		b.noteOpened(rec.OpenUntil)
		return Token{}, gobreaker.ErrOpenState
	}
	b.until.Store(0)
	before := b.local.State()
	ran := false
	tok, err := b.local.Execute(func() (Token, error) {
		ran = true
		tok, err := req()
		b.count(&rec, err)
		return tok, err
	})
	if ran {
		if b.local.State() == gobreaker.StateOpen && before != gobreaker.StateOpen {
			rec.OpenUntil = time.Now().Add(b.s.cfg.breakerCooldown)
		}
		if serr := b.save(rec); serr != nil {
			sh.failed(serr) // the fetch ran; only sharing its outcome failed
		}
	}
	return tok, err
}

// count adds a fetch's outcome to the fleet's streak and, when the streak reaches
// the threshold for the kind of this failure, has the local breaker open now.
func (b *sharedBreaker) count(rec *breakerRecord, err error) {
	switch {
	case err == nil:
		*rec = breakerRecord{}
		b.trip.Store(false)
		return
	case isExcluded(err):
		return
	}
	rec.Failures++
	threshold := b.s.cfg.tripAfterRejections
	if kindOf(err) == ErrEndpoint {
		threshold = b.s.cfg.tripAfterOutages
	}
	if threshold > 0 && rec.Failures >= threshold {
		b.trip.Store(true)
	}
}

// tripNow reports, once, that the fleet's streak asks the local breaker to open.
func (b *sharedBreaker) tripNow() bool { return b.trip.Swap(false) }

// load reads the fleet's state. A state that cannot be read or believed is
// reported (EventStoreCorrupt) and taken as closed with no failures: the next save
// replaces it. An error means the Store failed. A panic in the Store is a failure
// too, never the caller's.
func (b *sharedBreaker) load() (rec breakerRecord, err error) {
	sh := b.s.shared
	defer func() {
		if r := recover(); r != nil {
			rec, err = breakerRecord{}, fmt.Errorf("loading the breaker state panicked (%T)", r)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), sh.timeout)
	defer cancel()
	data, ok, err := sh.st.Load(ctx, b.key)
	if err == nil && ok {
		rec, err = decodeBreaker(data)
	}
	switch {
	case err != nil && errors.Is(err, ErrCorruptValue):
		sh.corrupt(err)
		return breakerRecord{}, nil
	case err != nil:
		return breakerRecord{}, err
	case !ok:
		return breakerRecord{}, nil
	}
	if err := b.check(rec); err != nil {
		sh.corrupt(fmt.Errorf("%w: %w", ErrCorruptValue, err))
		return breakerRecord{}, nil
	}
	// Opened by a process whose clock runs ahead of ours: open for one cooldown
	// from our now, at most.
	if limit := time.Now().Add(b.s.cfg.breakerCooldown); rec.OpenUntil.After(limit) {
		rec.OpenUntil = limit
	}
	return rec, nil
}

// check returns why a breaker state read from the Store cannot be believed.
func (b *sharedBreaker) check(rec breakerRecord) error {
	switch {
	case rec.Failures < 0 || rec.Failures > maxFleetFailures:
		return errors.New("breaker state: a failure count no fleet reaches")
	case rec.OpenUntil.After(time.Now().Add(b.s.cfg.breakerCooldown + breakerSkew)):
		return errors.New("breaker state: open for longer than the cooldown")
	}
	return nil
}

// save writes the fleet's state; a panic in the Store is a failure, never the
// caller's.
func (b *sharedBreaker) save(rec breakerRecord) (err error) {
	sh := b.s.shared
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("saving the breaker state panicked (%T)", r)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), sh.timeout)
	defer cancel()
	return sh.st.Put(ctx, b.key, rec.encode(), breakerStateTTL)
}

// noteOpened records when the fleet's breaker opened, so that a refusal says when
// the next probe goes out even in a process that did not see the breaker trip.
func (b *sharedBreaker) noteOpened(until time.Time) {
	// The fleet's open-until is on the wall clock; RetryError.Retry is on the
	// Source's.
	s := b.s
	retry := s.now().Add(time.Until(until))
	s.mu.Lock()
	s.openedAt = retry.Add(-s.cfg.breakerCooldown)
	s.mu.Unlock()
}
