package emulator

import (
	"context"
	"net/http"
	"net/http/httptest"
	"time"
)

// Config is what every emulator lets a test set.
type Config struct {
	Clock        Clock         // nil: time.Now
	TokenLatency time.Duration // added to every token request
	APILatency   time.Duration // added to every API call
	Clients      []Client      // registered in the Core's Clients
}

// Core is the state every emulator shares: its clock, registries, counters, gates,
// queued faults and HTTP server. It is safe for concurrent use.
type Core struct {
	Clock    Clock
	Tokens   *Tokens
	Clients  Clients
	Counters Counters
	Faults   Faults

	// TokenGate holds token requests, APIGate holds API calls (see Gate).
	TokenGate Gate
	APIGate   Gate

	tokenLatency time.Duration
	apiLatency   time.Duration
	srv          *httptest.Server
}

// NewCore returns a Core configured by cfg.
func NewCore(cfg Config) *Core {
	clock := cfg.Clock
	if clock == nil {
		clock = time.Now
	}
	c := &Core{
		Clock:        clock,
		Tokens:       NewTokens(clock),
		tokenLatency: cfg.TokenLatency,
		apiLatency:   cfg.APILatency,
	}
	for _, client := range cfg.Clients {
		c.Clients.Add(client)
	}
	return c
}

// Start serves handler on a loopback address, over TLS when tls is set. It sets
// *url to the server's base URL (http://127.0.0.1:port, or https://…) before the
// first request can arrive, so that handlers may read it.
func (c *Core) Start(handler http.HandlerFunc, tls bool, url *string) {
	c.srv = httptest.NewUnstartedServer(handler)
	start, scheme := c.srv.Start, "http://"
	if tls {
		start, scheme = c.srv.StartTLS, "https://"
	}
	*url = scheme + c.srv.Listener.Addr().String()
	start()
}

// Client returns an HTTP client that talks to the server Start started (and
// trusts its certificate, under TLS).
func (c *Core) Client() *http.Client { return c.srv.Client() }

// Now returns the emulator's current time.
func (c *Core) Now() time.Time { return c.Clock.Now() }

// PauseToken passes a token request through TokenGate and the token latency. It
// returns an error only when ctx ends first, in which case nobody is listening
// and the handler should just return.
func (c *Core) PauseToken(ctx context.Context) error {
	return pause(ctx, &c.TokenGate, c.tokenLatency)
}

// ReadTokenRequest reads the body of a token request. When it cannot (the body is
// too large, and ReadBody has answered), it counts the request, with no grant,
// and its rejection as a bad request, and returns false: the handler just returns.
func (c *Core) ReadTokenRequest(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := ReadBody(w, r)
	if err != nil {
		c.Counters.TokenRequest("")
		c.Counters.Reject(ReasonBadRequest)
		return nil, false
	}
	return body, true
}

// InjectedTokenFailure takes one of the failures the test queued for the token
// endpoint, if any: it counts the rejection, sets the Retry-After header and
// returns the status for the handler to answer with, in its vendor's format.
func (c *Core) InjectedTokenFailure(w http.ResponseWriter) (status int, ok bool) {
	f, ok := c.Faults.NextTokenFailure()
	if !ok {
		return 0, false
	}
	c.Counters.Reject(ReasonInjectedFailure)
	SetRetryAfter(w.Header(), f.RetryAfter)
	return f.Status, true
}

// PauseAPI is PauseToken for API calls: APIGate, then the API latency.
func (c *Core) PauseAPI(ctx context.Context) error {
	return pause(ctx, &c.APIGate, c.apiLatency)
}

func pause(ctx context.Context, g *Gate, d time.Duration) error {
	if err := g.Pass(ctx); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// RevokeClient revokes a client and every token issued to it; it reports whether
// the client is registered. Tokens stay revoked after RestoreClient.
func (c *Core) RevokeClient(id string) bool {
	if !c.Clients.SetRevoked(id, true) {
		return false
	}
	c.Tokens.RevokeClient(id)
	return true
}

// RestoreClient lets a revoked client ask for tokens again; it reports whether the
// client is registered.
func (c *Core) RestoreClient(id string) bool {
	return c.Clients.SetRevoked(id, false)
}

// Close opens both gates, so that the server can shut down while a test still
// holds requests, then shuts down the server Start started and blocks until every
// request to it has finished.
func (c *Core) Close() {
	c.TokenGate.Release()
	c.APIGate.Release()
	if c.srv != nil {
		c.srv.Close()
	}
}
