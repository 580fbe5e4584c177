package transport

import (
	"time"

	"github.com/sony/gobreaker/v2"
)

// A rejection persists when a fresh token is rejected like the one before it: the
// server refuses the request whatever the token (a path or a business unit the
// credential may not use) or refuses every token (credentials revoked for the
// API). Fetching again on every such rejection would make a token request per call,
// which Marketing Cloud throttles and may block. So the Source remembers the token
// a rejection persisted through ("doubted"):
//
//   - later rejections of that token are returned as they came, without a fetch,
//     until the Source's backoff for the consecutive persisting rounds has passed;
//     then one more round (drop, fetch, replay) finds out whether a fresh token helps,
//     so that a real revocation meanwhile heals at the next round;
//   - each persisting round counts toward the breaker until a request with a new or
//     doubted token is accepted; the breaker's Rejections threshold opens it, the
//     doubted token is dropped, and calls fail fast as for rejected credentials.
//
// A rejection also persists when fresh tokens keep being refused soon after a
// replay showed that they work ("churn"): an API that answers 401 and 200 in turn
// whatever the token, or one that accepts each token once (two processes on one
// legacy package invalidating each other's tokens). Each round there heals the
// call that made it, and the next call makes another. So the Source remembers the
// token whose replay cured the latest rejection ("cured"): when it is refused on a
// first send within churnWindow, and so was the one before it, the rejection
// persists, the token is doubted, and rounds are spaced as above. A token that
// worked for longer than churnWindow ends the churn: its rejection is a revocation,
// healed at once.
//
// What the hot path sees of this is one atomic load: the entry being watched (a
// new token until its first acceptance), compared with the one just used.

// persistence is the Source's bookkeeping of persisting rejections, guarded by
// Source.mu except where noted.
type persistence struct {
	probation *entry    // the token fetched after the latest rejection, until accepted
	doubted   *entry    // the latest token a rejection persisted through
	rounds    int       // consecutive persisting rounds: they space the next one
	nextRound time.Time // no round for the doubted token before this

	cured   *entry    // the token whose replay was accepted after the latest rejection
	curedAt time.Time // when
	churn   int       // cured tokens in a row refused within churnWindow of their cure
}

// churnWindow is how soon after curing a rejection a token's own rejection counts
// as churn rather than as a revocation. Tokens live for minutes to hours, and
// credentials are revoked far less often than this.
const churnWindow = time.Minute

// churnPersists is the number of cured tokens in a row refused within churnWindow
// from which a rejection persists: one may be an unlucky revocation, two are not.
const churnPersists = 2

// errRejectedAgain is what the breaker records for a persisting round, and what a
// RetryError of the breaker it opened says.
var errRejectedAgain = &FetchError{
	Kind:    ErrCredentialsRejected,
	Message: "the API rejected freshly fetched tokens too",
	Hint:    "check that the credentials may call this API (permissions, business unit, scope) and have not been revoked",
}

// accepted records that a request with e, the watched entry, was accepted: the
// credentials work, so persisting rounds stop counting toward the breaker.
func (s *Source) accepted(e *entry) {
	if !s.watch.CompareAndSwap(e, nil) {
		return
	}
	s.gate.accepted()
	s.mu.Lock()
	if s.persist.probation == e {
		s.persist.probation = nil
	}
	s.mu.Unlock()
}

// watchNew puts a token that has just arrived on watch until its first acceptance,
// and on probation when it was fetched because of a rejection.
func (s *Source) watchNew(e *entry) {
	s.watch.Store(e)
	if s.afterRejection.Swap(false) {
		s.mu.Lock()
		s.persist.probation = e
		s.mu.Unlock()
	}
}

// persists reports whether a rejection of e (on a first send) is one that a fresh
// token did not cure, and so must not cost another fetch now: e is the token
// fetched after a rejection and never accepted, or the doubted token within its
// backoff.
func (s *Source) persists(e *entry) bool {
	s.mu.Lock()
	p := &s.persist
	now := s.now()
	onProbation := p.probation == e && p.doubted != e && s.watch.Load() == e
	within := p.doubted == e && now.Before(p.nextRound)
	churned := false
	if p.cured == e && !onProbation && !within {
		p.cured = nil
		if now.Before(p.curedAt.Add(churnWindow)) {
			p.churn++
			churned = p.churn >= churnPersists
		} else {
			// The cured token worked for a while: this is a revocation, and the
			// churn, if there was one, is over.
			p.churn, p.rounds = 0, 0
		}
	}
	s.mu.Unlock()
	if onProbation || churned {
		s.rejectedAgain(e)
		return true
	}
	return within
}

// dropRejected drops e after a rejection; the token fetched next goes on probation.
func (s *Source) dropRejected(e *entry) {
	if s.invalidate(e.tok) {
		s.afterRejection.Store(true)
	}
}

// rejectedAgain records that a fresh token, e, was rejected too: the rejection
// persists. It counts once per token, however many requests it rejected, and not
// at all once e has been replaced: a slow request refused with a token that a
// later round superseded says nothing new, and taking it as news would make the
// Source forget the newer token it is spacing rounds for (a token request on the
// next call) and count a round toward the breaker twice.
func (s *Source) rejectedAgain(e *entry) {
	if s.cur.Load() != e {
		return
	}
	unaccepted := s.watch.Load() == e
	s.mu.Lock()
	p := &s.persist
	if p.doubted == e {
		s.mu.Unlock()
		return
	}
	p.doubted = e
	if p.probation == e {
		p.probation = nil
	}
	p.rounds++
	p.nextRound = s.now().Add(s.cfg.backoff(p.rounds))
	s.mu.Unlock()
	if unaccepted {
		s.gate.roundRejected()
	}
	s.emit(Event{Kind: EventRejectedAgain, Expiry: e.tok.Expiry})
	if !unaccepted {
		return // the token works for other requests: this is no reason to stop fetching
	}
	// Let the breaker count the round; when it opens, drop the token so that calls
	// fail fast instead of carrying it to a server that refuses it.
	if t, err := s.gate.allow(); err == nil {
		s.gate.settle(t, errRejectedAgain)
	}
	if s.gate.state() == gobreaker.StateOpen {
		s.dropRejected(e)
	}
}

// replayAccepted records that the replay of a request rejected with used was
// accepted with e: e cured the rejection. If used was the doubted token, the
// rejection did not persist after all (the token was revoked or expired
// meanwhile): rounds are no longer spaced, unless fresh tokens are churning, when
// the next refusal of e within churnWindow spaces them further.
func (s *Source) replayAccepted(used, e *entry) {
	if s.watch.Load() == e {
		s.accepted(e)
	}
	s.mu.Lock()
	p := &s.persist
	p.cured, p.curedAt = e, s.now()
	if p.doubted == used {
		p.doubted, p.nextRound = nil, time.Time{}
		if p.churn == 0 {
			p.rounds = 0
		}
	}
	s.mu.Unlock()
}
