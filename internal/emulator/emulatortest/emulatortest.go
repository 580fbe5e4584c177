// Package emulatortest holds the helpers the tests of the emulator packages
// (mcv1test, mcv2test, acoustictest) share: requests, replies and assertions.
package emulatortest

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/manualclock"
)

// Start is the fixed moment the tests' manual clocks begin at.
var Start = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// ManualClock returns a clock stopped at Start.
func ManualClock() *manualclock.Clock { return manualclock.New(Start) }

// Reply is what a test looks at in a response.
type Reply struct {
	Status int
	Header http.Header
	Body   string
}

// Send makes a request with client and returns the reply, failing the test if
// there is none. contentType may be empty; header holds name, value pairs.
func Send(t testing.TB, client *http.Client, method, url, contentType, body string, header ...string) Reply {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return Reply{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

// Sender returns Send for the servers of one emulator package, given how to reach
// one: its client and its base URL. The request goes to that URL plus path.
func Sender[S any](reach func(S) (*http.Client, string)) func(t testing.TB, srv S, method, path, contentType, body string, header ...string) Reply {
	return func(t testing.TB, srv S, method, path, contentType, body string, header ...string) Reply {
		t.Helper()
		client, base := reach(srv)
		return Send(t, client, method, base+path, contentType, body, header...)
	}
}

// Bearer is an "Authorization: Bearer token" header for Send, or nothing when
// token is empty.
func Bearer(token string) []string {
	if token == "" {
		return nil
	}
	return []string{"Authorization", "Bearer " + token}
}

// Decode fails the test unless r is a 200 with a JSON body, and returns the body
// decoded into a T.
func Decode[T any](t testing.TB, r Reply) T {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("status %d, body %s", r.Status, r.Body)
	}
	var v T
	if err := json.Unmarshal([]byte(r.Body), &v); err != nil {
		t.Fatalf("body %q: %v", r.Body, err)
	}
	return v
}

// Header is a header's name and value for Send, or nothing when value is empty:
// for a table whose rows may send none.
func Header(name, value string) []string {
	if value == "" {
		return nil
	}
	return []string{name, value}
}

// MCNotAuthorized is how Marketing Cloud REST (and /v2/userinfo) refuses a
// missing, unknown, revoked or expired token.
const MCNotAuthorized = `{"documentation":"https://developer.salesforce.com/docs/atlas.en-us.mc-apis.meta/mc-apis/error-handling.htm","errorcode":0,"message":"Not Authorized"}`

// WantMatch fails the test at once unless r is a 200 whose body matches pattern,
// and returns the pattern's submatches.
func WantMatch(t testing.TB, r Reply, pattern string) []string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(r.Body)
	if r.Status != http.StatusOK || m == nil {
		t.Fatalf("got %d %s\nwant 200 matching %s", r.Status, r.Body, pattern)
	}
	return m
}

// WantContentType fails the test unless r carries this Content-Type.
func WantContentType(t testing.TB, r Reply, want string) {
	t.Helper()
	if got := r.Header.Get("Content-Type"); got != want {
		t.Errorf("Content-Type = %q, want %q", got, want)
	}
}

// WantReply fails the test unless got has this status and body.
func WantReply(t testing.TB, got Reply, status int, body string) {
	t.Helper()
	if got.Status != status || got.Body != body {
		t.Errorf("got %d %q\nwant %d %q", got.Status, got.Body, status, body)
	}
}

// WantRejections fails the test unless got, a server's Stats().Rejections, holds
// exactly the counts in want.
func WantRejections(t testing.TB, got, want map[string]int) {
	t.Helper()
	if !maps.Equal(got, want) {
		t.Errorf("rejections = %v, want %v", got, want)
	}
}
