package mcv1

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tokentrip/tokentrip/internal/httpx"
	"github.com/tokentrip/tokentrip/internal/marketingcloud"
	"github.com/tokentrip/tokentrip/store"
	"github.com/tokentrip/tokentrip/transport"
)

// Name is the provider's name in errors, events and logs.
const Name = "mcv1"

// TokenPath is the token endpoint's path under the auth base URL.
const TokenPath = "/v1/requestToken"

// Config describes one legacy installed package's API integration. Exactly one of
// Subdomain and AuthURL names the auth service; ClientID and ClientSecret are
// required; every other field is optional.
//
// A Config renders without its secrets: String, GoString, MarshalJSON and LogValue
// show "[REDACTED]" in place of the client secret and strip credentials, queries and
// fragments from URLs, so a Config may be printed or logged whole.
type Config struct {
	// Subdomain is the tenant's subdomain, the 28 characters starting with "mc" in
	// https://{subdomain}.auth.marketingcloudapis.com (see Installed Packages in
	// Marketing Cloud Setup). The token endpoint is on the auth host; the credential
	// goes to the tenant's auth, rest and soap hosts.
	Subdomain string

	// AuthURL is the auth service's base URL, for tenants of older stacks
	// ("https://auth.exacttargetapis.com", the sandbox
	// "https://auth-test.exacttargetapis.com", stack hosts such as
	// "https://auth-s7.exacttargetapis.com") or an emulator. A URL that already ends
	// in /v1/requestToken is accepted as well. It must be https, except to a
	// loopback host; it carries no user info, query or fragment (set Legacy instead
	// of ?legacy=1).
	AuthURL string

	// ClientID and ClientSecret are the legacy package's API integration
	// credentials. ClientSecret never appears in an error, log or rendering.
	ClientID     string
	ClientSecret string

	// Offline asks for offline access: the first request sends
	// "accessType":"offline" and receives a refresh token, which later fetches
	// redeem instead of sending the client credentials alone.
	Offline bool

	// RefreshTokens keeps the current refresh token when Offline is set; share a
	// store.File or a Redis store to keep it across restarts and processes. Nil
	// means a store.Memory of the Provider's own. Setting it without Offline is a
	// configuration error.
	RefreshTokens store.RefreshTokens

	// RefreshTokenKey is the key the refresh token is stored under (default
	// "mcv1:{ClientID}@{auth base URL}"). Set it to keep the key stable when the
	// auth URL changes form.
	RefreshTokenKey string

	// Store, when set, shares the access token among the Transports that use the
	// same Store and credential: across a fleet with a Redis store (package
	// store/redis), within a process with a *store.MemoryTokens. They then make
	// one token request per token lifetime between them. The token is keyed by
	// provider, ClientID and, with Offline, RefreshTokenKey (or its default), so
	// that different credentials never share one. Nil: each Transport keeps its
	// token to itself. Servers that share one legacy package must share a Store:
	// a token issued to the package may revoke the one another server holds. A
	// Store in Settings replaces it.
	Store transport.Store

	// Legacy asks for the legacy token too (the ?legacy=1 query): Marketing Cloud
	// then returns a legacyToken next to the access token, for integrations that
	// still need one. The Transport sends the access token only; read the legacy
	// token with Provider.LegacyToken.
	Legacy bool

	// APIHosts adds hosts the credential may be sent to, in transport.Options.Hosts
	// form: "api.example.com", "127.0.0.1:8080", "*.example.com" or a URL. URLs must
	// be https, except to a loopback host.
	APIHosts []string

	// HTTPClient sends the token requests (nil: a client over a clone of
	// http.DefaultTransport). Redirects are never followed.
	HTTPClient *http.Client

	// Base sends the API calls under the Transport (nil: transport.DefaultBase,
	// one connection pool shared by every Transport).
	Base http.RoundTripper

	// Retry says how token requests are retried after network errors, 5xx and 429.
	// The zero value takes transport.RetryPolicy's defaults.
	Retry transport.RetryPolicy

	// Clock is read for token lifetimes, by the Provider and the Source (nil:
	// time.Now). Tests move it instead of waiting.
	Clock func() time.Time

	// Logger receives the Source's events, the token client's retries and the
	// Provider's refresh-token decisions (nil: no logging). No token or secret is
	// ever logged.
	Logger *slog.Logger

	// Hook is called for every Source event: fetches, failures, invalidations,
	// breaker changes. It runs synchronously and must be quick.
	Hook func(transport.Event)

	// Settings holds further settings of the Source: RefreshLead, Breaker and the
	// like. Each field set here wins over the one derived from the fields above
	// (name "mcv1/{hash of ClientID}", Clock, Logger, Hook, Store).
	Settings transport.Settings
}

// legacyHosts are the shared hosts of the stacks from before tenant subdomains,
// where legacy tokens are accepted: the REST host and the SOAP hosts.
var legacyHosts = []string{
	"www.exacttargetapis.com",
	"webservice.exacttarget.com",
	"webservice.s4.exacttarget.com",
	"webservice.s6.exacttarget.com",
	"webservice.s7.exacttarget.com",
	"webservice.s10.exacttarget.com",
}

// Validate reports the first field that cannot work as a *transport.ConfigError
// (errors.Is(err, transport.ErrConfig) holds). NewProvider, NewTransport and
// NewClient call it.
func (c Config) Validate() error {
	_, err := c.authBase()
	return err
}

// authBase validates c and returns the auth service's base URL, without a trailing
// slash.
func (c Config) authBase() (string, error) {
	var base string
	switch {
	case c.Subdomain == "" && c.AuthURL == "":
		return "", configError("Subdomain", "set the tenant's subdomain (or AuthURL for an older stack or an emulator)")
	case c.Subdomain != "" && c.AuthURL != "":
		return "", configError("AuthURL", "set either Subdomain or AuthURL, not both")
	case c.Subdomain != "":
		if problem := marketingcloud.SubdomainProblem(c.Subdomain); problem != "" {
			return "", configError("Subdomain", problem)
		}
		base = marketingcloud.AuthBase(c.Subdomain)
	default:
		u, problem := marketingcloud.ParseAuthURL(c.AuthURL, TokenPath)
		if problem == marketingcloud.QueryProblem {
			problem += " (set Legacy for ?legacy=1)"
		}
		if problem != "" {
			return "", configError("AuthURL", problem)
		}
		base = u
	}
	switch {
	case c.ClientID == "":
		return "", configError("ClientID", "set the client id of the legacy package's API integration")
	case c.ClientSecret == "":
		return "", configError("ClientSecret", "set the client secret of the legacy package's API integration")
	case strings.TrimSpace(c.ClientID) != c.ClientID:
		return "", configError("ClientID", "has white space around it (a line break read from a file?)")
	case strings.TrimSpace(c.ClientSecret) != c.ClientSecret:
		return "", configError("ClientSecret", "has white space around it (a line break read from a file?)")
	case c.RefreshTokens != nil && !c.Offline:
		return "", configError("RefreshTokens", "refresh tokens exist only with offline access: set Offline too, or drop RefreshTokens")
	case c.RefreshTokenKey != "" && !c.Offline:
		return "", configError("RefreshTokenKey", "refresh tokens exist only with offline access: set Offline too, or drop RefreshTokenKey")
	}
	for _, h := range c.APIHosts {
		if problem := hostRuleProblem(h); problem != "" {
			return "", configError("APIHosts", problem)
		}
	}
	return base, nil
}

func configError(field, problem string) error {
	return &transport.ConfigError{Provider: Name, Field: field, Problem: problem}
}

func secureURL(u *url.URL) bool {
	switch strings.ToLower(u.Scheme) {
	case "https":
		return true
	case "http":
		return httpx.IsLoopback(u.Hostname())
	}
	return false
}

// hostRuleProblem says what is wrong with an APIHosts entry, or "" if nothing.
func hostRuleProblem(rule string) string {
	if strings.Contains(rule, "://") {
		u, err := url.Parse(rule)
		switch {
		case err != nil || u.Host == "":
			return "an entry is not a valid URL"
		case u.User != nil:
			return "an entry carries user info"
		case !secureURL(u):
			return "an entry is a plain-http URL to a host that is not loopback"
		}
		return ""
	}
	switch {
	case strings.TrimSpace(rule) != rule || rule == "":
		return "an entry is empty or has spaces around it"
	case strings.ContainsAny(rule, "@/ \t"):
		return `an entry is neither a host ("api.example.com", "*.example.com", "127.0.0.1:8080") nor a URL`
	case rule == "*" || (strings.HasPrefix(rule, "*.") && !strings.Contains(rule[2:], ".")):
		return "a wildcard entry must name a domain with at least two labels, such as *.example.com"
	}
	return ""
}

// hosts returns the host rules the credential may be sent to.
func (c Config) hosts() []string {
	var rules []string
	if c.Subdomain != "" {
		rules = marketingcloud.TenantHosts(c.Subdomain)
	} else {
		rules = append(rules, c.AuthURL)
	}
	rules = append(rules, legacyHosts...)
	return append(rules, c.APIHosts...)
}
