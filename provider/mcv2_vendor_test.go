package provider_test

import (
	"context"
	"strings"
	"testing"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/provider/mcv2"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
	"github.com/tokentrip/tokentrip/store"
	"github.com/tokentrip/tokentrip/transport"
)

// mcv2Vendor is the enhanced-package Marketing Cloud provider.
// mcv2Redirect is the redirect URI of the mcv2 emulator's web app in these tests.
const mcv2Redirect = "https://app.example.com/mc/callback"

var mcv2Vendor = &vendor{
	name: "mcv2", clientID: emulator.MCv2ClientID, secrets: []string{emulator.MCv2ClientSecret},
	apiPaths: []string{"/platform/v1/endpoints", "/Service.asmx"}, soap: true,
	start: func(t *testing.T) *emu {
		s := mcv2test.NewServer()
		e := running(t, s.URL, s.Controls)
		e.mcv2 = s
		return e
	},
	config: func(e *emu) *config {
		return mcv2Config(&mcv2.Config{AuthURL: e.URL, ClientID: emulator.MCv2ClientID, ClientSecret: emulator.MCv2ClientSecret,
			AccountID: "5150", Common: provider.Common{HTTPClient: e.Client(), Retry: provider.Retry{MaxRetries: -1}}})
	},
	bad: []badConfig{
		{func() *config { return mcv2Config(&mcv2.Config{}) }, "ClientID"},
		{func() *config { return mcv2Config(&mcv2.Config{Subdomain: "mc1", ClientID: "id", ClientSecret: "s"}) }, "Subdomain"},
	},
	sharing: []sharingCase{
		{name: "same business unit", want: 1, configs: mcv2Pair(mcv2Server("5150"), mcv2Server("5150"))},
		{name: "two business units", want: 2, configs: mcv2Pair(mcv2Server("5150"), mcv2Server("5151"))},
		{name: "two scopes", want: 2, configs: mcv2Pair(mcv2Server("5150", "email_read"), mcv2Server("5150", "email_read email_write"))},
		{name: "same user", want: 1, configs: mcv2Pair(mcv2User("user-a"), mcv2User("user-a"))},
		{name: "two users", want: 2, configs: mcv2Pair(mcv2User("user-a"), mcv2User("user-b"))},
	},
	rendered: func(*testing.T) (*config, []string, []string, []string) {
		cfg := &mcv2.Config{
			Subdomain:     "mc563885gzs27c5t9-63k636tzgm",
			AuthURL:       "https://user:" + plantedURLPw + "@auth.example.com/?k=" + plantedQuery + "#" + plantedQuery,
			ClientID:      "client-id-visible",
			ClientSecret:  plantedSecret,
			AccountID:     "12345",
			Scope:         []string{"email_read"},
			RefreshTokens: &store.Memory{},
			Common:        provider.Common{Source: transport.Settings{Store: &store.MemoryTokens{}}, Transport: transport.Options{Hosts: plantedHosts}},
		}
		return mcv2Config(cfg), []string{"client-id-visible", "[REDACTED]", "12345", "auth.example.com", "api.example.com"},
			[]string{plantedSecret, plantedURLPw, plantedQuery},
			[]string{"subdomain", "auth_url", "client_id", "client_secret", "account_id", "scope", "refresh_tokens", "store", "hosts"}
	},
}

// mcv2Server is a server-to-server credential in business unit account.
func mcv2Server(account string, scope ...string) func(*testing.T, *emu, store.RefreshTokens) *mcv2.Config {
	return func(_ *testing.T, e *emu, _ store.RefreshTokens) *mcv2.Config {
		return &mcv2.Config{AuthURL: e.URL, ClientID: emulator.MCv2ClientID, ClientSecret: emulator.MCv2ClientSecret, AccountID: account, Scope: scope}
	}
}

// mcv2User is the credential of the web app's user whose refresh token is under
// key in rts, authorised here (the token requests counted are the Transports').
func mcv2User(key string) func(*testing.T, *emu, store.RefreshTokens) *mcv2.Config {
	return func(t *testing.T, e *emu, rts store.RefreshTokens) *mcv2.Config {
		cfg := &mcv2.Config{AuthURL: e.URL, ClientID: emulator.MCv2WebAppID, ClientSecret: emulator.MCv2WebAppSecret,
			AccountID: "5150", RedirectURI: mcv2Redirect, RefreshTokens: rts, RefreshTokenKey: key}
		if stored, _ := rts.Load(t.Context(), key); stored == "" {
			p, err := mcv2.NewProvider(*cfg)
			if err != nil {
				t.Fatal(err)
			}
			code := e.mcv2.IssueCode(mcv2test.CodeGrant{RedirectURI: mcv2Redirect})
			if _, err := p.Exchange(context.Background(), mcv2.Callback{Code: code}); err != nil {
				t.Fatalf("Exchange: %v", err)
			}
		}
		return cfg
	}
}

// mcv2Pair returns the Configs of first and second, whose refresh tokens share one
// store.
func mcv2Pair(first, second func(*testing.T, *emu, store.RefreshTokens) *mcv2.Config) func(*testing.T, *emu) [2]*config {
	return func(t *testing.T, e *emu) [2]*config {
		rts := &store.Memory{}
		a, b := first(t, e, rts), second(t, e, rts)
		return [2]*config{mcv2Config(a), mcv2Config(b)}
	}
}

func mcv2Config(c *mcv2.Config) *config {
	cfg := configOf(c, &c.Common, mcv2.NewTransport, mcv2.NewClient, mcv2.NewProvider)
	cfg.account, cfg.scope = c.AccountID, strings.Join(c.Scope, " ")
	return cfg
}
