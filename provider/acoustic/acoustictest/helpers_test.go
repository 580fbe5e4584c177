package acoustictest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/provider/acoustic/acoustictest"
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

func send(t *testing.T, srv *acoustictest.Server, method, path, contentType, body string, header ...string) reply {
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

// defaultForm is a token request for the default client and refresh token.
func defaultForm() url.Values {
	return url.Values{
		"grant_type":    {"refresh_token"},
		"client_id":     {acoustictest.DefaultClientID},
		"client_secret": {acoustictest.DefaultClientSecret},
		"refresh_token": {acoustictest.DefaultRefreshToken},
	}
}

func requestToken(t *testing.T, srv *acoustictest.Server, form url.Values) reply {
	t.Helper()
	return send(t, srv, http.MethodPost, acoustictest.TokenPath, "application/x-www-form-urlencoded", form.Encode())
}

type tokenFields struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
}

func fetchToken(t *testing.T, srv *acoustictest.Server, form url.Values) tokenFields {
	t.Helper()
	r := requestToken(t, srv, form)
	if r.status != http.StatusOK {
		t.Fatalf("token request: status %d, body %s", r.status, r.body)
	}
	var f tokenFields
	if err := json.Unmarshal([]byte(r.body), &f); err != nil {
		t.Fatalf("token response %q: %v", r.body, err)
	}
	return f
}

const getLists = `<Envelope><Body><GetLists><VISIBILITY>1</VISIBILITY><LIST_TYPE>2</LIST_TYPE></GetLists></Body></Envelope>`

// xmlCall posts an XML API envelope as a raw body with a bearer token ("" for none).
func xmlCall(t *testing.T, srv *acoustictest.Server, token, envelope string) reply {
	t.Helper()
	if token == "" {
		return send(t, srv, http.MethodPost, acoustictest.XMLAPIPath, "text/xml;charset=UTF-8", envelope)
	}
	return send(t, srv, http.MethodPost, acoustictest.XMLAPIPath, "text/xml;charset=UTF-8", envelope, "Authorization", "Bearer "+token)
}

func wantReply(t *testing.T, got reply, status int, body string) {
	t.Helper()
	if got.status != status || got.body != body {
		t.Errorf("got %d %q\nwant %d %q", got.status, got.body, status, body)
	}
}

func wantRejections(t *testing.T, srv *acoustictest.Server, want map[string]int) {
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
