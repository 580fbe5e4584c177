package mcv2

import (
	"net/http"

	"github.com/tokentrip/tokentrip/transport"
)

// NewTransport returns an http.RoundTripper that authenticates the requests bound
// for the credential's hosts (see Provider.Hosts) with tokens fetched for cfg, and
// passes every other request through untouched: REST calls get an Authorization
// header, SOAP envelopes a fueloauth header, and a request whose token is refused
// (HTTP 401, or a SOAP "Token Expired" or "Login Failed" fault) is replayed once
// with a new token. cfg's Clock, Logger, Hook, Store and SourceOptions configure
// the transport.Source behind it; opts are applied last. Create one per credential
// and share it.
func NewTransport(cfg Config, opts ...transport.Option) (*transport.Transport, error) {
	p, err := NewProvider(cfg)
	if err != nil {
		return nil, err
	}
	return p.NewTransport(opts...), nil
}

// NewClient returns an *http.Client over NewTransport(cfg).
func NewClient(cfg Config) (*http.Client, error) {
	tr, err := NewTransport(cfg)
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: tr}, nil
}

// NewTransport returns a Transport over a new Source of p, like the NewTransport
// function: after Exchange, it starts with the exchanged token. Each call makes a
// new Source, and so new tokens: call it once per Provider and share the result.
func (p *Provider) NewTransport(opts ...transport.Option) *transport.Transport {
	src := transport.NewSource(p, p.sourceOptions()...)
	all := []transport.Option{
		transport.WithHosts(p.Hosts()...),
		// Marketing Cloud REST answers 401 to an expired, revoked or unknown token;
		// WithSOAP adds the SOAP API's auth faults.
		transport.WithClassifier(transport.Unauthorized),
		transport.WithSOAP(transport.FuelOAuth),
	}
	if p.cfg.Base != nil {
		all = append(all, transport.WithBase(p.cfg.Base))
	}
	return transport.New(src, append(all, opts...)...)
}

// Hosts returns the hosts the credential may be sent to, in transport.WithHosts
// form: the tenant's auth, rest and soap hosts, the host of Config.AuthURL, and
// Config.APIHosts. The hosts of each token's instance URLs join them by themselves.
func (p *Provider) Hosts() []string {
	return append(p.tenant.Load().hosts(), p.cfg.APIHosts...)
}

// sourceOptions are the Source options cfg asks for.
func (p *Provider) sourceOptions() []transport.SourceOption {
	// The name goes into events, logs and metrics, where a client id must not: a
	// short hash of the credential tells Sources apart instead.
	id := transport.StoreKey{Provider: providerName, ClientID: p.cfg.ClientID, AccountID: p.cfg.AccountID}.ID()
	opts := []transport.SourceOption{transport.WithName(providerName + "/" + id[:8])}
	if p.cfg.Clock != nil {
		opts = append(opts, transport.WithClock(p.cfg.Clock))
	}
	if p.cfg.Logger != nil {
		opts = append(opts, transport.WithLogger(p.cfg.Logger))
	}
	if p.cfg.Hook != nil {
		opts = append(opts, transport.WithHook(p.cfg.Hook))
	}
	if p.cfg.Store != nil {
		opts = append(opts, transport.WithStore(p.cfg.Store, p.storeKey()))
	}
	return append(opts, p.cfg.SourceOptions...)
}

// storeKey names p's token in Config.Store: a token is good for one business unit
// and scope, and a user's token for that user alone, whom the refresh token's key
// tells apart.
func (p *Provider) storeKey() transport.StoreKey {
	k := transport.StoreKey{
		Provider:  providerName,
		ClientID:  p.cfg.ClientID,
		AccountID: p.cfg.AccountID,
		Scope:     p.cfg.scope(),
	}
	if p.cfg.RefreshTokens != nil {
		k.Subject = p.key
	}
	return k
}
