package proxy

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/eventrec"
	"github.com/tokentrip/tokentrip/internal/marketingcloud"
	"github.com/tokentrip/tokentrip/internal/providerfunc"
	"github.com/tokentrip/tokentrip/internal/testkit"
	"github.com/tokentrip/tokentrip/transport"
)

// TestMain checks that nothing outlives the tests but idle keep-alive connections.
func TestMain(m *testing.M) { testkit.VerifyTestMain(m) }

// listen is the address the fixtures' handlers believe they listen on.
const listen = "127.0.0.1:8787"

// seen is one request as the upstream received it.
type seen struct {
	Method, Path, RawPath, Query string
	Header                       http.Header
	Body                         []byte
	Proto                        int
}

// upstream is a loopback API server that records what it receives and rejects
// the tokens it is told to, as an API rejects an expired one.
type upstream struct {
	*httptest.Server
	mu       sync.Mutex
	requests []seen
	reject   map[string]bool // "Bearer tok-1" → answer 401
	hold     chan struct{}   // when set, requests wait for it to close
	arrived  chan struct{}   // a request arrived (buffered; held requests only)
	newConns atomic.Int64
	answer   []byte      // the body of a 200
	header   http.Header // further headers of a 200
}

// newUpstream starts an upstream; the test closes it when it ends.
func newUpstream(t *testing.T) *upstream {
	t.Helper()
	u := &upstream{reject: map[string]bool{}, answer: []byte(`{"ok":true}`), arrived: make(chan struct{}, 1024)}
	u.Server = httptest.NewUnstartedServer(http.HandlerFunc(u.serve))
	u.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			u.newConns.Add(1)
		}
	}
	u.Start()
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	u.mu.Lock()
	u.requests = append(u.requests, seen{r.Method, r.URL.Path, r.URL.RawPath, r.URL.RawQuery, r.Header.Clone(), body, r.ProtoMajor})
	rejected := u.reject[r.Header.Get("Authorization")] || bytes.Contains(body, []byte(">tok-1<")) && u.reject["Bearer tok-1"]
	hold := u.hold
	answer := u.answer
	header := u.header
	u.mu.Unlock()
	if hold != nil {
		u.arrived <- struct{}{}
		select {
		case <-hold:
		case <-r.Context().Done():
			return
		}
	}
	if rejected {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	for name, vs := range header {
		w.Header()[name] = vs
	}
	_, _ = w.Write(answer)
}

// got returns what the upstream has received so far.
func (u *upstream) got() []seen {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]seen(nil), u.requests...)
}

// holdRequests makes requests wait until the returned function is called.
func (u *upstream) holdRequests() (release func()) {
	ch := make(chan struct{})
	u.mu.Lock()
	u.hold = ch
	u.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			u.mu.Lock()
			u.hold = nil
			u.mu.Unlock()
			close(ch)
		})
	}
}

// fixture is a proxy handler over an upstream, with a Source that hands out
// tok-1, tok-2, … and counts its fetches.
type fixture struct {
	up      *upstream
	h       *Handler
	tr      *transport.Transport
	fetches atomic.Int64
	logs    *syncBuffer
}

// newFixture builds a Marketing Cloud (mcv1-style) proxy whose REST and SOAP go to
// a fresh upstream; tweak adjusts the options before the handler is built.
func newFixture(t *testing.T, tweak func(*Options)) *fixture {
	t.Helper()
	f := &fixture{up: newUpstream(t), logs: &syncBuffer{}}
	metrics := NewMetrics()
	src := transport.NewSource(providerfunc.Func(func(context.Context) (transport.Token, error) {
		n := f.fetches.Add(1)
		return transport.Token{AccessToken: "tok-" + strconv.FormatInt(n, 10), Expiry: time.Now().Add(time.Hour)}, nil
	}), transport.Settings{Hook: metrics.SourceHook("mcv1")})
	base := NewUpstreamTransport(0)
	t.Cleanup(base.CloseIdleConnections)
	f.tr = transport.New(src, transport.Options{Hosts: []string{f.up.URL}, Base: base, ReplayLimit: -1, SOAP: marketingcloud.FuelOAuth})
	restURL, _ := url.Parse(f.up.URL + "/")
	soapURL, _ := url.Parse(f.up.URL + "/Service.asmx")
	opts := Options{
		Listen:  listen,
		Metrics: metrics,
		Logger:  slog.New(slog.NewTextHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if tweak != nil {
		tweak(&opts)
	}
	h, err := New(opts, &Backend{
		Name:      "mcv1",
		Router:    NewRouter(RouterConfig{Provider: ProviderMCv1, Source: src, REST: restURL, SOAP: soapURL}),
		Transport: f.tr,
	})
	if err != nil {
		t.Fatal(err)
	}
	f.h = h
	return f
}

// rejectCurrentToken makes the upstream reject the Source's current token from
// now on, as an API rejects an expired one.
func (f *fixture) rejectCurrentToken(t *testing.T) {
	t.Helper()
	tok, err := f.tr.Source().Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	f.up.mu.Lock()
	f.up.reject["Bearer "+tok.AccessToken] = true
	f.up.mu.Unlock()
}

// request is one request to send to a handler.
type request struct {
	method, target string
	header         []string // name, value, name, value…
	body           string
}

// newRequest builds r with the Host of the proxy unless the header names another.
func (r request) build() *http.Request {
	method := r.method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	req := httptest.NewRequest(method, "http://"+listen+r.target, body)
	req.Host = listen
	for i := 0; i+1 < len(r.header); i += 2 {
		if strings.EqualFold(r.header[i], "Host") {
			req.Host = r.header[i+1]
			continue
		}
		req.Header.Add(r.header[i], r.header[i+1])
	}
	return req
}

// serve sends req to h and returns the answer.
func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// scrape returns h's /-/metrics in the Prometheus text format.
func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	w := serve(h, request{target: "/-/metrics"}.build())
	if w.Code != http.StatusOK {
		t.Fatalf("/-/metrics: HTTP %d", w.Code)
	}
	return w.Body.String()
}

// metric returns the value of the sample named name (with its labels, as the text
// format prints them) at h's /-/metrics, and whether there is one.
func metric(t *testing.T, h http.Handler, name string) (float64, bool) {
	t.Helper()
	return testkit.Sample(t, scrape(t, h), name)
}

// syncBuffer is a log destination that handlers may write to concurrently.
type syncBuffer = eventrec.Log
