package mcv1test

import (
	"net"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
)

// An Option configures a Server.
type Option func(*config)

type config struct {
	emulator.MCConfig
	oneTokenPerClient bool
}

// Client kinds.
const (
	kindLegacy   = "legacy"
	kindEnhanced = "enhanced"
)

// WithClient registers a legacy installed package's client id and secret. When no
// WithClient or WithEnhancedClient option is given, the Server registers one of
// its own (see Server.ClientID).
func WithClient(id, secret string) Option {
	return func(c *config) { c.AddClient(id, secret, kindLegacy) }
}

// WithEnhancedClient registers the client of an enhanced installed package. The v1
// endpoint refuses it with errorcode 10007, as Marketing Cloud does: its tokens
// come from /v2/token.
func WithEnhancedClient(id, secret string) Option {
	return func(c *config) { c.AddClient(id, secret, kindEnhanced) }
}

// WithAPIUser registers an API user whose username and password a SOAP request
// may carry in a WS-Security UsernameToken. When no WithAPIUser option is given,
// the Server registers one of its own (see Server.APIUsername).
func WithAPIUser(username, password string) Option {
	return func(c *config) { c.APIUsers = append(c.APIUsers, emulator.Client{ID: username, Secret: password}) }
}

// WithTokenLifetime sets how long access tokens live: one hour by default, as
// Marketing Cloud gives legacy tokens.
func WithTokenLifetime(d time.Duration) Option {
	return func(c *config) { c.TokenLifetime = d }
}

// WithRefreshTokenLifetime sets how long refresh tokens live: 700 days by default,
// as Marketing Cloud gives legacy packages.
func WithRefreshTokenLifetime(d time.Duration) Option {
	return func(c *config) { c.RefreshLifetime = d }
}

// WithClock makes the Server judge the lifetimes of access and refresh tokens by
// now instead of time.Now. now must be safe for concurrent use.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.Clock = now }
}

// WithListener makes the Server serve on ln, which Close closes, instead of a new
// loopback listener: for a fixed address, as "tokentrip emulate --provider mcv1
// --listen" takes.
func WithListener(ln net.Listener) Option {
	return func(c *config) { c.Listener = ln }
}

// WithOneTokenPerClient turns on the hazard Marketing Cloud documents for legacy
// packages: issuing a token to a client id revokes that client's earlier access
// tokens, so two processes fetching their own tokens knock each other out.
func WithOneTokenPerClient() Option {
	return func(c *config) { c.oneTokenPerClient = true }
}
