package mcv2test_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
)

// start is the fixed moment the tests' manual clocks begin at.
var start = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func manualClock() *emulator.ManualClock { return emulator.NewManualClock(start) }

// reply is what a test looks at in a response.
type reply struct {
	status int
	header http.Header
	body   string
}

func send(t *testing.T, srv *mcv2test.Server, method, path, contentType, body string, header ...string) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// requestToken posts a JSON object of the given members to /v2/token.
func requestToken(t *testing.T, srv *mcv2test.Server, members map[string]any) reply {
	t.Helper()
	b, err := json.Marshal(members)
	if err != nil {
		t.Fatal(err)
	}
	return send(t, srv, http.MethodPost, mcv2test.TokenPath, "application/json", string(b))
}

// clientCredentials is the body of a client_credentials request for the default
// server-to-server client, with extra members added.
func clientCredentials(extra ...any) map[string]any {
	m := map[string]any{
		"grant_type":    "client_credentials",
		"client_id":     mcv2test.DefaultClientID,
		"client_secret": mcv2test.DefaultClientSecret,
	}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i].(string)] = extra[i+1]
	}
	return m
}

type tokenFields struct {
	AccessToken     string `json:"access_token"`
	TokenType       string `json:"token_type"`
	ExpiresIn       int    `json:"expires_in"`
	Scope           string `json:"scope"`
	RESTInstanceURL string `json:"rest_instance_url"`
	SOAPInstanceURL string `json:"soap_instance_url"`
	RefreshToken    string `json:"refresh_token"`
}

// fetchToken asks for a token and fails the test unless it gets one.
func fetchToken(t *testing.T, srv *mcv2test.Server, members map[string]any) tokenFields {
	t.Helper()
	r := requestToken(t, srv, members)
	if r.status != http.StatusOK {
		t.Fatalf("token request: status %d, body %s", r.status, r.body)
	}
	var f tokenFields
	if err := json.Unmarshal([]byte(r.body), &f); err != nil {
		t.Fatalf("token response %q: %v", r.body, err)
	}
	return f
}

func restCall(t *testing.T, srv *mcv2test.Server, path, token string) reply {
	t.Helper()
	return send(t, srv, http.MethodGet, path, "", "", "Authorization", "Bearer "+token)
}

func wantReply(t *testing.T, got reply, status int, body string) {
	t.Helper()
	if got.status != status || got.body != body {
		t.Errorf("got %d %s\nwant %d %s", got.status, got.body, status, body)
	}
}

func wantRejections(t *testing.T, srv *mcv2test.Server, want map[string]int) {
	t.Helper()
	got := srv.Stats().Rejections
	if len(got) != len(want) {
		t.Errorf("rejections = %v, want %v", got, want)
		return
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("rejections = %v, want %v", got, want)
			return
		}
	}
}

// oauthError is the body the token endpoint fails with.
func oauthError(code, description string) string {
	return `{"error":"` + code + `","error_description":"` + description + `","error_uri":"` + mcv2test.ErrorURI + `"}`
}

const notAuthorized = `{"documentation":"https://developer.salesforce.com/docs/atlas.en-us.mc-apis.meta/mc-apis/error-handling.htm","errorcode":0,"message":"Not Authorized"}`
