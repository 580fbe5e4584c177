package provider_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/provider/acoustic"
	"github.com/tokentrip/tokentrip/provider/acoustic/acoustictest"
	"github.com/tokentrip/tokentrip/provider/mcv1"
	"github.com/tokentrip/tokentrip/provider/mcv1/mcv1test"
	"github.com/tokentrip/tokentrip/provider/mcv2"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
	"github.com/tokentrip/tokentrip/store"
	"github.com/tokentrip/tokentrip/transport"
)

// vendor is one provider with its vendor's emulator: what the conformance tests
// need to hold every provider to the promises they share.
type vendor struct {
	name     string
	clientID string   // the emulator's default credential
	secrets  []string // what that credential holds that no rendering, error or log may show
	apiPaths []string // API paths the emulator serves; the first answers GET with its JSON echo

	// start runs the emulator until the test ends.
	start func(t *testing.T) *emu
	// config is a Config of the emulator's default credential, with its token
	// requests sent by the emulator's client.
	config func(e *emu) *config
	// bad are Configs that cannot work, each with the field its Validate names.
	bad []badConfig

	// sharing are pairs of credentials with the number of token requests two
	// Transports over one Store make for them: 1 when they are the same
	// credential, 2 when the Store must keep their tokens apart.
	sharing []sharingCase

	// rendered is a Config holding every kind of secret, with what each of its
	// renderings must show and the secrets none may show; keys are the JSON keys
	// it must have, check the vendor's own assertions on its String and JSON.
	rendered func(t *testing.T) (cfg *config, shown, secrets, keys []string)
	check    func(t *testing.T, str string, decoded map[string]any)
}

// emu is a running emulator: its URL and the controls every emulator shares.
type emu struct {
	URL string
	*emulator.Controls
	mcv2 *mcv2test.Server // the Marketing Cloud v2 emulator, which issues codes
}

type badConfig struct {
	cfg   func() *config
	field string
}

type sharingCase struct {
	name    string
	configs func(t *testing.T, e *emu) [2]*config
	want    int
}

// config is one provider's Config behind what the tests do with it.
type config struct {
	*provider.Common // points into the Config

	account, scope string // the business unit and scopes of its tokens, where the vendor has them

	value        func() any // the Config, and it in the other forms a program may hold it
	ptr, inSlice func() any
	nested       func() any
	validate     func() error
	newTransport func() (*transport.Transport, error)
	newClient    func() (*http.Client, error)
	newProvider  func() (transport.Provider, error)
}

// configOf wraps the Config cfg points to.
func configOf[C interface{ Validate() error }, P transport.Provider](cfg *C, common *provider.Common,
	newTransport func(C) (*transport.Transport, error), newClient func(C) (*http.Client, error), newProvider func(C) (P, error)) *config {
	return &config{
		Common:       common,
		value:        func() any { return *cfg },
		ptr:          func() any { return cfg },
		inSlice:      func() any { return []C{*cfg} },
		nested:       func() any { return struct{ Inner C }{*cfg} },
		validate:     func() error { return (*cfg).Validate() },
		newTransport: func() (*transport.Transport, error) { return newTransport(*cfg) },
		newClient:    func() (*http.Client, error) { return newClient(*cfg) },
		newProvider:  func() (transport.Provider, error) { return newProvider(*cfg) },
	}
}

func mcv1Config(c *mcv1.Config) *config {
	return configOf(c, &c.Common, mcv1.NewTransport, mcv1.NewClient, mcv1.NewProvider)
}

func mcv2Config(c *mcv2.Config) *config {
	cfg := configOf(c, &c.Common, mcv2.NewTransport, mcv2.NewClient, mcv2.NewProvider)
	cfg.account, cfg.scope = c.AccountID, strings.Join(c.Scope, " ")
	return cfg
}

func acousticConfig(c *acoustic.Config) *config {
	return configOf(c, &c.Common, acoustic.NewTransport, acoustic.NewClient, acoustic.NewProvider)
}

// Strings planted in the renderings' Configs.
const (
	plantedSecret = "s3cr3t-planted-secret"
	plantedURLPw  = "url-password"
	plantedQuery  = "query-secret"
	plantedRT     = "rt-planted-refresh-token"
)

// plantedHosts are Transport.Hosts entries with a password and a query in them.
var plantedHosts = []string{"https://u:" + plantedURLPw + "@api.example.com/?k=" + plantedQuery, "u:" + plantedURLPw + "@host.example.com"}

// otherUser is a second Acoustic refresh token of the default application.
const otherUser = "tokentrip-acoustic-refresh-token-of-another-user"

// mcv2Redirect is the redirect URI of the mcv2 emulator's web app in these tests.
const mcv2Redirect = "https://app.example.com/mc/callback"

var mcv1Vendor = &vendor{
	name:     "mcv1",
	clientID: mcv1test.DefaultClientID,
	secrets:  []string{mcv1test.DefaultClientSecret},
	apiPaths: []string{"/platform/v1/endpoints", "/Service.asmx"},
	start: func(t *testing.T) *emu {
		s := mcv1test.NewServer()
		t.Cleanup(s.Close)
		return &emu{URL: s.URL, Controls: s.Controls}
	},
	config: func(e *emu) *config {
		return mcv1Config(&mcv1.Config{AuthURL: e.URL, ClientID: mcv1test.DefaultClientID, ClientSecret: mcv1test.DefaultClientSecret,
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
			Common:        provider.Common{Source: transport.Settings{Store: &transport.MemoryStore{}}, Transport: transport.Options{Hosts: plantedHosts}},
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
			cfg := &mcv1.Config{AuthURL: e.URL, ClientID: mcv1test.DefaultClientID, ClientSecret: mcv1test.DefaultClientSecret}
			if edit != nil {
				edit(cfg)
				cfg.RefreshTokens = rts
			}
			out[i] = mcv1Config(cfg)
		}
		return out
	}
}

var mcv2Vendor = &vendor{
	name:     "mcv2",
	clientID: mcv2test.DefaultClientID,
	secrets:  []string{mcv2test.DefaultClientSecret},
	apiPaths: []string{"/platform/v1/endpoints", "/Service.asmx"},
	start: func(t *testing.T) *emu {
		s := mcv2test.NewServer()
		t.Cleanup(s.Close)
		return &emu{URL: s.URL, Controls: s.Controls, mcv2: s}
	},
	config: func(e *emu) *config {
		return mcv2Config(&mcv2.Config{AuthURL: e.URL, ClientID: mcv2test.DefaultClientID, ClientSecret: mcv2test.DefaultClientSecret,
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
			Common:        provider.Common{Source: transport.Settings{Store: &transport.MemoryStore{}}, Transport: transport.Options{Hosts: plantedHosts}},
		}
		return mcv2Config(cfg), []string{"client-id-visible", "[REDACTED]", "12345", "auth.example.com", "api.example.com"},
			[]string{plantedSecret, plantedURLPw, plantedQuery},
			[]string{"subdomain", "auth_url", "client_id", "client_secret", "account_id", "scope", "refresh_tokens", "store", "hosts"}
	},
}

// mcv2Server is a server-to-server credential in business unit account.
func mcv2Server(account string, scope ...string) func(*testing.T, *emu, store.RefreshTokens) *mcv2.Config {
	return func(_ *testing.T, e *emu, _ store.RefreshTokens) *mcv2.Config {
		return &mcv2.Config{AuthURL: e.URL, ClientID: mcv2test.DefaultClientID, ClientSecret: mcv2test.DefaultClientSecret, AccountID: account, Scope: scope}
	}
}

// mcv2User is the credential of the web app's user whose refresh token is under
// key in rts, authorised here (the token requests counted are the Transports').
func mcv2User(key string) func(*testing.T, *emu, store.RefreshTokens) *mcv2.Config {
	return func(t *testing.T, e *emu, rts store.RefreshTokens) *mcv2.Config {
		cfg := &mcv2.Config{AuthURL: e.URL, ClientID: mcv2test.DefaultWebAppID, ClientSecret: mcv2test.DefaultWebAppSecret,
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

var acousticVendor = &vendor{
	name:     "acoustic",
	clientID: acoustictest.DefaultClientID,
	secrets:  []string{acoustictest.DefaultClientSecret, acoustictest.DefaultRefreshToken},
	apiPaths: []string{"/rest/databases", "/XMLAPI"},
	start: func(t *testing.T) *emu {
		s := acoustictest.NewServer(
			acoustictest.WithClient(acoustictest.DefaultClientID, acoustictest.DefaultClientSecret, acoustictest.DefaultRefreshToken),
			acoustictest.WithClient(acoustictest.DefaultClientID, acoustictest.DefaultClientSecret, otherUser))
		t.Cleanup(s.Close)
		return &emu{URL: s.URL, Controls: s.Controls}
	},
	config: func(e *emu) *config {
		return acousticConfig(&acoustic.Config{BaseURL: e.URL, ClientID: acoustictest.DefaultClientID, ClientSecret: acoustictest.DefaultClientSecret,
			RefreshToken: acoustictest.DefaultRefreshToken, Common: provider.Common{HTTPClient: e.Client()}})
	},
	bad: []badConfig{
		{func() *config { return acousticConfig(&acoustic.Config{}) }, "Pod"},
		{func() *config {
			return acousticConfig(&acoustic.Config{Pod: "42", ClientID: "id", ClientSecret: "s", RefreshToken: "r"})
		}, "Pod"},
	},
	sharing: []sharingCase{
		{name: "same user", want: 1, configs: acousticPair(acoustictest.DefaultRefreshToken, acoustictest.DefaultRefreshToken)},
		{name: "two users", want: 2, configs: acousticPair(acoustictest.DefaultRefreshToken, otherUser)},
	},
	rendered: func(*testing.T) (*config, []string, []string, []string) {
		cfg := &acoustic.Config{
			Pod:          "pilot",
			BaseURL:      "https://me:" + plantedURLPw + "@127.0.0.1/?k=" + plantedQuery,
			ClientID:     "client-id-visible",
			ClientSecret: plantedSecret,
			RefreshToken: plantedRT,
			MaxInFlight:  4,
			Common:       provider.Common{Source: transport.Settings{Store: &transport.MemoryStore{}}, Transport: transport.Options{Hosts: plantedHosts}},
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
			out[i] = acousticConfig(&acoustic.Config{BaseURL: e.URL, ClientID: acoustictest.DefaultClientID, ClientSecret: acoustictest.DefaultClientSecret, RefreshToken: rt})
		}
		return out
	}
}

// vendors lists the three providers.
var vendors = []*vendor{mcv1Vendor, mcv2Vendor, acousticVendor}
