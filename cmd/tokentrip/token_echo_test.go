package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestNoCredentialInErrorsFromAnEchoingEndpoint: a token endpoint — a proxy, a WAF,
// a misconfigured auth URL — that echoes the request it got in its error answer
// never gets the client id, the secret or the refresh token into tokentrip's
// error or any log line at Debug, whether the echo is raw, form-encoded or JSON,
// and when the secret starts with the client id.
func TestNoCredentialInErrorsFromAnEchoingEndpoint(t *testing.T) {
	const (
		clientID = "Cl1entIdValue+Z/Z="
		secret   = clientID + "-and-the-secret-tail"
		refresh  = "RefreshTok+Value/RR"
	)
	echoes := []struct {
		name   string
		status int
		answer func(body []byte) any // JSON to send, or a string
	}{
		{"JSON 400, the body in error_description", 400, func(b []byte) any {
			return map[string]string{"error": "invalid_request", "error_description": string(b), "message": string(b), "errorcode": "1"}
		}},
		{"JSON 401, the body in error", 401, func(b []byte) any {
			return map[string]string{"error": "invalid_client " + string(b), "error_description": "client " + string(b)}
		}},
		{"JSON 401, the values decoded", 401, func(b []byte) any {
			var values any
			if json.Unmarshal(b, &values) != nil {
				values, _ = url.ParseQuery(string(b)) // a form
			}
			return map[string]string{"error": "invalid_client", "error_description": fmt.Sprint(values), "message": fmt.Sprint(values)}
		}},
		{"JSON 400, the body query-escaped", 400, func(b []byte) any {
			if json.Valid(b) {
				return map[string]string{"error": "invalid_request", "error_description": url.QueryEscape(string(b)), "message": url.QueryEscape(string(b))}
			}
			return map[string]string{"error": "invalid_request", "error_description": string(b)} // a form is escaped already
		}},
		{"JSON 200 with an error", 200, func(b []byte) any {
			return map[string]string{"error": "server_error", "error_description": string(b)}
		}},
		{"HTML 500", 500, func(b []byte) any { return "<html>" + string(b) + "</html>" }},
	}
	for _, e := range echoes {
		for _, prov := range []string{providerMCv1, providerMCv2, providerAcoustic} {
			t.Run(e.name+"/"+prov, func(t *testing.T) {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					body, _ := io.ReadAll(r.Body)
					switch a := e.answer(body).(type) {
					case string:
						w.Header().Set("Content-Type", "text/html")
						w.WriteHeader(e.status)
						io.WriteString(w, a)
					default:
						w.Header().Set("Content-Type", "application/json")
						w.WriteHeader(e.status)
						json.NewEncoder(w).Encode(a)
					}
				}))
				defer srv.Close()
				where := "--auth-url"
				if prov == providerAcoustic {
					where = "--base-url"
				}
				r := runBinary(t, []string{envClientSecret + "=" + secret, envRefreshToken + "=" + refresh},
					"token", "--provider", prov, "--client-id", clientID, where, srv.URL, "--log-level", "debug", "--timeout", "20s")
				wantCode(t, r, exitFailure)
				out := r.output()
				for _, s := range []string{clientID, url.QueryEscape(clientID), secret, url.QueryEscape(secret), "secret-tail", refresh, url.QueryEscape(refresh)} {
					if strings.Contains(out, s) {
						t.Fatalf("the output holds %q:\n%s", s, out)
					}
				}
			})
		}
	}
}
