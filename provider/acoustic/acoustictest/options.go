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
	refreshTokens   map[string]string // refresh token → client id
	tokenLifetime   time.Duration
	earliestRefresh time.Duration
	mintLimit       int
	mintWindow      time.Duration
	sessionFailure  SessionFailure
}

// SessionFailure is how the XML API answers a call whose access token is missing,
// unknown, revoked or expired.
type SessionFailure int

// Ways the XML API can answer a call without a valid session. Acoustic documents
// the first; the other two are reported in the wild, and a client should treat all
// three as an authentication failure.
const (
	// SessionFault answers 200 with a fault: SUCCESS false, FaultString "Session
	// has expired or is invalid", errorid 145, class SP.Admin. The default.
	SessionFault SessionFailure = iota
	// SessionUnauthorized answers 401 with an empty body.
	SessionUnauthorized
	// SessionEmptyBody answers 200 with an empty body.
	SessionEmptyBody
)

// WithClient registers an application (client id and secret) and a refresh token
// a user of the organization granted it. Call it again with the same id to add
// more refresh tokens. When no WithClient option is given, DefaultClientID,
// DefaultClientSecret and DefaultRefreshToken are registered.
func WithClient(id, secret, refreshToken string) Option {
	return func(c *config) {
		c.Clients = append(c.Clients, emulator.Client{ID: id, Secret: secret})
		c.refreshTokens[refreshToken] = id
	}
}

// WithTokenLifetime sets how long access tokens live (default DefaultTokenLifetime).
func WithTokenLifetime(d time.Duration) Option {
	return func(c *config) { c.tokenLifetime = d }
}

// WithEarliestRefresh sets how old the current access token of a refresh token
// must be before a token request mints a new one; until then the request gets the
// same token back (default DefaultEarliestRefresh; 0 mints on every request).
func WithEarliestRefresh(d time.Duration) Option {
	return func(c *config) { c.earliestRefresh = d }
}

// WithClock makes the Server read the time from now for every lifetime decision
// (default time.Now). now must be safe for concurrent use.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.Clock = now }
}

// WithListener makes the Server serve on ln, which it closes on Close, instead of
// a new loopback listener: for a fixed address, as "tokentrip emulate --listen"
// takes.
func WithListener(ln net.Listener) Option {
	return func(c *config) { c.Listener = ln }
}

// WithConcurrencyLimit sets how many XML API and REST calls may be in flight at
// once (default DefaultConcurrencyLimit); n <= 0 removes the cap. A call over the
// cap is rejected at once, never queued.
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

// WithSessionFailure sets how the XML API answers a call without a valid access
// token (default SessionFault).
func WithSessionFailure(f SessionFailure) Option {
	return func(c *config) { c.sessionFailure = f }
}
