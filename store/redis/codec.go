package redisstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tokentrip/tokentrip/transport"
)

// wireToken is a StoredToken as JSON. Times are Unix nanoseconds, 0 for none.
type wireToken struct {
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

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

func toWire(st transport.StoredToken) wireToken {
	t := st.Token
	return wireToken{
		AccessToken:  t.AccessToken,
		Expiry:       unixNano(t.Expiry),
		RefreshAfter: unixNano(t.RefreshAfter),
		REST:         t.RESTInstanceURL,
		SOAP:         t.SOAPInstanceURL,
		Scope:        t.Scope,
		Fetched:      unixNano(st.Fetched),
	}
}

func (w wireToken) stored() transport.StoredToken {
	return transport.StoredToken{
		Token: transport.Token{
			AccessToken:     w.AccessToken,
			Expiry:          fromUnixNano(w.Expiry),
			RefreshAfter:    fromUnixNano(w.RefreshAfter),
			RESTInstanceURL: w.REST,
			SOAPInstanceURL: w.SOAP,
			Scope:           w.Scope,
		},
		Fetched: fromUnixNano(w.Fetched),
	}
}

func encodeToken(st transport.StoredToken) ([]byte, error) { return json.Marshal(toWire(st)) }

// corrupt reports a stored value that cannot be trusted; it never quotes the value.
func corrupt(what string) error {
	return fmt.Errorf("redisstore: %w: %s", transport.ErrCorruptValue, what)
}

// decodeWire reads a JSON object into w: anything else (null, an array, text) is
// corrupt, and so is a token without an access token or an expiry.
func decodeWire(data []byte) (wireToken, error) {
	var w wireToken
	if !bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) || json.Unmarshal(data, &w) != nil || w.AccessToken == "" || w.Expiry == 0 {
		return wireToken{}, corrupt("the stored value is not a tokentrip token")
	}
	return w, nil
}

func decodeToken(data []byte) (transport.StoredToken, error) {
	w, err := decodeWire(data)
	if err != nil {
		return transport.StoredToken{}, err
	}
	return w.stored(), nil
}

// wireBreaker is a transport.BreakerRecord as JSON. Both fields must be present:
// the format gobreaker writes, or an empty object, is not a breaker state of ours.
type wireBreaker struct {
	OpenUntil *int64 `json:"o"` // Unix nanoseconds, 0 when closed
	Failures  *int   `json:"f"`
}

func encodeBreaker(rec transport.BreakerRecord) ([]byte, error) {
	o, f := unixNano(rec.OpenUntil), rec.Failures
	return json.Marshal(wireBreaker{OpenUntil: &o, Failures: &f})
}

func decodeBreaker(data []byte) (transport.BreakerRecord, error) {
	var w wireBreaker
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if !bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) || dec.Decode(&w) != nil || w.OpenUntil == nil || w.Failures == nil {
		return transport.BreakerRecord{}, corrupt("the stored value is not a tokentrip breaker state")
	}
	return transport.BreakerRecord{OpenUntil: fromUnixNano(*w.OpenUntil), Failures: *w.Failures}, nil
}

// maxValueLen bounds every value the Store reads back: a token entry, a breaker
// state, each field of a refresh token's entry. What tokentrip writes is a few
// kilobytes at most (tokens and their URLs are bounded by the Source's checks and
// the providers'); a longer value was planted, and is corrupt without being read.
const maxValueLen = 256 << 10

// errTooLarge is the corrupt value longer than maxValueLen.
var errTooLarge = corrupt("the stored value is larger than any value tokentrip writes")

// getBounded reads the string under rk, at most maxValueLen bytes of it: redis.Nil
// when there is none, errTooLarge when it is longer, Redis's WRONGTYPE error when
// rk holds another type.
func (s *Store) getBounded(ctx context.Context, what, rk string) ([]byte, error) {
	v, err := bound(ctx, s, what, func(ctx context.Context) (any, error) {
		return getScript.Run(ctx, s.client, []string{rk}, maxValueLen).Result()
	}, nil)
	if err != nil {
		return nil, err
	}
	switch v := v.(type) {
	case string:
		return []byte(v), nil
	case int64:
		return nil, errTooLarge
	}
	return nil, corrupt("Redis answered with an unexpected type")
}

// sealedV1 starts a value sealed with AES-GCM: then the nonce, then the ciphertext.
const sealedV1 = 0x01

// seal encrypts plain for the Redis key rk when the Store has a key, binding it to
// rk so that a value copied to another key does not open.
func (s *Store) seal(rk string, plain []byte) []byte {
	if s.aead == nil {
		return plain
	}
	out := make([]byte, 1+s.aead.NonceSize(), 1+s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	out[0] = sealedV1
	_, _ = rand.Read(out[1:]) // crypto/rand.Read never fails
	return s.aead.Seal(out, out[1:], plain, []byte(rk))
}

// open reverses seal. A sealed value without a key, a plain one with a key, a
// truncated one, or one sealed under another key or for another Redis key is
// corrupt: the Source treats it as absent.
func (s *Store) open(rk string, data []byte) ([]byte, error) {
	sealed := len(data) > 0 && data[0] == sealedV1
	switch {
	case s.aead == nil && sealed:
		return nil, corrupt("the stored value is encrypted, and this Store has no encryption key")
	case s.aead == nil:
		return data, nil
	case !sealed:
		return nil, corrupt("the stored value is not encrypted, and this Store requires encryption")
	}
	ns := s.aead.NonceSize()
	if len(data) < 1+ns+s.aead.Overhead() {
		return nil, corrupt("the stored value is truncated")
	}
	plain, err := s.aead.Open(nil, data[1:1+ns], data[1+ns:], []byte(rk))
	if err != nil {
		return nil, corrupt("the stored value does not open with this Store's encryption key (another key, tampered with, or truncated)")
	}
	return plain, nil
}

// wrongType reports Redis's refusal to read a key of another type than the command
// expects: a value of ours is never of another type, so it is corrupt.
func wrongType(err error) bool {
	var re redis.Error
	return errors.As(err, &re) && strings.HasPrefix(re.Error(), "WRONGTYPE")
}
