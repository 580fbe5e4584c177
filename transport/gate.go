package transport

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sony/gobreaker/v2"
)

// gate is the one place where a Source spaces and stops its fetches after
// failures: the backoff of blocking fetches and of background refreshes, the
// streaks that open the circuit breaker, and the breaker itself. gobreaker is the
// state machine; the gate decides when it trips (its streaks count rejected
// credentials and outages apart, which gobreaker's Counts cannot). A fetch goes
// through the gate once: allow before the Provider is called, settle with the
// outcome — no frame of the gate is on the stack while the Provider runs. With a
// Store, the gate shares the breaker's state with the fleet around each fetch
// (fleet_breaker.go).
type gate struct {
	s     *Source // its settings, clock and events
	fleet *fleet  // shares the breaker's state through the Store; nil without one

	// cb is the breaker's state machine while it holds state. It is made when a
	// fetch fails and dropped when a fetch succeeds with the breaker closed: a
	// closed breaker holds nothing the gate reads (the streaks that open it are
	// the gate's own), so a credential whose fetches succeed costs no breaker.
	cb atomic.Pointer[gobreaker.TwoStepCircuitBreaker[Token]]

	mu           sync.Mutex
	blockFails   int       // consecutive failed fetches: they space blocking fetches
	blockRetry   time.Time // no blocking fetch starts before this
	refreshFails int       // consecutive failed background refreshes
	refreshRetry time.Time // no background refresh starts before this
	lastErr      error     // the failure a RetryError carries
	authStreak   int       // consecutive fetches that ended in rejected credentials or bad config
	outageStreak int       // consecutive fetches that found the endpoint unavailable
	roundStreak  int       // persisting rejection rounds since a token was last accepted (persist.go)
	openedAt     time.Time // when the breaker last opened, on the Source's clock
}

// ticket is a fetch the gate let through, until its outcome is settled.
type ticket struct {
	cb     *gobreaker.TwoStepCircuitBreaker[Token] // nil: the breaker held no state
	done   func(error)                             // reports the outcome to cb
	shared bool                                    // the fleet's breaker was read: the outcome is shared
	rec    breakerRecord                           // the fleet's breaker as read
	before gobreaker.State                         // the local breaker's state when the fetch was let through
}

// errPanicked is the outcome the breaker counts for a Provider that panicked.
var errPanicked = errors.New("the Provider panicked")

// refusal returns the RetryError of a blocking fetch that must not start now:
// the breaker is open, or the backoff after a failure has not passed.
func (g *gate) refusal() error {
	if g.state() == gobreaker.StateOpen {
		return g.openError()
	}
	return g.backingOff()
}

// backingOff returns a RetryError while blocking fetches are being spaced after a
// failure.
func (g *gate) backingOff() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.blockFails > 0 && g.s.now().Before(g.blockRetry) {
		return &RetryError{Retry: g.blockRetry, Last: g.lastErr}
	}
	return nil
}

// refreshDue reports whether a background refresh may start at now: the last
// one did not fail too recently.
func (g *gate) refreshDue(now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return !now.Before(g.refreshRetry)
}

// refreshed books a background refresh's outcome.
func (g *gate) refreshed(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if err != nil {
		g.refreshFails++
		g.refreshRetry = g.s.now().Add(g.s.cfg.backoff(g.refreshFails))
		return
	}
	g.refreshFails = 0
	g.refreshRetry = time.Time{}
}

// failed spaces the next blocking fetch after a failed one.
func (g *gate) failed() {
	g.mu.Lock()
	g.blockFails++
	g.blockRetry = g.s.now().Add(g.s.cfg.backoff(g.blockFails))
	g.mu.Unlock()
}

// fetched ends the spacing of blocking fetches: a token arrived.
func (g *gate) fetched() {
	g.mu.Lock()
	g.blockFails, g.blockRetry = 0, time.Time{}
	g.mu.Unlock()
}

// allow lets a fetch through the breaker — the fleet's, then the Source's own —
// or returns the RetryError of an open one.
func (g *gate) allow() (ticket, error) {
	var t ticket
	if g.fleet != nil {
		rec, ok, open := g.fleet.readBreaker()
		if open {
			return t, g.openError()
		}
		t.shared, t.rec, t.before = ok, rec, g.localState()
	}
	if cb := g.cb.Load(); cb != nil {
		done, err := cb.Allow()
		if err != nil {
			return t, g.translate(err)
		}
		t.cb, t.done = cb, done
	}
	return t, nil
}

// record keeps the streaks that decide when the breaker opens: rejected
// credentials (or a configuration that cannot work) and an unavailable endpoint
// are counted apart, because the first will not heal by itself and the second
// may. It is called with a fetch's outcome before settle.
func (g *gate) record(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case err == nil:
		g.authStreak, g.outageStreak = 0, 0
	case isExcluded(err):
	case kindOf(err) == ErrEndpoint:
		g.outageStreak++
	default:
		g.authStreak++
	}
	if err != nil && !isExcluded(err) {
		g.lastErr = err
	}
}

// settle reports the outcome of what allow let through to the fleet's streak, to
// the breaker, and then to the fleet's state.
func (g *gate) settle(t ticket, err error) {
	if t.shared {
		g.fleet.countBreaker(&t.rec, err)
	}
	if t.cb != nil {
		t.done(err)
		if err == nil && t.cb.State() == gobreaker.StateClosed && g.cb.CompareAndSwap(t.cb, nil) {
			// Nothing left to remember, unless a failure counted by another goroutine
			// (a persisting rejection, say) tripped it between the check and the
			// drop: then it is put back, so that an open breaker is never forgotten.
			if t.cb.State() != gobreaker.StateClosed {
				g.cb.CompareAndSwap(nil, t.cb)
			}
		}
	} else if !countsAsSuccess(err) && !isExcluded(err) {
		// The breaker held nothing, so it was closed and let the fetch through as
		// gobreaker would; the first failure makes the state machine and hands it
		// that failure, with the same outcome as if it had been there all along.
		cb := g.newBreaker()
		if !g.cb.CompareAndSwap(nil, cb) {
			cb = g.cb.Load() // another fetch made it first
		}
		if cb != nil {
			if done, aerr := cb.Allow(); aerr == nil {
				done(err)
			}
		}
	}
	if t.shared {
		g.fleet.shareBreaker(t.rec, t.before, g.localState())
	}
}

// abandon settles a fetch whose Provider panicked: the breaker counts a failure,
// as gobreaker counts a panic; nothing else is booked or shared.
func (g *gate) abandon(t ticket) {
	if t.cb != nil {
		t.done(errPanicked)
	}
}

// roundRejected counts a round of a persisting rejection toward the breaker.
func (g *gate) roundRejected() {
	g.mu.Lock()
	g.roundStreak++
	g.lastErr = errRejectedAgain
	g.mu.Unlock()
}

// accepted ends the streak of persisting rounds: a request was accepted.
func (g *gate) accepted() {
	g.mu.Lock()
	g.roundStreak = 0
	g.mu.Unlock()
}

// state reports the breaker's state: the local breaker's, or open while the
// fleet's breaker was last read open.
func (g *gate) state() gobreaker.State {
	st := g.localState()
	if st != gobreaker.StateOpen && g.fleet != nil && g.fleet.breakerOpen() {
		return gobreaker.StateOpen
	}
	return st
}

// localState reports the Source's own breaker's state: closed while it holds nothing.
func (g *gate) localState() gobreaker.State {
	if cb := g.cb.Load(); cb != nil {
		return cb.State()
	}
	return gobreaker.StateClosed
}

// newBreaker makes the breaker's state machine.
func (g *gate) newBreaker() *gobreaker.TwoStepCircuitBreaker[Token] {
	return gobreaker.NewTwoStepCircuitBreaker[Token](gobreaker.Settings{
		Name:          g.s.cfg.name,
		MaxRequests:   1,
		Timeout:       g.s.cfg.breakerCooldown,
		ReadyToTrip:   g.readyToTrip,
		OnStateChange: g.changed,
		IsSuccessful:  countsAsSuccess,
		IsExcluded:    isExcluded,
	})
}

// readyToTrip opens the breaker when one of the gate's streaks reaches its
// threshold, or when the fleet's streak, shared through the Store, does.
func (g *gate) readyToTrip(gobreaker.Counts) bool {
	if g.fleet != nil && g.fleet.tripNow() {
		return true
	}
	c := &g.s.cfg
	g.mu.Lock()
	defer g.mu.Unlock()
	return (c.tripAfterRejections > 0 && (g.authStreak >= c.tripAfterRejections || g.roundStreak >= c.tripAfterRejections)) ||
		(c.tripAfterOutages > 0 && g.outageStreak >= c.tripAfterOutages)
}

func (g *gate) changed(_ string, from, to gobreaker.State) {
	s := g.s
	now := s.now()
	g.mu.Lock()
	if to == gobreaker.StateOpen {
		g.openedAt = now
	}
	g.mu.Unlock()
	s.stats.breakerChanges.Add(1)
	s.emit(Event{Kind: EventBreaker, From: from.String(), To: to.String()})
}

// fleetOpened records when the fleet's breaker opened, so that a refusal says
// when the next probe goes out even in a process that did not see it trip.
// until is on the wall clock; RetryError.Retry is on the Source's.
func (g *gate) fleetOpened(until time.Time) {
	retry := g.s.now().Add(time.Until(until))
	g.mu.Lock()
	g.openedAt = retry.Add(-g.s.cfg.breakerCooldown)
	g.mu.Unlock()
}

// translate turns gobreaker's refusals into the RetryError of an open breaker;
// other errors pass as they are.
func (g *gate) translate(err error) error {
	if !errors.Is(err, gobreaker.ErrOpenState) && !errors.Is(err, gobreaker.ErrTooManyRequests) {
		return err
	}
	return g.openError()
}

// openError is the RetryError of an open breaker: when the next probe goes out
// and what opened it.
func (g *gate) openError() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return &RetryError{Retry: g.openedAt.Add(g.s.cfg.breakerCooldown), Last: g.lastErr, open: true}
}

// countsAsSuccess tells gobreaker which outcomes are successes: only a token.
func countsAsSuccess(err error) bool { return err == nil }

// isExcluded tells gobreaker which outcomes to ignore: a fetch that was only
// cancelled, or that lost a race to another holder of the credential
// (ErrSuperseded), says nothing about the credential or the endpoint, so it
// neither opens nor closes the breaker (a cancelled half-open probe leaves it
// half-open).
func isExcluded(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, ErrSuperseded)
}
