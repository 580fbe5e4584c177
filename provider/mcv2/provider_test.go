package mcv2_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/internal/testkit"
	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/provider/mcv2"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
	"github.com/tokentrip/tokentrip/transport"
)

// The client_credentials request carries exactly the documented fields, as JSON.
func TestClientCredentialsRequest(t *testing.T) {
	tests := []struct {
		name string
		edit func(*mcv2.Config)
		want string
	}{
		{
			"package scopes, own business unit",
			func(*mcv2.Config) {},
			`{"grant_type":"client_credentials","client_id":"tokentrip-mcv2-client-id","client_secret":"tokentrip-mcv2-client-secret"}`,
		},
		{
			"scopes and business unit",
			func(c *mcv2.Config) { c.Scope = []string{"email_read  email_write", "offline"}; c.AccountID = "12345" },
			`{"grant_type":"client_credentials","client_id":"tokentrip-mcv2-client-id","client_secret":"tokentrip-mcv2-client-secret","scope":"email_read email_write offline","account_id":"12345"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := start(t)
			rec := &testkit.Recorder{}
			cfg := serverConfig(srv)
			cfg.HTTPClient = rec.Client()
			tt.edit(&cfg)
			if _, err := newProvider(t, cfg).Fetch(context.Background()); err != nil {
				t.Fatal(err)
			}
			got := rec.Sent()
			if len(got) != 1 {
				t.Fatalf("%d token requests, want 1", len(got))
			}
			if got[0].URL != srv.URL+"/v2/token" || got[0].ContentType != "application/json" || got[0].Body != tt.want {
				t.Errorf("sent %s %s\n%s\nwant %s/v2/token application/json\n%s", got[0].URL, got[0].ContentType, got[0].Body, srv.URL, tt.want)
			}
		})
	}
}

// A token says when it expires (by the provider's clock, from when the request
// left) and carries the scope and the tenant's instance URLs, normalised.
func TestFetchToken(t *testing.T) {
	clk := newClock()
	srv := start(t, mcv2test.WithClock(clk.Now))
	cfg := serverConfig(srv)
	cfg.Source.Clock = clk.Now
	cfg.Scope = []string{"email_read"}
	tok, err := newProvider(t, cfg).Fetch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := transport.Token{
		AccessToken:     tok.AccessToken,
		Expiry:          clk.Now().Add(emulator.MCv2TokenLifetime),
		RESTInstanceURL: srv.URL + "/",
		SOAPInstanceURL: srv.URL + "/",
		Scope:           "email_read",
	}
	if tok.AccessToken == "" || tok != want {
		t.Errorf("token %+v\nwant %+v", tok, want)
	}
	if st := srv.Stats(); st.TokensIssued != 1 || st.TokenRequestsByGrant["client_credentials"] != 1 {
		t.Errorf("emulator stats %+v, want one client_credentials token", st)
	}
}

// An AuthURL copied whole, token path and all, names the same auth service as its
// base: the token request goes to /v2/token, not /v2/token/v2/token.
func TestAuthURLWithTokenPath(t *testing.T) {
	for _, suffix := range []string{"/v2/token", "/v2/token/", "/"} {
		t.Run(suffix, func(t *testing.T) {
			srv := start(t)
			cfg := serverConfig(srv)
			cfg.AuthURL += suffix
			if _, err := newProvider(t, cfg).Fetch(context.Background()); err != nil {
				t.Fatalf("Fetch with AuthURL %q: %v", cfg.AuthURL, err)
			}
			if st := srv.Stats(); st.TokensIssued != 1 {
				t.Errorf("emulator stats %+v, want one token issued", st)
			}
		})
	}
}

// Instance URLs arrive with https:// and a slash in real traffic and as a bare host
// in the documentation: both become "scheme://host/".
func TestInstanceURLs(t *testing.T) {
	const rest = subdomain + ".rest.marketingcloudapis.com"
	tests := []struct {
		name, sent, want string
	}{
		{"real traffic", "https://" + rest + "/", "https://" + rest + "/"},
		{"documentation", rest, "https://" + rest + "/"},
		{"no slash", "https://" + rest, "https://" + rest + "/"},
		{"with a path", "https://" + rest + "/base", "https://" + rest + "/base/"},
		{"plain http upgraded", "http://" + rest + "/", "https://" + rest + "/"},
		{"port kept", "https://" + rest + ":8443/", "https://" + rest + ":8443/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := start(t, mcv2test.WithInstanceURLs(tt.sent, tt.sent))
			tok, err := newProvider(t, serverConfig(srv)).Fetch(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if tok.RESTInstanceURL != tt.want || tok.SOAPInstanceURL != tt.want {
				t.Errorf("instance URLs %q, %q; want %q", tok.RESTInstanceURL, tok.SOAPInstanceURL, tt.want)
			}
		})
	}

	t.Run("emulator without scheme", func(t *testing.T) {
		// A bare loopback host from a plain-http loopback auth endpoint stays http.
		srv := start(t, mcv2test.WithSchemelessInstanceURLs())
		tok, err := newProvider(t, serverConfig(srv)).Fetch(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if tok.RESTInstanceURL != srv.URL+"/" || tok.SOAPInstanceURL != srv.URL+"/" {
			t.Errorf("instance URLs %q, %q; want %q", tok.RESTInstanceURL, tok.SOAPInstanceURL, srv.URL+"/")
		}
	})

	for _, bad := range []string{"ftp://" + rest + "/", "https://user@" + rest + "/", "https://" + rest + "/?x=1", "https:///path"} {
		t.Run("refused "+bad, func(t *testing.T) {
			srv := start(t, mcv2test.WithInstanceURLs(bad, ""))
			_, err := newProvider(t, serverConfig(srv)).Fetch(context.Background())
			fe := fetchError(t, err, transport.ErrEndpoint)
			if !strings.Contains(fe.Message, "rest_instance_url") {
				t.Errorf("message %q does not name the field", fe.Message)
			}
		})
	}
}

// A token works only in its business unit: two business units are two Providers
// and two tokens, each bound to its own account.
func TestBusinessUnits(t *testing.T) {
	srv := start(t)
	ctx := context.Background()
	accounts := []string{"1111", "2222"}
	seen := map[string]string{}
	for _, account := range accounts {
		cfg := serverConfig(srv)
		cfg.AccountID = account
		tok, err := newProvider(t, cfg).Fetch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := srv.TokenAccount(tok.AccessToken); !ok || got != account {
			t.Errorf("token for %s is bound to %q (known %t)", account, got, ok)
		}
		seen[tok.AccessToken] = account
	}
	if len(seen) != len(accounts) {
		t.Errorf("%d distinct tokens for %d business units", len(seen), len(accounts))
	}
}

// Every error Marketing Cloud answers with maps to the kind of failure it is, keeps
// the vendor's code and message, names the next step and reveals no secret.
func TestErrorAnswers(t *testing.T) {
	const wrongSecret = "wrong-secret-value"
	tests := []struct {
		name     string
		opts     []mcv2test.Option
		setup    func(*mcv2test.Server)
		edit     func(*mcv2.Config)
		kind     error
		code     string
		hint     string // a word the hint must contain
		status   int
		requests int // token requests sent
	}{
		{
			name: "wrong secret", edit: func(c *mcv2.Config) { c.ClientSecret = wrongSecret },
			kind: transport.ErrCredentialsRejected, code: "invalid_client", hint: "ClientSecret", status: 401, requests: 1,
		},
		{
			name: "unknown client", edit: func(c *mcv2.Config) { c.ClientID = "nobody" },
			kind: transport.ErrCredentialsRejected, code: "invalid_client", hint: "ClientID", status: 401, requests: 1,
		},
		{
			name: "revoked client", setup: func(s *mcv2test.Server) { s.RevokeClient(emulator.MCv2ClientID) },
			kind: transport.ErrCredentialsRejected, code: "invalid_client", hint: "ClientSecret", status: 401, requests: 1,
		},
		{
			name: "legacy package", opts: []mcv2test.Option{mcv2test.WithLegacyClient(emulator.MCv2ClientID, emulator.MCv2ClientSecret)},
			kind: transport.ErrConfig, code: "invalid_client", hint: "mcv1", status: 401, requests: 1,
		},
		{
			name: "web app asking for client credentials",
			edit: func(c *mcv2.Config) {
				c.ClientID, c.ClientSecret = emulator.MCv2WebAppID, emulator.MCv2WebAppSecret
			},
			kind: transport.ErrConfig, code: "unauthorized_client", hint: "client_credentials", status: 400, requests: 1,
		},
		{
			name: "endpoint down", setup: func(s *mcv2test.Server) { s.FailTokenRequests(3, 503, 0) },
			edit: func(c *mcv2.Config) {
				c.Retry = provider.Retry{MaxRetries: 2, WaitMin: time.Millisecond, WaitMax: time.Millisecond}
			},
			kind: transport.ErrEndpoint, status: 503, requests: 3,
		},
		{
			name: "throttled", setup: func(s *mcv2test.Server) { s.FailTokenRequests(1, 429, 0) },
			kind: transport.ErrEndpoint, status: 429, requests: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := start(t, tt.opts...)
			if tt.setup != nil {
				tt.setup(srv)
			}
			cfg := serverConfig(srv)
			if tt.edit != nil {
				tt.edit(&cfg)
			}
			_, err := newProvider(t, cfg).Fetch(context.Background())
			fe := fetchError(t, err, tt.kind)
			if fe.Code != tt.code && tt.code != "" || fe.StatusCode != tt.status || fe.Provider != "mcv2" {
				t.Errorf("FetchError %+v, want code %q, status %d", fe, tt.code, tt.status)
			}
			if tt.code != "" && fe.Message == "" {
				t.Errorf("the vendor's message is lost: %+v", fe)
			}
			if !strings.Contains(fe.Hint, tt.hint) {
				t.Errorf("hint %q does not mention %q", fe.Hint, tt.hint)
			}
			testkit.WantAbsent(t, "error", err.Error(), cfg.ClientSecret, emulator.MCv2ClientSecret, wrongSecret)
			if got := srv.Stats().TokenRequests; got != tt.requests {
				t.Errorf("%d token requests, want %d", got, tt.requests)
			}
		})
	}
}
