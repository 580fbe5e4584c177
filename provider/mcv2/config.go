package mcv2

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/tokentrip/tokentrip/internal/marketingcloud"
	"github.com/tokentrip/tokentrip/internal/providerkit"
	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/store"
)

// name names this provider in errors, logs and Source names.
const name = "mcv2"

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

	// Common holds the settings every provider shares: the token client, its
	// retries, the Source (Clock, Logger, Hook, Store…) and the Transport (Base,
	// extra Hosts…). The tenant's hosts and the token's instance URLs are always in
	// scope. The Source's Store shares the access token among the Transports that
	// use the same Store and credential: across a fleet with a Redis store
	// (package store/redis), within a process with a *transport.MemoryStore, one
	// token request per token lifetime between them, keyed by ClientID,
	// AccountID, Scope and, for a user's credential, RefreshTokenKey (or its
	// default), so that business units and users never share one.
	provider.Common
}

// Validate reports the first field that cannot work, as a *transport.ConfigError
// (errors.Is(err, transport.ErrConfig)). It sends nothing.
func (c Config) Validate() error {
	switch {
	case c.ClientID == "":
		return configError("ClientID", "required: the client id of the package's API integration")
	case providerkit.CredentialProblem(c.ClientID) != "":
		return configError("ClientID", providerkit.CredentialProblem(c.ClientID))
	case !providerkit.Visible(c.ClientID):
		return configError("ClientID", "contains spaces or characters beyond ASCII")
	case c.Subdomain == "" && c.AuthURL == "":
		return configError("Subdomain", "required (or AuthURL): the tenant subdomain shown on the package's API integration")
	case c.ClientSecret == "" && c.RefreshTokens == nil:
		return configError("ClientSecret", "required for the client_credentials grant; a public app sets RefreshTokens and runs Exchange instead")
	case providerkit.CredentialProblem(c.ClientSecret) != "":
		return configError("ClientSecret", providerkit.CredentialProblem(c.ClientSecret))
	case c.ClientSecret != "" && !providerkit.Visible(c.ClientSecret):
		return configError("ClientSecret", "contains spaces or characters beyond ASCII")
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
	return providerkit.CheckCommon(name, c.Common)
}

func configError(field, problem string) error {
	return providerkit.ConfigError(name, field, problem)
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
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
	return name + "/" + c.ClientID + "/" + c.AccountID
}

// rendering is what a Config shows of itself: its settings, with the client
// secret redacted and the stores reduced to whether they are set.
func (c Config) rendering() providerkit.Rendering {
	return providerkit.Render("mcv2.Config", c.Common,
		"Subdomain", c.Subdomain, "AuthURL", providerkit.CleanURL(c.AuthURL), "ClientID", c.ClientID,
		"ClientSecret", providerkit.Secret(c.ClientSecret), "AccountID", c.AccountID, "Scope", c.Scope,
		"RedirectURI", providerkit.CleanURL(c.RedirectURI), "RefreshTokens", providerkit.Describe(c.RefreshTokens),
		"RefreshTokenKey", c.RefreshTokenKey)
}

// String describes the Config with its client secret redacted; %v, %+v and
// log/slog's text handler use it.
func (c Config) String() string { return c.rendering().String() }

// GoString keeps %#v from printing the client secret.
func (c Config) GoString() string { return c.String() }

// MarshalJSON renders the Config's settings with the client secret redacted, for
// logs (log/slog's JSON handler among them); it is not a Config to read back.
func (c Config) MarshalJSON() ([]byte, error) { return c.rendering().JSON() }
