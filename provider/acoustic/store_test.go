package acoustic_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/provider/acoustic"
	"github.com/tokentrip/tokentrip/provider/acoustic/acoustictest"
	"github.com/tokentrip/tokentrip/transport"
)

// TestStoreSharesTokens: Transports built from Configs with one Store share a
// user's token, one token request between them, and never take the token of
// another user of the same application.
func TestStoreSharesTokens(t *testing.T) {
	const otherUser = "tokentrip-acoustic-refresh-token-of-another-user"
	tests := []struct {
		name          string
		first, second string // the refresh tokens
		wantRequests  int
	}{
		{name: "same user", first: acoustictest.DefaultRefreshToken, second: acoustictest.DefaultRefreshToken, wantRequests: 1},
		{name: "two users", first: acoustictest.DefaultRefreshToken, second: otherUser, wantRequests: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, clock := newEmulator(t,
				acoustictest.WithClient(acoustictest.DefaultClientID, acoustictest.DefaultClientSecret, acoustictest.DefaultRefreshToken),
				acoustictest.WithClient(acoustictest.DefaultClientID, acoustictest.DefaultClientSecret, otherUser))
			shared := &transport.MemoryStore{}
			var tokens []string
			for i, refreshToken := range []string{tt.first, tt.second} {
				cfg := configFor(srv, clock)
				cfg.RefreshToken, cfg.Source.Store = refreshToken, shared
				tr, err := acoustic.NewTransport(cfg)
				if err != nil {
					t.Fatal(err)
				}
				if r := postXML(t, &http.Client{Transport: tr}, srv.URL, getLists); r.status != http.StatusOK || r.body != xmlSuccess {
					t.Fatalf("call through Transport %d: %d %s", i+1, r.status, r.body)
				}
				tok, _ := tr.Source().Current()
				tokens = append(tokens, tok.AccessToken)
			}
			st := srv.Stats()
			if st.TokenRequests != tt.wantRequests || st.TokensIssued != tt.wantRequests || len(st.Rejections) != 0 {
				t.Errorf("stats %+v; want %d token requests, each minting a token", st, tt.wantRequests)
			}
			if same := tokens[0] == tokens[1]; same != (tt.wantRequests == 1) {
				t.Errorf("the Transports use the same token: %t, want %t", same, tt.wantRequests == 1)
			}
		})
	}
}

// TestStoreRendering: a Config shows whether it has a Store, and nothing more.
func TestStoreRendering(t *testing.T) {
	cfg := acoustic.Config{Pod: "6", ClientID: "id", ClientSecret: "secret", RefreshToken: "refresh", Common: provider.Common{Source: transport.Settings{Store: &transport.MemoryStore{}}}}
	js, err := cfg.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	for how, out := range map[string]string{
		"%v":   cfg.String(),
		"json": string(js),
		"slog": fmt.Sprint(slog.AnyValue(cfg)),
	} {
		if !strings.Contains(strings.ToLower(out), "store") || strings.Contains(out, "MemoryStore") {
			t.Errorf("%s: %s\nwant the Store shown as set", how, out)
		}
	}
	if s := cfg.String(); !strings.Contains(s, " Store:set}") {
		t.Errorf("String() = %s, want Store:set", s)
	}
	if s := (acoustic.Config{Pod: "6"}).String(); strings.Contains(s, "Store") {
		t.Errorf("String() = %s, want no Store when none is set", s)
	}
}
