package acoustic

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"

	"github.com/tokentrip/tokentrip/internal/providerkit"
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
// retries. cfg.Source configures the Source and cfg.Transport the Transport: its
// Hosts join the org's host, and its Rejected, when set, replaces Acoustic's
// verdict.
func NewTransport(cfg Config) (*transport.Transport, error) {
	return providerkit.Build(cfg, NewProvider, (*Provider).newTransport)
}

// newTransport returns a Transport over a new Source of p.
func (p *Provider) newTransport() *transport.Transport {
	endpoint, _ := p.cfg.Endpoint()
	u, _ := url.Parse(endpoint)
	// Each refresh token is a user of the application with a token of its own; a
	// digest tells them apart without putting the refresh token in the key.
	sum := sha256.Sum256([]byte(p.cfg.RefreshToken))
	return p.kit.Transport(p, p.cfg.Common,
		providerkit.Credential{ClientID: p.cfg.ClientID, Subject: "rt:" + hex.EncodeToString(sum[:])},
		providerkit.Vendor{
			Hosts:       []string{u.Host},
			Rejected:    rejected,
			RefreshLead: tokenLifetime - reissueAge,
			Base:        func(base http.RoundTripper) http.RoundTripper { return p.cfg.capped(base, u.Host) },
		})
}

// rejected is the verdict of Acoustic's APIs: a REST 401, or an XML API answer
// that XMLAPIRejected refuses.
func rejected(resp *http.Response) bool {
	return transport.Unauthorized(resp) || XMLAPIRejected(resp)
}

// NewClient returns an *http.Client over NewTransport(cfg).
func NewClient(cfg Config) (*http.Client, error) { return providerkit.Client(NewTransport(cfg)) }

// capped is the RoundTripper under the Transport: base, capped by the Limiter.
func (c Config) capped(base http.RoundTripper, host string) http.RoundTripper {
	switch {
	case c.Limiter != nil:
		return capped(base, c.Limiter, host)
	case c.MaxInFlight < 0:
		return base
	default:
		return capped(base, newSemaphore(c.MaxInFlight, c.LimitMode), host)
	}
}
