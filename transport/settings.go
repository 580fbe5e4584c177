package transport

import (
	"log/slog"
	"time"
)

// Settings configures a Source. Every knob is documented here, with its default;
// the zero value of a field takes that default, so Settings{} is a ready Source
// without sharing. NewSource reads the Settings once: changing them afterwards
// changes nothing.
type Settings struct {
	// Name names the Source in events, logs, metrics and the breaker (default
	// "tokentrip"). It is printed: never put a client id or a secret in it.
	Name string

	// Clock is read for everything the Source works out in time — expiry, refresh
	// points, backoff, the breaker's retry time (default time.Now) — so that tests
	// move through a token's lifetime in microseconds.
	Clock func() time.Time

	// RefreshLead is how long before expiry the background refresh starts
	// (default five minutes; negative: none, a token is replaced only once it can
	// no longer be used). It is capped at half the token's lifetime and never
	// precedes the token's RefreshAfter.
	RefreshLead time.Duration

	// ExpiryMargin is how long before its expiry a token stops being handed out,
	// so that it does not expire in flight (default ten seconds; negative: none).
	// It is capped at a tenth of the token's lifetime.
	ExpiryMargin time.Duration

	// DefaultLifetime is the lifetime assumed for a token that arrives without an
	// expiry (default fifteen minutes). A token is never kept forever.
	DefaultLifetime time.Duration

	// FetchTimeout bounds one shared fetch, retries and a Store's waits included
	// (default one minute). The fetch runs apart from any caller's context, so
	// this is what ends it.
	FetchTimeout time.Duration

	// Backoff spaces fetch attempts after consecutive failures: it returns the
	// wait after the given number of failures in a row (default: 200ms, doubling
	// with every failure up to 30s). It applies to blocking fetches (a Token call
	// within it gets a *RetryError), to failed background refreshes, and to the
	// rounds of a rejection that persists (a fresh token rejected too): until it
	// has passed, rejections of that token are returned as they came, without a
	// fetch. A func that returns 0 spaces nothing.
	Backoff func(failures int) time.Duration

	// Breaker sets when the circuit breaker opens and how long it stays open.
	Breaker BreakerSettings

	// Hook is called for every Event: fetches, failures, refreshes,
	// invalidations, breaker changes, replays. It runs synchronously and must be
	// quick (default: none).
	Hook func(Event)

	// Logger logs every Event at Debug (successes), Info or Warn (failures)
	// (default: no logging). No token or secret is ever logged.
	Logger *slog.Logger

	// Store shares the token among every Source, in this process or another, that
	// uses the same Store and StoreKey: one of them fetches, the others adopt its
	// token after checking it as if it came from the network; the breaker's state
	// is shared too, where the Store keeps it (default: none; the Source keeps its
	// token to itself).
	Store Store

	// StoreKey names the credential's token in Store: a value that tells
	// credentials apart (provider, client, account, scope, subject) and reveals
	// none of them, such as a hash of them (tokentrip's providers derive one).
	// The breaker's state goes under StoreKey+":breaker". Required with Store:
	// NewSource panics on a Store without a StoreKey, which would share one token
	// between credentials.
	StoreKey string

	// StoreTimeout bounds one Store operation (default two seconds); a fetch
	// while the Store stalls takes at most one StoreTimeout longer than without
	// it.
	StoreTimeout time.Duration

	// StoreRetry is how long the Source works alone after the Store failed
	// before it asks the Store again (default five seconds). While it works alone
	// it fetches its own tokens, so no call ever fails because the Store is down.
	StoreRetry time.Duration
}

// BreakerSettings says when a Source's circuit breaker opens and how long it stays
// open. The zero value takes every default.
type BreakerSettings struct {
	// Rejections opens the breaker after that many consecutive fetches whose
	// credentials were rejected (or whose configuration cannot work), or as many
	// rounds in which the API rejected a fresh token too with no request accepted
	// in between (default 3; negative: never for these).
	Rejections int
	// Outages opens the breaker after that many consecutive fetches that found
	// the token endpoint unavailable (default 5; negative: never for these).
	Outages int
	// Cooldown is how long the breaker stays open before one probe goes through
	// (default thirty seconds). The breaker counts it on the wall clock.
	Cooldown time.Duration
}

// The defaults of Settings.
const (
	defaultName            = "tokentrip"
	defaultRefreshLead     = 5 * time.Minute
	defaultExpiryMargin    = 10 * time.Second
	defaultLifetime        = 15 * time.Minute
	defaultFetchTimeout    = time.Minute
	defaultBreakerCooldown = 30 * time.Second
	defaultTripRejections  = 3
	defaultTripOutages     = 5
	defaultStoreTimeout    = 2 * time.Second
	defaultStoreRetry      = 5 * time.Second
)

// sourceConfig is Settings with every default applied.
type sourceConfig struct {
	name                string
	clock               func() time.Time
	refreshLead         time.Duration
	expiryMargin        time.Duration
	defaultLifetime     time.Duration
	fetchTimeout        time.Duration
	backoff             func(failures int) time.Duration
	breakerCooldown     time.Duration
	tripAfterRejections int // 0: never
	tripAfterOutages    int // 0: never
	hook                func(Event)
	logger              *slog.Logger
	store               *storeConfig // nil: no Store
}

// storeConfig is the Store part of Settings, defaults applied.
type storeConfig struct {
	st      Store
	key     string
	timeout time.Duration
	retry   time.Duration
}

// defaultBackoff is the backoff of every Source that sets none: one function,
// shared, rather than one closure per credential.
var defaultBackoff = exponentialBackoff(200*time.Millisecond, 30*time.Second)

// config applies the defaults to s.
func (s Settings) config() sourceConfig {
	c := sourceConfig{
		name:                or(s.Name, defaultName),
		clock:               s.Clock,
		refreshLead:         durationOr(s.RefreshLead, defaultRefreshLead),
		expiryMargin:        durationOr(s.ExpiryMargin, defaultExpiryMargin),
		defaultLifetime:     positiveOr(s.DefaultLifetime, defaultLifetime),
		fetchTimeout:        positiveOr(s.FetchTimeout, defaultFetchTimeout),
		backoff:             s.Backoff,
		breakerCooldown:     positiveOr(s.Breaker.Cooldown, defaultBreakerCooldown),
		tripAfterRejections: countOr(s.Breaker.Rejections, defaultTripRejections),
		tripAfterOutages:    countOr(s.Breaker.Outages, defaultTripOutages),
		hook:                s.Hook,
		logger:              s.Logger,
	}
	if c.clock == nil {
		c.clock = time.Now
	}
	if c.backoff == nil {
		c.backoff = defaultBackoff
	}
	if s.Store != nil {
		if s.StoreKey == "" {
			panic("transport: Settings.Store is set without a StoreKey")
		}
		c.store = &storeConfig{
			st:      s.Store,
			key:     s.StoreKey,
			timeout: positiveOr(s.StoreTimeout, defaultStoreTimeout),
			retry:   positiveOr(s.StoreRetry, defaultStoreRetry),
		}
	}
	return c
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// durationOr: zero takes def, negative means none.
func durationOr(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}

// positiveOr: zero or negative takes def.
func positiveOr(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// countOr: zero takes def, negative means never (0 inside).
func countOr(n, def int) int {
	switch {
	case n == 0:
		return def
	case n < 0:
		return 0
	}
	return n
}

// exponentialBackoff returns a backoff that starts at base, doubles with every
// consecutive failure and stops growing at limit.
func exponentialBackoff(base, limit time.Duration) func(failures int) time.Duration {
	return func(failures int) time.Duration {
		d := base
		for i := 1; i < failures && d < limit; i++ {
			d *= 2
		}
		return min(d, limit)
	}
}
