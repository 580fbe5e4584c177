package proxy

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/internal/manualclock"
	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/provider/mcv2"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
	"github.com/tokentrip/tokentrip/transport"
)

// mcv2Proxy is a proxy for an emulated enhanced package whose breaker opens at the
// first rejected fetch.
func mcv2Proxy(t *testing.T, clk *manualclock.Clock) (*mcv2test.Server, *Handler, *transport.Transport) {
	t.Helper()
	srv := mcv2test.NewServer(mcv2test.WithClock(clk.Now))
	t.Cleanup(srv.Close)
	metrics := NewMetrics()
	tr, err := mcv2.NewTransport(mcv2.Config{
		AuthURL:      srv.URL,
		ClientID:     emulator.MCv2ClientID,
		ClientSecret: emulator.MCv2ClientSecret,
		Common: provider.Common{
			HTTPClient: srv.Client(),
			Retry:      provider.Retry{MaxRetries: -1},
			Source:     transport.Settings{Clock: clk.Now, Hook: metrics.SourceHook("bu-emea"), Breaker: transport.BreakerSettings{Rejections: 1, Outages: 1, Cooldown: time.Hour}, Backoff: func(int) time.Duration { return 0 }},
			Transport:  transport.Options{Base: srv.Client().Transport, ReplayLimit: -1},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Options{Listen: listen, Metrics: metrics, Logger: slog.New(slog.DiscardHandler)}, &Backend{
		Name:      "bu-emea",
		Router:    NewRouter(RouterConfig{Provider: ProviderMCv2, Source: tr.Source()}),
		Transport: tr,
	})
	if err != nil {
		t.Fatal(err)
	}
	return srv, h, tr
}

// /-/healthz answers while the process is up; /-/readyz only while there is a
// usable token and the breaker is closed, and it says what is missing.
func TestHealthAndReadiness(t *testing.T) {
	clk := manualclock.New(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
	srv, h, tr := mcv2Proxy(t, clk)
	check := func(step, path string, status int, body string) {
		t.Helper()
		// Probes come with whatever Host the orchestrator uses.
		w := serve(h, request{target: path, header: []string{"Host", "10.1.2.3:8787"}}.build())
		if w.Code != status || !strings.Contains(w.Body.String(), body) {
			t.Fatalf("%s: %s: HTTP %d %q, want %d with %q", step, path, w.Code, w.Body, status, body)
		}
	}
	check("before any request", "/-/healthz", http.StatusOK, "ok")
	// The first probe fetches the token: a proxy becomes ready by itself.
	check("before any request", "/-/readyz", http.StatusOK, "ready")
	if n := srv.Stats().TokenRequests; n != 1 {
		t.Fatalf("%d token requests, want 1", n)
	}
	check("with a token", "/-/readyz", http.StatusOK, "ready")
	if n := srv.Stats().TokenRequests; n != 1 {
		t.Fatalf("a probe with a fresh token fetched: %d token requests", n)
	}

	// The package is revoked; past the refresh point the background refresh fails
	// and opens the breaker, while the cached token is still valid.
	srv.RevokeClient(emulator.MCv2ClientID)
	clk.Advance(16 * time.Minute)
	w := serve(h, request{target: "/-/readyz"}.build()) // starts the refresh
	tr.Source().Wait()
	if _, ok := tr.Source().Current(); !ok {
		t.Fatalf("the token should still be usable (first probe: HTTP %d %s)", w.Code, w.Body)
	}
	check("token usable, breaker open", "/-/readyz", http.StatusServiceUnavailable, "bu-emea: the token breaker is open")
	if v, _ := metric(t, h, `tokentrip_breaker_state{credential="bu-emea"}`); v != 2 {
		t.Errorf("breaker state gauge %v, want 2 (open)", v)
	}
	if v, _ := metric(t, h, `tokentrip_breaker_transitions_total{credential="bu-emea",state="open"}`); v != 1 {
		t.Errorf("transitions to open: %v, want 1", v)
	}
	if v, _ := metric(t, h, `tokentrip_token_fetch_failures_total{credential="bu-emea"}`); v < 1 {
		t.Errorf("fetch failures: %v, want at least 1", v)
	}

	// Once the token expires there is nothing usable at all.
	clk.Advance(10 * time.Minute)
	check("no token", "/-/readyz", http.StatusServiceUnavailable, "bu-emea: no usable token")
	check("no token", "/-/healthz", http.StatusOK, "ok")
	// The proxy's own endpoints take GET (and HEAD) only.
	if w := serve(h, request{method: "POST", target: "/-/healthz"}.build()); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /-/healthz: HTTP %d, want 405", w.Code)
	}
	if w := serve(h, request{target: "/-/nothing"}.build()); w.Code != http.StatusNotFound {
		t.Errorf("/-/nothing: HTTP %d, want 404", w.Code)
	}
}

// The Acoustic limiter counts the requests that wait for one of the org's slots,
// and how long they waited.
func TestAcousticLimiterWaits(t *testing.T) {
	m := NewMetrics()
	l := m.AcousticLimiter("acoustic", 2)
	var releases []func()
	for range 2 {
		rel, err := l.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, rel)
	}
	const deadline = 20 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	began := time.Now()
	if _, err := l.Acquire(ctx); err != context.DeadlineExceeded {
		t.Fatalf("a third request with every slot held: %v, want to wait until its deadline", err)
	}
	took := time.Since(began) // the limiter's own measure starts later and ends sooner
	releases[0]()
	releases[0]() // a second call frees nothing more
	rel, err := l.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rel()
	if _, err := l.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	h, err := New(Options{Listen: listen, Metrics: m}, &Backend{Name: "acoustic", Router: NewRouter(RouterConfig{Provider: ProviderAcoustic}), Transport: transport.New(nil, transport.Options{})})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := metric(t, h, `tokentrip_acoustic_limiter_waits_total{credential="acoustic"}`); v != 1 {
		t.Errorf("waits %v, want 1: only the third request waited", v)
	}
	if v, _ := metric(t, h, `tokentrip_acoustic_limiter_wait_seconds_count{credential="acoustic"}`); v != 1 {
		t.Errorf("wait observations %v, want 1", v)
	}
	// The wait is the deadline's, give or take when the limiter started its clock:
	// more than half of it, and no more than the test saw the call take.
	if v, _ := metric(t, h, `tokentrip_acoustic_limiter_wait_seconds_sum{credential="acoustic"}`); v < (deadline/2).Seconds() || v > took.Seconds() {
		t.Errorf("waited %vs in all, want about the %v of the deadline (the call took %v)", v, deadline, took)
	}
}

// /-/readyz and /-/metrics name the credentials and their failures, and a probe
// may fetch a token: a DNS-rebinding page, whose requests carry its own name in
// Host, and a page on another site get neither. Probes and scrapers, which send
// the proxy's name or an IP address, do; /-/healthz answers anyone.
func TestInternalEndpointsHosts(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.AllowedHosts = []string{"tokentrip.internal"} })
	for _, tc := range []struct {
		name   string
		req    request
		status int
	}{
		{"readyz, rebinding page", request{target: "/-/readyz", header: []string{"Host", "rebind.evil.example:8787"}}, http.StatusMisdirectedRequest},
		{"readyz, rebinding page without port", request{target: "/-/readyz", header: []string{"Host", "rebind.evil.example"}}, http.StatusMisdirectedRequest},
		{"readyz, decimal IP (not an address to Go)", request{target: "/-/readyz", header: []string{"Host", "2130706433:8787"}}, http.StatusMisdirectedRequest},
		{"readyz, empty Host", request{target: "/-/readyz", header: []string{"Host", ""}}, http.StatusMisdirectedRequest},
		{"readyz, IP with a list for a port", request{target: "/-/readyz", header: []string{"Host", "127.0.0.1:8787,evil.example"}}, http.StatusMisdirectedRequest},
		{"readyz, IP with an empty port", request{target: "/-/readyz", header: []string{"Host", "10.1.2.3:"}}, http.StatusMisdirectedRequest},
		{"readyz, cross-site fetch", request{target: "/-/readyz", header: []string{"Sec-Fetch-Site", "cross-site"}}, http.StatusForbidden},
		{"readyz, another site's Origin", request{target: "/-/readyz", header: []string{"Origin", "http://evil.example"}}, http.StatusForbidden},
		{"metrics, listen address", request{target: "/-/metrics"}, http.StatusOK},
		{"metrics, scraper by IP", request{target: "/-/metrics", header: []string{"Host", "10.1.2.3:8787"}}, http.StatusOK},
		{"metrics, rebinding page", request{target: "/-/metrics", header: []string{"Host", "rebind.evil.example:8787"}}, http.StatusMisdirectedRequest},
		{"metrics, opaque Origin", request{target: "/-/metrics", header: []string{"Origin", "null"}}, http.StatusForbidden},
		{"healthz, rebinding page", request{target: "/-/healthz", header: []string{"Host", "rebind.evil.example:8787"}}, http.StatusOK},
		{"healthz, any Host", request{target: "/-/healthz", header: []string{"Host", "whatever"}}, http.StatusOK},
		// Last, so that the refusals above find no token yet: they must not fetch one.
		{"readyz, listen address", request{target: "/-/readyz"}, http.StatusOK},
		{"readyz, localhost", request{target: "/-/readyz", header: []string{"Host", "localhost:8787"}}, http.StatusOK},
		{"readyz, allowed host", request{target: "/-/readyz", header: []string{"Host", "tokentrip.internal:8787"}}, http.StatusOK},
		{"readyz, orchestrator's IPv4 probe", request{target: "/-/readyz", header: []string{"Host", "10.1.2.3:8787"}}, http.StatusOK},
		{"readyz, IPv6 probe", request{target: "/-/readyz", header: []string{"Host", "[fd00::7]:8787"}}, http.StatusOK},
		{"readyz, IP without port", request{target: "/-/readyz", header: []string{"Host", "10.1.2.3"}}, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fetches := f.fetches.Load()
			w := serve(f.h, tc.req.build())
			if w.Code != tc.status {
				t.Fatalf("HTTP %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			if tc.status == http.StatusOK {
				return
			}
			if strings.Contains(w.Body.String(), "mcv1") || strings.Contains(w.Body.String(), "tokentrip_") {
				t.Errorf("a refused request read %q", w.Body)
			}
			if n := f.fetches.Load(); n != fetches {
				t.Errorf("a refused probe fetched %d tokens", n-fetches)
			}
		})
	}
}
