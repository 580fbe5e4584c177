package provider_test

import (
	"testing"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/provider/mcv1"
	"github.com/tokentrip/tokentrip/provider/mcv1/mcv1test"
	"github.com/tokentrip/tokentrip/store"
	"github.com/tokentrip/tokentrip/transport"
)

// mcv1Vendor is the legacy Marketing Cloud provider.
var mcv1Vendor = &vendor{
	name: "mcv1", clientID: emulator.MCv1ClientID, secrets: []string{emulator.MCv1ClientSecret},
	apiPaths: []string{"/platform/v1/endpoints", "/Service.asmx"}, soap: true,
	start: func(t *testing.T) *emu { s := mcv1test.NewServer(); return running(t, s.URL, s.Controls) },
	config: func(e *emu) *config {
		return mcv1Config(&mcv1.Config{AuthURL: e.URL, ClientID: emulator.MCv1ClientID, ClientSecret: emulator.MCv1ClientSecret,
			Common: provider.Common{HTTPClient: e.Client()}})
	},
	bad: []badConfig{
		{func() *config { return mcv1Config(&mcv1.Config{}) }, "Subdomain"},
		{func() *config {
			return mcv1Config(&mcv1.Config{Subdomain: "mc-too-short", ClientID: "id", ClientSecret: "s"})
		}, "Subdomain"},
	},
	sharing: []sharingCase{
		{name: "same credential", want: 1, configs: mcv1Pair(nil, nil)},
		{name: "same offline credential", want: 1, configs: mcv1Pair(mcv1Offline("user-a"), mcv1Offline("user-a"))},
		{name: "offline credentials of two refresh tokens", want: 2, configs: mcv1Pair(mcv1Offline("user-a"), mcv1Offline("user-b"))},
		{name: "client credentials and offline", want: 2, configs: mcv1Pair(nil, mcv1Offline("user-a"))},
	},
	rendered: func(t *testing.T) (*config, []string, []string, []string) {
		rts := &store.Memory{}
		if err := rts.CompareAndSwap(t.Context(), "k", "", plantedRT); err != nil {
			t.Fatal(err)
		}
		cfg := &mcv1.Config{
			AuthURL:       "https://user:" + plantedURLPw + "@auth.exacttargetapis.com/?token=" + plantedQuery + "#" + plantedQuery,
			ClientID:      "client-id-visible",
			ClientSecret:  plantedSecret,
			Offline:       true,
			RefreshTokens: rts,
			Common:        provider.Common{Source: transport.Settings{Store: &store.MemoryTokens{}}, Transport: transport.Options{Hosts: plantedHosts}},
		}
		return mcv1Config(cfg), []string{"client-id-visible", "[REDACTED]", "auth.exacttargetapis.com", "api.example.com"},
			[]string{plantedSecret, plantedURLPw, plantedQuery, plantedRT},
			[]string{"auth_url", "client_id", "client_secret", "offline", "refresh_tokens", "store", "hosts"}
	},
	check: func(t *testing.T, _ string, decoded map[string]any) {
		if decoded["offline"] != true {
			t.Errorf("JSON %v, want offline true", decoded)
		}
	},
}

// mcv1Offline makes a Config ask for offline access, its refresh token under key.
func mcv1Offline(key string) func(*mcv1.Config) {
	return func(c *mcv1.Config) { c.Offline, c.RefreshTokenKey = true, key }
}

// mcv1Pair returns two Configs of the default client, edited by first and second,
// whose refresh tokens (with offline access) live in one store.
func mcv1Pair(first, second func(*mcv1.Config)) func(*testing.T, *emu) [2]*config {
	return func(_ *testing.T, e *emu) [2]*config {
		rts := &store.Memory{}
		var out [2]*config
		for i, edit := range []func(*mcv1.Config){first, second} {
			cfg := &mcv1.Config{AuthURL: e.URL, ClientID: emulator.MCv1ClientID, ClientSecret: emulator.MCv1ClientSecret}
			if edit != nil {
				edit(cfg)
				cfg.RefreshTokens = rts
			}
			out[i] = mcv1Config(cfg)
		}
		return out
	}
}

func mcv1Config(c *mcv1.Config) *config {
	return configOf(c, &c.Common, mcv1.NewTransport, mcv1.NewClient, mcv1.NewProvider)
}
