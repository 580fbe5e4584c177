package mcv1_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/provider/mcv1"
	"github.com/tokentrip/tokentrip/provider/mcv1/mcv1test"
	"github.com/tokentrip/tokentrip/store"
	"github.com/tokentrip/tokentrip/transport"
)

// TestStoreSharesTokens: Transports built from Configs with one Store share a
// credential's token, one token request between them, and never take the token of
// another credential.
func TestStoreSharesTokens(t *testing.T) {
	offline := func(key string) func(*mcv1.Config) {
		return func(c *mcv1.Config) { c.Offline, c.RefreshTokenKey = true, key }
	}
	tests := []struct {
		name          string
		first, second func(*mcv1.Config)
		wantRequests  int
	}{
		{name: "same credential", wantRequests: 1},
		{name: "same offline credential", first: offline("user-a"), second: offline("user-a"), wantRequests: 1},
		{name: "offline credentials of two refresh tokens", first: offline("user-a"), second: offline("user-b"), wantRequests: 2},
		{name: "client credentials and offline", second: offline("user-a"), wantRequests: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t)
			shared, refreshTokens := &transport.MemoryStore{}, &store.Memory{}
			var tokens []string
			for i, edit := range []func(*mcv1.Config){tt.first, tt.second} {
				cfg := configFor(srv)
				cfg.Source.Store = shared
				if edit != nil {
					edit(&cfg)
					cfg.RefreshTokens = refreshTokens
				}
				tr, err := mcv1.NewTransport(cfg)
				if err != nil {
					t.Fatal(err)
				}
				if code, body := get(t, &http.Client{Transport: tr}, srv.URL+"/platform/v1/endpoints"); code != http.StatusOK || !strings.Contains(body, `"ok":true`) {
					t.Fatalf("call through Transport %d: %d %s", i+1, code, body)
				}
				tok, _ := tr.Source().Current()
				tokens = append(tokens, tok.AccessToken)
			}
			st := srv.Stats()
			if st.TokenRequests != tt.wantRequests || st.RESTCalls != 2 || len(st.Rejections) != 0 {
				t.Errorf("stats %+v; want %d token requests for 2 accepted REST calls", st, tt.wantRequests)
			}
			if same := tokens[0] == tokens[1]; same != (tt.wantRequests == 1) {
				t.Errorf("the Transports use the same token: %t, want %t", same, tt.wantRequests == 1)
			}
		})
	}
}

// TestStoreRendering: a Config shows whether it has a Store, and nothing more.
func TestStoreRendering(t *testing.T) {
	cfg := mcv1.Config{Subdomain: "mc563885gzs27c5t9-63k636ttgm", ClientID: "id", ClientSecret: "secret", Common: provider.Common{Source: transport.Settings{Store: &transport.MemoryStore{}}}}
	js, err := cfg.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	for how, out := range map[string]string{"%v": cfg.String(), "%#v": cfg.GoString(), "json": string(js), "slog": fmt.Sprint(slog.AnyValue(cfg))} {
		if !strings.Contains(out, "set") || strings.Contains(out, "MemoryStore") {
			t.Errorf("%s: %s\nwant the Store shown as set", how, out)
		}
	}
	if s := cfg.String(); !strings.HasSuffix(s, " Store:set}") {
		t.Errorf("String() = %s, want Store:set", s)
	}
}

// TestServersSharingALegacyPackage: Marketing Cloud may revoke a legacy package's
// token when another is issued for it. Two servers that fetch their own tokens
// knock each other out: each rejection is replayed once with a new token, which
// revokes the other server's, until each Transport sees fresh tokens refused right
// after they worked and spaces its rounds, returning the 401s as they came (a
// token request per call would get the package throttled). Two servers that share
// a Store share one token and make one token request between them, and every
// call succeeds.
func TestServersSharingALegacyPackage(t *testing.T) {
	const calls = 20
	for _, tt := range []struct {
		name         string
		store        bool
		wantRequests func(int) bool
	}{
		{name: "each server alone", wantRequests: func(n int) bool { return n > 1 && n <= calls/2 }},
		{name: "one Store", store: true, wantRequests: func(n int) bool { return n == 1 }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, mcv1test.WithOneTokenPerClient())
			shared := &transport.MemoryStore{}
			var clients []*http.Client
			for range 2 { // two servers, one client id
				cfg := configFor(srv)
				if tt.store {
					cfg.Source.Store = shared
				}
				tr, err := mcv1.NewTransport(cfg)
				if err != nil {
					t.Fatal(err)
				}
				clients = append(clients, &http.Client{Transport: tr})
			}
			refused := 0
			for i := range calls {
				code, body := get(t, clients[i%2], srv.URL+"/platform/v1/endpoints")
				switch {
				case code == http.StatusUnauthorized && !tt.store:
					refused++
				case code != http.StatusOK:
					t.Fatalf("call %d: %d %s", i, code, body)
				}
			}
			st := srv.Stats()
			t.Logf("FIGURE mcv1, two servers on one legacy package, %s: %d calls → %d token requests, %d refused", tt.name, calls, st.TokenRequests, refused)
			if !tt.wantRequests(st.TokenRequests) {
				t.Errorf("%d token requests for %d calls", st.TokenRequests, calls)
			}
		})
	}
}
