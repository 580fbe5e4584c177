package mcv1

import (
	"net/http"

	"github.com/tokentrip/tokentrip/internal/marketingcloud"
	"github.com/tokentrip/tokentrip/internal/providerkit"
	"github.com/tokentrip/tokentrip/transport"
)

// NewTransport returns a Transport over a new Source of p, configured from p's
// Config: its Source from Config.Source, and its Options from Config.Transport
// laid over the vendor's (the credential's hosts, joined by Transport.Hosts;
// Marketing Cloud's fueloauth SOAP credential, whose "Token Expired" and "Login
// Failed" faults count as rejections like a REST 401). Each call makes a new
// Source, and so new tokens: call it once per Provider and share the result.
func (p *Provider) NewTransport() *transport.Transport {
	return p.kit.Transport(p, p.cfg.Common, providerkit.Credential{
		ClientID: p.cfg.ClientID,
		// With Offline the token is bought with a refresh token, so the refresh
		// token's key tells its holders apart.
		Subject: p.key,
	}, providerkit.Vendor{Hosts: p.cfg.hosts(), SOAP: marketingcloud.FuelOAuth})
}

// NewTransport validates cfg and returns an http.RoundTripper that puts a legacy
// Marketing Cloud token on every request bound for the credential's hosts — as
// "Authorization: Bearer" on REST calls, as a fueloauth header block in SOAP
// envelopes — and passes every other request through untouched. Create one per
// client id and share it: Marketing Cloud may revoke a client id's token when
// another token is requested for it. Servers that share one legacy package must
// also share a Store (cfg.Source.Store, e.g. store/redis).
func NewTransport(cfg Config) (*transport.Transport, error) {
	return providerkit.Build(cfg, NewProvider, (*Provider).NewTransport)
}

// NewClient is NewTransport in an http.Client.
func NewClient(cfg Config) (*http.Client, error) { return providerkit.Client(NewTransport(cfg)) }
