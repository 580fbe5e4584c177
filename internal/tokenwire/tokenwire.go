// Package tokenwire is the byte format of what tokentrip keeps in a shared Store: a
// Source's token with the time its fetch started, the Source's circuit breaker
// state, and the access token store/redis keeps with a refresh token. The Source
// writes and reads these values; a Store keeps them as opaque bytes (store/redis
// seals them). The format is fixed: processes of different releases share them.
package tokenwire

import (
	"bytes"
	"encoding/json"
	"errors"
	"time"
)

// Token is a token as a Store keeps it. Times are Unix nanoseconds, 0 for none.
type Token struct {
	AccessToken  string `json:"a"`
	Expiry       int64  `json:"e"`
	RefreshAfter int64  `json:"ra,omitempty"`
	REST         string `json:"r,omitempty"`
	SOAP         string `json:"s,omitempty"`
	Scope        string `json:"sc,omitempty"`
	Fetched      int64  `json:"f"`
	// Refresh, in an access token kept with a refresh token, is the digest of that
	// refresh token, so that the two cannot be paired otherwise.
	Refresh string `json:"rt,omitempty"`
}

// Fields are the fields of a transport.Token, in its order and of its types, so
// that a Token converts to Fields and back (tokenwire.Fields(tok),
// transport.Token(f)) without this package importing transport, which imports it.
type Fields struct {
	AccessToken                             string
	Expiry, RefreshAfter                    time.Time
	RESTInstanceURL, SOAPInstanceURL, Scope string
}

// New returns the stored form of a token whose fetch started at fetched.
func New(f Fields, fetched time.Time) Token {
	return Token{
		AccessToken:  f.AccessToken,
		Expiry:       UnixNano(f.Expiry),
		RefreshAfter: UnixNano(f.RefreshAfter),
		REST:         f.RESTInstanceURL,
		SOAP:         f.SOAPInstanceURL,
		Scope:        f.Scope,
		Fetched:      UnixNano(fetched),
	}
}

// Fields returns the token t holds and when its fetch started.
func (t Token) Fields() (Fields, time.Time) {
	return Fields{
		AccessToken:     t.AccessToken,
		Expiry:          Time(t.Expiry),
		RefreshAfter:    Time(t.RefreshAfter),
		RESTInstanceURL: t.REST,
		SOAPInstanceURL: t.SOAP,
		Scope:           t.Scope,
	}, Time(t.Fetched)
}

// EncodeFields is New(f, fetched).Encode(): a Source's token as a Store keeps it.
func EncodeFields(f Fields, fetched time.Time) []byte { return New(f, fetched).Encode() }

// DecodeFields reads a value EncodeFields wrote: the token and when its fetch
// started. Anything else is ErrNotToken.
func DecodeFields(data []byte) (Fields, time.Time, error) {
	t, err := DecodeToken(data)
	if err != nil {
		return Fields{}, time.Time{}, err
	}
	f, fetched := t.Fields()
	return f, fetched, nil
}

// ErrNotToken and ErrNotBreaker say that a stored value is not one of tokentrip's;
// the reader wraps them in its ErrCorruptValue.
var (
	ErrNotToken   = errors.New("the stored value is not a tokentrip token")
	ErrNotBreaker = errors.New("the stored value is not a tokentrip breaker state")
)

// Encode returns t as a Store keeps it.
func (t Token) Encode() []byte {
	b, _ := json.Marshal(t) // strings and numbers only: it cannot fail
	return b
}

// DecodeToken reads a value Encode wrote. Anything else — not a JSON object (null,
// an array, text), or a token without an access token or an expiry — is
// ErrNotToken.
func DecodeToken(data []byte) (Token, error) {
	var t Token
	if !bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) || json.Unmarshal(data, &t) != nil || t.AccessToken == "" || t.Expiry == 0 {
		return Token{}, ErrNotToken
	}
	return t, nil
}

// Breaker is a fleet's circuit breaker as a Store keeps it.
type Breaker struct {
	// OpenUntil is when the fleet's breaker lets a probe through, in Unix
	// nanoseconds on the wall clock; 0 or past: closed.
	OpenUntil int64
	// Failures counts the fleet's consecutive failed fetches.
	Failures int
}

// wireBreaker is a Breaker as JSON. Both fields must be present: the format
// gobreaker writes, or an empty object, is not a breaker state of ours.
type wireBreaker struct {
	OpenUntil *int64 `json:"o"`
	Failures  *int   `json:"f"`
}

// Encode returns b as a Store keeps it.
func (b Breaker) Encode() []byte {
	data, _ := json.Marshal(wireBreaker{OpenUntil: &b.OpenUntil, Failures: &b.Failures})
	return data
}

// DecodeBreaker reads a value Breaker.Encode wrote; anything else is ErrNotBreaker.
func DecodeBreaker(data []byte) (Breaker, error) {
	var w wireBreaker
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if !bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) || dec.Decode(&w) != nil || w.OpenUntil == nil || w.Failures == nil {
		return Breaker{}, ErrNotBreaker
	}
	return Breaker{OpenUntil: *w.OpenUntil, Failures: *w.Failures}, nil
}

// UnixNano is t in Unix nanoseconds, 0 for the zero time.
func UnixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// Time is UnixNano's inverse: 0 is the zero time.
func Time(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}
