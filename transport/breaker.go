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

// recordOutcome keeps the streaks that decide when the breaker opens: rejected
// credentials (or a configuration that cannot work) and an unavailable endpoint are
// counted apart, because the first will not heal by itself and the second may.
func (s *Source) recordOutcome(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case err == nil:
		s.authStreak, s.endpointFails = 0, 0
	case errors.Is(err, context.Canceled):
	case kindOf(err) == ErrEndpoint:
		s.endpointFails++
	default:
		s.authStreak++
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		s.lastErr = err
	}
}

func (s *Source) readyToTrip() bool {
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

// translateBreakerErr turns gobreaker's refusals into a CircuitOpenError that says
// when the next probe goes out and what opened the breaker.
func (s *Source) translateBreakerErr(err error) error {
	if !errors.Is(err, gobreaker.ErrOpenState) && !errors.Is(err, gobreaker.ErrTooManyRequests) {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return &CircuitOpenError{Retry: s.openedAt.Add(s.cfg.breakerCooldown), Last: s.lastErr}
}

// countsAsSuccess tells gobreaker which outcomes are successes: only a token.
func countsAsSuccess(err error) bool { return err == nil }

// isExcluded tells gobreaker which outcomes to ignore: a fetch that was only
// cancelled says nothing about the credential or the endpoint, so it neither
// opens nor closes the breaker (a cancelled half-open probe leaves it half-open).
func isExcluded(err error) bool { return errors.Is(err, context.Canceled) }

// BreakerState reports the breaker's state: "closed", "half-open" or "open".
func (s *Source) BreakerState() string { return s.breaker.State().String() }
