package emulator

import (
	"sync"
	"time"
)

// Kind says what a token is for.
type Kind int

// Kinds of token.
const (
	AccessToken  Kind = iota + 1 // unlocks API calls
	RefreshToken                 // buys access tokens at a token endpoint
)

// Token is what a registry knows about one issued token.
type Token struct {
	Value     string
	Kind      Kind
	ClientID  string
	AccountID string // the business unit (MID) it was requested for, if any
	Scope     string
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// Verdict is a registry's judgement of a presented token.
type Verdict int

// Verdicts, from best to worst.
const (
	Valid   Verdict = iota // known, of the expected kind, not expired, revoked or spent
	Unknown                // never issued, or issued as another kind
	Expired                // past its ExpiresAt
	Revoked                // revoked by the test, with its client, or superseded
	Spent                  // a single-use token that was already used
)

// Reason returns the rejection reason for an API call presenting a token with this
// verdict (ReasonInvalidToken, ReasonExpiredToken…), or "" for Valid.
func (v Verdict) Reason() string {
	switch v {
	case Valid:
		return ""
	case Expired:
		return ReasonExpiredToken
	case Revoked:
		return ReasonRevokedToken
	default:
		return ReasonInvalidToken
	}
}

// Tokens is a registry of issued tokens. It is safe for concurrent use.
//
// Tokens are never forgotten, so that an expired token can be told from one that
// was never issued; an emulator lives as long as a test, so this stays small.
type Tokens struct {
	clock Clock

	mu sync.Mutex
	m  map[string]*record
}

type record struct {
	Token
	revoked bool
	spent   bool
}

// NewTokens returns an empty registry that judges expiry by clock.
func NewTokens(clock Clock) *Tokens {
	return &Tokens{clock: clock, m: make(map[string]*record)}
}

// Add records t and returns it. A token with an empty Value gets a fresh random one.
func (ts *Tokens) Add(t Token) Token {
	if t.Value == "" {
		prefix := "at-"
		if t.Kind == RefreshToken {
			prefix = "rt-"
		}
		t.Value = NewSecret(prefix)
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	ts.m[t.Value] = &record{Token: t}
	return t
}

// Lookup returns what the registry knows about value, whatever its state.
func (ts *Tokens) Lookup(value string) (Token, bool) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	r, ok := ts.m[value]
	if !ok {
		return Token{}, false
	}
	return r.Token, true
}

// Check judges value as a token of the given kind.
func (ts *Tokens) Check(value string, kind Kind) (Token, Verdict) {
	now := ts.clock.Now()
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.checkLocked(value, kind, now)
}

// Spend redeems a single-use token: it judges value like Check, treats a token
// issued to another client as Unknown, and marks a Valid one spent so that it is
// never Valid again.
func (ts *Tokens) Spend(value string, kind Kind, clientID string) (Token, Verdict) {
	now := ts.clock.Now()
	ts.mu.Lock()
	defer ts.mu.Unlock()
	t, v := ts.checkLocked(value, kind, now)
	if v != Unknown && t.ClientID != clientID {
		return Token{}, Unknown
	}
	if v == Valid {
		ts.m[value].spent = true
	}
	return t, v
}

func (ts *Tokens) checkLocked(value string, kind Kind, now time.Time) (Token, Verdict) {
	r, ok := ts.m[value]
	switch {
	case !ok || value == "" || r.Kind != kind:
		return Token{}, Unknown
	case r.revoked:
		return r.Token, Revoked
	case r.spent:
		return r.Token, Spent
	case !now.Before(r.ExpiresAt):
		return r.Token, Expired
	}
	return r.Token, Valid
}

// Revoke revokes one token and reports whether it was known.
func (ts *Tokens) Revoke(value string) bool {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	r, ok := ts.m[value]
	if ok {
		r.revoked = true
	}
	return ok
}

// Expire makes one token expire now and reports whether it was known.
func (ts *Tokens) Expire(value string) bool {
	now := ts.clock.Now()
	ts.mu.Lock()
	defer ts.mu.Unlock()
	r, ok := ts.m[value]
	if ok && now.Before(r.ExpiresAt) {
		r.ExpiresAt = now
	}
	return ok
}

// RevokeClient revokes every token, of every kind, issued to clientID.
func (ts *Tokens) RevokeClient(clientID string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, r := range ts.m {
		if r.ClientID == clientID {
			r.revoked = true
		}
	}
}

// Supersede revokes every token of the given kind issued to clientID except keep:
// the way a server that allows one live token per client treats the older ones.
func (ts *Tokens) Supersede(clientID string, kind Kind, keep string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for v, r := range ts.m {
		if r.ClientID == clientID && r.Kind == kind && v != keep {
			r.revoked = true
		}
	}
}

// ExpireAll makes every token of the given kind that is still valid expire now,
// and returns how many it expired.
func (ts *Tokens) ExpireAll(kind Kind) int {
	now := ts.clock.Now()
	ts.mu.Lock()
	defer ts.mu.Unlock()
	n := 0
	for _, r := range ts.m {
		if r.Kind == kind && !r.revoked && !r.spent && now.Before(r.ExpiresAt) {
			r.ExpiresAt = now
			n++
		}
	}
	return n
}

// RevokeAll revokes every token of the given kind not revoked yet, and returns how
// many it revoked.
func (ts *Tokens) RevokeAll(kind Kind) int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	n := 0
	for _, r := range ts.m {
		if r.Kind == kind && !r.revoked {
			r.revoked = true
			n++
		}
	}
	return n
}
