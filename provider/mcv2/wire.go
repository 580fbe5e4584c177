package mcv2

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/tokentrip/tokentrip/internal/httpx"
	"github.com/tokentrip/tokentrip/internal/marketingcloud"
	"github.com/tokentrip/tokentrip/internal/oauthwire"
	"github.com/tokentrip/tokentrip/transport"
)

// Grant types of POST /v2/token.
const (
	grantClientCredentials = "client_credentials"
	grantAuthorizationCode = "authorization_code"
	grantRefreshToken      = "refresh_token"
)

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

	// held are the tokens the Provider holds besides the request's own (a handed-over
	// access token, a rotation not saved yet): secrets too, never sent.
	held []string
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

// secrets returns every secret the Provider knows while it sends the request: what
// the request carries and the tokens it holds, and the client id, which no log
// line may carry either. None may appear in an error.
func (r tokenRequest) secrets() []string {
	return append([]string{r.ClientSecret, r.Code, r.RefreshToken, r.CodeVerifier, oauthwire.ScrubbedID(r.ClientID)}, r.held...)
}

// token turns a successful answer into a Token: it checks the access token, works
// out the expiry from expires_in (counted from start, when the request was sent)
// and normalises the instance URLs. secrets are what the request carried: they and
// the answer's own tokens are scrubbed from every vendor string an error quotes.
func token(r oauthwire.Response, start time.Time, t *tenant, secrets []string) (transport.Token, error) {
	clean := func(s string) string {
		return oauthwire.Scrub(s, append(secrets[:len(secrets):len(secrets)], r.AccessToken, r.RefreshToken)...)
	}
	if problem := oauthwire.TokenProblem(r.AccessToken); problem != "" {
		return transport.Token{}, malformed("access_token " + problem)
	}
	if r.TokenType != "" && !strings.EqualFold(r.TokenType, "Bearer") {
		return transport.Token{}, malformed(fmt.Sprintf("token_type %q, want Bearer", clean(r.TokenType)))
	}
	tok := transport.Token{AccessToken: r.AccessToken, Scope: r.Scope}
	if text, ok := r.LifetimeText(); ok {
		life, problem := oauthwire.ParseLifetime("expires_in", text, oauthwire.MaxLifetime)
		if problem != "" {
			return transport.Token{}, malformed(problem)
		}
		tok.Expiry = start.Add(life)
	}
	var err error
	if tok.RESTInstanceURL, err = t.instanceURL("rest_instance_url", r.RESTInstanceURL, clean); err != nil {
		return transport.Token{}, err
	}
	if tok.SOAPInstanceURL, err = t.instanceURL("soap_instance_url", r.SOAPInstanceURL, clean); err != nil {
		return transport.Token{}, err
	}
	return tok, nil
}

// instanceURL normalises an instance URL to "scheme://host/": real answers carry
// "https://host/", the documentation shows a bare "host". A bare host gets https,
// unless it is a loopback host named by a plain-http loopback auth endpoint (an
// emulator); plain http to any other host is upgraded to https. The host must be
// a Marketing Cloud host (under marketingcloudapis.com), the auth endpoint's own
// host, or a loopback host (an emulator's): a tenant's token never names another
// place to send it. clean scrubs the raw value for errors.
func (t *tenant) instanceURL(field, raw string, clean func(string) string) (string, error) {
	if raw == "" {
		return "", nil
	}
	s := raw
	if !strings.Contains(s, "://") {
		s = "https://" + s
		if t.loopback {
			if u, err := url.Parse(s); err == nil && httpx.IsLoopback(u.Hostname()) {
				s = "http://" + raw
			}
		}
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.Opaque != "" {
		return "", malformed(fmt.Sprintf("%s %q is not a base URL", field, clean(raw)))
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !httpx.IsLoopback(u.Hostname()) {
			u.Scheme = "https"
		}
	default:
		return "", malformed(fmt.Sprintf("%s %q: scheme %q, want https", field, clean(raw), clean(u.Scheme)))
	}
	if !t.instanceHost(u) {
		return "", malformed(fmt.Sprintf("%s %q is not on a Marketing Cloud host", field, clean(raw)))
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		u.RawPath = ""
	}
	return u.String(), nil
}

// instanceHost reports whether an instance URL's host may receive the tenant's
// token: a host under marketingcloudapis.com, the auth endpoint's host, or a
// loopback host (an emulator's).
func (t *tenant) instanceHost(u *url.URL) bool {
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	switch {
	case strings.HasSuffix(host, "."+marketingcloud.Domain):
		return true
	case httpx.IsLoopback(host):
		return true
	}
	a, err := url.Parse(t.authBase)
	return err == nil && strings.EqualFold(a.Hostname(), host)
}

// malformed reports a success answer that cannot be used.
func malformed(problem string) error {
	return &transport.FetchError{
		Kind:     transport.ErrEndpoint,
		Provider: name,
		Message:  "malformed token answer: " + problem,
		Hint:     "check that Subdomain or AuthURL points at Marketing Cloud's token endpoint",
	}
}
