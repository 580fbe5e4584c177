package acoustic

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/tokentrip/tokentrip/internal/endpoint"
	"github.com/tokentrip/tokentrip/internal/oauthwire"
	"github.com/tokentrip/tokentrip/transport"
)

// Hints: what to do next about each kind of token-endpoint answer.
const (
	hintClient = "check ClientID and ClientSecret against Organization Settings → Application Account Access in Campaign; the application may have been removed"
	hintGrant  = "the refresh token is unknown or revoked (the user's access to the application was removed): add the account access again and configure the refresh token Campaign emails"
	hintUnauth = "this application may not use the refresh_token grant: check it under Organization Settings → Application Account Access"
	hintConfig = "Acoustic refused the form of the token request: check that Pod or BaseURL names the org's Acoustic Campaign pod"
	hintURL    = "no Acoustic token endpoint answers at this URL: check Pod or BaseURL"
	hintLimit  = "Acoustic refuses to mint tokens this often (a new one only every three hours): share one Transport, or one Source, per credential instead of creating them per request; tokentrip backs off exponentially"
	hintBroken = "Acoustic's answer could not be used; tokentrip backs off and retries"
)

// rejection maps a token-endpoint answer that carries no access token to its kind.
func (p *Provider) rejection(status int, r oauthwire.Response) error {
	e := &transport.FetchError{
		Provider:   name,
		StatusCode: status,
		Code:       p.scrub(r.Error, r.AccessToken, r.RefreshToken),
		Message:    p.scrub(r.ErrorDescription, r.AccessToken, r.RefreshToken),
	}
	switch {
	case r.Error == "" && status == http.StatusOK:
		e.Kind, e.Message, e.Hint = transport.ErrEndpoint, "the token response has no access_token", hintBroken
	case mintLimited(r.Error) || mintLimited(r.ErrorDescription):
		e.Kind, e.Hint = transport.ErrEndpoint, hintLimit
	case r.Error == "invalid_client":
		e.Kind, e.Hint = transport.ErrCredentialsRejected, hintClient
	case r.Error == "invalid_grant", r.Error == "invalid_token":
		e.Kind, e.Hint = transport.ErrCredentialsRejected, hintGrant
	case r.Error == "unauthorized_client":
		e.Kind, e.Hint = transport.ErrCredentialsRejected, hintUnauth
	case r.Error == "unsupported_grant_type", r.Error == "invalid_request", r.Error == "invalid_scope":
		e.Kind, e.Hint = transport.ErrConfig, hintConfig
	case status == http.StatusUnauthorized:
		e.Kind, e.Hint = transport.ErrCredentialsRejected, hintClient+"; "+hintGrant
	case status == http.StatusNotFound, status == http.StatusMethodNotAllowed:
		e.Kind, e.Hint = transport.ErrConfig, hintURL
	default:
		e.Kind, e.Hint = transport.ErrEndpoint, hintBroken
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	return e
}

// undecodable refines oauthwire's error for an answer that is not JSON: a 401 still
// rejects the credentials, and a 404 means the URL is wrong.
func (p *Provider) undecodable(status int, err error) error {
	var fe *transport.FetchError
	if !errors.As(err, &fe) {
		return err
	}
	switch status {
	case http.StatusUnauthorized:
		fe.Kind, fe.Hint = transport.ErrCredentialsRejected, hintClient+"; "+hintGrant
	case http.StatusNotFound, http.StatusMethodNotAllowed:
		fe.Kind, fe.Hint = transport.ErrConfig, hintURL
	}
	return fe
}

// endpointFailure names Acoustic's mint limit when the endpoint throttled, and
// reads Acoustic's own JSON error from the last answer, when there was one.
func (p *Provider) endpointFailure(resp *endpoint.Response, err error) error {
	err = oauthwire.Explain(name, resp, err, func(s string) string { return p.scrub(s) })
	var fe *transport.FetchError
	if !errors.As(err, &fe) {
		return err
	}
	if fe.StatusCode == http.StatusTooManyRequests || mintLimited(fe.Message) {
		fe.Hint = hintLimit
	}
	return fe
}

// malformed is a 200 answer that cannot be used as a token.
func (p *Provider) malformed(problem string) error {
	return &transport.FetchError{
		Kind:       transport.ErrEndpoint,
		Provider:   name,
		StatusCode: http.StatusOK,
		Message:    "unusable token response: " + problem,
		Hint:       hintBroken,
	}
}

// mintLimited reports whether a message is Acoustic's "Access token limits
// exceeded".
func mintLimited(msg string) bool {
	msg = strings.ToLower(msg)
	return strings.Contains(msg, "limit") && strings.Contains(msg, "exceeded")
}

// scrub removes the client secret, the refresh token and more (the tokens of the
// answer being read) from a string the endpoint wrote, in case it echoed them.
func (p *Provider) scrub(msg string, more ...string) string {
	return oauthwire.Scrub(msg, append(p.secrets[:len(p.secrets):len(p.secrets)], more...)...)
}

// quoteShort quotes a value from a response for an error message, cut short.
func quoteShort(s string) string {
	const n = 40
	if len(s) > n {
		s = s[:n] + "…"
	}
	return strconv.Quote(s)
}
