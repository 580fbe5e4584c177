package oauthwire_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/endpoint"
	"github.com/tokentrip/tokentrip/internal/oauthwire"
	"github.com/tokentrip/tokentrip/transport"
)

func TestDecode(t *testing.T) {
	ok := &endpoint.Response{StatusCode: 200, Header: http.Header{}, Body: []byte(`{"access_token":"secret-at","expires_in":1079,"token_type":"Bearer"}`)}
	r, err := oauthwire.Decode("mcv2", ok)
	if err != nil || !r.OK(200) {
		t.Fatalf("%v, %v", r, err)
	}
	if d, ok := lifetime(r); !ok || d != 1079*time.Second {
		t.Fatalf("lifetime %v %v", d, ok)
	}
	if strings.Contains(r.String(), "secret-at") {
		t.Fatal("String reveals the token")
	}

	html := &endpoint.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/html"}}, Body: []byte(`<html>secret-at</html>`)}
	_, err = oauthwire.Decode("mcv2", html)
	if !errors.Is(err, transport.ErrEndpoint) || !strings.Contains(err.Error(), "text/html") || strings.Contains(err.Error(), "secret-at") {
		t.Fatalf("non-JSON: %v", err)
	}
	for _, body := range []string{`{"expires_in":"soon"}`, `{"expires_in":-5}`, `{}`} {
		r, _ := oauthwire.Decode("x", &endpoint.Response{StatusCode: 200, Body: []byte(body)})
		if _, ok := lifetime(r); ok {
			t.Errorf("%s: lifetime accepted", body)
		}
	}
}

func TestExplain(t *testing.T) {
	failure := func() error {
		return &transport.FetchError{Kind: transport.ErrEndpoint, Provider: "mcv2", StatusCode: 429, Message: "Too Many Requests"}
	}
	clean := func(s string) string { return strings.ReplaceAll(s, "hunter2", "[REDACTED]") }
	answer := &endpoint.Response{StatusCode: 429, Body: []byte(`{"error":"rate_limited","error_description":"slow down, hunter2"}`)}

	err := oauthwire.Explain("mcv2", answer, failure(), clean)
	var fe *transport.FetchError
	if !errors.As(err, &fe) || fe.Code != "rate_limited" || fe.Message != "slow down, [REDACTED]" || !errors.Is(err, transport.ErrEndpoint) {
		t.Fatalf("explained: %v", err)
	}
	for name, resp := range map[string]*endpoint.Response{
		"no answer":      nil,
		"not JSON":       {StatusCode: 503, Body: []byte("<html>down</html>")},
		"JSON, no error": {StatusCode: 503, Body: []byte(`{"status":"down"}`)},
	} {
		err := oauthwire.Explain("mcv2", resp, failure(), clean)
		if !errors.As(err, &fe) || fe.Code != "" || fe.Message != "Too Many Requests" {
			t.Errorf("%s: %v, want the failure unchanged", name, err)
		}
	}
}

// The shared lifetime parser checks the range on the seconds, before it multiplies:
// no value a vendor sends becomes a negative or tiny Duration.
func TestParseLifetime(t *testing.T) {
	for _, tt := range []struct {
		raw     string
		want    time.Duration
		problem string
	}{
		{"1079", 1079 * time.Second, ""},
		{"1", time.Second, ""},
		{"86400", 24 * time.Hour, ""},
		{"86401", 0, "believable"},
		{"0", 0, "believable"},
		{"-5", 0, "believable"},
		{"9223372037", 0, "believable"}, // × 1e9 overflows int64
		{"9223372036854775807", 0, "believable"},
		{"99999999999999999999", 0, "believable"}, // beyond int64
		{"-99999999999999999999", 0, "believable"},
		{"1079.0", 0, "whole number"},
		{"1e3", 0, "whole number"},
		{"soon", 0, "whole number"},
		{"", 0, "whole number"},
		{" 1079", 0, "whole number"},
	} {
		got, problem := oauthwire.ParseLifetime("expires_in", tt.raw, oauthwire.MaxLifetime)
		if got != tt.want || !strings.Contains(problem, tt.problem) || (tt.problem == "") != (problem == "") {
			t.Errorf("ParseLifetime(%q) = %v, %q; want %v and a problem with %q", tt.raw, got, problem, tt.want, tt.problem)
		}
		if got < 0 {
			t.Errorf("ParseLifetime(%q) is negative", tt.raw)
		}
		if strings.Contains(problem, "soon") {
			t.Errorf("the problem quotes the vendor's value: %q", problem)
		}
	}
}

func TestTokenProblem(t *testing.T) {
	for tok, ok := range map[string]bool{
		"eyJhbGciOi.abc-_~+/=":          true,
		"":                              false,
		"at 1":                          false,
		"at-1\r\nX-Evil: 1":             false,
		"at-1\x00":                      false,
		"at-1\x7f":                      false,
		"at-1é":                         false,
		strings.Repeat("a", 16<<10):     true,
		strings.Repeat("a", (16<<10)+1): false,
	} {
		if got := oauthwire.TokenProblem(tok) == ""; got != ok {
			t.Errorf("TokenProblem(%.20q…) accepts: %t, want %t", tok, got, ok)
		}
	}
}

func TestScrub(t *testing.T) {
	const secret = "s3cr&t=/+ x"
	for _, in := range []string{
		"bad " + secret,
		"client_secret=s3cr%26t%3D%2F%2B+x", // form-encoded, as Acoustic's request body is
		"path /s3cr&t=%2F+%20x/",            // path-escaped
	} {
		if out := oauthwire.Scrub(in, "", secret); strings.Contains(out, "s3cr") || !strings.Contains(out, oauthwire.Redacted) {
			t.Errorf("Scrub(%q) = %q", in, out)
		}
	}
	if out := oauthwire.Scrub("nothing to hide", "", "other"); out != "nothing to hide" {
		t.Errorf("Scrub changed a clean string: %q", out)
	}
}

// expires_in is read whatever it holds: a number or a quoted one becomes text for
// ParseLifetime, absent or null means none, and anything else is text that
// ParseLifetime refuses. Decoding never fails on it, so no decoding error can
// quote what it held (a json.Number quoted "the secret" in its error).
func TestLifetimeText(t *testing.T) {
	const secret = "s3cret-echo"
	for _, tt := range []struct {
		body    string
		text    string
		present bool
		life    time.Duration // what Lifetime returns; 0: refused or absent
	}{
		{`{}`, "", false, 0},
		{`{"expires_in":null}`, "", false, 0},
		{`{"expires_in":1200}`, "1200", true, 1200 * time.Second},
		{`{"expires_in":"1200"}`, "1200", true, 1200 * time.Second},
		{`{"expires_in": 1200 }`, "1200", true, 1200 * time.Second},
		{`{"expires_in":-5}`, "-5", true, 0},
		{`{"expires_in":1.2e3}`, "1.2e3", true, 0},
		{`{"expires_in":1200.0}`, "1200.0", true, 0},
		{`{"expires_in":9223372037}`, "9223372037", true, 0},
		{`{"expires_in":99999999999999999999}`, "99999999999999999999", true, 0},
		{`{"expires_in":""}`, "", true, 0},
		{`{"expires_in":true}`, "", true, 0},
		{`{"expires_in":[1200]}`, "", true, 0},
		{`{"expires_in":{"s":1200}}`, "", true, 0},
		{`{"expires_in":"` + secret + `"}`, secret, true, 0},
	} {
		r, err := oauthwire.Decode("x", &endpoint.Response{StatusCode: 200, Body: []byte(tt.body)})
		if err != nil {
			t.Errorf("%s: Decode: %v", tt.body, err)
			continue
		}
		text, present := r.LifetimeText()
		life, ok := lifetime(r)
		if text != tt.text || present != tt.present || life != tt.life || ok != (tt.life != 0) {
			t.Errorf("%s: LifetimeText %q, %t; Lifetime %v, %t; want %q, %t; %v", tt.body, text, present, life, ok, tt.text, tt.present, tt.life)
		}
		if strings.Contains(r.String(), secret) {
			t.Errorf("%s: String shows expires_in: %s", tt.body, r)
		}
	}
}

// TestScrubOneSecretInsideAnother: when one secret holds another — a client secret
// that starts with the client id, a refresh token that ends with it — the longer is
// replaced whole whatever the order given, so that no tail of it stays visible.
func TestScrubOneSecretInsideAnother(t *testing.T) {
	const id = "client-id-7"
	tests := []struct {
		name    string
		in      string
		secrets []string
		hidden  []string
	}{
		{"secret starts with the id, id first", "got " + id + "-tail-of-secret", []string{id, id + "-tail-of-secret"}, []string{"tail-of-secret", id}},
		{"secret starts with the id, secret first", "got " + id + "-tail-of-secret", []string{id + "-tail-of-secret", id}, []string{"tail-of-secret", id}},
		{"secret ends with the id", "got head-of-" + id, []string{id, "head-of-" + id}, []string{"head-of", id}},
		{"both, apart", "id " + id + " secret " + id + "x9", []string{id, id + "x9"}, []string{id, "x9"}},
		{"form-encoded", "client_id=" + id + "&client_secret=" + id + "%2Btail", []string{id, id + "+tail"}, []string{id, "tail"}},
		{"through ScrubbedID", "client_id=" + id + "&error=invalid_client", []string{oauthwire.ScrubbedID(id)}, []string{id}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := oauthwire.Scrub(tt.in, tt.secrets...)
			for _, h := range tt.hidden {
				if strings.Contains(out, h) {
					t.Fatalf("Scrub(%q) = %q, shows %q", tt.in, out, h)
				}
			}
		})
	}
}

// TestScrubbedID: a client id of a vendor's length is hidden; one shorter than any
// vendor issues would cut words apart ("invalid_client" for the id "client") and
// is not.
func TestScrubbedID(t *testing.T) {
	for _, tt := range []struct {
		id, in, want string
	}{
		{"4f8e2c1a9b7d6e5f3a2b1c0d", "client_id=4f8e2c1a9b7d6e5f3a2b1c0d invalid_client", "client_id=" + oauthwire.Redacted + " invalid_client"},
		{"client", "Bad client credentials: invalid_client", "Bad client credentials: invalid_client"},
		{"id", "invalid_request", "invalid_request"},
		{"", "invalid_request", "invalid_request"},
	} {
		if got := oauthwire.Scrub(tt.in, oauthwire.ScrubbedID(tt.id)); got != tt.want {
			t.Errorf("Scrub(%q, ScrubbedID(%q)) = %q, want %q", tt.in, tt.id, got, tt.want)
		}
	}
}

// lifetime is expires_in as the providers read it: LifetimeText through
// ParseLifetime; ok is false when it is absent or refused.
func lifetime(r oauthwire.Response) (time.Duration, bool) {
	text, ok := r.LifetimeText()
	if !ok {
		return 0, false
	}
	d, problem := oauthwire.ParseLifetime("expires_in", text, oauthwire.MaxLifetime)
	return d, problem == ""
}
