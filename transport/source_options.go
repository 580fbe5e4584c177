package transport

import (
	"log/slog"
	"time"
)

// SourceOption configures a Source.
type SourceOption func(*sourceConfig)

type sourceConfig struct {
	name                string
	clock               func() time.Time
	refreshLead         time.Duration
	expiryMargin        time.Duration
	defaultLifetime     time.Duration
	fetchTimeout        time.Duration
	backoff             func(failures int) time.Duration
	breakerCooldown     time.Duration
	tripAfterRejections int
	tripAfterOutages    int
	hook                func(Event)
	logger              *slog.Logger
	store               *storeConfig // WithStore (store.go)
}

// Defaults of a Source, each changed by the option of the same name.
const (
	DefaultRefreshLead     = 5 * time.Minute
	DefaultExpiryMargin    = 10 * time.Second
	DefaultLifetime        = 15 * time.Minute
	DefaultFetchTimeout    = time.Minute
	DefaultBreakerCooldown = 30 * time.Second
)

// defaultBackoff is the backoff of every Source that sets none: one function,
// shared, rather than one closure per credential.
var defaultBackoff = ExponentialBackoff(200*time.Millisecond, 30*time.Second)

func defaultSourceConfig() sourceConfig {
	return sourceConfig{
		name:                "tokentrip",
		clock:               time.Now,
		refreshLead:         DefaultRefreshLead,
		expiryMargin:        DefaultExpiryMargin,
		defaultLifetime:     DefaultLifetime,
		fetchTimeout:        DefaultFetchTimeout,
		backoff:             defaultBackoff,
		breakerCooldown:     DefaultBreakerCooldown,
		tripAfterRejections: 3,
		tripAfterOutages:    5,
	}
}

// WithName names the Source in events, logs and the breaker (default "tokentrip").
func WithName(name string) SourceOption { return func(c *sourceConfig) { c.name = name } }

// WithClock makes the Source read time from now instead of time.Now, so that tests
// can move through a token's lifetime in microseconds.
func WithClock(now func() time.Time) SourceOption {
	return func(c *sourceConfig) {
		if now != nil {
			c.clock = now
		}
	}
}

// WithRefreshLead sets how long before expiry the background refresh starts (default
// five minutes). It is capped at half the token's lifetime and never precedes the
// token's RefreshAfter.
func WithRefreshLead(d time.Duration) SourceOption {
	return func(c *sourceConfig) { c.refreshLead = max(d, 0) }
}

// WithExpiryMargin sets how long before its expiry a token stops being handed out
// (default ten seconds, at most a tenth of its lifetime), so that it does not expire
// in flight.
func WithExpiryMargin(d time.Duration) SourceOption {
	return func(c *sourceConfig) { c.expiryMargin = max(d, 0) }
}

// WithDefaultLifetime sets the lifetime assumed for a token that arrives without an
// expiry (default fifteen minutes). A token is never kept forever.
func WithDefaultLifetime(d time.Duration) SourceOption {
	return func(c *sourceConfig) {
		if d > 0 {
			c.defaultLifetime = d
		}
	}
}

// WithFetchTimeout bounds one shared fetch, retries included (default one minute).
// The fetch runs apart from any caller's context, so this is what ends it.
func WithFetchTimeout(d time.Duration) SourceOption {
	return func(c *sourceConfig) {
		if d > 0 {
			c.fetchTimeout = d
		}
	}
}

// WithBackoff sets the spacing between fetch attempts after consecutive failures
// (default ExponentialBackoff(200ms, 30s)). It applies to blocking fetches, to
// failed background refreshes, and to the rounds of a rejection that persists (a
// fresh token rejected too): until it has passed, rejections of that token are
// returned as they came, without a fetch.
func WithBackoff(f func(failures int) time.Duration) SourceOption {
	return func(c *sourceConfig) {
		if f != nil {
			c.backoff = f
		}
	}
}

// WithBreaker sets when the circuit breaker opens — after rejections consecutive
// fetches whose credentials were rejected, or as many rounds in which the API
// rejected a fresh token too with no request accepted in between, or outages
// consecutive fetches that found the endpoint unavailable (0 disables that
// trigger) — and how long it stays open before one probe goes through (defaults 3,
// 5 and 30 seconds).
func WithBreaker(rejections, outages int, cooldown time.Duration) SourceOption {
	return func(c *sourceConfig) {
		c.tripAfterRejections, c.tripAfterOutages = rejections, outages
		if cooldown > 0 {
			c.breakerCooldown = cooldown
		}
	}
}

// WithHook calls f for every event: fetches, failures, refreshes, invalidations and
// breaker changes. f runs synchronously and must be quick.
func WithHook(f func(Event)) SourceOption { return func(c *sourceConfig) { c.hook = f } }

// WithLogger logs every event to l at Debug (successes) or Warn (failures). Logging
// is off by default. No token or secret is ever logged.
func WithLogger(l *slog.Logger) SourceOption { return func(c *sourceConfig) { c.logger = l } }

// ExponentialBackoff returns a backoff that starts at base, doubles with every
// consecutive failure and stops growing at limit.
func ExponentialBackoff(base, limit time.Duration) func(failures int) time.Duration {
	return func(failures int) time.Duration {
		d := base
		for i := 1; i < failures && d < limit; i++ {
			d *= 2
		}
		return min(d, limit)
	}
}
