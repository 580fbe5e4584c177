package mcv1_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/internal/testkit"
	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/provider/mcv1"
	"github.com/tokentrip/tokentrip/provider/mcv1/mcv1test"
	"github.com/tokentrip/tokentrip/store"
	"github.com/tokentrip/tokentrip/transport"
)

// TestTenantHosts runs a tenant configuration (Subdomain) end to end, every host
// resolved to one TLS emulator: the token comes from the tenant's auth host, and the
// credential goes to the tenant's and the older stacks' hosts only.
func TestTenantHosts(t *testing.T) {
	srv := mcv1test.NewTLSServer()
	t.Cleanup(srv.Close)
	network := srv.Client().Transport.(*http.Transport).Clone()
	t.Cleanup(network.CloseIdleConnections)
	addr := strings.TrimPrefix(srv.URL, "https://")
	network.DialContext = func(ctx context.Context, proto, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, proto, addr)
	}
	network.TLSClientConfig.ServerName = "example.com" // in the emulator's certificate

	tokenRequests := &testkit.Recorder{Next: network}
	seen := &testkit.Recorder{Next: network}
	client, err := mcv1.NewClient(mcv1.Config{
		Subdomain:    subdomain,
		ClientID:     emulator.MCv1ClientID,
		ClientSecret: emulator.MCv1ClientSecret,
		Common: provider.Common{
			HTTPClient: tokenRequests.Client(),
			Transport:  transport.Options{Base: seen},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	other := "mc0000000000000000000000000x"
	tests := []struct {
		host   string
		bearer bool
	}{
		{subdomain + ".rest.marketingcloudapis.com", true},
		{subdomain + ".auth.marketingcloudapis.com", true},
		{strings.ToUpper(subdomain) + ".REST.marketingcloudapis.com:443", true},
		{"www.exacttargetapis.com", true},
		{other + ".rest.marketingcloudapis.com", false},
		{subdomain + ".rest.marketingcloudapis.com.example.com", false},
		{"rest.marketingcloudapis.com", false},
		{"example.com", false},
	}
	for _, tt := range tests {
		code, _ := get(t, client, "https://"+tt.host+"/platform/v1/endpoints")
		sent := seen.Sent()
		bearer := strings.HasPrefix(sent[len(sent)-1].Authorization, "Bearer ")
		if bearer != tt.bearer || (code == http.StatusOK) != tt.bearer {
			t.Errorf("%s: status %d, credential sent %v; want sent = %v", tt.host, code, bearer, tt.bearer)
		}
	}
	sent := tokenRequests.Sent()
	if len(sent) != 1 || sent[0].URL != "https://"+subdomain+".auth.marketingcloudapis.com/v1/requestToken" {
		t.Fatalf("token requests %+v; want one to the tenant's auth host", sent)
	}
}

// TestOfflineRefreshAhead: the Source refreshes ahead of expiry in the background,
// and with offline access that refresh redeems, and rotates, the refresh token.
func TestOfflineRefreshAhead(t *testing.T) {
	clock := manualClock()
	srv := newServer(t, mcv1test.WithClock(clock.Now))
	tokens := &store.Memory{}
	cfg := offlineConfig(srv, tokens, "")
	cfg.Source.Clock = clock.Now
	var events []transport.EventKind
	cfg.Source.Hook = func(ev transport.Event) { events = append(events, ev.Kind) }
	tr, err := mcv1.NewTransport(cfg)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: tr}
	if code, _ := get(t, client, srv.URL+"/platform/v1/endpoints"); code != http.StatusOK {
		t.Fatalf("first call: %d", code)
	}
	first, _ := tr.Source().Current()
	rt1, _ := tokens.Load(t.Context(), "key")
	if !first.Expiry.Equal(start.Add(time.Hour)) {
		t.Fatalf("expiry %v, want an hour after the fetch", first.Expiry)
	}

	clock.Advance(56 * time.Minute) // past the refresh point, five minutes before expiry
	if code, _ := get(t, client, srv.URL+"/platform/v1/endpoints"); code != http.StatusOK {
		t.Fatalf("call at the refresh point: %d", code)
	}
	tr.Source().Wait()
	second, _ := tr.Source().Current()
	rt2, _ := tokens.Load(t.Context(), "key")
	if second.AccessToken == first.AccessToken || rt2 == rt1 || !second.Expiry.Equal(start.Add(116*time.Minute)) {
		t.Fatalf("after the refresh ahead: new token %v (expiry %v), new refresh token %v", second.AccessToken != first.AccessToken, second.Expiry, rt2 != rt1)
	}
	wantGrants(t, srv, 1, 1)
	if len(events) != 2 || events[0] != transport.EventFetched || events[1] != transport.EventFetched {
		t.Fatalf("hook saw %v, want two fetches", events)
	}
}

// TestOneTransportPerClientID shows the hazard Marketing Cloud documents: with one
// live token per client id, two Transports for the same client knock each other's
// token out, while one shared Transport fetches once.
func TestOneTransportPerClientID(t *testing.T) {
	srv := newServer(t, mcv1test.WithOneTokenPerClient())
	shared, err := mcv1.NewClient(configFor(srv))
	if err != nil {
		t.Fatal(err)
	}
	for range 4 {
		if code, _ := get(t, shared, srv.URL+"/platform/v1/endpoints"); code != http.StatusOK {
			t.Fatalf("shared client: %d", code)
		}
	}
	if n := srv.Stats().TokenRequests; n != 1 {
		t.Fatalf("shared client: %d token requests, want 1", n)
	}

	srv.ResetStats()
	a, _ := mcv1.NewClient(configFor(srv))
	b, _ := mcv1.NewClient(configFor(srv))
	for range 2 {
		for _, c := range []*http.Client{a, b} {
			if code, _ := get(t, c, srv.URL+"/platform/v1/endpoints"); code != http.StatusOK {
				t.Fatalf("two clients: %d", code)
			}
		}
	}
	if n := srv.Stats().TokenRequests; n != 4 {
		t.Fatalf("two clients: %d token requests, want 4 (each fetch revokes the other's token)", n)
	}
	wantRejections(t, srv, map[string]int{emulator.ReasonRevokedToken: 2})
}

// TestServersSharingALegacyPackage: Marketing Cloud may revoke a legacy package's
// token when another is issued for it. Two servers that fetch their own tokens
// knock each other out: each rejection is replayed once with a new token, which
// revokes the other server's, until each Transport sees fresh tokens refused right
// after they worked and spaces its rounds, returning the 401s as they came (a
// token request per call would get the package throttled). Two servers that share
// a Store share one token and make one token request between them, and every
// call succeeds.
func TestServersSharingALegacyPackage(t *testing.T) {
	const calls = 20
	for _, tt := range []struct {
		name         string
		store        bool
		wantRequests func(int) bool
	}{
		{name: "each server alone", wantRequests: func(n int) bool { return n > 1 && n <= calls/2 }},
		{name: "one Store", store: true, wantRequests: func(n int) bool { return n == 1 }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, mcv1test.WithOneTokenPerClient())
			shared := &store.MemoryTokens{}
			var clients []*http.Client
			for range 2 { // two servers, one client id
				cfg := configFor(srv)
				if tt.store {
					cfg.Source.Store = shared
				}
				tr, err := mcv1.NewTransport(cfg)
				if err != nil {
					t.Fatal(err)
				}
				clients = append(clients, &http.Client{Transport: tr})
			}
			refused := 0
			for i := range calls {
				code, body := get(t, clients[i%2], srv.URL+"/platform/v1/endpoints")
				switch {
				case code == http.StatusUnauthorized && !tt.store:
					refused++
				case code != http.StatusOK:
					t.Fatalf("call %d: %d %s", i, code, body)
				}
			}
			st := srv.Stats()
			t.Logf("FIGURE mcv1, two servers on one legacy package, %s: %d calls → %d token requests, %d refused", tt.name, calls, st.TokenRequests, refused)
			if !tt.wantRequests(st.TokenRequests) {
				t.Errorf("%d token requests for %d calls", st.TokenRequests, calls)
			}
		})
	}
}
