package mcv2_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/internal/testkit"
	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/provider/mcv2"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
	"github.com/tokentrip/tokentrip/store"
	"github.com/tokentrip/tokentrip/transport"
)

func TestAuthorizeURL(t *testing.T) {
	p := newProvider(t, mcv2.Config{
		Subdomain:     subdomain,
		ClientID:      "web-app-id",
		RedirectURI:   "https://app.example.com/mc/callback?from=mc&x=1",
		Scope:         []string{"email_read", "offline"},
		RefreshTokens: &store.Memory{},
	})
	const base = "https://" + subdomain + ".auth.marketingcloudapis.com/v2/authorize?response_type=code&client_id=web-app-id" +
		"&redirect_uri=https%3A%2F%2Fapp.example.com%2Fmc%2Fcallback%3Ffrom%3Dmc%26x%3D1&scope=email_read%20offline&state=st%2Bate%201"
	if got := p.AuthorizeURL("st+ate 1"); got != base {
		t.Errorf("AuthorizeURL\n got %s\nwant %s", got, base)
	}
	// RFC 7636, appendix B.
	const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	want := base + "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256"
	if got := p.AuthorizeURL("st+ate 1", mcv2.WithPKCE(verifier)); got != want {
		t.Errorf("AuthorizeURL with PKCE\n got %s\nwant %s", got, want)
	}
}

// TestStateAndVerifier: the state the docs suggest (crypto/rand.Text) and
// NewVerifier's verifiers are long, well-formed and never repeat.
func TestStateAndVerifier(t *testing.T) {
	states, verifiers := map[string]bool{}, map[string]bool{}
	for range 100 {
		s, v := rand.Text(), mcv2.NewVerifier()
		if len(s) < 26 || len(v) != 43 || strings.Trim(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			t.Fatalf("state %q, verifier %q", s, v)
		}
		states[s], verifiers[v] = true, true
	}
	if len(states) != 100 || len(verifiers) != 100 {
		t.Errorf("%d distinct states, %d distinct verifiers in 100", len(states), len(verifiers))
	}
}

// The whole flow, for each kind of app: authorise, exchange the code (with exactly
// the documented fields), call REST with the exchanged token, then renew it.
func TestAuthorizationCodeFlow(t *testing.T) {
	verifier := mcv2.NewVerifier()
	tests := []struct {
		name         string
		clientID     string
		secret       string
		opts         []mcv2.AuthOption
		wantVerifier bool
	}{
		{"web app", emulator.MCv2WebAppID, emulator.MCv2WebAppSecret, nil, false},
		{"web app with PKCE", emulator.MCv2WebAppID, emulator.MCv2WebAppSecret, []mcv2.AuthOption{mcv2.WithPKCE(verifier)}, true},
		{"public app with PKCE", emulator.MCv2PublicAppID, "", []mcv2.AuthOption{mcv2.WithPKCE(verifier)}, true},
		{"public app", emulator.MCv2PublicAppID, "", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			clk := newClock()
			srv := start(t, mcv2test.WithClock(clk.Now))
			rec := &testkit.Recorder{}
			rts := &store.Memory{}
			cfg := webConfig(srv, rts)
			cfg.ClientID, cfg.ClientSecret = tt.clientID, tt.secret
			cfg.HTTPClient = rec.Client()
			cfg.Source.Clock = clk.Now
			p := newProvider(t, cfg)

			cb := authorize(t, srv, p, tt.opts...)
			tok, err := p.Exchange(ctx, cb, tt.opts...)
			if err != nil {
				t.Fatalf("Exchange: %v", err)
			}
			body := map[string]string{
				"grant_type":   "authorization_code",
				"code":         cb.Code,
				"client_id":    tt.clientID,
				"redirect_uri": redirectURI,
			}
			if tt.secret != "" {
				body["client_secret"] = tt.secret
			}
			if tt.wantVerifier {
				body["code_verifier"] = verifier
			}
			assertSent(t, rec.Sent()[0], srv.URL+"/v2/token", body)
			rt, _ := rts.Load(ctx, p.RefreshTokenKey())
			if _, known := srv.TokenAccount(rt); !known {
				t.Errorf("stored refresh token %.12s… unknown to the emulator", rt)
			}

			// The Transport starts with the exchanged token.
			client := &http.Client{Transport: p.NewTransport()}
			resp, err := client.Get(tok.RESTInstanceURL + "platform/v1/endpoints")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || len(rec.Sent()) != 1 {
				t.Fatalf("REST %s after %d token requests, want 200 after the exchange alone", resp.Status, len(rec.Sent()))
			}

			clk.Advance(time.Hour)
			if _, err := p.Fetch(ctx); err != nil {
				t.Fatalf("renewal: %v", err)
			}
			body = map[string]string{"grant_type": "refresh_token", "refresh_token": rt, "client_id": tt.clientID}
			if tt.secret != "" {
				body["client_secret"] = tt.secret
			}
			assertSent(t, rec.Sent()[1], srv.URL+"/v2/token", body)
		})
	}
}

// assertSent checks that a token request went to url as a JSON object with
// exactly the fields of want.
func assertSent(t *testing.T, got testkit.Sent, url string, want map[string]string) {
	t.Helper()
	var fields map[string]string
	if err := json.Unmarshal([]byte(got.Body), &fields); err != nil {
		t.Fatalf("body %s is not a JSON object of strings: %v", got.Body, err)
	}
	if got.URL != url || got.ContentType != "application/json" || fmt.Sprint(fields) != fmt.Sprint(want) {
		t.Errorf("sent %s %s %v\nwant %s application/json %v", got.URL, got.ContentType, fields, url, want)
	}
}

// The redirect URI travels exactly as registered: plain in the JSON, no escapes,
// so that the emulator, which compares it byte for byte, accepts the code.
func TestRedirectURISentPlain(t *testing.T) {
	const uri = "https://app.example.com/cb?tenant=a&lang=en"
	srv := start(t)
	rec := &testkit.Recorder{}
	cfg := webConfig(srv, &store.Memory{})
	cfg.RedirectURI = uri
	cfg.HTTPClient = rec.Client()
	p := newProvider(t, cfg)
	if _, err := p.Exchange(context.Background(), authorize(t, srv, p)); err != nil {
		t.Fatal(err)
	}
	if body := rec.Sent()[0].Body; !strings.Contains(body, `"redirect_uri":"`+uri+`"`) {
		t.Errorf("body %s does not carry the redirect URI plain", body)
	}
}

func TestExchangeFailures(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// run returns the Exchange's error; rts is the credential's store.
		run      func(t *testing.T, srv *mcv2test.Server, clk *clock, rts *store.Memory) error
		kind     error // a FetchError's kind, or the CallbackError's or ConfigError's sentinel
		code     string
		requests int
	}{
		{
			name: "PKCE verifier differs",
			run: func(t *testing.T, srv *mcv2test.Server, _ *clock, rts *store.Memory) error {
				p := newProvider(t, webConfig(srv, rts))
				cb := authorize(t, srv, p, mcv2.WithPKCE(mcv2.NewVerifier()))
				_, err := p.Exchange(ctx, cb, mcv2.WithPKCE(mcv2.NewVerifier()))
				return err
			},
			kind: transport.ErrCredentialsRejected, code: "invalid_grant", requests: 1,
		},
		{
			name: "PKCE verifier missing",
			run: func(t *testing.T, srv *mcv2test.Server, _ *clock, rts *store.Memory) error {
				p := newProvider(t, webConfig(srv, rts))
				_, err := p.Exchange(ctx, authorize(t, srv, p, mcv2.WithPKCE(mcv2.NewVerifier())))
				return err
			},
			kind: transport.ErrCredentialsRejected, code: "invalid_grant", requests: 1,
		},
		{
			name: "code redeemed twice",
			run: func(t *testing.T, srv *mcv2test.Server, _ *clock, _ *store.Memory) error {
				p := newProvider(t, webConfig(srv, &store.Memory{}))
				cb := authorize(t, srv, p)
				if _, err := p.Exchange(ctx, cb); err != nil {
					t.Fatal(err)
				}
				_, err := newProvider(t, webConfig(srv, &store.Memory{})).Exchange(ctx, cb)
				return err
			},
			kind: transport.ErrCredentialsRejected, code: "invalid_grant", requests: 2,
		},
		{
			name: "code expired",
			run: func(t *testing.T, srv *mcv2test.Server, clk *clock, rts *store.Memory) error {
				p := newProvider(t, webConfig(srv, rts))
				cb := authorize(t, srv, p)
				clk.Advance(emulator.MCv2CodeLifetime)
				_, err := p.Exchange(ctx, cb)
				return err
			},
			kind: transport.ErrCredentialsRejected, code: "invalid_grant", requests: 1,
		},
		{
			name: "wrong secret",
			run: func(t *testing.T, srv *mcv2test.Server, _ *clock, rts *store.Memory) error {
				cfg := webConfig(srv, rts)
				cfg.ClientSecret = "wrong"
				p := newProvider(t, cfg)
				_, err := p.Exchange(ctx, authorize(t, srv, p))
				return err
			},
			kind: transport.ErrCredentialsRejected, code: "invalid_client", requests: 1,
		},
		{
			name: "server-to-server package",
			run: func(t *testing.T, srv *mcv2test.Server, _ *clock, rts *store.Memory) error {
				cfg := webConfig(srv, rts)
				cfg.ClientID, cfg.ClientSecret = emulator.MCv2ClientID, emulator.MCv2ClientSecret
				code := srv.IssueCode(mcv2test.CodeGrant{ClientID: emulator.MCv2ClientID, RedirectURI: redirectURI})
				_, err := newProvider(t, cfg).Exchange(ctx, mcv2.Callback{Code: code})
				return err
			},
			kind: transport.ErrConfig, code: "unauthorized_client", requests: 1,
		},
		{
			name: "no store",
			run: func(t *testing.T, srv *mcv2test.Server, _ *clock, _ *store.Memory) error {
				cfg := webConfig(srv, nil)
				_, err := newProvider(t, cfg).Exchange(ctx, mcv2.Callback{Code: "code"})
				return err
			},
			kind: transport.ErrConfig,
		},
		{
			name: "no redirect URI",
			run: func(t *testing.T, srv *mcv2test.Server, _ *clock, rts *store.Memory) error {
				cfg := webConfig(srv, rts)
				cfg.RedirectURI = ""
				_, err := newProvider(t, cfg).Exchange(ctx, mcv2.Callback{Code: "code"})
				return err
			},
			kind: transport.ErrConfig,
		},
		{
			name: "verifier too short",
			run: func(t *testing.T, srv *mcv2test.Server, _ *clock, rts *store.Memory) error {
				_, err := newProvider(t, webConfig(srv, rts)).Exchange(ctx, mcv2.Callback{Code: "code"}, mcv2.WithPKCE("short"))
				return err
			},
			kind: transport.ErrConfig,
		},
		{
			name: "no code",
			run: func(t *testing.T, srv *mcv2test.Server, _ *clock, rts *store.Memory) error {
				_, err := newProvider(t, webConfig(srv, rts)).Exchange(ctx, mcv2.Callback{})
				return err
			},
			kind: mcv2.ErrMissingCode,
		},
		{
			name: "forged tenant",
			run: func(t *testing.T, srv *mcv2test.Server, _ *clock, rts *store.Memory) error {
				_, err := newProvider(t, webConfig(srv, rts)).Exchange(ctx, mcv2.Callback{Code: "code", Subdomain: "evil.example.com/"})
				return err
			},
			kind: mcv2.ErrInvalidTSSD,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			srv := start(t, mcv2test.WithClock(clk.Now))
			rts := &store.Memory{}
			err := tt.run(t, srv, clk, rts)
			if !errors.Is(err, tt.kind) {
				t.Fatalf("Exchange: %v, want %v", err, tt.kind)
			}
			if tt.code != "" {
				fe := fetchError(t, err, tt.kind)
				if fe.Code != tt.code {
					t.Errorf("code %q, want %q", fe.Code, tt.code)
				}
				if tt.code == "invalid_grant" && !strings.Contains(fe.Hint, "AuthorizeURL") {
					t.Errorf("hint %q does not say to authorise again", fe.Hint)
				}
			}
			testkit.WantAbsent(t, "error", err.Error(), emulator.MCv2WebAppSecret, emulator.MCv2ClientSecret, "wrong")
			if got := srv.Stats().TokenRequests; got != tt.requests {
				t.Errorf("%d token requests, want %d", got, tt.requests)
			}
			if rt, _ := rts.Load(ctx, newProvider(t, webConfig(srv, rts)).RefreshTokenKey()); rt != "" {
				t.Error("a failed exchange stored a refresh token")
			}
		})
	}
}

// A callback's tssd names the user's tenant: the exchange and every later token
// call go to its auth host, and its hosts join the credential's scope.
func TestTSSDMovesTheTenant(t *testing.T) {
	const tenant = "mc77777777777777777777777777"
	ctx := context.Background()
	clk := newClock()
	srv := start(t, mcv2test.WithClock(clk.Now))
	emulator, _ := url.Parse(srv.URL)
	rec := &testkit.Recorder{Redirect: emulator} // a test DNS: every host is the emulator
	p := newProvider(t, mcv2.Config{
		Subdomain:     subdomain,
		ClientID:      srv.WebAppID,
		ClientSecret:  srv.WebAppSecret,
		RedirectURI:   redirectURI,
		RefreshTokens: &store.Memory{},
		Common:        provider.Common{HTTPClient: rec.Client(), Source: transport.Settings{Clock: clk.Now}},
	})
	if got := p.AuthorizeURL("s"); !strings.HasPrefix(got, "https://"+subdomain+".auth.marketingcloudapis.com/v2/authorize?") {
		t.Fatalf("AuthorizeURL %s does not go to the configured tenant", got)
	}

	code := srv.IssueCode(mcv2test.CodeGrant{RedirectURI: redirectURI})
	cb, err := mcv2.ParseCallback(url.Values{"code": {code}, "state": {"s"}, "tssd": {tenant}}, "s")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Exchange(ctx, cb); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	if _, err := p.Fetch(ctx); err != nil {
		t.Fatal(err)
	}
	for i, s := range rec.Sent() {
		if s.URL != "https://"+tenant+".auth.marketingcloudapis.com/v2/token" {
			t.Errorf("token request %d went to %s, want the tssd tenant", i, s.URL)
		}
	}
	if p.Subdomain() != tenant {
		t.Errorf("Subdomain() = %q, want %q", p.Subdomain(), tenant)
	}
	hosts := p.Hosts()
	for _, h := range []string{tenant + ".auth.marketingcloudapis.com", tenant + ".rest.marketingcloudapis.com", tenant + ".soap.marketingcloudapis.com"} {
		if !slices.Contains(hosts, h) {
			t.Errorf("Hosts() %v lacks %s", hosts, h)
		}
	}
	if slices.ContainsFunc(hosts, func(h string) bool { return strings.HasPrefix(h, subdomain) }) {
		t.Errorf("Hosts() %v still holds the configured tenant", hosts)
	}
}

// The emulator's /v2/authorize answers a request the library builds: the proof
// that AuthorizeURL's encoding is understood, PKCE included.
func TestAuthorizeURLAcceptedByTheEmulator(t *testing.T) {
	srv := start(t)
	cfg := webConfig(srv, &store.Memory{})
	cfg.Scope = []string{"email_read", "offline"}
	p := newProvider(t, cfg)
	resp, err := srv.Client().Get(p.AuthorizeURL("s 1", mcv2.WithPKCE(mcv2.NewVerifier())))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	back, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(back.String(), redirectURI+"?") || back.Query().Get("state") != "s 1" {
		t.Errorf("authorize: %s to %s", resp.Status, back)
	}
}
