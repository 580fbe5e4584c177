package proxy

import (
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tokentrip/tokentrip/transport"
)

// A Backend given by Build is made on its first forwarded request, not before:
// refused requests, probes and scrapes leave it unbuilt, it counts neither in
// readiness nor in the metrics until then, and a failed build is tried again.
func TestBackendBuiltOnFirstUse(t *testing.T) {
	f := newFixture(t, nil)
	var builds atomic.Int64
	var fail atomic.Bool
	fail.Store(true)
	lazy := &Backend{Name: "bu-lazy", Prefix: "/bu/lazy", Build: func() (*Router, *transport.Transport, error) {
		builds.Add(1)
		if fail.Load() {
			return nil, nil, errors.New(`credential "bu-lazy": no settings yet`)
		}
		return f.h.backends[0].Router, f.tr, nil
	}}
	idle := &Backend{Name: "bu-idle", Prefix: "/bu/idle", Build: func() (*Router, *transport.Transport, error) {
		t.Error("bu-idle was built")
		return nil, nil, errors.New("never")
	}}
	h, err := New(Options{Listen: listen}, lazy, idle)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []request{
		{target: "/bu/lazy/rest/a", header: []string{"Host", "evil.example"}},
		{target: "/bu/lazy/rest/a", header: []string{"Origin", "https://evil.example"}},
		{method: "TRACE", target: "/bu/lazy/rest/a"},
		{target: "/bu/lazy/rest/..%5ca"},
		{target: "/bu/lazyx/rest/a"},
	} {
		if w := serve(h, r.build()); w.Code < 400 {
			t.Errorf("%s %s: HTTP %d, want a refusal", r.method, r.target, w.Code)
		}
	}
	if w := serve(h, request{target: "/-/readyz"}.build()); w.Code != http.StatusOK {
		t.Errorf("/-/readyz with nothing built: HTTP %d %s", w.Code, w.Body)
	}
	if _, ok := metric(t, h, `tokentrip_breaker_state{credential="bu-lazy"}`); ok {
		t.Error("an unbuilt Backend has metrics")
	}
	if n := builds.Load(); n != 0 {
		t.Fatalf("%d builds before the first forwarded request", n)
	}

	if w := serve(h, request{target: "/bu/lazy/rest/a"}.build()); w.Code != http.StatusInternalServerError || !strings.Contains(w.Body.String(), "bu-lazy") {
		t.Errorf("a failed build: HTTP %d %s, want 500 naming the credential", w.Code, w.Body)
	}
	fail.Store(false)
	const callers = 8
	var wg sync.WaitGroup
	codes := make(chan int, callers)
	for range callers {
		wg.Go(func() { codes <- serve(h, request{target: "/bu/lazy/rest/hub/v1/campaigns"}.build()).Code })
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK {
			t.Errorf("a first request after the failed build: HTTP %d", c)
		}
	}
	before := builds.Load()
	serve(h, request{target: "/bu/lazy/rest/b"}.build())
	if builds.Load() != before {
		t.Error("a built Backend was built again")
	}
	if got := f.up.got(); len(got) != callers+1 || got[0].Path != "/hub/v1/campaigns" {
		t.Errorf("the upstream got %d requests (first %v), want %d under /hub/v1/campaigns", len(got), got, callers+1)
	}
	if v, ok := metric(t, h, `tokentrip_breaker_state{credential="bu-lazy"}`); !ok || v != 0 {
		t.Errorf("the built Backend's breaker gauge: %v (present %v), want 0", v, ok)
	}
	if v, ok := metric(t, h, `tokentrip_replays_total{credential="bu-lazy"}`); !ok || v != 0 {
		t.Errorf("the built Backend's replays: %v (present %v), want 0", v, ok)
	}
	if _, ok := metric(t, h, `tokentrip_breaker_state{credential="bu-idle"}`); ok {
		t.Error("the unbuilt Backend has metrics")
	}
	if w := serve(h, request{target: "/-/readyz"}.build()); w.Code != http.StatusOK {
		t.Errorf("/-/readyz with bu-lazy built and ready: HTTP %d %s", w.Code, w.Body)
	}
}

// A Backend is given either as a Router and a Transport or as a Build, and names
// are unique across the handlers that share one Metrics.
func TestNewBackendShapes(t *testing.T) {
	f := newFixture(t, nil)
	rt := f.h.backends[0].Router
	build := func() (*Router, *transport.Transport, error) { return rt, f.tr, nil }
	for _, tc := range []struct {
		name string
		b    *Backend
		ok   bool
	}{
		{"given", &Backend{Name: "a", Router: rt, Transport: f.tr}, true},
		{"built", &Backend{Name: "a", Build: build}, true},
		{"both", &Backend{Name: "a", Router: rt, Transport: f.tr, Build: build}, false},
		{"router only", &Backend{Name: "a", Router: rt}, false},
		{"neither", &Backend{Name: "a"}, false},
	} {
		if _, err := New(Options{Listen: listen}, tc.b); (err == nil) != tc.ok {
			t.Errorf("%s: %v, want ok %v", tc.name, err, tc.ok)
		}
	}
	m := NewMetrics()
	if _, err := New(Options{Listen: listen, Metrics: m}, &Backend{Name: "emea", Build: build}); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{Listen: listen, Metrics: m}, &Backend{Name: "emea", Prefix: "/emea", Build: build}); err == nil {
		t.Error("a second handler on the same metrics took a name already served")
	}
}
