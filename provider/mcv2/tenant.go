package mcv2

import (
	"strings"

	"github.com/tokentrip/tokentrip/internal/marketingcloud"
	"github.com/tokentrip/tokentrip/internal/providerkit"
)

// Paths of the authentication endpoints, under the auth base URL.
const (
	tokenPath     = "/v2/token"
	authorizePath = "/v2/authorize"
)

// tenant is where a Provider's token calls go. A callback's tssd can move a
// Provider to another tenant, so it is swapped whole.
type tenant struct {
	subdomain string // "" when only AuthURL was given
	authBase  string // AuthURL, or the tenant's auth host; no trailing slash
	loopback  bool   // authBase is plain http to a loopback host (an emulator)
}

// newTenant returns the tenant of subdomain under cfg, whose AuthURL, when set,
// wins over the subdomain's auth host. cfg has been validated.
func newTenant(cfg Config, subdomain string) *tenant {
	t := &tenant{subdomain: subdomain, authBase: marketingcloud.AuthBase(subdomain)}
	if cfg.AuthURL != "" {
		t.authBase, _ = marketingcloud.ParseAuthURL(cfg.AuthURL, tokenPath)
		t.loopback = strings.HasPrefix(t.authBase, "http://") // ParseAuthURL allows http only to loopback
	}
	return t
}

func (t *tenant) tokenURL() string     { return t.authBase + tokenPath }
func (t *tenant) authorizeURL() string { return t.authBase + authorizePath }

// vendor is what Marketing Cloud adds to the Transport of a credential of the
// tenant: its hosts, and the fueloauth SOAP credential. REST answers 401 to an
// expired, revoked or unknown token (the default verdict); the SOAP credential
// adds the SOAP API's auth faults.
func (t *tenant) vendor() providerkit.Vendor {
	return providerkit.Vendor{Hosts: t.hosts(), SOAP: marketingcloud.FuelOAuth}
}

// hosts returns the tenant's auth, rest and soap hosts, and the AuthURL's host.
func (t *tenant) hosts() []string {
	var hs []string
	if t.subdomain != "" {
		hs = marketingcloud.TenantHosts(t.subdomain)
	}
	if t.authBase != marketingcloud.AuthBase(t.subdomain) {
		hs = append(hs, t.authBase)
	}
	return hs
}
