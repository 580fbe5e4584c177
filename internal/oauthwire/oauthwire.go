// Package oauthwire decodes the OAuth 2.0 style JSON token answers that Marketing
// Cloud v2 and Acoustic send, so both providers read them the same careful way:
// bounded, typed, and with no token in any error.
package oauthwire

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime"
	"net/http"

	"github.com/tokentrip/tokentrip/internal/endpoint"
	"github.com/tokentrip/tokentrip/transport"
)

// Response is a token endpoint's JSON answer, success and error fields together.
type Response struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	// ExpiresIn is kept raw: a number, a quoted one, or anything a broken answer
	// holds. Decoding it as a json.Number made encoding/json quote what it held in
	// its error — a secret, if the vendor echoed one there. See LifetimeText.
	ExpiresIn       json.RawMessage `json:"expires_in"`
	RefreshToken    string          `json:"refresh_token"`
	Scope           string          `json:"scope"`
	RESTInstanceURL string          `json:"rest_instance_url"`
	SOAPInstanceURL string          `json:"soap_instance_url"`

	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorURI         string `json:"error_uri"`
}

// String never shows the tokens, nor an expires_in that is not a number.
func (r Response) String() string {
	life, _ := r.LifetimeText()
	if !isDigits(life) {
		life = "?"
	}
	return "oauthwire.Response{token_type:" + r.TokenType + " expires_in:" + life + " error:" + r.Error + "}"
}

// LifetimeText returns expires_in as text for ParseLifetime (see NumberText) and
// whether the answer has one.
func (r Response) LifetimeText() (string, bool) { return NumberText(r.ExpiresIn) }

// NumberText returns a raw JSON value that should hold a number as text — a JSON
// number, or the content of a JSON string, as vendors send both — and whether there
// is a value at all (absent or null: no). A value of another kind (true, an object)
// is "", which ParseLifetime refuses.
func NumberText(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String(), true
	}
	return "", true
}

// Decode reads an endpoint answer as JSON. A body that is not JSON, JSON that is
// not an object, or an object followed by more (a second object, an HTML page) is
// a *transport.FetchError of kind ErrEndpoint naming the status and content type
// (never the body, which might hold a token).
func Decode(provider string, resp *endpoint.Response) (Response, error) {
	var r Response
	if err := json.Unmarshal(resp.Body, &r); err != nil {
		return Response{}, &transport.FetchError{
			Kind:       transport.ErrEndpoint,
			Provider:   provider,
			StatusCode: resp.StatusCode,
			Message:    "token response is not a JSON object (Content-Type " + MediaType(resp.Header) + ")",
			Hint:       "check that the auth URL points at the token endpoint",
			Err:        err,
		}
	}
	return r, nil
}

// OK reports whether the answer is a success: status 200 with an access token.
func (r Response) OK(status int) bool {
	return status == http.StatusOK && r.AccessToken != "" && r.Error == ""
}

// MediaType returns the media type an answer names in its Content-Type, or "none",
// for errors about a body they must not quote.
func MediaType(h http.Header) string {
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mt == "" {
		return "none"
	}
	return mt
}

// Explain completes a token endpoint failure with the vendor's own JSON error (code
// and description) from the last answer, which the endpoint.Client returns alongside
// a 5xx or 429 and keeps out of the error itself. clean removes any secret the
// vendor echoed from the code and the description. Errors without such an answer
// pass unchanged.
func Explain(provider string, resp *endpoint.Response, err error, clean func(string) string) error {
	var fe *transport.FetchError
	if resp == nil || !errors.As(err, &fe) {
		return err
	}
	if r, derr := Decode(provider, resp); derr == nil && r.Error != "" {
		fe.Code, fe.Message = clean(r.Error), clean(r.ErrorDescription)
	}
	return err
}
