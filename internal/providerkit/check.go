package providerkit

import (
	"github.com/tokentrip/tokentrip/internal/oauthwire"
	"github.com/tokentrip/tokentrip/transport"
)

// CheckStored runs the checks every provider's CheckToken starts with, on a token
// read from a Store rather than from the vendor: an access token a header can
// carry, and an expiry the vendor (called vendor in the error) could have issued,
// at most a day from now. The error reads "<provider>: stored token: …" and never
// quotes the token.
func (k Kit) CheckStored(vendor string, tok transport.Token) error {
	switch {
	case oauthwire.TokenProblem(tok.AccessToken) != "":
		return k.StoredError("the access token " + oauthwire.TokenProblem(tok.AccessToken))
	case tok.Expiry.IsZero() || tok.Expiry.Sub(k.Now()) > oauthwire.MaxLifetime:
		return k.StoredError("an expiry " + vendor + " does not issue")
	}
	return nil
}

// StoredError is a CheckToken error: "<provider>: stored token: <problem>".
func (k Kit) StoredError(problem string) error {
	return NewError(k.Name, "stored token: "+problem)
}
