package transport

import (
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"
)

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
