package mcv2test

import (
	"net"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
)

// An Option configures a Server.
type Option func(*config)

type config struct {
	emulator.MCConfig
	schemeless bool
	restURL    string
	soapURL    string
}

// Client kinds: which grants a client may use.
const (
	kindServer = "server-to-server" // client_credentials
	kindWeb    = "web"              // authorization_code and refresh_token, with a secret
	kindPublic = "public"           // authorization_code and refresh_token, without a secret
	kindLegacy = "legacy"           // none: a legacy package is not eligible for v2
)

// WithClient registers a server-to-server integration, which uses the
// client_credentials grant. When no client option (WithClient, WithWebApp,
// WithPublicApp, WithLegacyClient) is given, the Server registers one client of
// each of the first three kinds (see Server.ClientID, WebAppID and PublicAppID).
func WithClient(id, secret string) Option {
	return func(c *config) { c.AddClient(id, secret, kindServer) }
}

// WithWebApp registers a web app integration: authorization_code and
// refresh_token grants, authenticated by its secret.
func WithWebApp(id, secret string) Option {
	return func(c *config) { c.AddClient(id, secret, kindWeb) }
}

// WithPublicApp registers a public app integration: authorization_code and
// refresh_token grants, with no secret (PKCE is how it proves itself).
func WithPublicApp(id string) Option {
	return func(c *config) { c.AddClient(id, "", kindPublic) }
}

// WithLegacyClient registers the client of a legacy installed package. The v2
// endpoint refuses it with invalid_client and a "not eligible" description, as
// Marketing Cloud does: its tokens come from /v1/requestToken.
func WithLegacyClient(id, secret string) Option {
	return func(c *config) { c.AddClient(id, secret, kindLegacy) }
}

// WithAPIUser registers an API user whose username and password a SOAP request
// may carry in a WS-Security UsernameToken. When no WithAPIUser option is given,
// the Server registers one of its own (see Server.APIUsername).
func WithAPIUser(username, password string) Option {
	return func(c *config) { c.APIUsers = append(c.APIUsers, emulator.Client{ID: username, Secret: password}) }
}

// WithTokenLifetime sets how long access tokens live: 20 minutes by default, as
// Marketing Cloud gives them.
func WithTokenLifetime(d time.Duration) Option {
	return func(c *config) { c.TokenLifetime = d }
}

// WithRefreshTokenLifetime sets how long refresh tokens live: 30 days by default,
// Marketing Cloud's default. Authorization codes live 5 minutes, whatever the
// options.
func WithRefreshTokenLifetime(d time.Duration) Option {
	return func(c *config) { c.RefreshLifetime = d }
}

// WithClock makes the Server judge the lifetimes of access tokens, refresh tokens
// and authorization codes by now instead of time.Now. now must be safe for
// concurrent use.
func WithClock(now func() time.Time) Option {
	return func(c *config) { c.Clock = now }
}

// WithListener makes the Server serve on ln, which Close closes, instead of a new
// loopback listener: for a fixed address, as "tokentrip emulate --provider mcv2
// --listen" takes.
func WithListener(ln net.Listener) Option {
	return func(c *config) { c.Listener = ln }
}

// WithSchemelessInstanceURLs makes token responses carry rest_instance_url and
// soap_instance_url the way Marketing Cloud's documentation shows them: a bare
// host ("127.0.0.1:port"), no scheme and no trailing slash. By default they carry
// the server's URL with a trailing slash, as real traffic does.
func WithSchemelessInstanceURLs() Option {
	return func(c *config) { c.schemeless = true }
}

// WithInstanceURLs makes token responses carry these rest_instance_url and
// soap_instance_url values, verbatim: for example the URL of another server, to
// see where a client sends its calls.
func WithInstanceURLs(rest, soap string) Option {
	return func(c *config) { c.restURL, c.soapURL = rest, soap }
}
