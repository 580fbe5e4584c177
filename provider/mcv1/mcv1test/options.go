package mcv1test

import (
	"net"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
)

// An Option configures a Server.
type Option func(*config)

type config struct {
	emulator.Config
	apiUsers          map[string]string
	tokenLifetime     time.Duration
	refreshLifetime   time.Duration
	oneTokenPerClient bool
}

// Client kinds.
const (
	kindLegacy   = "legacy"
	kindEnhanced = "enhanced"
)

// WithClient registers a legacy installed package's client id and secret. When no
// WithClient or WithEnhancedClient option is given, DefaultClientID and
// DefaultClientSecret are registered.
func WithClient(id, secret string) Option {
	return func(c *config) {
		c.Clients = append(c.Clients, emulator.Client{ID: id, Secret: secret, Kind: kindLegacy})
	}
}

// WithEnhancedClient registers the client of an enhanced installed package. The v1
// endpoint refuses it with errorcode 10007, as Marketing Cloud does: its tokens
// come from /v2/token.
func WithEnhancedClient(id, secret string) Option {
	return func(c *config) {
		c.Clients = append(c.Clients, emulator.Client{ID: id, Secret: secret, Kind: kindEnhanced})
	}
}

// WithAPIUser registers an API user whose username and password a SOAP request
// may carry in a WS-Security UsernameToken. When no WithAPIUser option is given,
// DefaultAPIUsername and DefaultAPIPassword are registered.
func WithAPIUser(username, password string) Option {
	return func(c *config) { c.apiUsers[username] = password }
}

// WithTokenLifetime sets how long access tokens live (default DefaultTokenLifetime).
func WithTokenLifetime(d time.Duration) Option {
	return func(c *config) { c.tokenLifetime = d }
}

// WithRefreshTokenLifetime sets how long refresh tokens live (default
// DefaultRefreshTokenLifetime).
func WithRefreshTokenLifetime(d time.Duration) Option {
	return func(c *config) { c.refreshLifetime = d }
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

// WithOneTokenPerClient turns on the hazard Marketing Cloud documents for legacy
// packages: issuing a token to a client id revokes that client's earlier access
// tokens, so two processes fetching their own tokens knock each other out.
func WithOneTokenPerClient() Option {
	return func(c *config) { c.oneTokenPerClient = true }
}
