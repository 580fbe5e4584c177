package transport

import (
	"context"
	"errors"

	"github.com/sony/gobreaker/v2"
)

// breaker is the circuit breaker a Source fetches through: gobreaker's, or one whose
// state a fleet shares through a Store (sharedBreaker, breaker_shared.go).
type breaker interface {
	Execute(req func() (Token, error)) (Token, error)
	State() gobreaker.State
}

// breaker returns the breaker the Source fetches through: the fleet's when its
// Store shares breaker state, else its own.
func (s *Source) breaker() breaker {
	if s.shared != nil && s.shared.breaker != nil {
		return s.shared.breaker
	}
	return (*localBreaker)(s)
}

// localBreaker is the Source's own circuit breaker: the Source itself, seen through
// the breaker interface. Its gobreaker state machine (Source.local) is made when a
// fetch fails and dropped when a fetch succeeds with the breaker closed. A closed
// breaker holds nothing the Source reads (the streaks that open it are the Source's
// own), so a credential whose fetches succeed costs no breaker at all.
type localBreaker Source

// State reports the breaker's state: closed while it holds nothing.
func (l *localBreaker) State() gobreaker.State {
	if cb := l.local.Load(); cb != nil {
		return cb.State()
	}
	return gobreaker.StateClosed
}

// Execute runs req through the breaker. Without a state machine the breaker is
// closed, where gobreaker would run req as it is; the first failure makes the state
// machine and hands it that failure, with the same outcome as if it had been there
// all along.
func (l *localBreaker) Execute(req func() (Token, error)) (Token, error) {
	s := (*Source)(l)
	cb := s.local.Load()
	if cb == nil {
		tok, err := req()
		if countsAsSuccess(err) || isExcluded(err) {
			return tok, err
		}
		if cb = s.newBreaker(); !s.local.CompareAndSwap(nil, cb) {
			cb = s.local.Load() // another fetch made it first
		}
		if cb != nil {
			_, _ = cb.Execute(func() (Token, error) { return tok, err })
		}
		return tok, err
	}
	tok, err := cb.Execute(req)
	if err == nil && cb.State() == gobreaker.StateClosed && s.local.CompareAndSwap(cb, nil) {
		// Nothing left to remember, unless a failure counted by another goroutine
		// (a persisting rejection, say) tripped it between the check and the drop:
		// then it is put back, so that an open breaker is never forgotten.
		if cb.State() != gobreaker.StateClosed {
			s.local.CompareAndSwap(nil, cb)
		}
	}
	return tok, err
}

// newBreaker makes the local breaker's state machine.
func (s *Source) newBreaker() *gobreaker.CircuitBreaker[Token] {
	return gobreaker.NewCircuitBreaker[Token](gobreaker.Settings{
		Name:          s.cfg.name,
		MaxRequests:   1,
		Timeout:       s.cfg.breakerCooldown,
		ReadyToTrip:   func(gobreaker.Counts) bool { return s.readyToTrip() },
		OnStateChange: s.onBreakerChange,
		IsSuccessful:  countsAsSuccess,
		IsExcluded:    isExcluded,
	})
}

// recordOutcome keeps the streaks that decide when the breaker opens: rejected
// credentials (or a configuration that cannot work) and an unavailable endpoint are
// counted apart, because the first will not heal by itself and the second may.
func (s *Source) recordOutcome(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case err == nil:
		s.authStreak, s.endpointFails = 0, 0
	case isExcluded(err):
	case kindOf(err) == ErrEndpoint:
		s.endpointFails++
	default:
		s.authStreak++
	}
	if err != nil && !isExcluded(err) {
		s.lastErr = err
	}
}

// readyToTrip opens the breaker when this Source's own streak says so, or when its
// fleet's streak, shared through the Store, does (breaker_shared.go).
func (s *Source) readyToTrip() bool {
	if sb, ok := s.breaker().(*sharedBreaker); ok && sb.tripNow() {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return (s.cfg.tripAfterRejections > 0 && s.authStreak >= s.cfg.tripAfterRejections) ||
		(s.cfg.tripAfterOutages > 0 && s.endpointFails >= s.cfg.tripAfterOutages) ||
		s.persistStreakTrips()
}

func (s *Source) onBreakerChange(_ string, from, to gobreaker.State) {
	now := s.now()
	s.mu.Lock()
	if to == gobreaker.StateOpen {
		s.openedAt = now
	}
	s.mu.Unlock()
	s.stats.breakerChanges.Add(1)
	s.emit(Event{Kind: EventBreaker, From: from.String(), To: to.String()})
}

// translateBreakerErr turns gobreaker's refusals into a RetryError that says
// when the next probe goes out and what opened the breaker.
func (s *Source) translateBreakerErr(err error) error {
	if !errors.Is(err, gobreaker.ErrOpenState) && !errors.Is(err, gobreaker.ErrTooManyRequests) {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return &RetryError{Retry: s.openedAt.Add(s.cfg.breakerCooldown), Last: s.lastErr, open: true}
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
