package resilience_test

import (
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/tokentrip/tokentrip/transport"
)

// TestRedirectToForeignHostGetsNoCredential: an API host in the credential's scope
// redirects to a host outside it. The redirect is followed, and the foreign host
// receives neither the Bearer header nor the token in a resent SOAP body (307 and
// 308 make the client send the body again).
func TestRedirectToForeignHostGetsNoCredential(t *testing.T) {
	jsonBody := `{"items":[{"key":"value"}]}`
	tests := []struct {
		name, method, contentType, body string
		status                          int
	}{
		{"REST GET, 302", http.MethodGet, "", "", http.StatusFound},
		{"REST GET, 301", http.MethodGet, "", "", http.StatusMovedPermanently},
		{"REST POST, 307", http.MethodPost, "application/json", jsonBody, http.StatusTemporaryRedirect},
		{"REST PUT, 308", http.MethodPut, "application/json", jsonBody, http.StatusPermanentRedirect},
		{"SOAP, 307", http.MethodPost, "text/xml; charset=utf-8", soapEnvelope, http.StatusTemporaryRedirect},
		{"SOAP, 308", http.MethodPost, "text/xml; charset=utf-8", soapEnvelope, http.StatusPermanentRedirect},
	}
	for _, v := range vendors {
		for _, tt := range tests {
			t.Run(v.name+" "+tt.name, func(t *testing.T) {
				t.Parallel()
				foreign := newRecordingServer(t, nil)
				inScope := newRecordingServer(t, func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, foreign.URL+"/landing", tt.status)
				})
				h := newHarness(t, v, setup{settings: func(s *settings) { s.Transport.Hosts = []string{inScope.URL} }})
				var body io.Reader
				if tt.body != "" {
					body = strings.NewReader(tt.body)
				}

				o := send(t.Context(), h.client, tt.method, inScope.URL+"/redirecting", tt.contentType, body)

				if o.err != nil || o.status != http.StatusNoContent {
					t.Fatalf("call: %v, want the foreign host's 204", o)
				}
				tokens := h.secrets.list()
				seenInScope, seenForeign := inScope.requests(), foreign.requests()
				if len(seenInScope) != 1 || len(leaks(tokens, map[string]string{"in scope": seenInScope[0]})) == 0 {
					t.Fatalf("the in-scope host got %q, want one request carrying the token", seenInScope)
				}
				if len(seenForeign) != 1 {
					t.Fatalf("the foreign host got %d requests, want the redirected one", len(seenForeign))
				}
				if tt.body != "" && !strings.HasSuffix(seenForeign[0], "\n\n"+tt.body) {
					t.Errorf("the foreign host got %q, want the caller's own body resent", seenForeign[0])
				}
				found := leaks(tokens, map[string]string{"the foreign host's request": seenForeign[0]})
				if strings.Contains(strings.ToLower(seenForeign[0]), "fueloauth") {
					found = append(found, "the foreign host's request carries a fueloauth block")
				}
				t.Logf("FIGURE redirect %s %s: in-scope host got the credential; foreign host got %d request, %d credentials (searched %d secret values)", v.name, tt.name, len(seenForeign), len(found), len(tokens))
				for _, f := range found {
					t.Error(f)
				}
			})
		}
	}
}

// TestPlainHTTPIsRefused: a request for a host in the credential's scope over plain
// http to a host that is not loopback is refused with transport.ErrInsecureScheme
// before anything is sent, not even a token request. Loopback is the exception (the
// emulator itself is plain http), and hosts out of scope pass through untouched.
func TestPlainHTTPIsRefused(t *testing.T) {
	network := &offlineNetwork{}
	h := newHarness(t, mcv1Vendor, setup{settings: func(s *settings) {
		s.Transport.Hosts = []string{"api.example.com", "*.example.net", "https://secure.example.org"}
		s.Transport.Base = network
	}})
	tests := []struct {
		url     string
		refused bool
	}{
		{"http://api.example.com/data/v1/customobjectdata", true},
		{"HTTP://API.EXAMPLE.COM:80/data", true},
		{"http://eu.example.net/Service.asmx", true},
		{"http://secure.example.org/data", true},
		{"https://api.example.com/data", false},
		{"http://other.example.com/data", false},
	}
	refused := 0
	for _, tt := range tests {
		o := send(t.Context(), h.client, http.MethodGet, tt.url, "", nil)
		if errors.Is(o.err, transport.ErrInsecureScheme) {
			refused++
		}
		if errors.Is(o.err, transport.ErrInsecureScheme) != tt.refused {
			t.Errorf("%s: %v, want refused = %v", tt.url, o, tt.refused)
		}
	}
	sent := network.sent()
	t.Logf("FIGURE plain http: %d requests refused with ErrInsecureScheme; the network saw %d requests (%v), the token endpoint %d", refused, len(sent), sent, h.tokenRequests())
	want := []string{"api.example.com Bearer", "other.example.com -"}
	if !slices.Equal(sent, want) || h.tokenRequests() != 1 {
		t.Errorf("the network saw %v and %d token requests; want %v and one (for the https call)", sent, h.tokenRequests(), want)
	}
}
