package redisstore

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tokentrip/tokentrip/transport"
)

var _ transport.BreakerSharer = (*Store)(nil)

func (s *Store) breakerKey(id string) string { return s.cfg.prefix + "{" + id + "}:breaker" }

// LoadBreaker implements transport.BreakerSharer: the fleet's breaker state for the
// credential key (a transport.StoreKey.ID). A value that does not open with the
// Store's key, or is not a breaker state of tokentrip's (an empty object, null,
// the format gobreaker writes, text), is an error wrapping
// transport.ErrCorruptValue; the Source then checks what it does believe.
func (s *Store) LoadBreaker(ctx context.Context, key string) (transport.BreakerRecord, bool, error) {
	rk := s.breakerKey(key)
	data, err := s.getBounded(ctx, "loading the breaker state", rk)
	switch {
	case errors.Is(err, redis.Nil):
		return transport.BreakerRecord{}, false, nil
	case wrongType(err):
		return transport.BreakerRecord{}, false, corrupt("the breaker state's key holds another type of value")
	case err != nil:
		return transport.BreakerRecord{}, false, err
	}
	plain, err := s.open(rk, data)
	if err != nil {
		return transport.BreakerRecord{}, false, err
	}
	rec, err := decodeBreaker(plain)
	if err != nil {
		return transport.BreakerRecord{}, false, err
	}
	return rec, true, nil
}

// SaveBreaker implements transport.BreakerSharer: the state is sealed like a token
// and lives ttl past its last change, so that an abandoned credential's state does
// not stay forever.
func (s *Store) SaveBreaker(ctx context.Context, key string, rec transport.BreakerRecord, ttl time.Duration) error {
	rk := s.breakerKey(key)
	plain, err := encodeBreaker(rec)
	if err != nil {
		return err
	}
	sealed := s.seal(rk, plain)
	_, err = bound(ctx, s, "saving the breaker state", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, s.client.Set(ctx, rk, sealed, ttl).Err()
	}, nil)
	return err
}
