package mcv2

import (
	"net/http"

	"github.com/tokentrip/tokentrip/transport"
)

// NewTransport returns an http.RoundTripper that authenticates the requests bound
// for the credential's hosts with tokens fetched for cfg: a Provider, wrapped in a
// transport.Source that cfg's Clock, Logger, Hook and Source configure. opts are
// applied last. Create one per credential and share it.
func NewTransport(cfg Config, opts ...transport.Option) (*transport.Transport, error) {
	p, err := NewProvider(cfg)
	if err != nil {
		return nil, err
	}
	return p.Transport(opts...), nil
}

// NewClient returns an *http.Client over NewTransport(cfg).
func NewClient(cfg Config) (*http.Client, error) {
	tr, err := NewTransport(cfg)
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: tr}, nil
}

// Transport returns an http.RoundTripper over a new Source of this Provider, like
// NewTransport: after Exchange, it starts with the exchanged token. Call it once
// and share the result; each call makes a Source with its own token.
func (p *Provider) Transport(opts ...transport.Option) *transport.Transport {
	src := transport.NewSource(p, p.sourceOptions()...)
	all := []transport.Option{
		transport.WithHosts(p.Hosts()...),
		// Marketing Cloud REST answers 401 to an expired, revoked or unknown token.
		transport.WithClassifier(transport.Unauthorized),
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
	name := providerName + "/" + p.cfg.ClientID
	if p.cfg.AccountID != "" {
		name += "/" + p.cfg.AccountID
	}
	opts := []transport.SourceOption{transport.WithName(name)}
	if p.cfg.Clock != nil {
		opts = append(opts, transport.WithClock(p.cfg.Clock))
	}
	if p.cfg.Logger != nil {
		opts = append(opts, transport.WithLogger(p.cfg.Logger))
	}
	if p.cfg.Hook != nil {
		opts = append(opts, transport.WithHook(p.cfg.Hook))
	}
	return append(opts, p.cfg.Source...)
}
