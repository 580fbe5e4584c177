package transport_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"
	"golang.org/x/oauth2"

	"github.com/tokentrip/tokentrip/internal/providerfunc"
	"github.com/tokentrip/tokentrip/transport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// newClient wires the usual stack for a test: Source, Transport scoped to the API
// server's host, and an http.Client that follows redirects.
func newClient(t *testing.T, ts *tokenServer, api *apiServer, replayLimit int64) (*http.Client, *transport.Transport) {
	src := transport.NewSource(ts.provider(), transport.Settings{})
	tr := transport.New(src, transport.Options{Hosts: []string{api.URL}, Base: ownBase(t, api.Client()), ReplayLimit: replayLimit})
	return &http.Client{Transport: tr}, tr
}

func TestBearerOnScopedHost(t *testing.T) {
	ts := newTokenServer(t, nil)
	api := newAPIServer(t, ts)
	client, tr := newClient(t, ts, api, 0)
	resp, err := client.Get(api.URL + "/rest/v1/thing")
	readResponse(t, resp, err)
	if resp.StatusCode != http.StatusOK || api.auths[0] != "Bearer tok-1" {
		t.Fatalf("status %d, Authorization %q; want 200 and Bearer tok-1", resp.StatusCode, api.auths[0])
	}
	if st := tr.Source().Stats(); st.Replays != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestRevokedTokenStormCausesOneRefetch(t *testing.T) {
	ts := newTokenServer(t, nil)
	api := newAPIServer(t, ts)
	client, tr := newClient(t, ts, api, 0)
	mustToken(t, tr.Source())

	// Hold the first 500 requests inside the API until all have arrived, then revoke
	// the token they carry: all 500 get a 401 at once.
	const inflight = 500
	arrived := make(chan struct{}, inflight)
	release := make(chan struct{})
	var once sync.Once
	api.handler = func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok-1" {
			return
		}
		arrived <- struct{}{}
		<-release
	}
	go func() {
		for range inflight {
			<-arrived
		}
		once.Do(func() { ts.revoke("tok-1"); close(release) })
	}()

	var wg sync.WaitGroup
	statuses := make(chan int, inflight)
	for range inflight {
		wg.Go(func() {
			resp, err := client.Post(api.URL+"/rest/v1/send", "application/json", strings.NewReader(`{"to":"a@example.com"}`))
			if err != nil {
				t.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses <- resp.StatusCode
		})
	}
	wg.Wait()
	close(statuses)
	ok := 0
	for s := range statuses {
		if s == http.StatusOK {
			ok++
		}
	}
	if ok != inflight {
		t.Fatalf("%d of %d requests succeeded", ok, inflight)
	}
	if n := ts.requests.Load(); n != 2 {
		t.Fatalf("token requests = %d, want 2 (first fetch and one re-fetch)", n)
	}
	if st := tr.Source().Stats(); st.Replays != inflight {
		t.Fatalf("replays = %d, want %d (each request replayed once)", st.Replays, inflight)
	}
	if n := api.calls.Load(); n != 2*inflight {
		t.Fatalf("API calls = %d, want %d", n, 2*inflight)
	}
}

func TestNeverMoreThanOneReplay(t *testing.T) {
	ts := newTokenServer(t, nil)
	api := newAPIServer(t, ts)
	api.handler = func(w http.ResponseWriter, r *http.Request) {
		ts.revoke(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	}
	client, tr := newClient(t, ts, api, 0)
	resp, err := client.Get(api.URL + "/rest")
	readResponse(t, resp, err)
	if resp.StatusCode != http.StatusUnauthorized || api.calls.Load() != 2 || tr.Source().Stats().Replays != 1 {
		t.Fatalf("status %d after %d calls and %d replays; want the second 401 after 2 calls, 1 replay",
			resp.StatusCode, api.calls.Load(), tr.Source().Stats().Replays)
	}
}

func TestCallerRequestIsNotModified(t *testing.T) {
	ts := newTokenServer(t, nil)
	api := newAPIServer(t, ts)
	api.handler = func(w http.ResponseWriter, r *http.Request) {
		if api.calls.Load() == 1 {
			ts.revoke("tok-1") // force a replay too
		}
	}
	client, _ := newClient(t, ts, api, 0)
	req, _ := http.NewRequest(http.MethodPost, api.URL+"/rest", strings.NewReader("payload"))
	req.Header.Set("X-Custom", "kept")
	before := req.Header.Clone()
	resp, err := client.Do(req)
	readResponse(t, resp, err)
	if len(req.Header) != len(before) || req.Header.Get("Authorization") != "" || req.Header.Get("X-Custom") != "kept" {
		t.Fatalf("caller's header changed: %v", req.Header)
	}
	if api.bodies[0] != "payload" || api.bodies[1] != "payload" {
		t.Fatalf("bodies sent %q, want the payload twice", api.bodies)
	}
}

func TestForeignHostsGetNoCredential(t *testing.T) {
	ts := newTokenServer(t, nil)
	var foreignAuth []string
	var mu sync.Mutex
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		foreignAuth = append(foreignAuth, r.Header.Get("Authorization"))
		mu.Unlock()
	}))
	defer foreign.Close()
	api := newAPIServer(t, ts)
	api.handler = func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, foreign.URL+"/landed", http.StatusFound)
		}
	}
	client, _ := newClient(t, ts, api, 0)
	defer foreign.Client().CloseIdleConnections()

	for _, u := range []string{foreign.URL + "/direct", api.URL + "/redirect"} {
		resp, err := client.Get(u)
		readResponse(t, resp, err)
	}
	if len(foreignAuth) != 2 || foreignAuth[0] != "" || foreignAuth[1] != "" {
		t.Fatalf("foreign host saw Authorization %q", foreignAuth)
	}
	if api.auths[0] != "Bearer tok-1" {
		t.Fatalf("scoped host saw %q", api.auths[0])
	}
}

// trackingBody records whether it was closed.
type trackingBody struct {
	io.Reader
	closed bool
}

func (b *trackingBody) Close() error { b.closed = true; return nil }

func TestUnreplayableBodyReturnsTheRejection(t *testing.T) {
	ts := newTokenServer(t, nil)
	api := newAPIServer(t, ts)
	api.handler = func(w http.ResponseWriter, r *http.Request) { ts.revoke("tok-1") }
	client, tr := newClient(t, ts, api, 4)

	body := &trackingBody{Reader: strings.NewReader("larger than four bytes")}
	req, _ := http.NewRequest(http.MethodPost, api.URL+"/rest", body)
	req.GetBody = nil
	req.ContentLength = -1
	resp, err := client.Do(req)
	got := readResponse(t, resp, err)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(got, "Not Authorized") {
		t.Fatalf("status %d body %q, want the server's 401 as it came", resp.StatusCode, got)
	}
	if api.calls.Load() != 1 || tr.Source().Stats().Unreplayable != 1 {
		t.Fatalf("calls %d, stats %+v: want one call, no replay", api.calls.Load(), tr.Source().Stats())
	}
	if api.bodies[0] != "larger than four bytes" || !body.closed {
		t.Fatalf("body sent %q, closed %v", api.bodies[0], body.closed)
	}
	// The rejected token was dropped all the same: the next request carries a new one.
	api.handler = nil
	resp, err = client.Get(api.URL + "/rest")
	readResponse(t, resp, err)
	if resp.StatusCode != http.StatusOK || ts.requests.Load() != 2 || api.auths[1] != "Bearer tok-2" {
		t.Fatalf("next request: status %d with %q after %d token requests", resp.StatusCode, api.auths[1], ts.requests.Load())
	}
}

func TestBufferedBodyIsReplayed(t *testing.T) {
	ts := newTokenServer(t, nil)
	api := newAPIServer(t, ts)
	api.handler = func(w http.ResponseWriter, r *http.Request) {
		if api.calls.Load() == 1 {
			ts.revoke("tok-1")
		}
	}
	client, _ := newClient(t, ts, api, 0)
	body := &trackingBody{Reader: strings.NewReader("small")}
	req, _ := http.NewRequest(http.MethodPost, api.URL+"/rest", body)
	resp, err := client.Do(req)
	readResponse(t, resp, err)
	if resp.StatusCode != http.StatusOK || api.bodies[1] != "small" || api.auths[1] != "Bearer tok-2" || !body.closed {
		t.Fatalf("status %d, replayed body %q with %q, closed %v", resp.StatusCode, api.bodies[1], api.auths[1], body.closed)
	}
}

// recordingBase answers every request with 200 and records how many it sent and
// the Authorization header of the last one.
type recordingBase struct {
	sent int
	last string
}

func (r *recordingBase) RoundTrip(req *http.Request) (*http.Response, error) {
	r.sent++
	r.last = req.Header.Get("Authorization")
	return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
}

// TestRefusedBeforeSending: a request that may not, or cannot, carry the
// credential — plain HTTP to a remote host, or one whose token fetch fails — gets
// the error; nothing is sent, and its body is closed.
func TestRefusedBeforeSending(t *testing.T) {
	for _, tt := range []struct {
		name, url string
		fetch     func(t *testing.T) (transport.Token, error)
		want      error
	}{
		{"plain HTTP to a remote host", "http://api.example.com/rest", func(t *testing.T) (transport.Token, error) {
			t.Fatal("no token should be fetched")
			return transport.Token{}, nil
		}, transport.ErrInsecureScheme},
		{"the fetch fails", "https://api.example.com/rest", func(*testing.T) (transport.Token, error) {
			return transport.Token{}, &transport.FetchError{Kind: transport.ErrCredentialsRejected, Provider: "test"}
		}, transport.ErrCredentialsRejected},
	} {
		t.Run(tt.name, func(t *testing.T) {
			base := &recordingBase{}
			src := transport.NewSource(providerfunc.Func(func(context.Context) (transport.Token, error) { return tt.fetch(t) }), transport.Settings{})
			tr := transport.New(src, transport.Options{Hosts: []string{"api.example.com"}, Base: base})
			body := &trackingBody{Reader: strings.NewReader("x")}
			req, _ := http.NewRequest(http.MethodPost, tt.url, body)
			_, err := tr.RoundTrip(req)
			if !errors.Is(err, tt.want) || base.sent != 0 || !body.closed {
				t.Fatalf("err %v, sent %d, body closed %v; want %v, nothing sent, body closed", err, base.sent, body.closed, tt.want)
			}
		})
	}
}

func TestScopeRules(t *testing.T) {
	src := transport.NewSource(providerfunc.Func(func(context.Context) (transport.Token, error) {
		return transport.Token{AccessToken: "t", RESTInstanceURL: "https://mc123.rest.marketingcloudapis.com/", SOAPInstanceURL: "mc123.soap.example.net"}, nil
	}), transport.Settings{})
	src.Token(context.Background())
	base := &recordingBase{}
	tr := transport.New(src, transport.Options{Hosts: []string{"*.auth.marketingcloudapis.com", "exact.example.com", "127.0.0.1:8080", "https://url.example.org/path"}, Base: base})
	cases := []struct {
		url  string
		want bool
	}{
		{"https://mc1.auth.marketingcloudapis.com/v2/token", true},
		{"https://auth.marketingcloudapis.com/", false},
		{"https://evil.com/?x=.auth.marketingcloudapis.com", false},
		{"https://mc1.auth.marketingcloudapis.com.evil.com/", false},
		{"https://EXACT.example.com:443/x", true},
		{"https://sub.exact.example.com/", false},
		{"http://127.0.0.1:8080/", true},
		{"http://127.0.0.1:8081/", false},
		{"https://url.example.org/other", true},
		{"https://mc123.rest.marketingcloudapis.com/hub/v1", true},
		{"https://mc123.soap.example.net/Service.asmx", true},
		{"https://mc999.rest.marketingcloudapis.com/", false},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(http.MethodGet, c.url, nil)
		if _, err := tr.RoundTrip(req); err != nil {
			t.Fatalf("%s: %v", c.url, err)
		}
		if got := base.last != ""; got != c.want {
			t.Errorf("%s: credential attached = %v, want %v", c.url, got, c.want)
		}
	}
}

func TestOAuth2Interop(t *testing.T) {
	// A Provider from an oauth2.TokenSource, and the Source back as one.
	calls := 0
	ts := oauth2TokenSourceFunc(func() (*oauth2.Token, error) {
		calls++
		return &oauth2.Token{AccessToken: "from-oauth2"}, nil
	})
	src := transport.NewSource(transport.FromOAuth2(ts), transport.Settings{})
	back, err := oauth2.ReuseTokenSource(nil, src.OAuth2()).Token()
	if err != nil || back.AccessToken != "from-oauth2" || back.Expiry.IsZero() || calls != 1 {
		t.Fatalf("got %+v, %v after %d calls", back, err, calls)
	}
}

type oauth2TokenSourceFunc func() (*oauth2.Token, error)

func (f oauth2TokenSourceFunc) Token() (*oauth2.Token, error) { return f() }

// closingProvider counts CloseIdleConnections calls.
type closingProvider struct {
	providerfunc.Func
	closed int
}

func (p *closingProvider) CloseIdleConnections() { p.closed++ }

func TestCloseIdleConnectionsReachesTheProvider(t *testing.T) {
	p := &closingProvider{Func: func(context.Context) (transport.Token, error) { return transport.Token{}, nil }}
	client := &http.Client{Transport: transport.New(transport.NewSource(p, transport.Settings{}), transport.Options{})}
	client.CloseIdleConnections()
	if p.closed != 1 {
		t.Fatalf("provider closed %d times, want 1", p.closed)
	}
}
