package mcv2

import (
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
	if err := p.kit.CheckStored("Marketing Cloud", tok); err != nil {
		return err
	}
	if !tok.RefreshAfter.IsZero() {
		return p.kit.StoredError("a refresh point, which Marketing Cloud never sets")
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
			return p.kit.StoredError("its " + u.field + " is not one a Marketing Cloud token answer gives")
		}
	}
	return nil
}

var _ transport.TokenChecker = (*Provider)(nil)
