package mcv1_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/provider/mcv1"
	"github.com/tokentrip/tokentrip/provider/mcv1/mcv1test"
	"github.com/tokentrip/tokentrip/store"
	"github.com/tokentrip/tokentrip/transport"
)

func TestFetch(t *testing.T) {
	clock := manualClock()
	srv := newServer(t, mcv1test.WithClock(clock.Now), mcv1test.WithTokenLifetime(20*time.Minute))
	cfg := configFor(srv)
	cfg.Source.Clock = clock.Now
	p := newProvider(t, cfg)

	clock.Advance(time.Minute)
	tok, err := p.Fetch(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !issuedToken.MatchString(tok.AccessToken) || !tok.Expiry.Equal(start.Add(21*time.Minute)) {
		t.Fatalf("token %q expiring %v; want an issued token expiring at the clock's now + expiresIn (%v)",
			tok.AccessToken, tok.Expiry, start.Add(21*time.Minute))
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/platform/v1/endpoints", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("REST with the fetched token: %d", resp.StatusCode)
	}
	wantGrants(t, srv, 1, 0)
}

// TestTokenRequestBytes checks exactly what goes to the token endpoint.
func TestTokenRequestBytes(t *testing.T) {
	const tricky = `s"e\c<r>e&t/é`
	tests := []struct {
		name   string
		opts   []mcv1test.Option
		edit   func(*mcv1.Config)
		fetch  int
		url    string
		bodies []string
	}{
		{
			name:   "client credentials",
			fetch:  1,
			url:    "/v1/requestToken",
			bodies: []string{`{"clientId":"tokentrip-mcv1-client-id","clientSecret":"tokentrip-mcv1-client-secret"}`},
		},
		{
			name:   "characters JSON must escape",
			opts:   []mcv1test.Option{mcv1test.WithClient("id<&>", tricky)},
			edit:   func(c *mcv1.Config) { c.ClientID, c.ClientSecret = "id<&>", tricky },
			fetch:  1,
			url:    "/v1/requestToken",
			bodies: []string{`{"clientId":"id<&>","clientSecret":"s\"e\\c<r>e&t/é"}`},
		},
		{
			name:   "auth URL given with the token path",
			edit:   func(c *mcv1.Config) { c.AuthURL += "/v1/requestToken/" },
			fetch:  1,
			url:    "/v1/requestToken",
			bodies: []string{`{"clientId":"tokentrip-mcv1-client-id","clientSecret":"tokentrip-mcv1-client-secret"}`},
		},
		{
			name:   "legacy token asked for",
			edit:   func(c *mcv1.Config) { c.Legacy = true },
			fetch:  1,
			url:    "/v1/requestToken?legacy=1",
			bodies: []string{`{"clientId":"tokentrip-mcv1-client-id","clientSecret":"tokentrip-mcv1-client-secret"}`},
		},
		{
			name:  "offline: ask once, then redeem",
			edit:  func(c *mcv1.Config) { c.Offline = true },
			fetch: 3,
			url:   "/v1/requestToken",
			bodies: []string{
				`{"clientId":"tokentrip-mcv1-client-id","clientSecret":"tokentrip-mcv1-client-secret","accessType":"offline"}`,
				`{"clientId":"tokentrip-mcv1-client-id","clientSecret":"tokentrip-mcv1-client-secret","refreshToken":"RT1"}`,
				`{"clientId":"tokentrip-mcv1-client-id","clientSecret":"tokentrip-mcv1-client-secret","refreshToken":"RT2"}`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, tt.opts...)
			cfg := configFor(srv)
			if tt.edit != nil {
				tt.edit(&cfg)
			}
			tokens := &store.Memory{}
			if cfg.Offline {
				cfg.RefreshTokens, cfg.RefreshTokenKey = tokens, "key"
			}
			rec := recordTokenRequests(&cfg)
			p := newProvider(t, cfg)
			var stored []string // the refresh token stored after each fetch
			for range tt.fetch {
				if _, err := p.Fetch(t.Context()); err != nil {
					t.Fatal(err)
				}
				rt, _ := tokens.Load(t.Context(), "key")
				stored = append(stored, rt)
			}
			sent := rec.Sent()
			if len(sent) != len(tt.bodies) {
				t.Fatalf("%d token requests, want %d", len(sent), len(tt.bodies))
			}
			for i, s := range sent {
				var pairs []string // one pass, so a token holding "RT2" is not rewritten
				for j, rt := range stored {
					pairs = append(pairs, "RT"+string(rune('1'+j)), rt)
				}
				want := strings.NewReplacer(pairs...).Replace(tt.bodies[i])
				if s.Method != http.MethodPost || s.URL != srv.URL+tt.url || s.ContentType != "application/json" || s.Body != want {
					t.Errorf("request %d: %s %s (%s) %s\nwant POST %s (application/json) %s", i, s.Method, s.URL, s.ContentType, s.Body, srv.URL+tt.url, want)
				}
			}
		})
	}
}

// TestErrorAnswers maps every failure the emulator can give to its typed error.
func TestErrorAnswers(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(srv *mcv1test.Server, cfg *mcv1.Config)
		kind     error
		status   int
		code     string
		message  string
		hint     string // a part of the hint
		requests int
	}{
		{
			name:  "wrong secret",
			setup: func(_ *mcv1test.Server, c *mcv1.Config) { c.ClientSecret = "wrong-secret" },
			kind:  transport.ErrCredentialsRejected, status: 401, code: "1", message: "Unauthorized", hint: "ClientSecret", requests: 1,
		},
		{
			name:  "unknown client",
			setup: func(_ *mcv1test.Server, c *mcv1.Config) { c.ClientID = "nobody" },
			kind:  transport.ErrCredentialsRejected, status: 401, code: "1", message: "Unauthorized", hint: "ClientID", requests: 1,
		},
		{
			name:  "revoked client",
			setup: func(srv *mcv1test.Server, _ *mcv1.Config) { srv.RevokeClient(emulator.MCv1ClientID) },
			kind:  transport.ErrCredentialsRejected, status: 401, code: "1", message: "Unauthorized", hint: "still active", requests: 1,
		},
		{
			name: "enhanced package",
			setup: func(_ *mcv1test.Server, c *mcv1.Config) {
				c.ClientID, c.ClientSecret = "enhanced-id", "enhanced-secret"
			},
			kind: transport.ErrConfig, status: 401, code: "10007",
			message: "This client id belongs to an enhanced installed package; request its tokens from /v2/token.",
			hint:    "provider/mcv2", requests: 1,
		},
		{
			name:  "auth URL with a /v1 path",
			setup: func(_ *mcv1test.Server, c *mcv1.Config) { c.AuthURL += "/v1" },
			kind:  transport.ErrConfig, status: 404, code: "404", message: "Not Found", hint: "AuthURL", requests: 0,
		},
		{
			name:  "auth URL pointing at the REST API",
			setup: func(_ *mcv1test.Server, c *mcv1.Config) { c.AuthURL += "/platform" },
			kind:  transport.ErrConfig, status: 401, code: "0", message: "Not Authorized", hint: "REST host", requests: 0,
		},
		{
			name:  "endpoint failing",
			setup: func(srv *mcv1test.Server, _ *mcv1.Config) { srv.FailTokenRequests(5, http.StatusServiceUnavailable, 0) },
			kind:  transport.ErrEndpoint, status: 503, hint: "retries ran out", requests: 2,
		},
		{
			name:  "endpoint throttling",
			setup: func(srv *mcv1test.Server, _ *mcv1.Config) { srv.FailTokenRequests(5, http.StatusTooManyRequests, 0) },
			kind:  transport.ErrEndpoint, status: 429, hint: "throttling", requests: 2,
		},
		{
			name:  "bad request",
			setup: func(srv *mcv1test.Server, _ *mcv1.Config) { srv.FailTokenRequests(1, http.StatusBadRequest, 0) },
			kind:  transport.ErrConfig, status: 400, code: "400", message: "Bad Request", hint: "AuthURL", requests: 1,
		},
		{
			name:  "forbidden",
			setup: func(srv *mcv1test.Server, _ *mcv1.Config) { srv.FailTokenRequests(1, http.StatusForbidden, 0) },
			kind:  transport.ErrCredentialsRejected, status: 403, code: "403", message: "Forbidden", hint: "ClientID", requests: 1,
		},
		{
			name:  "not found",
			setup: func(srv *mcv1test.Server, _ *mcv1.Config) { srv.FailTokenRequests(1, http.StatusNotFound, 0) },
			kind:  transport.ErrConfig, status: 404, code: "404", message: "Not Found", hint: "Subdomain", requests: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, mcv1test.WithClient(emulator.MCv1ClientID, emulator.MCv1ClientSecret),
				mcv1test.WithEnhancedClient("enhanced-id", "enhanced-secret"))
			cfg := configFor(srv)
			tt.setup(srv, &cfg)
			tok, err := newProvider(t, cfg).Fetch(t.Context())
			if tok.AccessToken != "" {
				t.Errorf("a token came with the error")
			}
			fe := wantFetchError(t, err, tt.kind, tt.status, tt.code, "wrong-secret", "enhanced-secret")
			if tt.message != "" && fe.Message != tt.message {
				t.Errorf("message %q, want Marketing Cloud's %q", fe.Message, tt.message)
			}
			if !strings.Contains(fe.Hint, tt.hint) {
				t.Errorf("hint %q does not mention %q", fe.Hint, tt.hint)
			}
			if got := srv.Stats().TokenRequests; got != tt.requests {
				t.Errorf("token requests = %d, want %d", got, tt.requests)
			}
		})
	}
}

// TestUnusableAnswers covers answers the emulator never gives: bodies that are not
// JSON, tokens missing or malformed, lifetimes nobody should believe, redirects.
func TestUnusableAnswers(t *testing.T) {
	const leaked = "at-LEAKEDLEAKEDLEAKEDLEAKEDLEAKEDLEAKEDLEAKEDLEAKEDLEAK"
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		kind        error
		message     string // a part of the message
	}{
		{name: "HTML page", status: 200, contentType: "text/html", body: "<html>" + leaked + "</html>", kind: transport.ErrEndpoint, message: "not a JSON object (Content-Type text/html)"},
		{name: "JSON array", status: 200, contentType: "application/json", body: `["` + leaked + `"]`, kind: transport.ErrEndpoint, message: "not a JSON object"},
		{name: "JSON null", status: 200, contentType: "application/json", body: `null`, kind: transport.ErrEndpoint, message: "no accessToken"},
		{name: "access token of the wrong type", status: 200, body: `{"accessToken":12345,"expiresIn":3600}`, kind: transport.ErrEndpoint, message: "accessToken is a JSON number"},
		{name: "no access token", status: 200, body: `{"expiresIn":3600}`, kind: transport.ErrEndpoint, message: "no accessToken"},
		{name: "token with a line break", status: 200, body: `{"accessToken":"` + leaked + `\r\nX: y","expiresIn":3600}`, kind: transport.ErrEndpoint, message: "HTTP header"},
		{name: "negative lifetime", status: 200, body: `{"accessToken":"` + leaked + `","expiresIn":-1}`, kind: transport.ErrEndpoint, message: "believable"},
		{name: "zero lifetime", status: 200, body: `{"accessToken":"` + leaked + `","expiresIn":0}`, kind: transport.ErrEndpoint, message: "believable"},
		{name: "lifetime of years", status: 200, body: `{"accessToken":"` + leaked + `","expiresIn":99999999}`, kind: transport.ErrEndpoint, message: "believable"},
		{name: "fractional lifetime", status: 200, body: `{"accessToken":"` + leaked + `","expiresIn":3600.5}`, kind: transport.ErrEndpoint, message: "whole number"},
		{name: "lifetime in words", status: 200, body: `{"accessToken":"` + leaked + `","expiresIn":"an hour"}`, kind: transport.ErrEndpoint, message: "whole number"},
		{name: "lifetime that overflows a Duration", status: 200, body: `{"accessToken":"` + leaked + `","expiresIn":9223372037}`, kind: transport.ErrEndpoint, message: "believable"},
		{name: "lifetime beyond int64", status: 200, body: `{"accessToken":"` + leaked + `","expiresIn":99999999999999999999}`, kind: transport.ErrEndpoint, message: "believable"},
		{name: "token beyond ASCII", status: 200, body: `{"accessToken":"` + leaked + `\u00e9","expiresIn":3600}`, kind: transport.ErrEndpoint, message: "HTTP header"},
		{name: "empty answer", status: 200, body: "", kind: transport.ErrEndpoint, message: "not a JSON object"},
		{name: "JSON then an HTML page", status: 200, body: `{"accessToken":"` + leaked + `","expiresIn":3600}<html>proxy</html>`, kind: transport.ErrEndpoint, message: "not a JSON object"},
		{name: "two JSON objects", status: 200, body: `{"accessToken":"` + leaked + `","expiresIn":3600}{"accessToken":"x"}`, kind: transport.ErrEndpoint, message: "not a JSON object"},
		{name: "answer of more than a MiB", status: 200, body: `{"accessToken":"` + leaked + `","expiresIn":3600,"padding":"` + strings.Repeat("x", 1<<20) + `"}`, kind: transport.ErrEndpoint, message: "larger than"},
		{name: "token and an errorcode in a 200", status: 200, body: `{"accessToken":"` + leaked + `","expiresIn":3600,"errorcode":2,"message":"Internal error"}`, kind: transport.ErrEndpoint, message: "Internal error"},
		{name: "token and a bare errorcode in a 200", status: 200, body: `{"accessToken":"` + leaked + `","expiresIn":3600,"errorcode":"2"}`, kind: transport.ErrEndpoint, message: "errorcode next to its accessToken"},
		{name: "rejection in a 200", status: 200, body: `{"message":"Unauthorized","errorcode":1}`, kind: transport.ErrCredentialsRejected, message: "Unauthorized"},
		{name: "negative lifetime as a string", status: 200, body: `{"accessToken":"` + leaked + `","expiresIn":"-1"}`, kind: transport.ErrEndpoint, message: "believable"},
		{name: "lifetime of years as a string", status: 200, body: `{"accessToken":"` + leaked + `","expiresIn":"315360000"}`, kind: transport.ErrEndpoint, message: "believable"},
		{name: "secret echoed in the message", status: 401, body: `{"message":"bad secret secret-value","errorcode":1}`, kind: transport.ErrCredentialsRejected, message: "bad secret [REDACTED]"},
		{name: "secret echoed in the error code", status: 401, body: `{"message":"no","errorcode":"secret-value"}`, kind: transport.ErrCredentialsRejected, message: "no"},
		{name: "HTML 404", status: 404, contentType: "text/html", body: "<h1>no</h1>", kind: transport.ErrConfig, message: "Not Found"},
		{name: "HTML 401", status: 401, contentType: "text/html", body: "<h1>no</h1>", kind: transport.ErrCredentialsRejected, message: "Unauthorized"},
		{name: "other 4xx", status: 405, body: `{"message":"Method Not Allowed"}`, kind: transport.ErrConfig, message: "Method Not Allowed"},
		{name: "redirect", status: 302, body: "", kind: transport.ErrConfig, message: "redirected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.status == http.StatusFound {
					http.Redirect(w, r, "https://elsewhere.example.com/v1/requestToken", http.StatusFound)
					return
				}
				w.Header().Set("Content-Type", cmp(tt.contentType, "application/json"))
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			p := newProvider(t, mcv1.Config{AuthURL: srv.URL, ClientID: "id", ClientSecret: "secret-value", Common: provider.Common{HTTPClient: srv.Client(), Retry: fastRetry}})
			_, err := p.Fetch(t.Context())
			fe, ok := errors.AsType[*transport.FetchError](err)
			if !ok || !errors.Is(err, tt.kind) || fe.StatusCode != tt.status || fe.Hint == "" || !strings.Contains(fe.Message, tt.message) {
				t.Fatalf("error %v\nwant a FetchError of kind %v, status %d, a hint and a message with %q", err, tt.kind, tt.status, tt.message)
			}
			wantNoSecrets(t, "error", err.Error(), "secret-value", "LEAKED")
		})
	}
}

func cmp(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}

func TestAcceptableAnswers(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		expiry time.Time
	}{
		{name: "lifetime as a quoted number", body: `{"accessToken":"tok","expiresIn":"1200"}`, expiry: start.Add(20 * time.Minute)},
		{name: "lifetime below an hour", body: `{"accessToken":"tok","expiresIn":59}`, expiry: start.Add(59 * time.Second)},
		{name: "no lifetime: the Source applies its default", body: `{"accessToken":"tok"}`},
		{name: "unknown fields ignored", body: `{"accessToken":"tok","expiresIn":60,"scope":"x","tokenType":"Bearer"}`, expiry: start.Add(time.Minute)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			p := newProvider(t, mcv1.Config{
				AuthURL:      srv.URL,
				ClientID:     "id",
				ClientSecret: "s",
				Common: provider.Common{
					HTTPClient: srv.Client(),
					Source:     transport.Settings{Clock: func() time.Time { return start }},
				},
			})
			tok, err := p.Fetch(t.Context())
			if err != nil || tok.AccessToken != "tok" || !tok.Expiry.Equal(tt.expiry) {
				t.Fatalf("got %q expiring %v, %v; want tok expiring %v", tok.AccessToken, tok.Expiry, err, tt.expiry)
			}
		})
	}
}

func TestOfflineRotation(t *testing.T) {
	srv := newServer(t)
	cfg := configFor(srv)
	tokens := &store.Memory{}
	cfg.Offline, cfg.RefreshTokens = true, tokens
	p := newProvider(t, cfg)
	key := "mcv1:" + emulator.MCv1ClientID + "@" + srv.URL

	var seen []string
	for range 3 {
		if _, err := p.Fetch(t.Context()); err != nil {
			t.Fatal(err)
		}
		rt, err := tokens.Load(t.Context(), key)
		if err != nil || !issuedToken.MatchString(rt) {
			t.Fatalf("stored refresh token %q (%v) under the default key", rt, err)
		}
		for _, old := range seen {
			if rt == old {
				t.Fatalf("refresh token not rotated: %v then %q", seen, rt)
			}
		}
		seen = append(seen, rt)
	}
	wantGrants(t, srv, 1, 2)
	wantRejections(t, srv, map[string]int{})
}

// TestConcurrentFetchesSpendEachRefreshTokenOnce runs 100 Fetches at once on one
// Provider against single-use refresh tokens: were two exchanges to run together,
// the emulator would see a reused refresh token, or more than one first request.
func TestConcurrentFetchesSpendEachRefreshTokenOnce(t *testing.T) {
	srv := newServer(t)
	cfg := configFor(srv)
	cfg.Offline = true
	p := newProvider(t, cfg)

	srv.HoldTokenRequests()
	const n = 100
	var wg sync.WaitGroup
	errs := make(chan error, n)
	tokens := make(chan string, n)
	for range n {
		wg.Go(func() {
			tok, err := p.Fetch(t.Context())
			errs <- err
			tokens <- tok.AccessToken
		})
	}
	waitHeld(t, srv, 1)
	srv.ReleaseTokenRequests()
	wg.Wait()
	close(errs)
	close(tokens)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	distinct := map[string]bool{}
	for tok := range tokens {
		distinct[tok] = true
	}
	if len(distinct) != n {
		t.Errorf("%d distinct access tokens from %d fetches", len(distinct), n)
	}
	wantGrants(t, srv, 1, n-1)
	wantRejections(t, srv, map[string]int{})
}

// TestRejectedRefreshTokenFallsBack covers every reason Marketing Cloud refuses a
// stored refresh token: the Fetch re-authorises with the client credentials in the
// same call, stores the new refresh token, and the next Fetch redeems it.
func TestRejectedRefreshTokenFallsBack(t *testing.T) {
	tests := []struct {
		name   string
		stored func(t *testing.T, srv *mcv1test.Server, clock interface{ Advance(time.Duration) }) string
		reason string
	}{
		{
			name:   "never issued",
			stored: func(*testing.T, *mcv1test.Server, interface{ Advance(time.Duration) }) string { return "rt-forged" },
			reason: emulator.ReasonInvalidGrant,
		},
		{
			name: "spent by someone else",
			stored: func(t *testing.T, srv *mcv1test.Server, _ interface{ Advance(time.Duration) }) string {
				rt := offlineToken(t, srv)
				other := newProvider(t, offlineConfig(srv, &store.Memory{}, rt))
				if _, err := other.Fetch(t.Context()); err != nil {
					t.Fatal(err)
				}
				return rt
			},
			reason: emulator.ReasonReusedGrant,
		},
		{
			name: "expired",
			stored: func(t *testing.T, srv *mcv1test.Server, clock interface{ Advance(time.Duration) }) string {
				rt := offlineToken(t, srv)
				clock.Advance(emulator.MCv1RefreshTokenLifetime)
				return rt
			},
			reason: emulator.ReasonInvalidGrant,
		},
		{
			name: "revoked",
			stored: func(t *testing.T, srv *mcv1test.Server, _ interface{ Advance(time.Duration) }) string {
				rt := offlineToken(t, srv)
				srv.RevokeToken(rt)
				return rt
			},
			reason: emulator.ReasonInvalidGrant,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := manualClock()
			srv := newServer(t, mcv1test.WithClock(clock.Now))
			rt := tt.stored(t, srv, clock)
			srv.ResetStats()

			tokens := &store.Memory{}
			cfg := offlineConfig(srv, tokens, rt)
			var logs bytes.Buffer
			cfg.Source.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			p := newProvider(t, cfg)
			if _, err := p.Fetch(t.Context()); err != nil {
				t.Fatalf("fetch with a dead refresh token: %v, want a fallback to the client credentials", err)
			}
			wantGrants(t, srv, 1, 1)
			wantRejections(t, srv, map[string]int{tt.reason: 1})
			next, _ := tokens.Load(t.Context(), "key")
			if next == rt || !issuedToken.MatchString(next) {
				t.Fatalf("stored refresh token %q after the fallback, want a new one", next)
			}
			if !strings.Contains(logs.String(), "re-authorising") {
				t.Errorf("the fallback was not logged: %s", logs.String())
			}
			wantNoSecrets(t, "log", logs.String(), rt)

			if _, err := p.Fetch(t.Context()); err != nil {
				t.Fatal(err)
			}
			wantGrants(t, srv, 1, 2)
			wantRejections(t, srv, map[string]int{tt.reason: 1})
		})
	}
}

// offlineToken asks the emulator for offline access and returns the refresh token.
func offlineToken(t *testing.T, srv *mcv1test.Server) string {
	t.Helper()
	tokens := &store.Memory{}
	if _, err := newProvider(t, offlineConfig(srv, tokens, "")).Fetch(t.Context()); err != nil {
		t.Fatal(err)
	}
	rt, _ := tokens.Load(t.Context(), "key")
	return rt
}

// offlineConfig returns an offline Config whose store holds rt under "key".
func offlineConfig(srv *mcv1test.Server, tokens store.RefreshTokens, rt string) mcv1.Config {
	cfg := configFor(srv)
	cfg.Offline, cfg.RefreshTokens, cfg.RefreshTokenKey = true, tokens, "key"
	if rt != "" {
		_ = tokens.CompareAndSwap(context.Background(), "key", "", rt)
	}
	return cfg
}

func TestFallbackRejectedToo(t *testing.T) {
	srv := newServer(t)
	cfg := offlineConfig(srv, &store.Memory{}, "rt-forged")
	cfg.ClientSecret = "wrong-secret"
	_, err := newProvider(t, cfg).Fetch(t.Context())
	wantFetchError(t, err, transport.ErrCredentialsRejected, 401, "1", "wrong-secret", "rt-forged")
	if got := srv.Stats().TokenRequests; got != 2 {
		t.Errorf("token requests = %d, want 2: the refresh and one re-authorisation", got)
	}
}

// TestTwoProcessesShareAStore runs two Providers, as two processes would, on one
// store, both redeeming the same refresh token at once: one wins, the other falls
// back, and the store ends with a refresh token that works.
func TestTwoProcessesShareAStore(t *testing.T) {
	srv := newServer(t)
	tokens := &store.Memory{}
	shared := offlineConfig(srv, tokens, offlineToken(t, srv))
	a, b := newProvider(t, shared), newProvider(t, shared)
	srv.ResetStats()

	srv.HoldTokenRequests()
	var wg sync.WaitGroup
	for _, p := range []*mcv1.Provider{a, b} {
		wg.Go(func() {
			if _, err := p.Fetch(t.Context()); err != nil {
				t.Error(err)
			}
		})
	}
	waitHeld(t, srv, 2)
	srv.ReleaseTokenRequests()
	wg.Wait()
	wantGrants(t, srv, 1, 2)
	wantRejections(t, srv, map[string]int{emulator.ReasonReusedGrant: 1})

	for _, p := range []*mcv1.Provider{a, b} {
		if _, err := p.Fetch(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	wantGrants(t, srv, 1, 4)
	wantRejections(t, srv, map[string]int{emulator.ReasonReusedGrant: 1})
}

// failingStore is a store.Memory whose Load or CompareAndSwap can be made to fail.
type failingStore struct {
	store.Memory
	loadErr, swapErr error
	swapCtxErr       error // the context's error when CompareAndSwap ran
}

func (s *failingStore) Load(ctx context.Context, key string) (string, error) {
	if s.loadErr != nil {
		return "", s.loadErr
	}
	return s.Memory.Load(ctx, key)
}

func (s *failingStore) CompareAndSwap(ctx context.Context, key, prev, next string) error {
	s.swapCtxErr = ctx.Err()
	if s.swapErr != nil {
		return s.swapErr
	}
	return s.Memory.CompareAndSwap(ctx, key, prev, next)
}

func TestStoreFailures(t *testing.T) {
	broken := errors.New("disk on fire")
	tests := []struct {
		name     string
		store    *failingStore
		requests int
	}{
		{name: "load", store: &failingStore{loadErr: broken}, requests: 0},
		{name: "save", store: &failingStore{swapErr: broken}, requests: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			p := newProvider(t, offlineConfig(srv, tt.store, ""))
			tok, err := p.Fetch(t.Context())
			if tok.AccessToken != "" || !errors.Is(err, broken) {
				t.Fatalf("got a token: %v, err %v; want the store's error and no token", tok.AccessToken != "", err)
			}
			wantFetchError(t, err, transport.ErrEndpoint, 0, "")
			if got := srv.Stats().TokenRequests; got != tt.requests {
				t.Errorf("token requests = %d, want %d", got, tt.requests)
			}
		})
	}
}

// cancelAfterAnswer is a RoundTripper that cancels the fetch's context when the
// answer's body is closed: after the answer has been read, before it is used, as
// a caller giving up at that moment would.
type cancelAfterAnswer struct {
	next   http.RoundTripper
	cancel context.CancelFunc
}

func (c *cancelAfterAnswer) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: c.cancel}
	return resp, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelOnClose) Close() error {
	b.cancel()
	return b.ReadCloser.Close()
}

// TestRotationOutlivesTheCaller: once Marketing Cloud has spent the old refresh
// token, its successor is stored even though the caller has given up.
func TestRotationOutlivesTheCaller(t *testing.T) {
	srv := newServer(t)
	tokens := &failingStore{}
	cfg := offlineConfig(srv, tokens, "")
	ctx, cancel := context.WithCancel(t.Context())
	cfg.HTTPClient = &http.Client{Transport: &cancelAfterAnswer{next: srv.Client().Transport, cancel: cancel}}
	p := newProvider(t, cfg)

	if _, err := p.Fetch(ctx); err != nil {
		t.Fatal(err)
	}
	if ctx.Err() == nil || tokens.swapCtxErr != nil {
		t.Fatalf("caller's context %v, store's context %v; want the store to run unhindered after the caller gave up", ctx.Err(), tokens.swapCtxErr)
	}
	if rt, _ := tokens.Load(t.Context(), "key"); !issuedToken.MatchString(rt) {
		t.Fatalf("stored %q, want the new refresh token", rt)
	}
}

func TestWaitingCallerGivesUp(t *testing.T) {
	srv := newServer(t)
	p := newProvider(t, configFor(srv))
	srv.HoldTokenRequests()
	first := make(chan error, 1)
	go func() {
		_, err := p.Fetch(t.Context())
		first <- err
	}()
	waitHeld(t, srv, 1)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := p.Fetch(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("second fetch: %v, want context.Canceled", err)
	}
	wantFetchError(t, err, transport.ErrEndpoint, 0, "")
	srv.ReleaseTokenRequests()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if got := srv.Stats().TokenRequests; got != 1 {
		t.Errorf("token requests = %d, want 1", got)
	}
}

func TestLegacyToken(t *testing.T) {
	srv := newServer(t)
	cfg := configFor(srv)
	cfg.Legacy = true
	p := newProvider(t, cfg)

	var toks []transport.Token
	for range 3 {
		tok, err := p.Fetch(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, tok)
	}
	for i, want := range []bool{false, true, true} { // the two latest are kept
		legacy, ok := p.LegacyToken(toks[i])
		if ok != want || (ok && (!issuedToken.MatchString(legacy) || legacy == toks[i].AccessToken)) {
			t.Errorf("fetch %d: LegacyToken = %q, %v; want found = %v and a token of its own", i, legacy, ok, want)
		}
	}
	legacy, _ := p.LegacyToken(toks[2])
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/platform/v1/endpoints", nil)
	req.Header.Set("Authorization", "Bearer "+legacy)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the legacy token was refused: %d", resp.StatusCode)
	}
	if _, ok := p.LegacyToken(transport.Token{AccessToken: "unknown"}); ok {
		t.Error("LegacyToken found a token for an access token never fetched")
	}

	plain := newProvider(t, configFor(srv))
	tok, err := plain.Fetch(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := plain.LegacyToken(tok); ok {
		t.Error("LegacyToken found a token without Legacy")
	}
}
