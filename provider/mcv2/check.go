package mcv2

import (
	"errors"

	"github.com/tokentrip/tokentrip/internal/oauthwire"
	"github.com/tokentrip/tokentrip/transport"
)

// CheckToken implements transport.TokenChecker: it reports why tok, read from a
// store rather than from Marketing Cloud, is not a token this Provider could have
// fetched — an access token with characters a header cannot carry, a lifetime
// longer than a day from now, or instance URLs that are not the normalised https
// URLs of a Marketing Cloud host (or of the auth endpoint's host) that token
// answers are turned into. A Source adopts a token from its Store only when it
// passes. The error never quotes the token or the URLs.
func (p *Provider) CheckToken(tok transport.Token) error {
	if problem := oauthwire.TokenProblem(tok.AccessToken); problem != "" {
		return errors.New("mcv2: stored token: the access token " + problem)
	}
	if tok.Expiry.IsZero() || tok.Expiry.Sub(p.now()) > maxLifetime {
		return errors.New("mcv2: stored token: an expiry Marketing Cloud does not issue")
	}
	if !tok.RefreshAfter.IsZero() {
		return errors.New("mcv2: stored token: a refresh point, which Marketing Cloud never sets")
	}
	t := p.tenant.Load()
	hide := func(string) string { return "" }
	for _, u := range []struct{ field, raw string }{
		{"rest_instance_url", tok.RESTInstanceURL},
		{"soap_instance_url", tok.SOAPInstanceURL},
	} {
		if u.raw == "" {
			continue
		}
		if norm, err := t.instanceURL(u.field, u.raw, hide); err != nil || norm != u.raw {
			return errors.New("mcv2: stored token: its " + u.field + " is not one a Marketing Cloud token answer gives")
		}
	}
	return nil
}

var _ transport.TokenChecker = (*Provider)(nil)
