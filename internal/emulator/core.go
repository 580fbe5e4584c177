package emulator

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Config is what every emulator is built from; each emulator package fills it
// from its options.
type Config struct {
	Clock            Clock        // nil: time.Now
	Clients          []Client     // registered in the Core's Clients
	ConcurrencyLimit int          // API calls in flight at once; <= 0: no cap
	Listener         net.Listener // where to serve; nil: a new loopback listener
}

// Apply applies an emulator package's options to its configuration, in order.
func Apply[C any, O ~func(*C)](cfg *C, opts []O) {
	for _, opt := range opts {
		opt(cfg)
	}
}

// AddClient registers a client of the given kind (what the emulator package makes
// of it).
func (c *Config) AddClient(id, secret, kind string) {
	c.Clients = append(c.Clients, Client{ID: id, Secret: secret, Kind: kind})
}

// FirstClient returns the first client of the given kind, or a zero Client when
// there is none.
func (c *Config) FirstClient(kind string) Client {
	for _, client := range c.Clients {
		if client.Kind == kind {
			return client
		}
	}
	return Client{}
}

// Core is the state every emulator shares: its clock, registries, counters, gates,
// queued faults, latencies and HTTP server. It is safe for concurrent use.
// Emulator packages work with the Core; their users see its Controls.
type Core struct {
	Clock    Clock
	Tokens   *Tokens
	Clients  Clients
	Counters Counters
	Faults   Faults

	// TokenGate holds token requests, APIGate holds API calls (see Gate).
	TokenGate Gate
	APIGate   Gate

	// RevokeGrant, when set before Start, revokes a token the registry does not
	// hold (acoustictest's refresh tokens) for Controls.RevokeToken, and reports
	// whether it knew the token.
	RevokeGrant func(token string) bool

	tokenLatency atomic.Int64 // time.Duration
	apiLatency   atomic.Int64 // time.Duration
	inFlight     limiter
	closing      chan struct{} // closed by Close: delayed requests are cut short
	closeOnce    sync.Once
	listener     net.Listener
	srv          *httptest.Server
	controls     Controls

	mu           sync.Mutex
	lastEnvelope []byte
}

// NewCore returns a Core configured by cfg.
func NewCore(cfg Config) *Core {
	clock := cfg.Clock
	if clock == nil {
		clock = time.Now
	}
	c := &Core{
		Clock:    clock,
		Tokens:   NewTokens(clock),
		inFlight: limiter{limit: cfg.ConcurrencyLimit},
		closing:  make(chan struct{}),
		listener: cfg.Listener,
	}
	c.controls.core = c
	for _, client := range cfg.Clients {
		c.Clients.Add(client)
	}
	return c
}

// Controls returns the knobs and counters of the emulator, for its users.
func (c *Core) Controls() *Controls { return &c.controls }

// Start serves handler, over TLS when tls is set, on the configured listener or a
// new loopback one. It sets *url to the server's base URL (http://host:port, or
// https://…) before the first request can arrive, so that handlers may read it.
// Every path under ControlPrefix is answered by the Controls' JSON endpoints
// instead of handler. The server's client follows no redirect.
func (c *Core) Start(handler http.HandlerFunc, tls bool, url *string) {
	c.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isControlPath(r.URL.Path) {
			c.controls.serveHTTP(w, r)
			return
		}
		handler(w, r)
	}))
	if c.listener != nil {
		_ = c.srv.Listener.Close()
		c.srv.Listener = c.listener
	}
	start, scheme := c.srv.Start, "http://"
	if tls {
		start, scheme = c.srv.StartTLS, "https://"
	}
	*url = scheme + reachableAddr(c.srv.Listener.Addr())
	start()
	c.srv.Client().CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
}

// reachableAddr is where a client on this machine reaches a listener on addr: a
// listener on every interface (0.0.0.0 or ::) is reached on 127.0.0.1, as the
// unspecified address is no destination, and tokentrip takes plain http to a
// loopback host only.
func reachableAddr(addr net.Addr) string {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return addr.String()
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(tcp.Port))
}

// Now returns the emulator's current time.
func (c *Core) Now() time.Time { return c.Clock.Now() }

// PauseToken passes a token request through TokenGate and the token latency. It
// returns an error only when ctx ends first, in which case nobody is listening
// and the handler should just return.
func (c *Core) PauseToken(ctx context.Context) error {
	return c.pause(ctx, &c.TokenGate, time.Duration(c.tokenLatency.Load()))
}

// AdmitTokenRequest does what every token endpoint does before it judges a
// request: it reads the body (answering 413 itself when it is too large), lets
// parse decode a body of the given media type into the grant it names, counts
// the request by grant, passes the token gate and latency, refuses a malformed
// body through badRequest and a failure the test queued through fail (with the
// Retry-After header already set), counting each. It reports whether the handler
// goes on; parse and the callbacks write into the handler's own variables.
func (c *Core) AdmitTokenRequest(w http.ResponseWriter, r *http.Request, mediaType string,
	parse func(body []byte) (grant string, err error), badRequest func(), fail func(status int)) bool {
	body, err := ReadBody(w, r)
	if err != nil {
		c.Counters.TokenRequest("")
		c.Counters.Reject(ReasonBadRequest)
		return false
	}
	grant, wellFormed := "", MediaType(r) == mediaType
	if wellFormed {
		grant, err = parse(body)
		wellFormed = err == nil
	}
	if !wellFormed {
		grant = ""
	}
	c.Counters.TokenRequest(grant)
	if c.PauseToken(r.Context()) != nil {
		return false
	}
	if !wellFormed {
		c.Counters.Reject(ReasonBadRequest)
		badRequest()
		return false
	}
	if f, ok := c.Faults.NextTokenFailure(); ok {
		c.Counters.Reject(ReasonInjectedFailure)
		SetRetryAfter(w.Header(), f.RetryAfter)
		fail(f.Status)
		return false
	}
	return true
}

// BeginAPICall counts an API call of the given kind (CallREST…) and takes its
// place among the calls in flight. When the concurrency cap leaves no place, it
// counts the rejection and returns ok false: the handler answers in its vendor's
// format. Otherwise the handler must call done when the call is over.
func (c *Core) BeginAPICall(kind string) (done func(), ok bool) {
	c.Counters.Call(kind)
	if !c.inFlight.acquire() {
		c.Counters.Reject(ReasonConcurrencyLimit)
		return nil, false
	}
	return c.inFlight.release, true
}

// AdmitAPICall does what every API endpoint does before it looks at a request:
// it counts a call of the given kind (CallREST…), takes its place among the calls
// in flight (or, when the concurrency cap leaves none, counts the rejection and
// answers through busy, in the vendor's format), passes APIGate and the API
// latency, and reads the body (answering 413 itself, counted, when it is too
// large). It reports whether the handler goes on; if so, the handler must call
// done when the call is over.
func (c *Core) AdmitAPICall(w http.ResponseWriter, r *http.Request, kind string, busy func()) (body []byte, done func(), ok bool) {
	done, ok = c.BeginAPICall(kind)
	if !ok {
		busy()
		return nil, nil, false
	}
	release := done // on every way out but success, a panic included
	defer func() {
		if release != nil {
			release()
		}
	}()
	if c.PauseAPI(r.Context()) != nil {
		return nil, nil, false
	}
	body, err := ReadBody(w, r)
	if err != nil {
		c.Counters.Reject(ReasonBadRequest)
		return nil, nil, false
	}
	release = nil
	return body, done, true
}

// PauseAPI is PauseToken for API calls: APIGate, then the API latency. A paused
// call keeps its place among the calls in flight.
func (c *Core) PauseAPI(ctx context.Context) error {
	return c.pause(ctx, &c.APIGate, time.Duration(c.apiLatency.Load()))
}

// RecordEnvelope keeps b as the last SOAP or XML API envelope received, for
// Controls.LastEnvelope. The caller must not modify b afterwards.
func (c *Core) RecordEnvelope(b []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.lastEnvelope = b
}

// pause passes g, then waits d. When the server closes meanwhile, it aborts the
// request (the connection is cut without an answer), so that Close never waits
// out a latency.
func (c *Core) pause(ctx context.Context, g *Gate, d time.Duration) error {
	if err := g.Pass(ctx); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-c.closing:
		panic(http.ErrAbortHandler)
	}
}

// close cuts delayed requests short, lets held ones go, shuts the server down
// and blocks until every request to it has finished.
func (c *Core) close() {
	c.closeOnce.Do(func() { close(c.closing) })
	c.TokenGate.Release()
	c.APIGate.Release()
	if c.srv != nil {
		c.srv.Close()
	}
}
