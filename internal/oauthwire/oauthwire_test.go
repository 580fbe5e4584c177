package oauthwire_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/oauthwire"
	"github.com/tokentrip/tokentrip/transport"
)

func TestDecode(t *testing.T) {
	ok := &transport.EndpointResponse{StatusCode: 200, Header: http.Header{}, Body: []byte(`{"access_token":"secret-at","expires_in":1079,"token_type":"Bearer"}`)}
	r, err := oauthwire.Decode("mcv2", ok)
	if err != nil || !r.OK(200) {
		t.Fatalf("%v, %v", r, err)
	}
	if d, ok := r.Lifetime(); !ok || d != 1079*time.Second {
		t.Fatalf("lifetime %v %v", d, ok)
	}
	if strings.Contains(r.String(), "secret-at") {
		t.Fatal("String reveals the token")
	}

	html := &transport.EndpointResponse{StatusCode: 200, Header: http.Header{"Content-Type": {"text/html"}}, Body: []byte(`<html>secret-at</html>`)}
	_, err = oauthwire.Decode("mcv2", html)
	if !errors.Is(err, transport.ErrEndpoint) || !strings.Contains(err.Error(), "text/html") || strings.Contains(err.Error(), "secret-at") {
		t.Fatalf("non-JSON: %v", err)
	}
	for _, body := range []string{`{"expires_in":"soon"}`, `{"expires_in":-5}`, `{}`} {
		r, _ := oauthwire.Decode("x", &transport.EndpointResponse{StatusCode: 200, Body: []byte(body)})
		if _, ok := r.Lifetime(); ok {
			t.Errorf("%s: lifetime accepted", body)
		}
	}
}

func TestExplain(t *testing.T) {
	failure := func() error {
		return &transport.FetchError{Kind: transport.ErrEndpoint, Provider: "mcv2", StatusCode: 429, Message: "Too Many Requests"}
	}
	clean := func(s string) string { return strings.ReplaceAll(s, "hunter2", "[REDACTED]") }
	answer := &transport.EndpointResponse{StatusCode: 429, Body: []byte(`{"error":"rate_limited","error_description":"slow down, hunter2"}`)}

	err := oauthwire.Explain("mcv2", answer, failure(), clean)
	var fe *transport.FetchError
	if !errors.As(err, &fe) || fe.Code != "rate_limited" || fe.Message != "slow down, [REDACTED]" || !errors.Is(err, transport.ErrEndpoint) {
		t.Fatalf("explained: %v", err)
	}
	for name, resp := range map[string]*transport.EndpointResponse{
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
