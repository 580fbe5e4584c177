package mcv2_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokentrip/tokentrip/internal/testkit"
	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/provider/mcv2"
	"github.com/tokentrip/tokentrip/store"
	"github.com/tokentrip/tokentrip/transport"
)

// Answers the emulator does not give, from a canned endpoint: malformed successes
// and the rarer errors.
func TestCannedAnswers(t *testing.T) {
	const secret = "canned-secret-value"
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		kind        error // nil: a usable token
		code        string
	}{
		{"no expiry", 200, "application/json", `{"access_token":"at-1","token_type":"Bearer"}`, nil, ""},
		{"expires_in as a string", 200, "application/json", `{"access_token":"at-1","expires_in":"1079"}`, nil, ""},
		{"HTML", 200, "text/html", `<html>gateway</html>`, transport.ErrEndpoint, ""},
		{"JSON array", 200, "application/json", `[]`, transport.ErrEndpoint, ""},
		{"no access token", 200, "application/json", `{"token_type":"Bearer","expires_in":1200}`, transport.ErrEndpoint, ""},
		{"zero lifetime", 200, "application/json", `{"access_token":"at-1","expires_in":0}`, transport.ErrEndpoint, ""},
		{"negative lifetime", 200, "application/json", `{"access_token":"at-1","expires_in":-5}`, transport.ErrEndpoint, ""},
		{"fractional lifetime", 200, "application/json", `{"access_token":"at-1","expires_in":1.5}`, transport.ErrEndpoint, ""},
		{"ten-year lifetime", 200, "application/json", `{"access_token":"at-1","expires_in":315360000}`, transport.ErrEndpoint, ""},
		{"lifetime that overflows a Duration", 200, "application/json", `{"access_token":"at-1","expires_in":9223372037}`, transport.ErrEndpoint, ""},
		{"lifetime beyond int64", 200, "application/json", `{"access_token":"at-1","expires_in":99999999999999999999}`, transport.ErrEndpoint, ""},
		{"lifetime of the largest int64", 200, "application/json", `{"access_token":"at-1","expires_in":"9223372036854775807"}`, transport.ErrEndpoint, ""},
		{"not a bearer token", 200, "application/json", `{"access_token":"at-1","token_type":"mac","expires_in":1200}`, transport.ErrEndpoint, ""},
		{"token with a space", 200, "application/json", `{"access_token":"at 1","expires_in":1200}`, transport.ErrEndpoint, ""},
		{"token with CR LF", 200, "application/json", `{"access_token":"at-1\r\nX-Evil: 1","expires_in":1200}`, transport.ErrEndpoint, ""},
		{"token beyond ASCII", 200, "application/json", `{"access_token":"at-1\u00e9","expires_in":1200}`, transport.ErrEndpoint, ""},
		{"token_type echoing the secret", 200, "application/json", `{"access_token":"at-1","token_type":"` + secret + `","expires_in":1200}`, transport.ErrEndpoint, ""},
		{"expires_in echoing the secret", 200, "application/json", `{"access_token":"at-1","expires_in":"` + secret + `"}`, transport.ErrEndpoint, ""},
		{"expires_in an empty string", 200, "application/json", `{"access_token":"at-1","expires_in":""}`, transport.ErrEndpoint, ""},
		{"expires_in true", 200, "application/json", `{"access_token":"at-1","expires_in":true}`, transport.ErrEndpoint, ""},
		{"expires_in an object", 200, "application/json", `{"access_token":"at-1","expires_in":{"s":1200}}`, transport.ErrEndpoint, ""},
		{"expires_in with an exponent", 200, "application/json", `{"access_token":"at-1","expires_in":1.2e3}`, transport.ErrEndpoint, ""},
		{"expires_in null", 200, "application/json", `{"access_token":"at-1","expires_in":null}`, nil, ""},
		{"forged instance URL", 200, "application/json", `{"access_token":"at-1","expires_in":1200,"rest_instance_url":"https://evil.example/"}`, transport.ErrEndpoint, ""},
		{"instance URL echoing the token", 200, "application/json", `{"access_token":"at-1","expires_in":1200,"rest_instance_url":"https://at-1@evil.example/"}`, transport.ErrEndpoint, ""},
		{"empty answer", 200, "application/json", ``, transport.ErrEndpoint, ""},
		{"JSON then an HTML page", 200, "application/json", `{"access_token":"at-1","expires_in":1200}<html>proxy</html>`, transport.ErrEndpoint, ""},
		{"two JSON objects", 200, "application/json", `{"access_token":"at-1","expires_in":1200}{"access_token":"at-2"}`, transport.ErrEndpoint, ""},
		{"answer of more than a MiB", 200, "application/json", `{"access_token":"at-1","expires_in":1200,"padding":"` + strings.Repeat("x", 1<<20) + `"}`, transport.ErrEndpoint, ""},
		{"token and an error in a 200", 200, "application/json", `{"access_token":"at-1","expires_in":1200,"error":"server_error"}`, transport.ErrEndpoint, "server_error"},
		{"negative lifetime as a string", 200, "application/json", `{"access_token":"at-1","expires_in":"-5"}`, transport.ErrEndpoint, ""},
		{"error in a 200", 200, "application/json", `{"error":"server_error"}`, transport.ErrEndpoint, "server_error"},
		{"no such path, HTML", 404, "text/html", `<html>not found</html>`, transport.ErrConfig, ""},
		{"no such path, Marketing Cloud", 404, "application/json", `{"errorcode":404,"message":"Not Found","documentation":""}`, transport.ErrConfig, ""},
		{"unsupported grant", 400, "application/json", `{"error":"unsupported_grant_type","error_description":"Use client_credentials."}`, transport.ErrConfig, "unsupported_grant_type"},
		{"invalid scope", 400, "application/json", `{"error":"invalid_scope","error_description":"Unknown scope."}`, transport.ErrConfig, "invalid_scope"},
		{"invalid request", 400, "application/json", `{"error":"invalid_request","error_description":"Bad account_id."}`, transport.ErrConfig, "invalid_request"},
		{"forbidden", 403, "application/json", `{}`, transport.ErrCredentialsRejected, ""},
		{"secret echoed", 401, "application/json", `{"error":"invalid_client","error_description":"secret ` + secret + ` is wrong"}`, transport.ErrCredentialsRejected, "invalid_client"},
		{"secret echoed in the error code", 401, "application/json", `{"error":"` + secret + `","error_description":"no"}`, transport.ErrCredentialsRejected, "[REDACTED]"},
		{"server error with the secret in the code", 503, "application/json", `{"error":"` + secret + `","error_description":"` + secret + `"}`, transport.ErrEndpoint, "[REDACTED]"},
		{"server error echoing the secret", 500, "text/plain", `boom ` + secret, transport.ErrEndpoint, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tt.contentType)
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			p := newProvider(t, mcv2.Config{AuthURL: srv.URL, ClientID: "id", ClientSecret: secret, Common: provider.Common{Retry: provider.Retry{MaxRetries: -1}}})
			tok, err := p.Fetch(context.Background())
			if tt.kind == nil {
				if err != nil || tok.AccessToken != "at-1" {
					t.Fatalf("Fetch: %v, %v; want token at-1", tok, err)
				}
				return
			}
			fe := fetchError(t, err, tt.kind)
			if fe.Code != tt.code {
				t.Errorf("code %q, want %q", fe.Code, tt.code)
			}
			if tok != (transport.Token{}) {
				t.Errorf("a failed Fetch returned %v", tok)
			}
			testkit.WantAbsent(t, "error", err.Error(), secret, "at-1", "at 1")
			for _, other := range []error{transport.ErrCredentialsRejected, transport.ErrEndpoint, transport.ErrConfig} {
				if other != tt.kind && errors.Is(err, other) {
					t.Errorf("error %v is also %v", err, other)
				}
			}
		})
	}
}

// Without a scheme an instance URL is https; only an emulator's loopback host,
// named by a plain-http loopback auth endpoint, stays on http.
func TestSchemelessInstanceURLs(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"access_token":"at-1","expires_in":1200,"rest_instance_url":"mc1.rest.marketingcloudapis.com","soap_instance_url":"localhost:9"}`))
	}))
	defer srv.Close()
	tok, err := newProvider(t, mcv2.Config{AuthURL: srv.URL, ClientID: "id", ClientSecret: "s"}).Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if tok.RESTInstanceURL != "https://mc1.rest.marketingcloudapis.com/" || tok.SOAPInstanceURL != "http://localhost:9/" {
		t.Errorf("instance URLs %q, %q", tok.RESTInstanceURL, tok.SOAPInstanceURL)
	}
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1") {
		t.Fatalf("the canned endpoint is not plain-http loopback: %s", srv.URL)
	}
}

// A code exchange must bring a refresh token: without one the user's credential
// would die with its first access token.
func TestExchangeWithoutRefreshToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"access_token":"at-1","token_type":"Bearer","expires_in":1200}`))
	}))
	defer srv.Close()
	rts := &store.Memory{}
	p := newProvider(t, mcv2.Config{AuthURL: srv.URL, ClientID: "id", ClientSecret: "s", RedirectURI: redirectURI, RefreshTokens: rts})
	_, err := p.Exchange(context.Background(), mcv2.Callback{Code: "code-1"})
	fe := fetchError(t, err, transport.ErrEndpoint)
	if !strings.Contains(fe.Message, "refresh_token") {
		t.Errorf("message %q does not name the missing field", fe.Message)
	}
	if _, err := p.Fetch(context.Background()); !errors.Is(err, mcv2.ErrNoRefreshToken) {
		t.Errorf("Fetch after the failed exchange: %v, want ErrNoRefreshToken (no handover)", err)
	}
}
