package mcv2test

import (
	"net"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
)

// An Option configures a Server.
type Option func(*config)

type config struct {
	emulator.Config
	apiUsers        map[string]string
	tokenLifetime   time.Duration
	refreshLifetime time.Duration
	schemeless      bool
	restURL         string
	soapURL         string
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
// WithPublicApp, WithLegacyClient) is given, the Default… clients are registered.
func WithClient(id, secret string) Option {
	return addClient(id, secret, kindServer)
}

// WithWebApp registers a web app integration: authorization_code and
// refresh_token grants, authenticated by its secret.
func WithWebApp(id, secret string) Option {
	return addClient(id, secret, kindWeb)
}

// WithPublicApp registers a public app integration: authorization_code and
// refresh_token grants, with no secret (PKCE is how it proves itself).
func WithPublicApp(id string) Option {
	return addClient(id, "", kindPublic)
}

// WithLegacyClient registers the client of a legacy installed package. The v2
// endpoint refuses it with invalid_client and a "not eligible" description, as
// Marketing Cloud does: its tokens come from /v1/requestToken.
func WithLegacyClient(id, secret string) Option {
	return addClient(id, secret, kindLegacy)
}

func addClient(id, secret, kind string) Option {
	return func(c *config) {
		c.Clients = append(c.Clients, emulator.Client{ID: id, Secret: secret, Kind: kind})
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
