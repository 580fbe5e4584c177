package mcv2_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/provider/mcv2"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
	"github.com/tokentrip/tokentrip/store"
	"github.com/tokentrip/tokentrip/transport"
)

// TestStoreSharesTokens: Transports built from Configs with one Store share a
// credential's token, one token request between them, and never take the token of
// another business unit, scope or user.
func TestStoreSharesTokens(t *testing.T) {
	type credential func(srv *mcv2test.Server, rts store.RefreshTokens) mcv2.Config
	server := func(account string, scope ...string) credential {
		return func(srv *mcv2test.Server, _ store.RefreshTokens) mcv2.Config {
			cfg := serverConfig(srv)
			cfg.AccountID, cfg.Scope = account, scope
			return cfg
		}
	}
	user := func(key string) credential {
		return func(srv *mcv2test.Server, rts store.RefreshTokens) mcv2.Config {
			cfg := webConfig(srv, rts)
			cfg.AccountID, cfg.RefreshTokenKey = "5150", key
			return cfg
		}
	}
	tests := []struct {
		name          string
		first, second credential
		wantRequests  int
	}{
		{name: "same business unit", first: server("5150"), second: server("5150"), wantRequests: 1},
		{name: "two business units", first: server("5150"), second: server("5151"), wantRequests: 2},
		{name: "two scopes", first: server("5150", "email_read"), second: server("5150", "email_read email_write"), wantRequests: 2},
		{name: "same user", first: user("user-a"), second: user("user-a"), wantRequests: 1},
		{name: "two users", first: user("user-a"), second: user("user-b"), wantRequests: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := start(t)
			shared, rts := &transport.MemoryStore{}, &store.Memory{}
			cfgs := []mcv2.Config{tt.first(srv, rts), tt.second(srv, rts)}
			// Each user authorises the app once; the tokens counted are the ones
			// the Transports fetch.
			authorised := map[string]bool{}
			for _, cfg := range cfgs {
				if cfg.RefreshTokens != nil && !authorised[cfg.RefreshTokenKey] {
					exchange(t, srv, newProvider(t, cfg))
					authorised[cfg.RefreshTokenKey] = true
				}
			}
			srv.ResetStats()

			var tokens []transport.Token
			for i, cfg := range cfgs {
				cfg.Source.Store = shared
				tr, err := mcv2.NewTransport(cfg)
				if err != nil {
					t.Fatal(err)
				}
				status, echo := getREST(t, &http.Client{Transport: tr}, srv.URL+"/platform/v1/endpoints")
				if status != http.StatusOK || !echo.OK || echo.AccountID != cfg.AccountID {
					t.Fatalf("call through Transport %d: %d %+v, want 200 in business unit %s", i+1, status, echo, cfg.AccountID)
				}
				tok, _ := tr.Source().Current()
				if want := strings.Join(cfg.Scope, " "); want != "" && tok.Scope != want {
					t.Errorf("Transport %d has a token for scope %q, want %q", i+1, tok.Scope, want)
				}
				tokens = append(tokens, tok)
			}
			st := srv.Stats()
			if st.TokenRequests != tt.wantRequests || st.RESTCalls != 2 || len(st.Rejections) != 0 {
				t.Errorf("stats %+v; want %d token requests for 2 accepted REST calls", st, tt.wantRequests)
			}
			if same := tokens[0].AccessToken == tokens[1].AccessToken; same != (tt.wantRequests == 1) {
				t.Errorf("the Transports use the same token: %t, want %t", same, tt.wantRequests == 1)
			}
		})
	}
}

// TestStoreRendering: a Config shows whether it has a Store, and nothing more.
func TestStoreRendering(t *testing.T) {
	cfg := mcv2.Config{Subdomain: subdomain, ClientID: "id", ClientSecret: "secret", Common: provider.Common{Source: transport.Settings{Store: &transport.MemoryStore{}}}}
	js, err := cfg.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	for how, out := range map[string]string{
		"%v":   cfg.String(),
		"%#v":  cfg.GoString(),
		"json": string(js),
		"slog": fmt.Sprint(slog.AnyValue(cfg)),
	} {
		if !strings.Contains(out, "set") || strings.Contains(out, "MemoryStore") {
			t.Errorf("%s: %s\nwant the Store shown as set", how, out)
		}
	}
	if s := cfg.String(); !strings.HasSuffix(s, " Store:set}") {
		t.Errorf("String() = %s, want Store:set", s)
	}
}
