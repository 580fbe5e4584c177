package marketingcloud

import (
	"github.com/tokentrip/tokentrip/envelope"
	"github.com/tokentrip/tokentrip/transport"
)

// FuelOAuth is the transport.Options.SOAP of Marketing Cloud OAuth tokens:
// <fueloauth xmlns="http://exacttarget.com">token</fueloauth>.
func FuelOAuth(tok transport.Token) envelope.Credential { return envelope.FuelOAuth(tok.AccessToken) }

// UsernameToken is the transport.Options.SOAP of a Marketing Cloud API user: a
// WS-Security UsernameToken. It is static, so pair it with a nil Source: no token
// is fetched.
func UsernameToken(cfg envelope.UsernameTokenConfig) func(transport.Token) envelope.Credential {
	cred := envelope.UsernameToken(cfg)
	return func(transport.Token) envelope.Credential { return cred }
}
