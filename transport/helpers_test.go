package transport_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/endpoint"
	"github.com/tokentrip/tokentrip/internal/manualclock"
	"github.com/tokentrip/tokentrip/internal/providerfunc"
	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/transport"
)

// fakeClock is a clock the test moves by hand.
type fakeClock = manualclock.Clock

func newClock() *fakeClock { return manualclock.New(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)) }

// tokenServer is a loopback token endpoint that issues numbered tokens, counts the
// requests, and can be slowed, held or made to fail.
type tokenServer struct {
	*httptest.Server
	clock    *fakeClock
	lifetime time.Duration
	latency  time.Duration
	requests atomic.Int64
	status   atomic.Int64  // when non-zero, answer with this status
	hold     chan struct{} // when non-nil, each request waits for it to close
	entered  chan struct{} // when non-nil, receives once per request on arrival

	mu     sync.Mutex
	valid  map[string]bool
	issued int
}

func newTokenServer(t *testing.T, clock *fakeClock) *tokenServer {
	ts := &tokenServer{clock: clock, lifetime: 20 * time.Minute, valid: map[string]bool{}}
	ts.Server = httptest.NewServer(http.HandlerFunc(ts.serveToken))
	t.Cleanup(ts.Close)
	return ts
}

func (ts *tokenServer) serveToken(w http.ResponseWriter, r *http.Request) {
	ts.requests.Add(1)
	if ts.entered != nil {
		ts.entered <- struct{}{}
	}
	if ts.hold != nil {
		<-ts.hold
	}
	if ts.latency > 0 {
		time.Sleep(ts.latency) // emulated endpoint latency, not synchronisation
	}
	if st := ts.status.Load(); st != 0 {
		w.WriteHeader(int(st))
		fmt.Fprint(w, `{"error":"invalid_client"}`)
		return
	}
	ts.mu.Lock()
	ts.issued++
	tok := fmt.Sprintf("tok-%d", ts.issued)
	ts.valid[tok] = true
	ts.mu.Unlock()
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "expires_in": int(ts.lifetime / time.Second)})
}

func (ts *tokenServer) revoke(tok string) {
	ts.mu.Lock()
	delete(ts.valid, tok)
	ts.mu.Unlock()
}

func (ts *tokenServer) isValid(tok string) bool {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.valid[tok]
}

// provider fetches from the tokenServer with the library's endpoint client and no
// retries, mapping answers the way a vendor provider does.
func (ts *tokenServer) provider() transport.Provider {
	ec := endpoint.NewClient("test", ts.Client(), provider.Retry{MaxRetries: -1}, nil)
	return providerfunc.Func(func(ctx context.Context) (transport.Token, error) {
		resp, err := ec.Post(ctx, ts.URL+"/token", "application/json", []byte(`{}`))
		if err != nil {
			return transport.Token{}, err
		}
		if resp.StatusCode != http.StatusOK {
			return transport.Token{}, &transport.FetchError{Kind: transport.ErrCredentialsRejected, Provider: "test", StatusCode: resp.StatusCode}
		}
		var body struct {
			AccessToken string `json:"access_token"`
			ExpiresIn   int    `json:"expires_in"`
		}
		if err := json.Unmarshal(resp.Body, &body); err != nil {
			return transport.Token{}, &transport.FetchError{Kind: transport.ErrEndpoint, Provider: "test", Err: err}
		}
		now := time.Now()
		if ts.clock != nil {
			now = ts.clock.Now()
		}
		return transport.Token{AccessToken: body.AccessToken, Expiry: now.Add(time.Duration(body.ExpiresIn) * time.Second)}, nil
	})
}

// apiServer is a protected loopback API that accepts the tokenServer's valid tokens
// and records what arrived.
type apiServer struct {
	*httptest.Server
	calls    atomic.Int64
	rejected atomic.Int64
	handler  func(w http.ResponseWriter, r *http.Request) // optional, runs before the check

	mu     sync.Mutex
	bodies []string
	auths  []string
}

func newAPIServer(t *testing.T, tokens *tokenServer) *apiServer {
	api := &apiServer{}
	api.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		api.calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		auth := r.Header.Get("Authorization")
		api.mu.Lock()
		api.bodies = append(api.bodies, string(body))
		api.auths = append(api.auths, auth)
		api.mu.Unlock()
		if api.handler != nil {
			api.handler(w, r)
		}
		tok, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok || !tokens.isValid(tok) {
			api.rejected.Add(1)
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"errorcode":0,"message":"Not Authorized"}`)
			return
		}
		fmt.Fprintf(w, `{"ok":true,"body":%q}`, body)
	}))
	t.Cleanup(api.Close)
	return api
}

// policyAPI is a loopback API that accepts the tokenServer's valid tokens, except
// where refuse says the credential may not go (a path, a business unit) or the
// test rejects every token. Each 401 carries a serial number, so a test can tell
// that the caller got the very response the server sent.
type policyAPI struct {
	*httptest.Server
	tokens    *tokenServer
	refuse    func(r *http.Request) bool
	rejectAll atomic.Bool

	mu    sync.Mutex
	calls []policyCall
}

type policyCall struct {
	path, token string
	status      int
	body        string
}

func newPolicyAPI(t *testing.T, tokens *tokenServer, refuse func(*http.Request) bool) *policyAPI {
	api := &policyAPI{tokens: tokens, refuse: refuse}
	api.Server = httptest.NewServer(http.HandlerFunc(api.serve))
	t.Cleanup(api.Close)
	return api
}

func (api *policyAPI) serve(w http.ResponseWriter, r *http.Request) {
	tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	_, _ = io.Copy(io.Discard, r.Body)
	api.mu.Lock()
	defer api.mu.Unlock()
	c := policyCall{path: r.URL.RequestURI(), token: tok, status: http.StatusOK, body: `{"ok":true}`}
	if !api.tokens.isValid(tok) || api.rejectAll.Load() || (api.refuse != nil && api.refuse(r)) {
		c.status = http.StatusUnauthorized
		c.body = fmt.Sprintf(`{"errorcode":0,"message":"Not Authorized","serial":%d}`, len(api.calls))
	}
	api.calls = append(api.calls, c)
	w.WriteHeader(c.status)
	io.WriteString(w, c.body)
}

// last returns the latest call the API answered.
func (api *policyAPI) last() policyCall {
	api.mu.Lock()
	defer api.mu.Unlock()
	return api.calls[len(api.calls)-1]
}

func (api *policyAPI) count() int {
	api.mu.Lock()
	defer api.mu.Unlock()
	return len(api.calls)
}

// newClockedSource returns a Source of a new tokenServer's tokens, both on one
// fake clock; set gives the Source's other settings.
func newClockedSource(t *testing.T, set transport.Settings) (*transport.Source, *tokenServer, *fakeClock) {
	clock := newClock()
	ts := newTokenServer(t, clock)
	set.Clock = clock.Now
	return transport.NewSource(ts.provider(), set), ts, clock
}

// mustToken returns src's token, and fails the test if there is none.
func mustToken(t *testing.T, src *transport.Source) transport.Token {
	t.Helper()
	tok, err := src.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// ownBase returns a connection pool of its own to the test server whose client is
// c, closed when the test ends.
func ownBase(t *testing.T, c *http.Client) *http.Transport {
	base := c.Transport.(*http.Transport).Clone()
	t.Cleanup(base.CloseIdleConnections)
	return base
}

// readResponse returns the body of resp, the answer to a request that must have
// got one (err is the request's error), and closes it.
func readResponse(t *testing.T, resp *http.Response, err error) string {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}
