package mcv2

import (
	"net/http"

	"github.com/tokentrip/tokentrip/internal/marketingcloud"
	"github.com/tokentrip/tokentrip/internal/overlay"
	"github.com/tokentrip/tokentrip/internal/storekey"
	"github.com/tokentrip/tokentrip/transport"
)

// NewTransport returns an http.RoundTripper that authenticates the requests bound
// for the credential's hosts (see Provider.Hosts) with tokens fetched for cfg, and
// passes every other request through untouched: REST calls get an Authorization
// header, SOAP envelopes a fueloauth header, and a request whose token is refused
// (HTTP 401, or a SOAP "Token Expired" or "Login Failed" fault) is replayed once
// with a new token. cfg's Clock, Logger, Hook, Store and Settings configure the
// transport.Source behind it; opts, if any, adjust the Transport as
// Provider.NewTransport says. Create one per credential and share it.
func NewTransport(cfg Config, opts ...transport.Options) (*transport.Transport, error) {
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
// function: after Exchange, it starts with the exchanged token. opts, if any, are
// laid over the Provider's own Options in turn: their Hosts join the Provider's,
// and each other field they set replaces the Provider's (its REST verdict, its
// fueloauth SOAP credential, Config.Base). Each call makes a new Source, and so
// new tokens: call it once per Provider and share the result.
func (p *Provider) NewTransport(opts ...transport.Options) *transport.Transport {
	src := transport.NewSource(p, p.settings())
	return transport.New(src, overlay.Options(transport.Options{
		Hosts: p.Hosts(),
		// Marketing Cloud REST answers 401 to an expired, revoked or unknown token
		// (the default verdict); the SOAP credential adds the SOAP API's auth faults.
		SOAP: marketingcloud.FuelOAuth,
		Base: p.cfg.Base,
	}, opts...))
}

// Hosts returns the hosts the credential may be sent to, in transport.Options.Hosts
// form: the tenant's auth, rest and soap hosts, the host of Config.AuthURL, and
// Config.APIHosts. The hosts of each token's instance URLs join them by themselves.
func (p *Provider) Hosts() []string {
	return append(p.tenant.Load().hosts(), p.cfg.APIHosts...)
}

// settings are the Source settings cfg asks for.
func (p *Provider) settings() transport.Settings {
	// The name goes into events, logs and metrics, where a client id must not: a
	// short hash of the credential tells Sources apart instead.
	id := storekey.Key{Provider: providerName, ClientID: p.cfg.ClientID, AccountID: p.cfg.AccountID}.ID()
	return overlay.Settings(p.cfg.Settings, transport.Settings{
		Name:     providerName + "/" + id[:8],
		Clock:    p.cfg.Clock,
		Logger:   p.cfg.Logger,
		Hook:     p.cfg.Hook,
		Store:    p.cfg.Store,
		StoreKey: p.storeKey().ID(),
	})
}

// storeKey names p's token in Config.Store: a token is good for one business unit
// and scope, and a user's token for that user alone, whom the refresh token's key
// tells apart.
func (p *Provider) storeKey() storekey.Key {
	k := storekey.Key{
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
