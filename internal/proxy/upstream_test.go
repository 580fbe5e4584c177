package proxy

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/tokentrip/tokentrip/internal/providerfunc"
	"github.com/tokentrip/tokentrip/transport"
)

// Under a steady load of concurrent requests the proxy reuses its upstream
// connections: after the first round, no new ones.
func TestUpstreamConnectionsReused(t *testing.T) {
	f := newFixture(t, nil)
	const concurrency, rounds = 32, 5
	release := f.up.holdRequests()
	round := func() {
		var wg sync.WaitGroup
		for range concurrency {
			wg.Go(func() {
				if w := serve(f.h, request{target: "/rest/x"}.build()); w.Code != http.StatusOK {
					t.Errorf("HTTP %d", w.Code)
				}
			})
		}
		wg.Wait()
	}
	// The first round holds every request at the upstream at once, so that the
	// pool has to grow to the full concurrency.
	done := make(chan struct{})
	go func() { round(); close(done) }()
	for range concurrency {
		<-f.up.arrived
	}
	release()
	<-done
	warm := f.up.newConns.Load()
	if warm > concurrency {
		t.Fatalf("%d connections for %d concurrent requests", warm, concurrency)
	}
	for range rounds {
		round()
	}
	if n := f.up.newConns.Load() - warm; n != 0 {
		t.Errorf("%d new upstream connections after warm-up, want 0", n)
	}
}

// The upstream transport speaks HTTP/2 to an upstream that offers it.
func TestUpstreamHTTP2(t *testing.T) {
	var proto int
	var mu sync.Mutex
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		proto = r.ProtoMajor
		mu.Unlock()
	}))
	up.EnableHTTP2 = true
	up.StartTLS()
	defer up.Close()
	base := NewUpstreamTransport(0)
	defer base.CloseIdleConnections()
	base.TLSClientConfig = &tls.Config{RootCAs: up.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
	src := transport.NewSource(providerfunc.Func(func(context.Context) (transport.Token, error) {
		return transport.Token{AccessToken: "t"}, nil
	}), transport.Settings{})
	tr := transport.New(src, transport.Options{Hosts: []string{up.URL}, Base: base})
	req, _ := http.NewRequest(http.MethodGet, up.URL+"/x", nil)
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	mu.Lock()
	defer mu.Unlock()
	if proto != 2 || resp.ProtoMajor != 2 {
		t.Errorf("the upstream saw HTTP/%d (answer HTTP/%d), want HTTP/2", proto, resp.ProtoMajor)
	}
}
