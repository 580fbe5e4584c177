package acoustictest

import (
	"net"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
)

// An Option configures a Server.
type Option func(*config)

type config struct {
	emulator.Config
	// refreshTokens are the refresh tokens users granted, in the order registered:
	// ID is the refresh token, Secret the client id it was granted to.
	refreshTokens   []emulator.Client
	tokenLifetime   time.Duration
	earliestRefresh time.Duration
	mintLimit       int
	mintWindow      time.Duration
	sessionFailure  sessionFailure
}

// sessionFailure is how the XML API answers a call whose access token is missing,
// unknown, revoked or expired. Acoustic documents the first; the other two are
// reported in the wild, and a client should treat all three as an authentication
// failure.
type sessionFailure int

const (
	sessionFault        sessionFailure = iota // 200, SUCCESS false, "Session has expired or is invalid", errorid 145
	sessionUnauthorized                       // 401, empty body
	sessionEmptyBody                          // 200, empty body
)

// WithClient registers an application (client id and secret) and a refresh token
// a user of the organization granted it. Call it again with the same id to add
// more refresh tokens. When no WithClient option is given, the Server registers
// one of its own (see Server.ClientID).
func WithClient(id, secret, refreshToken string) Option {
	return func(c *config) {
		c.AddClient(id, secret, "")
		c.refreshTokens = append(c.refreshTokens, emulator.Client{ID: refreshToken, Secret: id})
	}
}

// WithTokenLifetime sets how long access tokens live: 4 hours by default, as
// Acoustic gives them.
func WithTokenLifetime(d time.Duration) Option {
	return func(c *config) { c.tokenLifetime = d }
}

// WithEarliestRefresh sets how old the current access token of a refresh token
// must be before a token request mints a new one; until then the request gets the
// same token back. By default 3 hours, Acoustic's rule; 0 mints on every request.
func WithEarliestRefresh(d time.Duration) Option {
	return func(c *config) { c.earliestRefresh = d }
}

// WithClock makes the Server judge token lifetimes, the earliest-refresh age and
// the mint window by now instead of time.Now. now must be safe for concurrent use.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.Clock = now }
}

// WithListener makes the Server serve on ln, which Close closes, instead of a new
// loopback listener: for a fixed address, as "tokentrip emulate --provider
// acoustic --listen" takes.
func WithListener(ln net.Listener) Option {
	return func(c *config) { c.Listener = ln }
}

// WithConcurrencyLimit sets how many XML API and REST calls may be in flight at
// once: 10 by default, Acoustic's cap per organization; n <= 0 removes the cap. A
// call over the cap is rejected at once, never queued.
func WithConcurrencyLimit(n int) Option {
	return func(c *config) { c.ConcurrencyLimit = n }
}

// WithMintLimit makes the token endpoint refuse to mint more than n access tokens
// within any window of the given length (by the server's clock): the request gets
// 429, error "access_denied", "Access token limits exceeded", and a Retry-After
// for when the oldest mint leaves the window. Requests answered with the current
// token do not mint and are never refused. Off by default.
func WithMintLimit(n int, window time.Duration) Option {
	return func(c *config) { c.mintLimit, c.mintWindow = n, window }
}

// WithSessionUnauthorized makes the XML API answer a call without a valid access
// token with 401 and an empty body, instead of Acoustic's documented 200 with the
// fault "Session has expired or is invalid" (errorid 145, class SP.Admin).
func WithSessionUnauthorized() Option {
	return func(c *config) { c.sessionFailure = sessionUnauthorized }
}

// WithSessionEmptyBody makes the XML API answer a call without a valid access
// token with 200 and an empty body, instead of the errorid 145 fault.
func WithSessionEmptyBody() Option {
	return func(c *config) { c.sessionFailure = sessionEmptyBody }
}
