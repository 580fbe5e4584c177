package mcv1test_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/provider/mcv1/mcv1test"
)

// start is the fixed moment the tests' manual clocks begin at.
var start = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// reply is what a test looks at in a response.
type reply struct {
	status int
	header http.Header
	body   string
}

func send(t *testing.T, srv *mcv1test.Server, method, path, contentType, body string, header ...string) reply {
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

// requestToken posts body as JSON to the token endpoint.
func requestToken(t *testing.T, srv *mcv1test.Server, body string) reply {
	t.Helper()
	return send(t, srv, http.MethodPost, mcv1test.TokenPath, "application/json", body)
}

// tokenBody is the JSON body a token request for the default client sends, plus
// any extra "key":"value" members.
func tokenBody(extra ...string) string {
	members := []string{`"clientId":"` + mcv1test.DefaultClientID + `"`, `"clientSecret":"` + mcv1test.DefaultClientSecret + `"`}
	for i := 0; i+1 < len(extra); i += 2 {
		members = append(members, `"`+extra[i]+`":"`+extra[i+1]+`"`)
	}
	return "{" + strings.Join(members, ",") + "}"
}

type tokenFields struct {
	AccessToken  string `json:"accessToken"`
	ExpiresIn    int    `json:"expiresIn"`
	RefreshToken string `json:"refreshToken"`
	LegacyToken  string `json:"legacyToken"`
}

// fetchToken asks for a token with body and fails the test unless it gets one.
func fetchToken(t *testing.T, srv *mcv1test.Server, body string) tokenFields {
	t.Helper()
	r := requestToken(t, srv, body)
	if r.status != http.StatusOK {
		t.Fatalf("token request: status %d, body %s", r.status, r.body)
	}
	var f tokenFields
	if err := json.Unmarshal([]byte(r.body), &f); err != nil {
		t.Fatalf("token response %q: %v", r.body, err)
	}
	return f
}

// restCall makes a REST call with a bearer token ("" for none).
func restCall(t *testing.T, srv *mcv1test.Server, path, token string) reply {
	t.Helper()
	if token == "" {
		return send(t, srv, http.MethodGet, path, "", "")
	}
	return send(t, srv, http.MethodGet, path, "", "", "Authorization", "Bearer "+token)
}

func wantReply(t *testing.T, got reply, status int, body string) {
	t.Helper()
	if got.status != status || got.body != body {
		t.Errorf("got %d %s\nwant %d %s", got.status, got.body, status, body)
	}
}

func wantRejections(t *testing.T, srv *mcv1test.Server, want map[string]int) {
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

func manualClock() *emulator.ManualClock { return emulator.NewManualClock(start) }
