package mcv1

import (
	"github.com/tokentrip/tokentrip/internal/marketingcloud"
	"github.com/tokentrip/tokentrip/internal/providerkit"
	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/store"
)

// name is the provider's name in errors, events and logs.
const name = "mcv1"

// tokenPath is the token endpoint's path under the auth base URL.
const tokenPath = "/v1/requestToken"

// Config describes one legacy installed package's API integration. Exactly one of
// Subdomain and AuthURL names the auth service; ClientID and ClientSecret are
// required; every other field is optional.
//
// A Config renders without its secrets: String, GoString and MarshalJSON (and so
// fmt and log/slog) show "[REDACTED]" in place of the client secret and strip
// credentials, queries and fragments from URLs, so a Config may be printed or
// logged whole.
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

	// Legacy asks for the legacy token too (the ?legacy=1 query): Marketing Cloud
	// then returns a legacyToken next to the access token, for integrations that
	// still need one. The Transport sends the access token only; read the legacy
	// token with Provider.LegacyToken.
	Legacy bool

	// Common holds the settings every provider shares: the token client, its
	// retries, the Source (Clock, Logger, Hook, Store…) and the Transport (Base,
	// extra Hosts…). The Source's name is "mcv1/{short hash of ClientID}". Its
	// Store shares the access token among the Transports that use the same Store
	// and credential: across a fleet with a Redis store (package store/redis),
	// within a process with a *transport.MemoryStore, one token request per token
	// lifetime between them, keyed by ClientID and, with Offline, RefreshTokenKey
	// (or its default). Servers that share one legacy package must share a Store:
	// a token issued to the package may revoke the one another server holds.
	provider.Common
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
		u, problem := marketingcloud.ParseAuthURL(c.AuthURL, tokenPath)
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
	case providerkit.CredentialProblem(c.ClientID) != "":
		return "", configError("ClientID", providerkit.CredentialProblem(c.ClientID))
	case providerkit.CredentialProblem(c.ClientSecret) != "":
		return "", configError("ClientSecret", providerkit.CredentialProblem(c.ClientSecret))
	case c.RefreshTokens != nil && !c.Offline:
		return "", configError("RefreshTokens", "refresh tokens exist only with offline access: set Offline too, or drop RefreshTokens")
	case c.RefreshTokenKey != "" && !c.Offline:
		return "", configError("RefreshTokenKey", "refresh tokens exist only with offline access: set Offline too, or drop RefreshTokenKey")
	}
	if err := providerkit.CheckCommon(name, c.Common); err != nil {
		return "", err
	}
	return base, nil
}

func configError(field, problem string) error {
	return providerkit.ConfigError(name, field, problem)
}

// hosts returns the vendor's rules of the hosts the credential may be sent to:
// with Subdomain the tenant's auth, rest and soap hosts, otherwise AuthURL's host;
// and the shared hosts of the older stacks. Common.Transport.Hosts join them.
func (c Config) hosts() []string {
	var rules []string
	if c.Subdomain != "" {
		rules = marketingcloud.TenantHosts(c.Subdomain)
	} else {
		rules = append(rules, c.AuthURL)
	}
	return append(rules, legacyHosts...)
}
