package mcv2

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tokentrip/tokentrip/internal/marketingcloud"
	"github.com/tokentrip/tokentrip/store"
	"github.com/tokentrip/tokentrip/transport"
)

// providerName names this provider in errors, logs and Source names.
const providerName = "mcv2"

// Config describes one credential: an enhanced package's API integration, in one
// business unit, for the app itself (client_credentials) or for one user who
// authorised the app (refresh tokens).
type Config struct {
	// Subdomain is the tenant subdomain shown on the package's API integration, e.g.
	// "mc563885gzs27c5t9-63k636tzgm" (28 characters of a–z, 0–9 and "-", starting
	// with "mc"). Token calls go to https://{Subdomain}.auth.marketingcloudapis.com,
	// and the tenant's auth, rest and soap hosts are in the credential's scope.
	// Required unless AuthURL is set.
	Subdomain string

	// AuthURL replaces the tenant's auth base URL, for example with an emulator's
	// loopback URL: token requests go to AuthURL + "/v2/token", whatever Subdomain
	// or a callback's tssd say. A URL that already ends in /v2/token is accepted as
	// well. It must be https, or http to a loopback host, and carries no user info,
	// query or fragment.
	AuthURL string

	// ClientID is the API integration's client id. Required.
	ClientID string

	// ClientSecret is the API integration's client secret. Required for
	// server-to-server integrations and web apps; public apps have none.
	ClientSecret string

	// AccountID is the MID of the business unit the tokens are for. Empty: the
	// package's own business unit. A token works only in its business unit and
	// does not flow down to child units, so each business unit needs its own
	// Config, Provider and Source.
	AccountID string

	// Scope lists the scopes to request, e.g. {"email_read", "email_write"}; an
	// element may also hold several space-separated scopes. Empty: every scope the
	// package grants. Web and public apps add "offline" to keep their refresh token
	// valid after the user logs out of Marketing Cloud.
	Scope []string

	// RedirectURI is the redirect URI registered on a web or public app, where
	// Marketing Cloud sends the user back after AuthorizeURL. It is required by
	// Exchange and unused by server-to-server integrations.
	RedirectURI string

	// RefreshTokens, when set, makes the credential a user's: Exchange saves the
	// refresh token there, and Fetch renews the access token with it (the
	// refresh_token grant) instead of asking for one with the client secret
	// (client_credentials). Use a store shared by every process that serves the
	// same user, such as store.File or a Redis store.
	RefreshTokens store.RefreshTokens

	// RefreshTokenKey is the key of the user's refresh token in RefreshTokens. Empty:
	// "mcv2/{ClientID}/{AccountID}", which holds one user per app and business
	// unit; an app that serves several users sets a key per user.
	RefreshTokenKey string

	// Store, when set, shares the access token among the Transports that use the
	// same Store and credential: across a fleet with a Redis store (package
	// store/redis), within a process with a *store.MemoryTokens. They then make
	// one token request per token lifetime between them. The token is keyed by
	// provider, ClientID, AccountID, Scope and, for a user's credential,
	// RefreshTokenKey (or its default), so that business units and users never
	// share one. Nil: each Transport keeps its token to itself. A Store in
	// Settings replaces it.
	Store transport.Store

	// APIHosts adds hosts the credential may be sent to, in transport.Options.Hosts
	// form ("api.example.com", "*.example.com", "127.0.0.1:8080" or a URL). The
	// tenant's hosts and the token's instance URLs are always in scope.
	APIHosts []string

	// HTTPClient sends the token requests (nil: a client over a clone of
	// http.DefaultTransport). It never follows redirects.
	HTTPClient *http.Client

	// Base sends the API calls made through NewTransport and NewClient (nil:
	// transport.DefaultBase, one connection pool shared by every Transport).
	Base http.RoundTripper

	// Retry says how failed token requests are retried (zero value: the defaults
	// of transport.RetryPolicy).
	Retry transport.RetryPolicy

	// Logger receives token-endpoint retries and the Source's events (nil: no
	// logging). Nothing secret is ever logged.
	Logger *slog.Logger

	// Clock replaces time.Now for token expiries and the Source (nil: time.Now).
	Clock func() time.Time

	// Hook is called with every event of the Source built by NewTransport.
	Hook func(transport.Event)

	// Settings holds further settings of the Source built by NewTransport. Each
	// field set here wins over the one derived from the fields above.
	Settings transport.Settings
}

// Validate reports the first field that cannot work, as a *transport.ConfigError
// (errors.Is(err, transport.ErrConfig)). It sends nothing.
func (c Config) Validate() error {
	switch {
	case c.ClientID == "":
		return configError("ClientID", "required: the client id of the package's API integration")
	case !isPrintable(c.ClientID):
		return configError("ClientID", "contains spaces or control characters")
	case c.Subdomain == "" && c.AuthURL == "":
		return configError("Subdomain", "required (or AuthURL): the tenant subdomain shown on the package's API integration")
	case c.ClientSecret == "" && c.RefreshTokens == nil:
		return configError("ClientSecret", "required for the client_credentials grant; a public app sets RefreshTokens and runs Exchange instead")
	case c.ClientSecret != "" && !isPrintable(c.ClientSecret):
		return configError("ClientSecret", "contains spaces or control characters")
	case c.AccountID != "" && !isDigits(c.AccountID):
		return configError("AccountID", "must be the business unit's MID, a number such as 12345")
	}
	if c.Subdomain != "" {
		if problem := marketingcloud.SubdomainProblem(c.Subdomain); problem != "" {
			return configError("Subdomain", problem)
		}
	}
	if c.AuthURL != "" {
		if _, problem := marketingcloud.ParseAuthURL(c.AuthURL, tokenPath); problem != "" {
			return configError("AuthURL", problem)
		}
	}
	if c.RedirectURI != "" {
		if u, err := url.Parse(c.RedirectURI); err != nil || !u.IsAbs() || u.Host == "" || u.Fragment != "" {
			return configError("RedirectURI", "must be an absolute URL without a fragment, exactly as registered on the app")
		}
	}
	for _, s := range strings.Fields(strings.Join(c.Scope, " ")) {
		if !isScopeToken(s) {
			return configError("Scope", fmt.Sprintf("%q is not a scope name", s))
		}
	}
	for _, h := range c.APIHosts {
		if problem := hostRuleProblem(h); problem != "" {
			return configError("APIHosts", fmt.Sprintf("%q: %s", marketingcloud.CleanURL(h), problem))
		}
	}
	return nil
}

func configError(field, problem string) error {
	return &transport.ConfigError{Provider: providerName, Field: field, Problem: problem}
}

// hostRuleProblem says what is wrong with an APIHosts rule, or "".
func hostRuleProblem(rule string) string {
	switch suffix, wildcard := strings.CutPrefix(rule, "*."); {
	case !isPrintable(rule):
		return "not a host"
	case strings.Contains(rule, "@"):
		return "must not carry user information: a credential goes to the host, not in it"
	case wildcard && strings.Count(suffix, ".") < 1:
		return "a wildcard needs a domain of two labels or more, such as *.example.com"
	case strings.Contains(rule, "://"):
		if u, err := url.Parse(rule); err != nil || u.Host == "" {
			return "not a URL"
		}
	}
	return ""
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// isPrintable reports whether s is made of printable ASCII without spaces: what a
// client id, secret or token may hold.
func isPrintable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return s != ""
}

// isScopeToken reports whether s is an OAuth scope name (RFC 6749, section 3.3).
func isScopeToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == '"' || c == '\\' || c >= 0x7f {
			return false
		}
	}
	return s != ""
}

// scope returns the configured scopes as the space-separated list sent on the wire.
func (c Config) scope() string { return strings.Join(strings.Fields(strings.Join(c.Scope, " ")), " ") }

// refreshKey is RefreshTokenKey or its default.
func (c Config) refreshKey() string {
	if c.RefreshTokenKey != "" {
		return c.RefreshTokenKey
	}
	return providerName + "/" + c.ClientID + "/" + c.AccountID
}

const redacted = marketingcloud.Redacted

// configView is what the renderings of a Config show: its settings, with the
// client secret redacted and the rest reduced to whether it is set.
type configView struct {
	Subdomain       string   `json:"subdomain,omitempty"`
	AuthURL         string   `json:"auth_url,omitempty"`
	ClientID        string   `json:"client_id"`
	ClientSecret    string   `json:"client_secret,omitempty"`
	AccountID       string   `json:"account_id,omitempty"`
	Scope           []string `json:"scope,omitempty"`
	RedirectURI     string   `json:"redirect_uri,omitempty"`
	RefreshTokens   string   `json:"refresh_tokens,omitempty"`
	RefreshTokenKey string   `json:"refresh_token_key,omitempty"`
	Store           string   `json:"store,omitempty"`
	APIHosts        []string `json:"api_hosts,omitempty"`
}

func (c Config) view() configView {
	v := configView{
		Subdomain:       c.Subdomain,
		AuthURL:         marketingcloud.CleanURL(c.AuthURL),
		ClientID:        c.ClientID,
		AccountID:       c.AccountID,
		Scope:           c.Scope,
		RedirectURI:     c.RedirectURI,
		RefreshTokenKey: c.RefreshTokenKey,
	}
	for _, h := range c.APIHosts {
		v.APIHosts = append(v.APIHosts, marketingcloud.CleanURL(h))
	}
	if c.ClientSecret != "" {
		v.ClientSecret = redacted
	}
	if c.RefreshTokens != nil {
		v.RefreshTokens = fmt.Sprintf("%T", c.RefreshTokens)
	}
	if c.Store != nil {
		v.Store = "set"
	}
	return v
}

// String describes the Config with its client secret redacted.
func (c Config) String() string {
	return fmt.Sprintf("mcv2.Config%+v", c.view())
}

// GoString keeps %#v from printing the client secret.
func (c Config) GoString() string { return c.String() }

// MarshalJSON renders the Config's settings with the client secret redacted.
func (c Config) MarshalJSON() ([]byte, error) { return json.Marshal(c.view()) }

// LogValue renders the Config for log/slog with the client secret redacted.
func (c Config) LogValue() slog.Value {
	v := c.view()
	attrs := []slog.Attr{slog.String("client_id", v.ClientID)}
	for _, a := range []struct{ key, val string }{
		{"subdomain", v.Subdomain},
		{"auth_url", v.AuthURL},
		{"client_secret", v.ClientSecret},
		{"account_id", v.AccountID},
		{"scope", strings.Join(v.Scope, " ")},
		{"redirect_uri", v.RedirectURI},
		{"refresh_tokens", v.RefreshTokens},
		{"refresh_token_key", v.RefreshTokenKey},
		{"store", v.Store},
		{"api_hosts", strings.Join(v.APIHosts, " ")},
	} {
		if a.val != "" {
			attrs = append(attrs, slog.String(a.key, a.val))
		}
	}
	return slog.GroupValue(attrs...)
}
