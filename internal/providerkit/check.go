package providerkit

import (
	"strings"

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

// CredentialProblem says what is wrong with a non-empty credential a user set (a
// client id, a client secret, a refresh token), or "" when nothing is: white space
// around it, the line break of a file it was read from, or a control character,
// which no vendor issues. An empty value is the provider's to report, with where to
// find the credential. The problem never quotes the value.
func CredentialProblem(s string) string {
	switch {
	case strings.TrimSpace(s) != s:
		return "has white space around it (a line break read from a file?)"
	case strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return "holds a control character, which no credential has"
	}
	return ""
}

// Visible reports whether s is non-empty printable ASCII without spaces: what a host
// rule holds, and what mcv2 accepts as a client id or secret.
func Visible(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return s != ""
}
