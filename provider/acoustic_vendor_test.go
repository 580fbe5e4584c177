package provider_test

import (
	"testing"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/provider/acoustic"
	"github.com/tokentrip/tokentrip/provider/acoustic/acoustictest"
	"github.com/tokentrip/tokentrip/store"
	"github.com/tokentrip/tokentrip/transport"
)

// acousticVendor is the Acoustic Campaign provider.
// otherUser is a second Acoustic refresh token of the default application.
const otherUser = "tokentrip-acoustic-refresh-token-of-another-user"

var acousticVendor = &vendor{
	name: "acoustic", clientID: emulator.AcousticClientID, secrets: []string{emulator.AcousticClientSecret, emulator.AcousticRefreshToken},
	apiPaths: []string{"/rest/databases", "/XMLAPI"},
	start: func(t *testing.T) *emu {
		s := acoustictest.NewServer(
			acoustictest.WithClient(emulator.AcousticClientID, emulator.AcousticClientSecret, emulator.AcousticRefreshToken),
			acoustictest.WithClient(emulator.AcousticClientID, emulator.AcousticClientSecret, otherUser))
		return running(t, s.URL, s.Controls)
	},
	config: func(e *emu) *config {
		return acousticConfig(&acoustic.Config{BaseURL: e.URL, ClientID: emulator.AcousticClientID, ClientSecret: emulator.AcousticClientSecret,
			RefreshToken: emulator.AcousticRefreshToken, Common: provider.Common{HTTPClient: e.Client()}})
	},
	bad: []badConfig{
		{func() *config { return acousticConfig(&acoustic.Config{}) }, "Pod"},
		{func() *config {
			return acousticConfig(&acoustic.Config{Pod: "42", ClientID: "id", ClientSecret: "s", RefreshToken: "r"})
		}, "Pod"},
	},
	sharing: []sharingCase{
		{name: "same user", want: 1, configs: acousticPair(emulator.AcousticRefreshToken, emulator.AcousticRefreshToken)},
		{name: "two users", want: 2, configs: acousticPair(emulator.AcousticRefreshToken, otherUser)},
	},
	rendered: func(*testing.T) (*config, []string, []string, []string) {
		cfg := &acoustic.Config{
			Pod:          "pilot",
			BaseURL:      "https://me:" + plantedURLPw + "@127.0.0.1/?k=" + plantedQuery,
			ClientID:     "client-id-visible",
			ClientSecret: plantedSecret,
			RefreshToken: plantedRT,
			MaxInFlight:  4,
			Common:       provider.Common{Source: transport.Settings{Store: &store.MemoryTokens{}}, Transport: transport.Options{Hosts: plantedHosts}},
		}
		return acousticConfig(cfg), []string{"client-id-visible", "[REDACTED]", "127.0.0.1", "api.example.com"},
			[]string{plantedSecret, plantedURLPw, plantedQuery, plantedRT},
			[]string{"pod", "base_url", "client_id", "client_secret", "refresh_token", "max_in_flight", "limit_mode", "store", "hosts"}
	},
	check: func(t *testing.T, str string, decoded map[string]any) {
		for _, part := range []string{"Pod:pilot", "ClientID:client-id-visible", "ClientSecret:[REDACTED]", "RefreshToken:[REDACTED]", "MaxInFlight:4", "LimitMode:wait"} {
			if !containsWord(str, part) {
				t.Errorf("String() = %s, want %s", str, part)
			}
		}
		if decoded["refresh_token"] != "[REDACTED]" || decoded["limit_mode"] != "wait" {
			t.Errorf("JSON %v, want the refresh token redacted and the limit mode named", decoded)
		}
	},
}

// acousticPair returns Configs of the default application for two refresh tokens.
func acousticPair(first, second string) func(*testing.T, *emu) [2]*config {
	return func(_ *testing.T, e *emu) [2]*config {
		var out [2]*config
		for i, rt := range []string{first, second} {
			out[i] = acousticConfig(&acoustic.Config{BaseURL: e.URL, ClientID: emulator.AcousticClientID, ClientSecret: emulator.AcousticClientSecret, RefreshToken: rt})
		}
		return out
	}
}

func acousticConfig(c *acoustic.Config) *config {
	return configOf(c, &c.Common, acoustic.NewTransport, acoustic.NewClient, acoustic.NewProvider)
}
