package acoustic_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokentrip/tokentrip/internal/testkit"
	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/provider/acoustic"
	"github.com/tokentrip/tokentrip/transport"
)

// The secrets the error tests configure; no error may show them.
const (
	testSecret  = "sec&ret=+ 1"
	testRefresh = "rt-do-not-show-me"
)

// TestFetchErrorMapping feeds the Provider every kind of answer Acoustic's token
// endpoint gives (or a broken one might) from a canned loopback server, and checks
// the kind, the vendor's code and message, the hint, and that no secret shows.
func TestFetchErrorMapping(t *testing.T) {
	cases := []struct {
		name        string
		status      int
		contentType string
		body        string
		kind        error
		code        string
		message     string // a part of the FetchError's Message
		hint        string // a part of its Hint
	}{
		{"invalid_client", 401, "application/json", `{"error":"invalid_client","error_description":"Bad client credentials"}`, transport.ErrCredentialsRejected, "invalid_client", "Bad client credentials", "ClientSecret"},
		{"invalid_grant", 400, "application/json", `{"error":"invalid_grant","error_description":"Invalid refresh token"}`, transport.ErrCredentialsRejected, "invalid_grant", "Invalid refresh token", "refresh token"},
		{"invalid_token", 401, "application/json", `{"error":"invalid_token","error_description":"Token was revoked"}`, transport.ErrCredentialsRejected, "invalid_token", "Token was revoked", "refresh token"},
		{"unauthorized_client", 400, "application/json", `{"error":"unauthorized_client","error_description":"Grant not allowed"}`, transport.ErrCredentialsRejected, "unauthorized_client", "Grant not allowed", "refresh_token grant"},
		{"unsupported_grant_type", 400, "application/json", `{"error":"unsupported_grant_type","error_description":"Unsupported grant type: x"}`, transport.ErrConfig, "unsupported_grant_type", "Unsupported grant type", "Pod or BaseURL"},
		{"invalid_request", 400, "application/json", `{"error":"invalid_request","error_description":"Missing grant type"}`, transport.ErrConfig, "invalid_request", "Missing grant type", "Pod or BaseURL"},
		{"mint limit as 400", 400, "application/json", `{"error":"access_denied","error_description":"Access token limits exceeded"}`, transport.ErrEndpoint, "access_denied", "Access token limits exceeded", "three hours"},
		{"mint limit as 429", 429, "application/json", `{"error":"access_denied","error_description":"Access token limits exceeded"}`, transport.ErrEndpoint, "access_denied", "Access token limits exceeded", "three hours"},
		{"unknown code with 401", 401, "application/json", `{"error":"server_says_no"}`, transport.ErrCredentialsRejected, "server_says_no", "Unauthorized", "ClientID"},
		{"unknown code with 400", 400, "application/json", `{"error":"server_says_no","error_description":"No."}`, transport.ErrEndpoint, "server_says_no", "No.", "retries"},
		{"echoed secrets", 400, "application/json", `{"error":"invalid_grant","error_description":"unknown refresh token rt-do-not-show-me for sec%26ret%3D%2B+1"}`, transport.ErrCredentialsRejected, "invalid_grant", "unknown refresh token [REDACTED] for [REDACTED]", "refresh token"},
		{"HTML 401", 401, "text/html", `<html>Unauthorized</html>`, transport.ErrCredentialsRejected, "", "not a JSON object", "ClientSecret"},
		{"HTML 404", 404, "text/html", `<html>Not Found</html>`, transport.ErrConfig, "", "not a JSON object", "Pod or BaseURL"},
		{"JSON 404", 404, "application/json", `{"error":"not_found","error_description":"No endpoint at this path."}`, transport.ErrConfig, "not_found", "No endpoint", "Pod or BaseURL"},
		{"503", 503, "text/plain", `down for maintenance`, transport.ErrEndpoint, "", "Service Unavailable", "retries ran out"},
		{"200 not JSON", 200, "text/html", `<html>login</html>`, transport.ErrEndpoint, "", "not a JSON object", "auth URL"},
		{"200 empty", 200, "application/json", ``, transport.ErrEndpoint, "", "not a JSON object", "auth URL"},
		{"200 JSON then an HTML page", 200, "application/json", `{"access_token":"at-1","token_type":"bearer","expires_in":14399}<html>proxy</html>`, transport.ErrEndpoint, "", "not a JSON object", "auth URL"},
		{"200 of two JSON objects", 200, "application/json", `{"access_token":"at-1","token_type":"bearer","expires_in":14399}{"access_token":"at-2"}`, transport.ErrEndpoint, "", "not a JSON object", "auth URL"},
		{"200 of more than a MiB", 200, "application/json", `{"access_token":"at-1","padding":"` + strings.Repeat("x", 1<<20) + `"}`, transport.ErrEndpoint, "", "larger than", "auth URL"},
		{"200 with a token and an error", 200, "application/json", `{"access_token":"at-1","token_type":"bearer","expires_in":14399,"error":"server_error","error_description":"try later"}`, transport.ErrEndpoint, "server_error", "try later", "retries"},
		{"200 with an error only", 200, "application/json", `{"error":"invalid_client","error_description":"Bad client credentials"}`, transport.ErrCredentialsRejected, "invalid_client", "Bad client credentials", "ClientSecret"},
		{"expires_in negative as a string", 200, "application/json", `{"access_token":"at-1","token_type":"bearer","expires_in":"-5"}`, transport.ErrEndpoint, "", "expires_in", "retries"},
		{"200 without a token", 200, "application/json", `{"token_type":"bearer","expires_in":14399}`, transport.ErrEndpoint, "", "no access_token", "retries"},
		{"expires_in zero", 200, "application/json", `{"access_token":"at-1","token_type":"bearer","expires_in":0}`, transport.ErrEndpoint, "", "expires_in", "retries"},
		{"expires_in negative", 200, "application/json", `{"access_token":"at-1","token_type":"bearer","expires_in":-5}`, transport.ErrEndpoint, "", "expires_in", "retries"},
		{"expires_in not a number", 200, "application/json", `{"access_token":"at-1","token_type":"bearer","expires_in":"soon"}`, transport.ErrEndpoint, "", "expires_in is not a whole number", "retries"},
		{"expires_in a fraction", 200, "application/json", `{"access_token":"at-1","token_type":"bearer","expires_in":14399.5}`, transport.ErrEndpoint, "", "expires_in", "retries"},
		{"expires_in a year", 200, "application/json", `{"access_token":"at-1","token_type":"bearer","expires_in":31536000}`, transport.ErrEndpoint, "", "expires_in", "retries"},
		{"token_type mac", 200, "application/json", `{"access_token":"at-1","token_type":"mac","expires_in":14399}`, transport.ErrEndpoint, "", "token_type", "retries"},
		{"expires_in that overflows a Duration", 200, "application/json", `{"access_token":"at-1","token_type":"bearer","expires_in":9223372037}`, transport.ErrEndpoint, "", "expires_in", "retries"},
		{"expires_in beyond int64", 200, "application/json", `{"access_token":"at-1","token_type":"bearer","expires_in":99999999999999999999}`, transport.ErrEndpoint, "", "expires_in", "retries"},
		{"expires_in echoing the secret", 200, "application/json", `{"access_token":"at-1","token_type":"bearer","expires_in":"` + testSecret + `"}`, transport.ErrEndpoint, "", "expires_in", "retries"},
		{"expires_in echoing the refresh token", 200, "application/json", `{"access_token":"at-1","token_type":"bearer","expires_in":"` + testRefresh + `"}`, transport.ErrEndpoint, "", "expires_in", "retries"},
		{"expires_in an empty string", 200, "application/json", `{"access_token":"at-1","token_type":"bearer","expires_in":""}`, transport.ErrEndpoint, "", "expires_in", "retries"},
		{"expires_in true", 200, "application/json", `{"access_token":"at-1","token_type":"bearer","expires_in":true}`, transport.ErrEndpoint, "", "expires_in", "retries"},
		{"expires_in with an exponent", 200, "application/json", `{"access_token":"at-1","token_type":"bearer","expires_in":1.44e4}`, transport.ErrEndpoint, "", "expires_in", "retries"},
		{"token with CR LF", 200, "application/json", `{"access_token":"at-1\r\nX-Evil: 1","token_type":"bearer","expires_in":14399}`, transport.ErrEndpoint, "", "access_token", "retries"},
		{"token with a space", 200, "application/json", `{"access_token":"at-1 x","token_type":"bearer","expires_in":14399}`, transport.ErrEndpoint, "", "access_token", "retries"},
		{"token beyond ASCII", 200, "application/json", `{"access_token":"at-1\u00e9","token_type":"bearer","expires_in":14399}`, transport.ErrEndpoint, "", "access_token", "retries"},
		{"token with a NUL", 200, "application/json", `{"access_token":"at-1\u0000","token_type":"bearer","expires_in":14399}`, transport.ErrEndpoint, "", "access_token", "retries"},
		{"token_type echoing the token", 200, "application/json", `{"access_token":"at-1","token_type":"mac at-1","expires_in":14399}`, transport.ErrEndpoint, "", "token_type", "retries"},
		{"secret in the error code", 400, "application/json", `{"error":"` + testSecret + `","error_description":"nope"}`, transport.ErrEndpoint, "[REDACTED]", "nope", "retries"},
		{"refresh token in the error code of a 503", 503, "application/json", `{"error":"` + testRefresh + `","error_description":"` + testRefresh + `"}`, transport.ErrEndpoint, "[REDACTED]", "[REDACTED]", "retries ran out"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", c.contentType)
				w.WriteHeader(c.status)
				fmt.Fprint(w, c.body)
			}))
			defer srv.Close()
			p, err := acoustic.NewProvider(acoustic.Config{
				BaseURL:      srv.URL,
				ClientID:     "client",
				ClientSecret: testSecret,
				RefreshToken: testRefresh,
				Common:       provider.Common{Retry: provider.Retry{MaxRetries: -1}},
			})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := p.Fetch(context.Background())
			if err == nil {
				t.Fatalf("Fetch succeeded with %v", tok)
			}
			var fe *transport.FetchError
			if !errors.As(err, &fe) {
				t.Fatalf("error %T %v, want a *transport.FetchError", err, err)
			}
			if !errors.Is(err, c.kind) || fe.Provider != "acoustic" || fe.StatusCode != c.status || fe.Code != c.code {
				t.Errorf("got kind %v, provider %q, status %d, code %q; want %v, acoustic, %d, %q", fe.Kind, fe.Provider, fe.StatusCode, fe.Code, c.kind, c.status, c.code)
			}
			if !strings.Contains(fe.Message, c.message) {
				t.Errorf("Message %q lacks %q", fe.Message, c.message)
			}
			if !strings.Contains(fe.Hint, c.hint) {
				t.Errorf("Hint %q lacks %q", fe.Hint, c.hint)
			}
			assertNoSecrets(t, err, testSecret, testRefresh, "sec%26ret", "at-1")
		})
	}
}

// assertNoSecrets checks every rendering of err for the secrets.
func assertNoSecrets(t *testing.T, err error, secrets ...string) {
	t.Helper()
	for _, verb := range []string{"%v", "%+v", "%#v"} {
		testkit.WantAbsent(t, "error as "+verb, fmt.Sprintf(verb, err), secrets...)
	}
}
