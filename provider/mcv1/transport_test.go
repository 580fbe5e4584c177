package mcv1_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/provider/mcv1"
	"github.com/tokentrip/tokentrip/provider/mcv1/mcv1test"
	"github.com/tokentrip/tokentrip/store"
	"github.com/tokentrip/tokentrip/transport"
)

func TestNewClient(t *testing.T) {
	srv := newServer(t)
	client, err := mcv1.NewClient(configFor(srv))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if code, body := get(t, client, srv.URL+"/platform/v1/endpoints"); code != http.StatusOK || !strings.Contains(body, `"ok":true`) {
			t.Fatalf("REST call: %d %s", code, body)
		}
	}
	st := srv.Stats()
	if st.TokenRequests != 1 || st.RESTCalls != 3 || len(st.Rejections) != 0 {
		t.Fatalf("stats %+v; want one token request for three accepted REST calls", st)
	}
}

func TestNewClientInvalidConfig(t *testing.T) {
	client, err := mcv1.NewClient(mcv1.Config{Subdomain: "mc-too-short", ClientID: "id", ClientSecret: "s"})
	if client != nil || err == nil {
		t.Fatalf("NewClient = %v, %v; want a configuration error", client, err)
	}
}

// TestRejectedTokenIsReplacedOnce: a token Marketing Cloud no longer accepts gets a
// 401, which costs one new token and one replay.
func TestRejectedTokenIsReplacedOnce(t *testing.T) {
	tests := []struct {
		name   string
		reject func(srv *mcv1test.Server, token string) bool
		reason string
	}{
		{name: "expired early", reject: (*mcv1test.Server).ExpireToken, reason: mcv1test.ReasonExpiredToken},
		{name: "revoked", reject: (*mcv1test.Server).RevokeToken, reason: mcv1test.ReasonRevokedToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			tr, err := mcv1.NewTransport(configFor(srv))
			if err != nil {
				t.Fatal(err)
			}
			client := &http.Client{Transport: tr}
			if code, _ := get(t, client, srv.URL+"/platform/v1/endpoints"); code != http.StatusOK {
				t.Fatalf("first call: %d", code)
			}
			used, _ := tr.Source().Current()
			if !tt.reject(srv, used.AccessToken) {
				t.Fatal("the emulator does not know the token")
			}

			if code, body := get(t, client, srv.URL+"/platform/v1/endpoints"); code != http.StatusOK {
				t.Fatalf("call with the rejected token: %d %s, want 200 after the replay", code, body)
			}
			st := srv.Stats()
			if st.TokenRequests != 2 || st.RESTCalls != 3 || tr.Source().Stats().Replays != 1 {
				t.Fatalf("token requests %d, REST calls %d, replays %d; want 2, 3, 1", st.TokenRequests, st.RESTCalls, tr.Source().Stats().Replays)
			}
			wantRejections(t, srv, map[string]int{tt.reason: 1})
			if now, _ := tr.Source().Current(); now.AccessToken == used.AccessToken {
				t.Fatal("the rejected token is still cached")
			}
		})
	}
}

// headerRecorder is an http.RoundTripper that records the Authorization header each
// host received, then sends the request on.
type headerRecorder struct {
	next http.RoundTripper

	mu   sync.Mutex
	auth map[string]string
}

func (r *headerRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	if r.auth == nil {
		r.auth = map[string]string{}
	}
	r.auth[req.URL.Host] = req.Header.Get("Authorization")
	r.mu.Unlock()
	return r.next.RoundTrip(req)
}

func (r *headerRecorder) sawBearer(host string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.HasPrefix(r.auth[host], "Bearer ")
}

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

	tokenRequests := &recorder{next: network}
	seen := &headerRecorder{next: network}
	client, err := mcv1.NewClient(mcv1.Config{
		Subdomain:    subdomain,
		ClientID:     mcv1test.DefaultClientID,
		ClientSecret: mcv1test.DefaultClientSecret,
		Common: provider.Common{
			HTTPClient: &http.Client{Transport: tokenRequests},
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
		if seen.sawBearer(tt.host) != tt.bearer || (code == http.StatusOK) != tt.bearer {
			t.Errorf("%s: status %d, credential sent %v; want sent = %v", tt.host, code, seen.sawBearer(tt.host), tt.bearer)
		}
	}
	sent := tokenRequests.requests()
	if len(sent) != 1 || sent[0].url != "https://"+subdomain+".auth.marketingcloudapis.com/v1/requestToken" {
		t.Fatalf("token requests %+v; want one to the tenant's auth host", sent)
	}
}

// TestCredentialStaysOnItsHosts: the emulator (AuthURL's host) and a host listed in
// APIHosts get the token; a foreign server on the same loopback address does not.
func TestCredentialStaysOnItsHosts(t *testing.T) {
	srv := newServer(t)
	var mu sync.Mutex
	auth := map[string]string{}
	echo := func(name string) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			auth[name] = r.Header.Get("Authorization")
			mu.Unlock()
		}))
		t.Cleanup(s.Close)
		return s
	}
	listed, foreign := echo("listed"), echo("foreign")

	cfg := configFor(srv)
	cfg.Transport.Hosts = []string{listed.URL}
	client, err := mcv1.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if code, _ := get(t, client, srv.URL+"/platform/v1/endpoints"); code != http.StatusOK {
		t.Fatalf("emulator: %d", code)
	}
	get(t, client, listed.URL+"/api")
	get(t, client, foreign.URL+"/api")
	mu.Lock()
	defer mu.Unlock()
	if !strings.HasPrefix(auth["listed"], "Bearer at-") || auth["foreign"] != "" {
		t.Fatalf("listed host saw %q, foreign host saw %q; want the token on the listed host only", auth["listed"], auth["foreign"])
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
	wantRejections(t, srv, map[string]int{mcv1test.ReasonRevokedToken: 2})
}

func TestSOAPCallsCarryFuelOAuth(t *testing.T) {
	srv := newServer(t)
	tr, err := mcv1.NewTransport(configFor(srv))
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: tr}
	const envelope = `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><RetrieveRequestMsg xmlns="http://exacttarget.com/wsdl/partnerAPI"/></s:Body></s:Envelope>`
	post := func() int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/Service.asmx", strings.NewReader(envelope))
		req.Header.Set("Content-Type", "text/xml; charset=utf-8")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(); code != http.StatusOK {
		t.Fatalf("SOAP call: %d", code)
	}
	first, _ := tr.Source().Token(context.Background())
	sent := srv.LastEnvelope()
	if bytes.Count(sent, []byte("<fueloauth")) != 1 || !bytes.Contains(sent, []byte(">"+first.AccessToken+"</fueloauth>")) {
		t.Fatalf("envelope sent: %s", sent)
	}

	// An expired token answers with the "Token Expired" fault: one re-fetch, one replay.
	srv.ExpireToken(first.AccessToken)
	if code := post(); code != http.StatusOK {
		t.Fatalf("SOAP call after expiry: %d", code)
	}
	if st := srv.Stats(); st.TokenRequests != 2 || st.SOAPCalls != 3 || tr.Source().Stats().Replays != 1 {
		t.Fatalf("token requests %d, SOAP calls %d, replays %d; want 2, 3, 1", st.TokenRequests, st.SOAPCalls, tr.Source().Stats().Replays)
	}
}
