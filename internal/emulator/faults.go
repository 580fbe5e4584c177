package emulator

import (
	"sync"
	"time"
)

// Failure is an HTTP failure a test asked a token endpoint to answer with.
type Failure struct {
	Status     int
	RetryAfter time.Duration // sent as a Retry-After header in whole seconds when > 0
}

// Faults holds the failures a test has queued. It is safe for concurrent use; the
// zero value injects nothing.
type Faults struct {
	mu           sync.Mutex
	tokenLeft    int
	token        Failure
	throttleLeft int
}

// FailTokenRequests makes the next n token requests fail with failure. n <= 0 cancels
// failures still queued.
func (f *Faults) FailTokenRequests(n int, failure Failure) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokenLeft = max(n, 0)
	f.token = failure
}

// NextTokenFailure takes one queued token failure, if any.
func (f *Faults) NextTokenFailure() (Failure, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.tokenLeft == 0 {
		return Failure{}, false
	}
	f.tokenLeft--
	return f.token, true
}

// ThrottleAPICalls makes the next n API calls throttled. n <= 0 cancels throttling
// still queued.
func (f *Faults) ThrottleAPICalls(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.throttleLeft = max(n, 0)
}

// NextThrottled reports whether this API call is to be throttled, taking one from
// the queue if so.
func (f *Faults) NextThrottled() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.throttleLeft == 0 {
		return false
	}
	f.throttleLeft--
	return true
}
