package mcv1

import (
	"net/http"

	"github.com/tokentrip/tokentrip/internal/marketingcloud"
	"github.com/tokentrip/tokentrip/internal/overlay"
	"github.com/tokentrip/tokentrip/internal/storekey"
	"github.com/tokentrip/tokentrip/transport"
)

// NewTransport validates cfg and returns an http.RoundTripper that puts a legacy
// Marketing Cloud token on every request bound for the credential's hosts (see
// Provider.Hosts) — as "Authorization: Bearer" on REST calls, as a fueloauth header
// block in SOAP envelopes — and passes every other request through untouched. Create one per
// client id and share it: Marketing Cloud may revoke a client id's token when
// another token is requested for it. Servers that share one legacy package must
// also share a Store (Config.Store, e.g. store/redis). opts, if any, adjust the
// Transport as Provider.NewTransport says.
func NewTransport(cfg Config, opts ...transport.Options) (*transport.Transport, error) {
	p, err := NewProvider(cfg)
	if err != nil {
		return nil, err
	}
	return p.NewTransport(opts...), nil
}

// NewClient is NewTransport in an http.Client.
func NewClient(cfg Config) (*http.Client, error) {
	tr, err := NewTransport(cfg)
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: tr}, nil
}

// NewTransport returns a Transport over a new Source of p, configured from p's
// Config. opts, if any, are laid over the Provider's own Options in turn: their
// Hosts join the Provider's, and each other field they set replaces the
// Provider's (its REST verdict, its fueloauth SOAP credential, Config.Base).
// Each call makes a new Source, and so new tokens: call it once per Provider and
// share the result.
func (p *Provider) NewTransport(opts ...transport.Options) *transport.Transport {
	cfg := p.cfg
	src := transport.NewSource(p, overlay.Settings(cfg.Settings, transport.Settings{
		// A short hash of the client id tells Sources apart in events, logs and
		// metrics, where the client id itself must not appear.
		Name:     Name + "/" + storekey.Key{Provider: Name, ClientID: cfg.ClientID}.ID()[:8],
		Clock:    cfg.Clock,
		Logger:   cfg.Logger,
		Hook:     cfg.Hook,
		Store:    cfg.Store,
		StoreKey: p.storeKey().ID(),
	}))
	return transport.New(src, overlay.Options(transport.Options{
		Hosts: p.Hosts(),
		// Marketing Cloud REST answers an expired, revoked or superseded token
		// with 401 {"errorcode":0,"message":"Not Authorized"}: the default verdict.
		// SOAP calls carry the token as <fueloauth>; a "Token Expired" or "Login
		// Failed" fault is a rejection like a REST 401.
		SOAP: marketingcloud.FuelOAuth,
		Base: cfg.Base,
	}, opts...))
}

// storeKey names p's token in Config.Store. With Offline the token is bought
// with a refresh token, so the refresh token's key tells its holders apart.
func (p *Provider) storeKey() storekey.Key {
	return storekey.Key{Provider: Name, ClientID: p.cfg.ClientID, Subject: p.key}
}
