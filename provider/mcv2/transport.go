package mcv2

import (
	"net/http"

	"github.com/tokentrip/tokentrip/internal/providerkit"
	"github.com/tokentrip/tokentrip/transport"
)

// NewTransport returns a Transport over a new Source of p, like the NewTransport
// function: after Exchange, it starts with the exchanged token, and the tenant of
// the callback is in its scope. The credential goes to the tenant's auth, rest and
// soap hosts, the host of Config.AuthURL and Config.Transport.Hosts; the hosts of
// each token's instance URLs join them by themselves. Each call makes a new
// Source, and so new tokens: call it once per Provider and share the result.
func (p *Provider) NewTransport() *transport.Transport {
	cred := providerkit.Credential{ClientID: p.cfg.ClientID, AccountID: p.cfg.AccountID, Scope: p.cfg.scope()}
	if p.cfg.RefreshTokens != nil {
		// A user's token is for that user alone, whom the refresh token's key
		// tells apart.
		cred.Subject = p.key
	}
	return p.kit.Transport(p, p.cfg.Common, cred, p.tenant.Load().vendor())
}

// NewTransport returns an http.RoundTripper that authenticates the requests bound
// for the credential's hosts with tokens fetched for cfg, and passes every other
// request through untouched: REST calls get an Authorization header, SOAP
// envelopes a fueloauth header, and a request whose token is refused (HTTP 401, or
// a SOAP "Token Expired" or "Login Failed" fault) is replayed once with a new
// token. cfg.Source configures the transport.Source behind it and cfg.Transport
// the Transport. Create one per credential and share it.
func NewTransport(cfg Config) (*transport.Transport, error) {
	return providerkit.Build(cfg, NewProvider, (*Provider).NewTransport)
}

// NewClient returns an *http.Client over NewTransport(cfg).
func NewClient(cfg Config) (*http.Client, error) { return providerkit.Client(NewTransport(cfg)) }
