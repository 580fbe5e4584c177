package mcv1

import (
	"errors"

	"github.com/tokentrip/tokentrip/internal/oauthwire"
	"github.com/tokentrip/tokentrip/transport"
)

// CheckToken implements transport.TokenChecker: it reports why tok, read from a
// store rather than from Marketing Cloud, is not a token this Provider could have
// fetched — an access token with characters a header cannot carry, a lifetime
// longer than a day from now, or fields the legacy endpoint never fills (instance
// URLs, a refresh point). A Source adopts a token from its Store only when it
// passes. The error never quotes the token.
func (p *Provider) CheckToken(tok transport.Token) error {
	switch {
	case oauthwire.TokenProblem(tok.AccessToken) != "":
		return errors.New("mcv1: stored token: the access token " + oauthwire.TokenProblem(tok.AccessToken))
	case tok.Expiry.IsZero() || tok.Expiry.Sub(p.now()) > maxLifetime:
		return errors.New("mcv1: stored token: an expiry Marketing Cloud does not issue")
	case tok.RESTInstanceURL != "" || tok.SOAPInstanceURL != "":
		return errors.New("mcv1: stored token: instance URLs, which the legacy token endpoint never returns")
	case !tok.RefreshAfter.IsZero():
		return errors.New("mcv1: stored token: a refresh point, which the legacy token endpoint never sets")
	}
	return nil
}

var _ transport.TokenChecker = (*Provider)(nil)
