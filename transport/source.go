package transport

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokentrip/tokentrip/singleflight"
)

// Source caches the token of one credential and keeps it fresh for any number of
// goroutines. Token is an atomic load while the token is fresh; past its refresh
// point one background refresh starts and callers keep the current token; only when
// there is no usable token do callers wait, and then they share one fetch. A Source
// is safe for concurrent use; create one per credential and share it.
type Source struct {
	provider Provider
	via      fetcher // what the single flight fetches through: the Source itself, or the fleet layer over it (fleet.go)
	cfg      sourceConfig

	cur     atomic.Pointer[entry]
	refresh atomic.Pointer[refreshRun] // the background refresh running now, if any
	flight  singleflight.Group[*entry]
	gate    gate // backoff, breaker streaks and the breaker (gate.go)

	mu      sync.Mutex  // guards persist
	persist persistence // rejections a fresh token did not cure (persist.go)

	// watch is the newest token until a request with it is accepted (or a doubted
	// one): the Transport compares it with the token it used, one atomic load.
	watch          atomic.Pointer[entry]
	afterRejection atomic.Bool // the next token fetched follows a rejection

	stats counters
}

// fetcher is what a Source's single flight fetches through: the Source itself
// (Source.fetch: the gate and the Provider), or, when Settings.Store is set, the
// fleet layer composed over it.
type fetcher interface {
	// fetch returns a new token for a caller that saw seen (nil: none), cached.
	fetch(ctx context.Context, seen *entry) (*entry, error)
	// dropped learns of a token the Source invalidated after a rejection.
	dropped(tok Token)
}

// entry is one cached token with what the hot path needs precomputed, swapped whole.
// The token is kept once: tok.AccessToken is the tail of the Authorization value.
type entry struct {
	tok       Token
	refreshAt time.Time      // a background refresh starts from here on
	expireAt  time.Time      // the token is unusable from here on (Expiry less a margin)
	bearer    [1]string      // the Authorization header value, shared by every request
	hosts     *instanceRules // the hosts of the token's instance URLs; nil: none
}

// instanceRules holds the hosts of a token's two instance URLs (REST and SOAP)
// without a slice header of their own; unused rules are empty and come last.
type instanceRules [2]hostRule

func newInstanceRules(tok Token) *instanceRules {
	s := instanceScope(tok)
	if len(s) == 0 {
		return nil
	}
	r := new(instanceRules)
	copy(r[:], s)
	return r
}

// scope returns the rules in use.
func (r *instanceRules) scope() scope {
	if r == nil {
		return nil
	}
	if r[1] == (hostRule{}) {
		return r[:1]
	}
	return r[:]
}

// bearerPrefix starts the Authorization value of a token.
const bearerPrefix = "Bearer "

const flightKey = "token"

// NewSource returns a Source that fetches from p, configured by set (see Settings
// for every field and its default).
func NewSource(p Provider, set Settings) *Source {
	s := &Source{provider: p, cfg: set.config()}
	s.flight.Timeout = s.cfg.fetchTimeout
	s.gate.s = s
	s.via = s
	if c := s.cfg.store; c != nil {
		f := newFleet(s, *c)
		s.via, s.gate.fleet = f, f
	}
	return s
}

// now reads the Source's clock.
func (s *Source) now() time.Time { return s.cfg.clock() }

// Token returns a usable token, fetching one only when none is cached or the cached
// one has expired. A caller whose ctx ends stops waiting; the fetch goes on for the
// others.
func (s *Source) Token(ctx context.Context) (Token, error) {
	e, err := s.entry(ctx)
	if err != nil {
		return Token{}, err
	}
	return e.tok, nil
}

// entry is Token for the Transport, which also wants what was precomputed with it.
func (s *Source) entry(ctx context.Context) (*entry, error) {
	e := s.cur.Load()
	if e != nil {
		now := s.now()
		if now.Before(e.refreshAt) {
			return e, nil
		}
		if now.Before(e.expireAt) {
			s.refreshAhead(e, now)
			return e, nil
		}
	}
	return s.fetchBlocking(ctx, e)
}

// Invalidate drops used if it is still the cached token, so that the next Token
// fetches a new one. Calls with a token that was already replaced do nothing: a
// thousand concurrent rejections of one token cause one fetch.
func (s *Source) Invalidate(used Token) { s.invalidate(used) }

// invalidate is Invalidate, reporting whether it dropped the token.
func (s *Source) invalidate(used Token) bool {
	e := s.cur.Load()
	if e == nil || e.tok.AccessToken != used.AccessToken {
		return false
	}
	if !s.cur.CompareAndSwap(e, nil) {
		return false
	}
	s.via.dropped(e.tok)
	s.stats.invalidations.Add(1)
	s.emit(Event{Kind: EventInvalidated, Expiry: e.tok.Expiry})
	return true
}

// Wait blocks until background refreshes started so far have finished. Tests and
// graceful shutdowns use it; ordinary callers never need to.
func (s *Source) Wait() {
	if r := s.refresh.Load(); r != nil {
		<-r.done
	}
}

// refreshRun is one background refresh; done is closed when it has ended. At most
// one runs at a time, and a Source holds none between refreshes.
type refreshRun struct{ done chan struct{} }

// startRefresh reports whether the caller may start a background refresh: none runs.
func (s *Source) startRefresh() bool {
	if s.refresh.Load() != nil {
		return false
	}
	return s.refresh.CompareAndSwap(nil, &refreshRun{done: make(chan struct{})})
}

// endRefresh marks the background refresh ended.
func (s *Source) endRefresh() { close(s.refresh.Swap(nil).done) }

// refreshAhead starts one background refresh of e unless one is running or the
// previous one failed too recently.
func (s *Source) refreshAhead(e *entry, now time.Time) {
	if !s.gate.refreshDue(now) || !s.startRefresh() {
		return
	}
	go func() {
		defer s.endRefresh()
		s.stats.refreshesAhead.Add(1)
		_, _, err := s.flight.Do(context.Background(), flightKey, s.work(e, false))
		s.gate.refreshed(err)
	}()
}

// fetchBlocking is the slow path: no usable token, so the caller waits for a shared
// fetch, unless the breaker is open or the last fetch failed so recently that
// asking again would be a storm.
func (s *Source) fetchBlocking(ctx context.Context, seen *entry) (*entry, error) {
	if err := s.gate.refusal(); err != nil {
		return nil, err
	}
	e, _, err := s.flight.Do(ctx, flightKey, s.work(seen, true))
	return e, err
}

// work returns what the single flight runs for a caller that saw seen: it takes
// a token that landed since the caller looked, or fetches through s.via. For a
// blocking caller the backoff is checked again inside the flight: a caller that
// looked before a failure was booked and joined after that flight ended must not
// start another. The Provider runs one frame below (two with a Store).
func (s *Source) work(seen *entry, blocking bool) func(context.Context) (*entry, error) {
	return func(ctx context.Context) (*entry, error) {
		if e := s.landed(seen); e != nil {
			return e, nil
		}
		if blocking {
			if err := s.gate.backingOff(); err != nil {
				return nil, err
			}
		}
		e, err := s.via.fetch(ctx, seen)
		if err == nil && e != seen {
			s.watchNew(e)
		}
		return e, err
	}
}

// landed returns the cached token if the cache moved on since the caller looked
// (another fetch landed in between) and it is still usable.
func (s *Source) landed(seen *entry) *entry {
	if e := s.cur.Load(); e != nil && e != seen && s.now().Before(e.expireAt) {
		return e
	}
	return nil
}

// fetch makes one fetch from the Provider through the gate, and caches the token.
// The gate is asked before and told after; none of its frames is on the stack
// while the Provider runs.
func (s *Source) fetch(ctx context.Context, _ *entry) (*entry, error) {
	start := s.now()
	s.stats.fetches.Add(1)
	t, err := s.gate.allow()
	if err != nil {
		s.failedAfter(err, s.now().Sub(start))
		return nil, err
	}
	settled := false
	defer func() {
		if !settled {
			s.gate.abandon(t) // the Provider panicked
		}
	}()
	tok, err := s.provider.Fetch(ctx)
	if err == nil {
		err = s.unusable(tok)
	}
	s.gate.record(err)
	s.gate.settle(t, err)
	settled = true
	if err != nil {
		err = s.gate.translate(err)
		s.failedAfter(err, s.now().Sub(start))
		return nil, err
	}
	e := s.newEntry(tok, start)
	s.cur.Store(e)
	s.gate.fetched()
	s.emit(Event{Kind: EventFetched, Expiry: e.tok.Expiry, Duration: s.now().Sub(start)})
	return e, nil
}

// dropped does nothing: a Source without a Store has no copy of a token to
// forget.
func (s *Source) dropped(Token) {}

// failed books a failed fetch and spaces the next blocking attempt. A refusal by the
// open breaker is not a new failure: the breaker already spaces the attempts.
func (s *Source) failed(err error) { s.failedAfter(err, 0) }

// failedAfter is failed for a fetch that took took, which its event reports: a
// failure's duration (retries, a timeout) matters as much as a success's.
func (s *Source) failedAfter(err error, took time.Duration) {
	s.stats.failures.Add(1)
	if errors.Is(err, ErrCircuitOpen) {
		return
	}
	s.gate.failed()
	s.emit(Event{Kind: EventFetchFailed, Err: err, Duration: took})
}

// unusable returns why tok, fresh from the Provider, cannot be used, or nil: an
// access token that is empty, longer than any vendor issues, or holds characters
// an Authorization header cannot carry (a space, a control character, anything
// beyond ASCII). tokentrip's providers refuse such answers themselves; this holds
// any Provider to the rule, before the token is cached, sent or saved to a Store,
// whose other readers would refuse it anyway.
func (s *Source) unusable(tok Token) error {
	if tok.AccessToken != "" && len(tok.AccessToken) <= maxStoredTokenLen && visibleASCII(tok.AccessToken) {
		return nil
	}
	what := "holds characters an HTTP header cannot carry"
	switch {
	case tok.AccessToken == "":
		what = "is empty"
	case len(tok.AccessToken) > maxStoredTokenLen:
		what = "is longer than 16 KiB"
	}
	return &FetchError{
		Kind:    ErrEndpoint,
		Message: "the provider's access token " + what,
		Hint:    "the Provider must return the token as the endpoint issued it",
	}
}

// newEntry works out when tok should be refreshed and when it stops being usable.
func (s *Source) newEntry(tok Token, fetchedAt time.Time) *entry {
	if tok.Expiry.IsZero() {
		tok.Expiry = fetchedAt.Add(s.cfg.defaultLifetime)
	}
	life := tok.Expiry.Sub(fetchedAt)
	margin := min(s.cfg.expiryMargin, life/10)
	lead := min(s.cfg.refreshLead, life/2)
	refreshAt := tok.Expiry.Add(-lead)
	if refreshAt.Before(tok.RefreshAfter) {
		refreshAt = tok.RefreshAfter
	}
	bearer := bearerPrefix + tok.AccessToken
	tok.AccessToken = bearer[len(bearerPrefix):] // one copy of the token, not two
	return &entry{
		tok:       tok,
		refreshAt: refreshAt,
		expireAt:  tok.Expiry.Add(-margin),
		bearer:    [1]string{bearer},
		hosts:     newInstanceRules(tok),
	}
}

// Current returns the cached token without fetching, and whether there is one that
// is still usable.
func (s *Source) Current() (Token, bool) {
	e := s.cur.Load()
	if e == nil || !s.now().Before(e.expireAt) {
		return Token{}, false
	}
	return e.tok, true
}

// instanceHosts returns the instance-URL hosts of the cached token, usable or not:
// they stay the tenant's hosts after the token expires.
func (s *Source) instanceHosts() scope {
	if e := s.cur.Load(); e != nil {
		return e.hosts.scope()
	}
	return nil
}

func (s *Source) emit(ev Event) {
	if s.cfg.hook == nil && s.cfg.logger == nil {
		return
	}
	ev.Source = s.cfg.name
	ev.Time = s.now()
	if s.cfg.hook != nil {
		s.cfg.hook(ev)
	}
	if s.cfg.logger != nil {
		logEvent(s.cfg.logger, ev)
	}
}
