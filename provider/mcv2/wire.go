package mcv2

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/tokentrip/tokentrip/internal/oauthwire"
	"github.com/tokentrip/tokentrip/transport"
)

// Grant types of POST /v2/token.
const (
	grantClientCredentials = "client_credentials"
	grantAuthorizationCode = "authorization_code"
	grantRefreshToken      = "refresh_token"
)

// maxLifetime bounds a token's expires_in: Marketing Cloud tokens live 20 minutes,
// and a lifetime beyond a day means the answer is not to be trusted.
const maxLifetime = 24 * time.Hour

// tokenRequest is the JSON body of POST /v2/token, for every grant; empty fields
// are left out.
type tokenRequest struct {
	GrantType    string `json:"grant_type"`
	Code         string `json:"code,omitempty"`
	RefreshToken string `json:"refresh_token,omitempty"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret,omitempty"`
	RedirectURI  string `json:"redirect_uri,omitempty"`
	CodeVerifier string `json:"code_verifier,omitempty"`
	Scope        string `json:"scope,omitempty"`
	AccountID    string `json:"account_id,omitempty"`
}

// encode returns the request as JSON, with "&", "<" and ">" left as they are so
// that the redirect URI travels exactly as registered.
func (r tokenRequest) encode() []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(r) // strings only: encoding cannot fail
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// secrets returns what in the request must never appear in an error.
func (r tokenRequest) secrets() []string {
	return []string{r.ClientSecret, r.Code, r.RefreshToken, r.CodeVerifier}
}

// token turns a successful answer into a Token: it checks the access token, works
// out the expiry from expires_in (counted from start, when the request was sent)
// and normalises the instance URLs.
func token(r oauthwire.Response, start time.Time, t *tenant) (transport.Token, error) {
	if !isPrintable(r.AccessToken) {
		return transport.Token{}, malformed("access_token holds characters that cannot travel in a header")
	}
	if r.TokenType != "" && !strings.EqualFold(r.TokenType, "Bearer") {
		return transport.Token{}, malformed(fmt.Sprintf("token_type %q, want Bearer", r.TokenType))
	}
	tok := transport.Token{AccessToken: r.AccessToken, Scope: r.Scope}
	if r.ExpiresIn != "" {
		life, ok := r.Lifetime()
		if !ok || life > maxLifetime {
			return transport.Token{}, malformed(fmt.Sprintf("expires_in %q is not a lifetime in seconds between 1 and %d", r.ExpiresIn.String(), int(maxLifetime/time.Second)))
		}
		tok.Expiry = start.Add(life)
	}
	var err error
	if tok.RESTInstanceURL, err = instanceURL("rest_instance_url", r.RESTInstanceURL, t.loopback); err != nil {
		return transport.Token{}, err
	}
	if tok.SOAPInstanceURL, err = instanceURL("soap_instance_url", r.SOAPInstanceURL, t.loopback); err != nil {
		return transport.Token{}, err
	}
	return tok, nil
}

// instanceURL normalises an instance URL to "scheme://host/": real answers carry
// "https://host/", the documentation shows a bare "host". A bare host gets https,
// unless it is a loopback host named by a plain-http loopback auth endpoint (an
// emulator); plain http to any other host is upgraded to https.
func instanceURL(field, raw string, loopbackAuth bool) (string, error) {
	if raw == "" {
		return "", nil
	}
	s := raw
	if !strings.Contains(s, "://") {
		s = "https://" + s
		if loopbackAuth {
			if u, err := url.Parse(s); err == nil && transport.IsLoopback(u.Hostname()) {
				s = "http://" + raw
			}
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", malformed(fmt.Sprintf("%s %q is not a base URL", field, raw))
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !transport.IsLoopback(u.Hostname()) {
			u.Scheme = "https"
		}
	default:
		return "", malformed(fmt.Sprintf("%s %q: scheme %q, want https", field, raw, u.Scheme))
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		u.RawPath = ""
	}
	return u.String(), nil
}

// malformed reports a success answer that cannot be used.
func malformed(problem string) error {
	return &transport.FetchError{
		Kind:     transport.ErrEndpoint,
		Provider: providerName,
		Message:  "malformed token answer: " + problem,
		Hint:     "check that Subdomain or AuthURL points at Marketing Cloud's token endpoint",
	}
}
