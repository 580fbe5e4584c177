package acoustic

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"sync"

	"github.com/tokentrip/tokentrip/internal/httpx"
	"github.com/tokentrip/tokentrip/internal/providerkit"
	"github.com/tokentrip/tokentrip/internal/slots"
)

// Limiter caps how many of an org's requests are in flight at once: Acoustic
// rejects an org's eleventh concurrent request rather than queueing it.
//
// Acquire takes a slot for one request. It either returns a release function, which
// the caller calls exactly once when the request is over, or an error, in which
// case the request must not be sent: ErrTooManyInFlight when the implementation
// fails fast, or ctx's error when it waits and ctx ends first. Implementations must
// be safe for concurrent use. NewLimiter returns the in-process one; a limiter
// shared by every process of an org (say, one kept in Redis) satisfies the same
// interface.
type Limiter interface {
	Acquire(ctx context.Context) (release func(), err error)
}

// LimitMode says what a request does when the org already has its maximum in flight.
type LimitMode int

const (
	// Wait queues the request until a slot frees up or its context ends.
	Wait LimitMode = iota
	// FailFast fails the request at once with ErrTooManyInFlight.
	FailFast
)

// name returns "wait" or "fail-fast", as a Config's renderings show the mode.
func (m LimitMode) name() string {
	switch m {
	case Wait:
		return "wait"
	case FailFast:
		return "fail-fast"
	default:
		return "LimitMode(" + strconv.Itoa(int(m)) + ")"
	}
}

// ErrTooManyInFlight is the error of a request refused by a FailFast limiter
// because the org already has its maximum in flight. It was not sent; it may be
// tried again once another request finishes.
var ErrTooManyInFlight = providerkit.NewError(name, "too many requests in flight for the org")

// semaphore is the Limiter of one process: at most its limit of slots are held at
// once, and further requests wait for one in arrival order (Wait) or fail
// (FailFast).
type semaphore struct {
	slots slots.Slots
	mode  LimitMode
}

// NewLimiter returns a Limiter for one process with n slots (n <= 0:
// DefaultMaxInFlight): further requests wait for a slot in arrival order (Wait) or
// fail with ErrTooManyInFlight (FailFast). Share one among the Transports of an
// org (Config.Limiter). The release functions it returns are safe to call more than
// once; only the first call frees the slot.
func NewLimiter(n int, mode LimitMode) Limiter { return newSemaphore(n, mode) }

func newSemaphore(n int, mode LimitMode) *semaphore {
	if n <= 0 {
		n = DefaultMaxInFlight
	}
	return &semaphore{slots: slots.New(n), mode: mode}
}

// Acquire implements Limiter.
func (s *semaphore) Acquire(ctx context.Context) (func(), error) {
	if release, ok, err := s.slots.Try(ctx); ok || err != nil {
		return release, err
	}
	if s.mode == FailFast {
		return nil, ErrTooManyInFlight
	}
	return s.slots.Wait(ctx)
}

// inFlight reports how many slots are held now.
func (s *semaphore) inFlight() int { return len(s.slots) }

// limit reports how many slots there are.
func (s *semaphore) limit() int { return cap(s.slots) }

// capped returns an http.RoundTripper that sends a request for one of hosts through
// base only while it holds a slot of l, and passes requests for other hosts
// straight to base (no hosts: every request takes a slot; a nil l: none does). A
// host is "name" (any port) or "name:port". The slot is held until the response body is read to its end
// or closed, or until base fails; a caller that neither reads nor closes a body
// keeps its slot.
//
// NewTransport puts Config.Transport.Base under such a limiter.
func capped(base http.RoundTripper, l Limiter, hosts ...string) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	if l == nil {
		return base
	}
	return &limited{base: base, limiter: l, hosts: httpx.NewHosts(hosts...)}
}

type limited struct {
	base    http.RoundTripper
	limiter Limiter
	hosts   httpx.Hosts // empty: every request takes a slot
}

// RoundTrip implements http.RoundTripper.
func (t *limited) RoundTrip(req *http.Request) (*http.Response, error) {
	if len(t.hosts) > 0 && !t.hosts.Match(req.URL) {
		return t.base.RoundTrip(req)
	}
	release, err := t.limiter.Acquire(req.Context())
	if err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp.Body == nil || resp.Body == http.NoBody {
		release()
		return resp, err
	}
	resp.Body = &releasingBody{ReadCloser: resp.Body, release: release}
	return resp, nil
}

// releasingBody gives the slot back when the body is done with: read to its end (or
// to an error), or closed.
type releasingBody struct {
	io.ReadCloser
	once    sync.Once
	release func()
}

func (b *releasingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.once.Do(b.release)
	}
	return n, err
}

func (b *releasingBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.release)
	return err
}
