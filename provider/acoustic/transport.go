package acoustic

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"

	"github.com/tokentrip/tokentrip/internal/overlay"
	"github.com/tokentrip/tokentrip/internal/storekey"
	"github.com/tokentrip/tokentrip/transport"
)

// NewTransport returns an http.RoundTripper that authenticates requests to the org's
// API host (the pod's, or BaseURL's) with a shared, self-refreshing access token,
// and passes requests for any other host through untouched. A 401, an empty XML API
// answer or XML API fault 145 drops the token and replays the request once with a
// new one. At most MaxInFlight requests to the org's host are in flight at once.
//
// The token Source refreshes in the background from the moment Acoustic will issue a
// new token (three hours after the last one), which leaves the token's last hour for
// retries. opts, if any, are laid over the Options derived from cfg in turn: their
// Hosts join the org's host, and each other field they set replaces the derived
// one.
func NewTransport(cfg Config, opts ...transport.Options) (*transport.Transport, error) {
	p, err := NewProvider(cfg)
	if err != nil {
		return nil, err
	}
	endpoint, _ := cfg.Endpoint()
	u, _ := url.Parse(endpoint)
	src := transport.NewSource(p, cfg.settings())
	return transport.New(src, overlay.Options(transport.Options{
		Hosts:    []string{u.Host},
		Rejected: rejected,
		Base:     cfg.apiBase(u.Host),
	}, opts...)), nil
}

// rejected is the verdict of Acoustic's APIs: a REST 401, or an XML API answer
// that XMLAPIRejected refuses.
func rejected(resp *http.Response) bool {
	return transport.Unauthorized(resp) || XMLAPIRejected(resp)
}

// NewClient returns an *http.Client over NewTransport(cfg).
func NewClient(cfg Config) (*http.Client, error) {
	tr, err := NewTransport(cfg)
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: tr}, nil
}

// settings derives the token Source's settings from the Config; the ones the user
// set in Config.Settings win.
func (c Config) settings() transport.Settings {
	return overlay.Settings(c.Settings, transport.Settings{
		Name:        name,
		RefreshLead: TokenLifetime - ReissueAge,
		Clock:       c.Clock,
		Logger:      c.Logger,
		Hook:        c.Hook,
		Store:       c.Store,
		StoreKey:    c.storeKey().ID(),
	})
}

// storeKey names the Config's token in Store. Each refresh token is a user of the
// application with a token of its own; a digest tells them apart without putting
// the refresh token in the key.
func (c Config) storeKey() storekey.Key {
	sum := sha256.Sum256([]byte(c.RefreshToken))
	return storekey.Key{Provider: name, ClientID: c.ClientID, Subject: "rt:" + hex.EncodeToString(sum[:])}
}

// apiBase is the RoundTripper under the Transport: Base, capped by the Limiter.
func (c Config) apiBase(host string) http.RoundTripper {
	base := c.Base
	if base == nil {
		base = transport.DefaultBase()
	}
	switch {
	case c.Limiter != nil:
		return Limit(base, c.Limiter, host)
	case c.MaxInFlight < 0:
		return base
	default:
		return Limit(base, NewSemaphore(c.MaxInFlight, c.LimitMode), host)
	}
}
