package mcv1

import (
	"github.com/tokentrip/tokentrip/transport"
)

// CheckToken implements transport.TokenChecker: it reports why tok, read from a
// store rather than from Marketing Cloud, is not a token this Provider could have
// fetched — an access token with characters a header cannot carry, a lifetime
// longer than a day from now, or fields the legacy endpoint never fills (instance
// URLs, a refresh point). A Source adopts a token from its Store only when it
// passes. The error never quotes the token.
func (p *Provider) CheckToken(tok transport.Token) error {
	if err := p.kit.CheckStored("Marketing Cloud", tok); err != nil {
		return err
	}
	switch {
	case tok.RESTInstanceURL != "" || tok.SOAPInstanceURL != "":
		return p.kit.StoredError("instance URLs, which the legacy token endpoint never returns")
	case !tok.RefreshAfter.IsZero():
		return p.kit.StoredError("a refresh point, which the legacy token endpoint never sets")
	}
	return nil
}

var _ transport.TokenChecker = (*Provider)(nil)
