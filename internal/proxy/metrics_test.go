package proxy

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tokentrip/tokentrip/internal/testkit"
)

// /-/metrics counts requests by route and status, their latency, token fetches and
// replays, and names no client id, token, path or Host.
func TestMetrics(t *testing.T) {
	f := newFixture(t, nil)
	for _, r := range []request{
		{target: "/rest/a"},
		{target: "/rest/b?access_token=q-secret"},
		{method: "POST", target: "/Service.asmx", header: []string{"Content-Type", "text/xml"}, body: soapEnvelope},
		{target: "/nowhere"},
		{target: "/rest/x", header: []string{"Host", "evil.example"}},
	} {
		serve(f.h, r.build())
	}
	// One rejection: the token is dropped, one more is fetched, the request replayed.
	f.rejectCurrentToken(t)
	if w := serve(f.h, request{target: "/rest/c"}.build()); w.Code != http.StatusOK {
		t.Fatalf("the replayed request: HTTP %d", w.Code)
	}

	testkit.WantSamples(t, scrape(t, f.h), map[string]float64{
		`tokentrip_proxy_requests_total{code="200",route="rest"}`:                 3,
		`tokentrip_proxy_requests_total{code="200",route="soap"}`:                 1,
		`tokentrip_proxy_requests_total{code="404",route="none"}`:                 1,
		`tokentrip_proxy_requests_total{code="421",route="none"}`:                 1,
		`tokentrip_proxy_request_duration_seconds_count{route="rest"}`:            3,
		`tokentrip_proxy_request_duration_seconds_bucket{route="rest",le="+Inf"}`: 3,
		`tokentrip_proxy_refused_total{reason="host"}`:                            1,
		`tokentrip_proxy_in_flight_requests`:                                      0,
		`tokentrip_token_fetches_total{credential="mcv1"}`:                        2,
		`tokentrip_token_fetch_failures_total{credential="mcv1"}`:                 0,
		`tokentrip_token_invalidations_total{credential="mcv1"}`:                  1,
		`tokentrip_replays_total{credential="mcv1"}`:                              1,
		`tokentrip_unreplayable_rejections_total{credential="mcv1"}`:              0,
		`tokentrip_breaker_state{credential="mcv1"}`:                              0,
	})
	if v, ok := metric(t, f.h, `tokentrip_token_expiry_timestamp_seconds{credential="mcv1"}`); !ok || v <= 0 {
		t.Errorf("token expiry %v, want a timestamp", v)
	}
	if _, ok := metric(t, f.h, "process_resident_memory_bytes"); !ok {
		t.Errorf("no process_resident_memory_bytes")
	}
	body := serve(f.h, request{target: "/-/metrics"}.build()).Body.String()
	for _, secret := range []string{"tok-", "q-secret", "evil.example", "/rest/", "Service.asmx"} {
		if strings.Contains(body, secret) {
			t.Errorf("the metrics show %q", secret)
		}
	}
	// The access log has a line per request, without the query.
	log := f.logs.String()
	if strings.Contains(log, "q-secret") || strings.Contains(log, "tok-") {
		t.Errorf("the access log shows a secret:\n%s", log)
	}
	if !strings.Contains(log, "path=/rest/b") || !strings.Contains(log, "route=soap") || !strings.Contains(log, "status=404") {
		t.Errorf("the access log lacks requests:\n%s", log)
	}
}

// Two credentials' Backends may not share a name or a prefix.
func TestNewRefusesClashes(t *testing.T) {
	f := newFixture(t, nil)
	b := func(name, prefix string) *Backend {
		return &Backend{Name: name, Prefix: prefix, Router: NewRouter(RouterConfig{Provider: ProviderMCv1}), Transport: f.tr}
	}
	for _, tc := range []struct {
		name     string
		backends []*Backend
		ok       bool
	}{
		{"one", []*Backend{b("a", "")}, true},
		{"two prefixes", []*Backend{b("a", ""), b("b", "/emea")}, true},
		{"same name", []*Backend{b("a", ""), b("a", "/emea")}, false},
		{"same prefix", []*Backend{b("a", "/emea"), b("b", "/emea")}, false},
		{"prefix without slash", []*Backend{b("a", "emea")}, false},
		{"prefix with trailing slash", []*Backend{b("a", "/emea/")}, false},
		{"prefix with dot segment", []*Backend{b("a", "/x/..")}, false},
		{"none", nil, false},
	} {
		_, err := New(Options{Listen: listen}, tc.backends...)
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}

// With several Backends, a path prefix selects the credential, and its Router sees
// the path without it.
func TestBackendPrefixes(t *testing.T) {
	emea, us := newFixture(t, nil), newFixture(t, nil)
	h, err := New(Options{Listen: listen}, &Backend{Name: "emea", Prefix: "/emea", Router: emea.h.backends[0].Router, Transport: emea.tr},
		&Backend{Name: "us", Prefix: "/us/east", Router: us.h.backends[0].Router, Transport: us.tr})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		target string
		status int
		to     *upstream
		path   string
	}{
		{"/emea/rest/hub/v1/campaigns", 200, emea.up, "/hub/v1/campaigns"},
		{"/us/east/rest/data/v1/a%2Fb", 200, us.up, "/data/v1/a/b"},
		{"/emea/Service.asmx", 200, emea.up, "/Service.asmx"},
		{"/emeax/rest/x", 404, nil, ""},
		{"/us/rest/x", 404, nil, ""},
		{"/rest/x", 404, nil, ""},
		{"/emea", 404, nil, ""},
	} {
		n1, n2 := len(emea.up.got()), len(us.up.got())
		w := serve(h, request{method: "POST", target: tc.target, header: []string{"Content-Type", "text/xml"}, body: soapEnvelope}.build())
		if w.Code != tc.status {
			t.Errorf("%s: HTTP %d, want %d: %s", tc.target, w.Code, tc.status, w.Body)
			continue
		}
		got1, got2 := emea.up.got()[n1:], us.up.got()[n2:]
		switch {
		case tc.to == nil && len(got1)+len(got2) != 0:
			t.Errorf("%s reached an upstream", tc.target)
		case tc.to == emea.up && (len(got1) != 1 || len(got2) != 0 || got1[0].Path != tc.path):
			t.Errorf("%s: emea got %v, us got %v; want emea %s", tc.target, got1, got2, tc.path)
		case tc.to == us.up && (len(got2) != 1 || len(got1) != 0 || got2[0].Path != tc.path):
			t.Errorf("%s: us got %v, emea got %v; want us %s", tc.target, got2, got1, tc.path)
		}
	}
}

// A rejection that persists — the fresh token of the replay is rejected too — is
// counted once for the token, and the replay once, from the Source's events and
// the Transport's counts alike.
func TestMetricsRejectedAgain(t *testing.T) {
	f := newFixture(t, nil)
	f.up.mu.Lock()
	f.up.reject["Bearer tok-1"], f.up.reject["Bearer tok-2"] = true, true
	f.up.mu.Unlock()
	for range 2 {
		if w := serve(f.h, request{target: "/rest/a"}.build()); w.Code != http.StatusUnauthorized {
			t.Fatalf("a request every token is rejected for: HTTP %d, want the 401 as it came", w.Code)
		}
	}
	testkit.WantSamples(t, scrape(t, f.h), map[string]float64{
		`tokentrip_token_rejected_again_total{credential="mcv1"}`: 1,
		`tokentrip_replays_total{credential="mcv1"}`:              1,
		`tokentrip_token_fetches_total{credential="mcv1"}`:        2,
		`tokentrip_proxy_requests_total{code="401",route="rest"}`: 2,
	})
}
