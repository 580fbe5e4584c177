package redisstore_test

import (
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tokentrip/tokentrip/provider/acoustic"
	"github.com/tokentrip/tokentrip/provider/mcv2"
	redisstore "github.com/tokentrip/tokentrip/store/redis"
)

// Share one Marketing Cloud token, a user's rotating refresh token and the breaker
// among every process of a fleet. It needs a Redis server, so it is compiled but
// not run by go test; the fleet tests run the same wiring against a real one.
func Example() {
	// Short timeouts and no retries: when Redis is down, a process finds out in
	// milliseconds and fetches its own token instead.
	client := redis.NewClient(&redis.Options{
		Addr:          "redis.internal:6379",
		MaxRetries:    -1,
		DialTimeout:   300 * time.Millisecond,
		DialerRetries: 1,
		ReadTimeout:   time.Second,
		WriteTimeout:  time.Second,
	})
	// Tokens, refresh tokens and the breaker's state are sealed under the fleet's key:
	// 16, 24 or 32 random bytes every process shares (New refuses to run without one
	// unless told Unencrypted).
	st, err := redisstore.New(client, redisstore.Options{EncryptionKey: []byte(os.Getenv("TOKEN_KEY"))})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()

	cfg := mcv2.Config{
		Subdomain:     "mc563885gzs27c5t9-63k636tzgm",
		ClientID:      os.Getenv("MC_CLIENT_ID"),
		ClientSecret:  os.Getenv("MC_CLIENT_SECRET"),
		AccountID:     "5150",
		RedirectURI:   "https://app.example/callback",
		RefreshTokens: st.RefreshTokens(), // rotated by compare-and-swap, for the fleet
	}
	cfg.Source.Store = st // one access token per user and business unit, for the fleet
	mc, err := mcv2.NewClient(cfg)
	if err != nil {
		log.Fatal(err)
	}
	_, _ = mc.Get("https://mc563885gzs27c5t9-63k636tzgm.rest.marketingcloudapis.com/platform/v1/endpoints")
}

// Keep an Acoustic org's ten calls in flight across every process that calls it. A
// Store that only serves semaphores keeps no secret: it may do without a key.
func ExampleStore_Semaphore() {
	st, err := redisstore.New(redis.NewClient(&redis.Options{Addr: "redis.internal:6379"}), redisstore.Options{Unencrypted: true})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	client, err := acoustic.NewClient(acoustic.Config{
		Pod:          "6",
		ClientID:     os.Getenv("ACOUSTIC_CLIENT_ID"),
		ClientSecret: os.Getenv("ACOUSTIC_CLIENT_SECRET"),
		RefreshToken: os.Getenv("ACOUSTIC_REFRESH_TOKEN"),
		Limiter:      st.Semaphore("acoustic org 1234", acoustic.DefaultMaxInFlight),
	})
	if err != nil {
		log.Fatal(err)
	}
	_, _ = client.Post("https://api-campaign-eu-1.goacoustic.com/XMLAPI", "text/xml;charset=UTF-8", http.NoBody)
}

// Options sets every knob of a Store in one place; a zero field takes the default
// its comment states. The encryption key is the one setting without a default:
// without it, or an explicit Unencrypted, New refuses. New does not contact Redis.
func ExampleOptions() {
	client := redis.NewClient(&redis.Options{Addr: "redis.internal:6379"})
	defer client.Close()

	_, err := redisstore.New(client, redisstore.Options{Prefix: "billing:"})
	fmt.Println(errors.Is(err, redisstore.ErrNoEncryptionKey))

	st, err := redisstore.New(client, redisstore.Options{
		EncryptionKey: []byte("32 random bytes from the secrets"), // in production, from a secret manager
		Prefix:        "billing:",                                 // keys and channels: billing:{…}
		Timeout:       500 * time.Millisecond,                     // every Redis operation, renewals included
		Retry:         10 * time.Second,                           // how long a part works alone after Redis failed
	})
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	fmt.Println(st)
	// Output:
	// true
	// redisstore.Store{prefix:"billing:" encrypted:true}
}
