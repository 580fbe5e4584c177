package emulator

import "sync"

// limiter counts the API calls in flight, caps them when it has a limit, and
// remembers the most it has seen at once.
type limiter struct {
	limit int // <= 0: no cap

	mu       sync.Mutex
	inFlight int
	max      int
}

// acquire takes a place, or reports false when all are taken.
func (l *limiter) acquire() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.limit > 0 && l.inFlight >= l.limit {
		return false
	}
	l.inFlight++
	l.max = max(l.max, l.inFlight)
	return true
}

// release gives a place back.
func (l *limiter) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inFlight--
}

// peak returns the most calls seen in flight at once.
func (l *limiter) peak() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.max
}

// resetPeak forgets the peak, starting again from the calls in flight now.
func (l *limiter) resetPeak() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.max = l.inFlight
}
