package transport

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sony/gobreaker/v2"
)

// A fleet shares its circuit breaker through the Store, under
// StoreKey+":breaker" (a Store that keeps tokens only keeps none: the state then
// always reads closed, and each Source's breaker decides alone). Each Source's
// gate does the counting and the opening, as it does alone; the Store carries
// what the fleet must agree on: how many fetches in a row failed across the
// fleet, and until when the fleet's breaker is open. Every state read from the
// Store is checked before it is believed, and whenever the Store cannot be read
// or written the Source's own breaker carries on alone. Nothing the Store holds
// ever reaches gobreaker.

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

// readBreaker reads the fleet's breaker before a fetch. ok is false when the
// Store cannot be used now: the Source's own breaker decides alone, and nothing
// is shared. open is true while the fleet's breaker is open: the fetch is refused.
func (f *fleet) readBreaker() (rec breakerRecord, ok, open bool) {
	if !f.available() {
		return breakerRecord{}, false, false
	}
	rec, err := f.loadBreaker()
	if err != nil {
		f.failed(err)
		return breakerRecord{}, false, false
	}
	if time.Now().Before(rec.OpenUntil) {
		f.until.Store(rec.OpenUntil.UnixNano())
		f.s.gate.fleetOpened(rec.OpenUntil)
		return rec, false, true
	}
	f.until.Store(0)
	return rec, true, false
}

// breakerOpen reports whether the fleet's breaker was last read open; it never
// touches the Store.
func (f *fleet) breakerOpen() bool { return time.Now().UnixNano() < f.until.Load() }

// countBreaker adds a fetch's outcome to the fleet's streak and, when the streak
// reaches the threshold for the kind of this failure, has the local breaker open
// now.
func (f *fleet) countBreaker(rec *breakerRecord, err error) {
	switch {
	case err == nil:
		*rec = breakerRecord{}
		f.trip.Store(false)
		return
	case isExcluded(err):
		return
	}
	rec.Failures++
	threshold := f.s.cfg.tripAfterRejections
	if kindOf(err) == ErrEndpoint {
		threshold = f.s.cfg.tripAfterOutages
	}
	if threshold > 0 && rec.Failures >= threshold {
		f.trip.Store(true)
	}
}

// tripNow reports, once, that the fleet's streak asks the local breaker to open.
func (f *fleet) tripNow() bool { return f.trip.Swap(false) }

// shareBreaker saves the fleet's state after a fetch: open for one cooldown if
// the local breaker opened at it. Only sharing can fail here; the fetch ran.
func (f *fleet) shareBreaker(rec breakerRecord, before, after gobreaker.State) {
	if after == gobreaker.StateOpen && before != gobreaker.StateOpen {
		rec.OpenUntil = time.Now().Add(f.s.cfg.breakerCooldown)
	}
	if err := f.saveBreaker(rec); err != nil {
		f.failed(err)
	}
}

// loadBreaker reads the fleet's state. A state that cannot be read or believed
// is reported (EventStoreCorrupt) and taken as closed with no failures: the next
// save replaces it. An error means the Store failed. A panic in the Store is a
// failure too, never the caller's.
func (f *fleet) loadBreaker() (rec breakerRecord, err error) {
	defer func() {
		if r := recover(); r != nil {
			rec, err = breakerRecord{}, fmt.Errorf("loading the breaker state panicked (%T)", r)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
	defer cancel()
	data, ok, err := f.st.Load(ctx, f.breakerKey)
	if err == nil && ok {
		rec, err = decodeBreaker(data)
	}
	switch {
	case err != nil && errors.Is(err, ErrCorruptValue):
		f.corrupt(err)
		return breakerRecord{}, nil
	case err != nil:
		return breakerRecord{}, err
	case !ok:
		return breakerRecord{}, nil
	}
	if err := f.checkBreaker(rec); err != nil {
		f.corrupt(fmt.Errorf("%w: %w", ErrCorruptValue, err))
		return breakerRecord{}, nil
	}
	// Opened by a process whose clock runs ahead of ours: open for one cooldown
	// from our now, at most.
	if limit := time.Now().Add(f.s.cfg.breakerCooldown); rec.OpenUntil.After(limit) {
		rec.OpenUntil = limit
	}
	return rec, nil
}

// checkBreaker returns why a breaker state read from the Store cannot be believed.
func (f *fleet) checkBreaker(rec breakerRecord) error {
	switch {
	case rec.Failures < 0 || rec.Failures > maxFleetFailures:
		return errors.New("breaker state: a failure count no fleet reaches")
	case rec.OpenUntil.After(time.Now().Add(f.s.cfg.breakerCooldown + breakerSkew)):
		return errors.New("breaker state: open for longer than the cooldown")
	}
	return nil
}

// saveBreaker writes the fleet's state; a panic in the Store is a failure, never
// the caller's.
func (f *fleet) saveBreaker(rec breakerRecord) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("saving the breaker state panicked (%T)", r)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), f.timeout)
	defer cancel()
	return f.st.Put(ctx, f.breakerKey, rec.encode(), breakerStateTTL)
}
