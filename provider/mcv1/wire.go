package mcv1

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/tokentrip/tokentrip/transport"
)

// tokenRequest is the JSON body of POST /v1/requestToken.
type tokenRequest struct {
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
	AccessType   string `json:"accessType,omitempty"`   // "offline": also return a refresh token
	RefreshToken string `json:"refreshToken,omitempty"` // redeem this refresh token
}

// encode renders the request as compact JSON, with no HTML escaping and no trailing
// newline: the bytes a person would write.
func (r tokenRequest) encode() []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(r) // four strings always encode
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// tokenResponse is the token endpoint's JSON answer, success and error fields
// together. Numbers are kept raw: Marketing Cloud sends them as JSON numbers, but
// a quoted number is read too.
type tokenResponse struct {
	AccessToken  string          `json:"accessToken"`
	ExpiresIn    json.RawMessage `json:"expiresIn"`
	RefreshToken string          `json:"refreshToken"`
	LegacyToken  string          `json:"legacyToken"`

	Message   string          `json:"message"`
	ErrorCode json.RawMessage `json:"errorcode"`
}

// code returns the errorcode as text ("1", "10007"), or "" when there is none.
func (r tokenResponse) code() string { return rawNumber(r.ErrorCode) }

// maxLifetime bounds a believable expiresIn. Legacy tokens live an hour; anything
// beyond a day is a broken answer, not a long-lived token.
const maxLifetime = 24 * time.Hour

// answer is what one successful exchange brought back.
type answer struct {
	token   transport.Token
	refresh string // the refresh token to store, "" if none came
	legacy  string // the legacy token, "" if none came
}

// readAnswer turns the endpoint's answer into an answer or a *transport.FetchError.
// sent is when the request went out: expiresIn is the token's remaining lifetime,
// counted from then so that time in flight only shortens it.
func readAnswer(resp *transport.EndpointResponse, sent time.Time) (answer, error) {
	var r tokenResponse
	if err := json.Unmarshal(resp.Body, &r); err != nil {
		return answer{}, undecodable(resp, err)
	}
	if resp.StatusCode/100 != 2 || r.AccessToken == "" {
		return answer{}, rejection(resp.StatusCode, r)
	}
	if !headerSafe(r.AccessToken) {
		return answer{}, malformed(resp.StatusCode, "the accessToken holds characters an HTTP header cannot carry")
	}
	tok := transport.Token{AccessToken: r.AccessToken}
	if len(r.ExpiresIn) > 0 && string(r.ExpiresIn) != "null" {
		secs, err := strconv.ParseInt(rawNumber(r.ExpiresIn), 10, 64)
		switch {
		case err != nil:
			return answer{}, malformed(resp.StatusCode, "expiresIn is not a whole number of seconds")
		case secs <= 0 || secs > int64(maxLifetime/time.Second):
			return answer{}, malformed(resp.StatusCode, "expiresIn "+strconv.FormatInt(secs, 10)+" is not a believable lifetime (1 to 86400 seconds)")
		}
		tok.Expiry = sent.Add(time.Duration(secs) * time.Second)
	}
	return answer{token: tok, refresh: r.RefreshToken, legacy: r.LegacyToken}, nil
}

// rawNumber returns a JSON number, or a quoted one, as text.
func rawNumber(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// headerSafe reports whether a token is visible ASCII, so that it can travel in an
// Authorization header unchanged.
func headerSafe(tok string) bool {
	for i := 0; i < len(tok); i++ {
		if tok[i] < 0x21 || tok[i] > 0x7e {
			return false
		}
	}
	return true
}

// mediaType returns the media type of the answer, or "none".
func mediaType(h http.Header) string {
	mt, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mt == "" {
		return "none"
	}
	return mt
}
