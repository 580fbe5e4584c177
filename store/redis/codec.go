package redisstore

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"time"

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

func encodeToken(st transport.StoredToken) ([]byte, error) {
	t := st.Token
	return json.Marshal(wireToken{
		AccessToken:  t.AccessToken,
		Expiry:       unixNano(t.Expiry),
		RefreshAfter: unixNano(t.RefreshAfter),
		REST:         t.RESTInstanceURL,
		SOAP:         t.SOAPInstanceURL,
		Scope:        t.Scope,
		Fetched:      unixNano(st.Fetched),
	})
}

func decodeToken(data []byte) (transport.StoredToken, error) {
	var w wireToken
	if err := json.Unmarshal(data, &w); err != nil || w.AccessToken == "" {
		return transport.StoredToken{}, errors.New("redisstore: the stored value is not a tokentrip token")
	}
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
	}, nil
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

// open reverses seal. A sealed value without a key, a plain one with a key, or one
// sealed under another key is an error: the fleet's processes disagree.
func (s *Store) open(rk string, data []byte) ([]byte, error) {
	sealed := len(data) > 0 && data[0] == sealedV1
	switch {
	case s.aead == nil && sealed:
		return nil, errors.New("redisstore: the stored value is encrypted, and this Store has no encryption key")
	case s.aead == nil:
		return data, nil
	case !sealed:
		return nil, errors.New("redisstore: the stored value is not encrypted, and this Store requires encryption")
	}
	ns := s.aead.NonceSize()
	if len(data) < 1+ns+s.aead.Overhead() {
		return nil, errors.New("redisstore: the stored value is truncated")
	}
	plain, err := s.aead.Open(nil, data[1:1+ns], data[1+ns:], []byte(rk))
	if err != nil {
		return nil, fmt.Errorf("redisstore: the stored value does not open with this Store's encryption key: %w", err)
	}
	return plain, nil
}
