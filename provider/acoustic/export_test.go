package acoustic

// What the tests reach inside the package: the in-process Limiter with its
// counters, and the capped RoundTripper NewTransport builds.
type Semaphore = semaphore

var (
	NewSemaphore = newSemaphore
	Limit        = capped
)

func (s *semaphore) InFlight() int { return s.inFlight() }
func (s *semaphore) Limit() int    { return s.limit() }
