package mcv1

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/tokentrip/tokentrip/internal/endpoint"
	"github.com/tokentrip/tokentrip/internal/oauthwire"
	"github.com/tokentrip/tokentrip/transport"
)

// tokenRequest is the JSON body of POST /v1/requestToken.
type tokenRequest struct {
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
	AccessType   string `json:"accessType,omitempty"`   // "offline": also return a refresh token
	RefreshToken string `json:"refreshToken,omitempty"` // redeem this refresh token
}

// secrets returns what the request carries that must never appear in an error:
// the secrets, and the client id, which no log line may carry either.
func (r tokenRequest) secrets() []string {
	return []string{r.ClientSecret, r.RefreshToken, oauthwire.ScrubbedID(r.ClientID)}
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
func (r tokenResponse) code() string {
	code, _ := oauthwire.NumberText(r.ErrorCode)
	return code
}

// answer is what one successful exchange brought back.
type answer struct {
	token   transport.Token
	refresh string // the refresh token to store, "" if none came
	legacy  string // the legacy token, "" if none came
}

// readAnswer turns the endpoint's answer into an answer or a *transport.FetchError.
// sent is when the request went out: expiresIn is the token's remaining lifetime,
// counted from then so that time in flight only shortens it. secrets are what the
// request carried: they and the answer's own tokens are scrubbed from every vendor
// string an error quotes.
func readAnswer(resp *endpoint.Response, sent time.Time, secrets []string) (answer, error) {
	var r tokenResponse
	if err := json.Unmarshal(resp.Body, &r); err != nil {
		return answer{}, undecodable(resp, err)
	}
	if resp.StatusCode/100 != 2 || r.AccessToken == "" || r.code() != "" {
		return answer{}, rejection(resp.StatusCode, r, append(secrets, r.AccessToken, r.RefreshToken, r.LegacyToken))
	}
	if problem := oauthwire.TokenProblem(r.AccessToken); problem != "" {
		return answer{}, malformed(resp.StatusCode, "the accessToken "+problem)
	}
	tok := transport.Token{AccessToken: r.AccessToken}
	if text, ok := oauthwire.NumberText(r.ExpiresIn); ok {
		life, problem := oauthwire.ParseLifetime("expiresIn", text, oauthwire.MaxLifetime)
		if problem != "" {
			return answer{}, malformed(resp.StatusCode, problem)
		}
		tok.Expiry = sent.Add(life)
	}
	return answer{token: tok, refresh: r.RefreshToken, legacy: r.LegacyToken}, nil
}
