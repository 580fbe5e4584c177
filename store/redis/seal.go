package redisstore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/tokentrip/tokentrip/transport"
)

// corrupt reports a stored value that cannot be trusted; it never quotes the value.
func corrupt(what string) error {
	return fmt.Errorf("redisstore: %w: %s", transport.ErrCorruptValue, what)
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
