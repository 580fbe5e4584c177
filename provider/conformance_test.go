package provider_test

// The promises every provider keeps, held once for all three as tables over the
// vendors (vendors_test.go). What only one vendor does is tested in its package.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/internal/emulator/emulatortest"
	"github.com/tokentrip/tokentrip/internal/testkit"
	"github.com/tokentrip/tokentrip/store"
	"github.com/tokentrip/tokentrip/transport"
)

// TestMain checks that nothing outlives the tests but idle keep-alive connections.
func TestMain(m *testing.M) { testkit.VerifyTestMain(m) }

// restEcho is an emulator's answer to an accepted REST GET.
type restEcho struct {
	OK        bool   `json:"ok"`
	Path      string `json:"path"`
	AccountID string `json:"accountId"`
}

// forEach runs test once per vendor.
func forEach(t *testing.T, test func(t *testing.T, v *vendor)) {
	for _, v := range vendors {
		t.Run(v.name, func(t *testing.T) { test(t, v) })
	}
}

// build is cfg's Transport, failing the test on error.
func build(t *testing.T, cfg *config) *transport.Transport {
	t.Helper()
	tr, err := cfg.newTransport()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(tr.CloseIdleConnections)
	return tr
}

// callREST makes a REST GET to the emulator's first API path through client and
// checks the emulator's echo: accepted, that path, cfg's business unit.
func callREST(t *testing.T, v *vendor, e *emu, cfg *config, client *http.Client) {
	t.Helper()
	echo := emulatortest.Decode[restEcho](t, emulatortest.Send(t, client, http.MethodGet, e.URL+v.apiPaths[0], "", ""))
	if !echo.OK || echo.Path != v.apiPaths[0] || echo.AccountID != cfg.account {
		t.Fatalf("REST echo %+v, want ok for %s in business unit %q", echo, v.apiPaths[0], cfg.account)
	}
}

// current is the Source's current token.
func current(tr *transport.Transport) transport.Token {
	tok, _ := tr.Source().Current()
	return tok
}

// TestNewClient: NewClient is all an integration needs: many calls, one token, sent
// as "Authorization: Bearer <token>" with a capital B.
func TestNewClient(t *testing.T) {
	forEach(t, func(t *testing.T, v *vendor) {
		e := v.start(t)
		cfg := v.config(e)
		api := &testkit.Recorder{Next: e.Client().Transport}
		cfg.Transport.Base = api
		client, err := cfg.newClient()
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			callREST(t, v, e, cfg, client)
		}
		tok := current(client.Transport.(*transport.Transport))
		for _, s := range api.Sent() {
			if s.Authorization != "Bearer "+tok.AccessToken {
				t.Errorf("Authorization %q, want \"Bearer \" and the token", s.Authorization)
			}
		}
		if st := e.Stats(); st.TokenRequests != 1 || st.RESTCalls != 3 || len(st.Rejections) != 0 {
			t.Errorf("stats %+v; want one token request for three accepted REST calls", st)
		}
	})
}

// TestBadConfigBuildsNothing: a Config that cannot work gives no client, no
// Transport and no Provider, but a *transport.ConfigError naming the field, before
// anything is sent.
func TestBadConfigBuildsNothing(t *testing.T) {
	forEach(t, func(t *testing.T, v *vendor) {
		for _, bad := range v.bad {
			cfg := bad.cfg()
			ce, ok := errors.AsType[*transport.ConfigError](cfg.validate())
			if !ok || ce.Provider != v.name || ce.Field != bad.field || ce.Problem == "" || !errors.Is(ce, transport.ErrConfig) {
				t.Errorf("Validate(%v) = %v, want a ConfigError of %s for %s", cfg.value(), ce, v.name, bad.field)
			}
			if client, err := cfg.newClient(); client != nil || !errors.Is(err, transport.ErrConfig) {
				t.Errorf("NewClient(%v) = %v, %v; want an ErrConfig", cfg.value(), client, err)
			}
			if tr, err := cfg.newTransport(); tr != nil || !errors.Is(err, transport.ErrConfig) {
				t.Errorf("NewTransport(%v) = %v, %v; want an ErrConfig", cfg.value(), tr, err)
			}
			if _, err := cfg.newProvider(); !errors.Is(err, transport.ErrConfig) {
				t.Errorf("NewProvider(%v) = %v; want an ErrConfig", cfg.value(), err)
			}
		}
	})
}

// TestRejectedTokenIsReplacedOnce: a token the API stops accepting costs one new
// token and one replay, and the caller sees only the success.
func TestRejectedTokenIsReplacedOnce(t *testing.T) {
	rejections := []struct {
		name   string
		reject func(e *emu, token string) bool
		reason string
	}{
		{"expired early", func(e *emu, tok string) bool { return e.ExpireToken(tok) }, emulator.ReasonExpiredToken},
		{"revoked", func(e *emu, tok string) bool { return e.RevokeToken(tok) }, emulator.ReasonRevokedToken},
	}
	forEach(t, func(t *testing.T, v *vendor) {
		for _, r := range rejections {
			t.Run(r.name, func(t *testing.T) {
				e := v.start(t)
				cfg := v.config(e)
				tr := build(t, cfg)
				client := &http.Client{Transport: tr}
				callREST(t, v, e, cfg, client)
				used := current(tr)
				if !r.reject(e, used.AccessToken) {
					t.Fatal("the emulator does not know the token")
				}
				callREST(t, v, e, cfg, client)
				st := e.Stats()
				if st.TokenRequests != 2 || st.TokensIssued != 2 || st.RESTCalls != 3 || tr.Source().Stats().Replays != 1 {
					t.Errorf("stats %+v, replays %d; want 2 token requests, 2 tokens, 3 REST calls, 1 replay", st, tr.Source().Stats().Replays)
				}
				emulatortest.WantRejections(t, st.Rejections, map[string]int{r.reason: 1})
				if current(tr).AccessToken == used.AccessToken {
					t.Error("the rejected token is still current")
				}
			})
		}
	})
}

// TestCredentialStaysOnItsHosts: the emulator (the credential's own host) and a
// host listed in Transport.Hosts get the token; a foreign server on the same
// loopback address gets every request without one.
func TestCredentialStaysOnItsHosts(t *testing.T) {
	forEach(t, func(t *testing.T, v *vendor) {
		var mu sync.Mutex
		auth := map[string][]string{}
		echo := func(name string) *httptest.Server {
			s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				auth[name] = append(auth[name], r.Header.Get("Authorization"))
				mu.Unlock()
			}))
			t.Cleanup(s.Close)
			return s
		}
		listed, foreign := echo("listed"), echo("foreign")
		e := v.start(t)
		cfg := v.config(e)
		cfg.Transport.Hosts = []string{listed.URL}
		tr := build(t, cfg)
		client := &http.Client{Transport: tr}
		callREST(t, v, e, cfg, client)
		emulatortest.Send(t, client, http.MethodGet, listed.URL+"/api", "", "")
		for _, path := range v.apiPaths {
			emulatortest.Send(t, client, http.MethodPost, foreign.URL+path, "text/plain", "call")
		}
		mu.Lock()
		defer mu.Unlock()
		if want := "Bearer " + current(tr).AccessToken; len(auth["listed"]) != 1 || auth["listed"][0] != want {
			t.Errorf("the listed host saw %q, want %q", auth["listed"], want)
		}
		if len(auth["foreign"]) != len(v.apiPaths) || strings.Join(auth["foreign"], "") != "" {
			t.Errorf("the foreign server saw Authorization %q, want %d requests without one", auth["foreign"], len(v.apiPaths))
		}
	})
}

// sourceName is the name of a provider's Source: its name and a short hash.
var sourceName = regexp.MustCompile(`^[a-z0-9]+/[0-9a-f]{8}$`)

// TestHookAndLogger: Source.Hook and Source.Logger see the fetch, by a Source named
// "<provider>/<short hash>" without the client id; the log holds no secret or token.
func TestHookAndLogger(t *testing.T) {
	forEach(t, func(t *testing.T, v *vendor) {
		e := v.start(t)
		cfg := v.config(e)
		var logged bytes.Buffer
		var mu sync.Mutex
		var events []transport.Event
		cfg.Source.Logger = slog.New(slog.NewJSONHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
		cfg.Source.Hook = func(ev transport.Event) {
			mu.Lock()
			events = append(events, ev)
			mu.Unlock()
		}
		tr := build(t, cfg)
		callREST(t, v, e, cfg, &http.Client{Transport: tr})
		mu.Lock()
		defer mu.Unlock()
		if len(events) != 1 || events[0].Kind != transport.EventFetched || !strings.HasPrefix(events[0].Source, v.name+"/") ||
			!sourceName.MatchString(events[0].Source) || strings.Contains(events[0].Source, v.clientID) {
			t.Errorf("events %+v, want one fetch by a Source named %s/<hash>", events, v.name)
		}
		if !strings.Contains(logged.String(), "fetched") {
			t.Errorf("log %s does not record the fetch", logged.String())
		}
		testkit.WantAbsent(t, "log", logged.String(), append(v.secrets, current(tr).AccessToken, v.clientID)...)
	})
}

// TestStoreSharesTokens: Transports over one Store share a credential's token, one
// token request between them, and never take the token of another business unit,
// scope or user.
func TestStoreSharesTokens(t *testing.T) {
	forEach(t, func(t *testing.T, v *vendor) {
		for _, c := range v.sharing {
			t.Run(c.name, func(t *testing.T) {
				e := v.start(t)
				cfgs := c.configs(t, e)
				e.ResetStats()
				shared := &store.MemoryTokens{}
				var tokens []transport.Token
				for i, cfg := range cfgs {
					cfg.Source.Store = shared
					tr := build(t, cfg)
					callREST(t, v, e, cfg, &http.Client{Transport: tr})
					tok := current(tr)
					if cfg.scope != "" && tok.Scope != cfg.scope {
						t.Errorf("Transport %d has a token for scope %q, want %q", i+1, tok.Scope, cfg.scope)
					}
					tokens = append(tokens, tok)
				}
				st := e.Stats()
				if st.TokenRequests != c.want || st.TokensIssued != c.want || st.RESTCalls != 2 || len(st.Rejections) != 0 {
					t.Errorf("stats %+v; want %d token requests, each minting a token, for 2 accepted REST calls", st, c.want)
				}
				if same := tokens[0].AccessToken == tokens[1].AccessToken; same != (c.want == 1) {
					t.Errorf("the Transports use the same token: %t, want %t", same, c.want == 1)
				}
			})
		}
	})
}

// containsWord reports whether a rendering holds part as a whole field: followed
// by a space or the closing brace.
func containsWord(rendering, part string) bool {
	return strings.Contains(rendering, part+" ") || strings.Contains(rendering, part+"}")
}

// TestConfigRenderings renders a Config holding every kind of secret — in its
// fields, in URLs' user info and queries, in a refresh-token store — every way a
// program might print or log it, and a Provider too: no rendering shows a secret,
// and each still says what is configured, that the secrets are set, and that a
// Store is, without naming its type.
func TestConfigRenderings(t *testing.T) {
	forEach(t, func(t *testing.T, v *vendor) {
		cfg, shown, secrets, keys := v.rendered(t)
		secrets = append(secrets, "MemoryStore")
		var logged, text bytes.Buffer
		jsonLog := slog.New(slog.NewJSONHandler(&logged, nil))
		jsonLog.Info("config", "cfg", cfg.value(), "ptr", cfg.ptr())
		jsonLog.LogAttrs(t.Context(), slog.LevelInfo, "attr", slog.Any("cfg", cfg.value()))
		slog.New(slog.NewTextHandler(&text, nil)).Info("config", "cfg", cfg.value(), "ptr", cfg.ptr())
		marshal := func(x any) string {
			b, err := json.Marshal(x)
			if err != nil {
				t.Fatalf("json.Marshal(%T): %v", x, err)
			}
			return string(b)
		}
		js := marshal(cfg.value())
		renderings := map[string]string{
			"%v":          fmt.Sprintf("%v", cfg.value()),
			"%+v":         fmt.Sprintf("%+v", cfg.value()),
			"%#v":         fmt.Sprintf("%#v", cfg.value()),
			"%s %q":       fmt.Sprintf("%s %q", cfg.value(), cfg.value()),
			"%v ptr":      fmt.Sprintf("%v", cfg.ptr()),
			"%+v ptr":     fmt.Sprintf("%+v", cfg.ptr()),
			"%#v ptr":     fmt.Sprintf("%#v", cfg.ptr()),
			"Print":       fmt.Sprint(cfg.value(), cfg.inSlice()),
			"%+v nested":  fmt.Sprintf("%+v", cfg.nested()),
			"json":        js,
			"json ptr":    marshal(cfg.ptr()),
			"json nested": marshal(cfg.nested()),
			"slog json":   logged.String(),
			"slog text":   text.String(),
		}
		for how, out := range renderings {
			testkit.WantAbsent(t, how, out, secrets...)
			for _, s := range shown {
				if !strings.Contains(out, s) {
					t.Errorf("%s: %s\nwant %q shown", how, out, s)
				}
			}
			if !strings.Contains(out, "set") {
				t.Errorf("%s: %s\nwant the Store shown as set", how, out)
			}
		}
		str := fmt.Sprint(cfg.value())
		if !containsWord(str, "Store:set") {
			t.Errorf("String() = %s, want Store:set", str)
		}
		var decoded map[string]any
		if err := json.Unmarshal([]byte(js), &decoded); err != nil || decoded["client_secret"] != "[REDACTED]" || decoded["store"] != "set" {
			t.Errorf("MarshalJSON = %s (%v), want the secret redacted and the Store set", js, err)
		}
		if !strings.Contains(logged.String(), `"client_secret":"[REDACTED]"`) {
			t.Errorf("slog: %s\nwant the redacted secret field", logged.String())
		}
		// JSON and slog use the snake_case keys of every provider's Config.
		for _, key := range keys {
			if _, ok := decoded[key]; !ok {
				t.Errorf("MarshalJSON = %s, want the key %q", js, key)
			}
			if !strings.Contains(logged.String(), `"`+key+`":`) {
				t.Errorf("slog: %s\nwant the key %q", logged.String(), key)
			}
		}
		if v.check != nil {
			v.check(t, str, decoded)
		}
		for _, bad := range v.bad { // no Store set: none shown
			if s := fmt.Sprint(bad.cfg().value()); strings.Contains(s, "Store") {
				t.Errorf("String() = %s, want no Store when none is set", s)
			}
		}

		p, err := v.config(v.start(t)).newProvider()
		if err != nil {
			t.Fatal(err)
		}
		var plog bytes.Buffer
		slog.New(slog.NewJSONHandler(&plog, nil)).Info("provider", "p", p)
		for how, out := range map[string]string{"fmt": fmt.Sprintf("%v %+v %#v %s", p, p, p, p), "json": marshal(p), "slog": plog.String()} {
			testkit.WantAbsent(t, "Provider "+how, out, v.secrets...)
		}
		if out := fmt.Sprintf("%v %+v %#v", p, p, p); strings.Count(out, v.clientID) != 3 {
			t.Errorf("Provider renders as %s, want its client id shown", out)
		}
	})
}

// TestTransportHosts: every provider checks Config.Transport.Hosts one way, in
// Validate and NewTransport alike: the forms transport.Options.Hosts takes pass;
// an entry that names no host, or would send the credential in the clear or inside
// a URL, is a ConfigError that quotes none of its secrets.
func TestTransportHosts(t *testing.T) {
	tests := []struct {
		host  string
		valid bool
	}{
		{"api.example.com", true},
		{"*.example.com", true},
		{"127.0.0.1:9", true},
		{"https://x.example.com/p", true},
		{"https://api.example.com", true},
		{"http://[::1]:8080", true},

		{"", false},
		{"example.com/api", false},
		{"*.com", false},
		{"http://api.example.com", false},
		{"https://u:s3cret@api.example.com", false},
		{"https:///x", false},
		{"https://user:s3cret@ex ample.com", false},
		{"user:s3cret@*.com", false},
		{"s3cret@api.example.com", false},
		{"api.example.com\n", false},
		{" api.example.com", false},
		{"https://api.example.com\n", false},
		{"https://api.example.com ", false},
		{"*", false},
		{"http://localhost:8080", true},
	}
	forEach(t, func(t *testing.T, v *vendor) {
		e := v.start(t)
		for _, tt := range tests {
			cfg := v.config(e)
			cfg.Transport.Hosts = []string{tt.host}
			err := cfg.validate()
			_, newErr := cfg.newTransport()
			if (err == nil) != (newErr == nil) || (err == nil) != tt.valid {
				t.Errorf("%q: Validate: %v, NewTransport: %v; want valid = %t from both", tt.host, err, newErr, tt.valid)
				continue
			}
			if tt.valid {
				continue
			}
			ce, ok := errors.AsType[*transport.ConfigError](err)
			if !ok || !errors.Is(err, transport.ErrConfig) || ce.Field != "Transport.Hosts" || ce.Provider != v.name || ce.Problem == "" {
				t.Errorf("%q: Validate: %#v, want a ConfigError for Transport.Hosts", tt.host, err)
			}
			testkit.WantAbsent(t, "error", err.Error(), "s3cret")
		}
	})
}

// TestSOAPCarriesFuelOAuth: a SOAP envelope sent through a Marketing Cloud
// Transport gets the token as one fueloauth header block, and an expired token's
// "Token Expired" fault costs one new token and one replay, which carries the new
// token.
func TestSOAPCarriesFuelOAuth(t *testing.T) {
	envelopes := map[string]string{
		"without a Header": `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><RetrieveRequestMsg xmlns="http://exacttarget.com/wsdl/partnerAPI"/></s:Body></s:Envelope>`,
		"with a Header": `<?xml version="1.0" encoding="utf-8"?>` +
			`<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">` +
			`<soap:Header><Action xmlns="http://schemas.xmlsoap.org/ws/2004/08/addressing">Retrieve</Action></soap:Header>` +
			`<soap:Body><RetrieveRequestMsg xmlns="http://exacttarget.com/wsdl/partnerAPI"><RetrieveRequest>` +
			`<ObjectType>Subscriber</ObjectType><Properties>EmailAddress</Properties></RetrieveRequest></RetrieveRequestMsg></soap:Body>` +
			`</soap:Envelope>`,
	}
	forEach(t, func(t *testing.T, v *vendor) {
		if !v.soap {
			t.Skip("no SOAP API")
		}
		for name, envelope := range envelopes {
			t.Run(name, func(t *testing.T) {
				e := v.start(t)
				tr := build(t, v.config(e))
				client := &http.Client{Transport: tr}
				call := func() {
					t.Helper()
					if r := emulatortest.Send(t, client, http.MethodPost, e.URL+v.apiPaths[1], "text/xml; charset=utf-8", envelope); r.Status != http.StatusOK {
						t.Fatalf("SOAP call: %d %s", r.Status, r.Body)
					}
				}
				carries := func(tok transport.Token) bool {
					sent := string(e.LastEnvelope())
					return strings.Count(sent, "<fueloauth") == 1 && strings.Contains(sent, `<fueloauth xmlns="http://exacttarget.com">`+tok.AccessToken+`</fueloauth>`)
				}
				call()
				first := current(tr)
				if !carries(first) {
					t.Fatalf("envelope sent without the token:\n%s", e.LastEnvelope())
				}
				e.ExpireToken(first.AccessToken)
				call()
				st := e.Stats()
				if st.TokenRequests != 2 || st.SOAPCalls != 3 || tr.Source().Stats().Replays != 1 {
					t.Errorf("stats %+v, replays %d; want 2 token requests, 3 SOAP calls, 1 replay", st, tr.Source().Stats().Replays)
				}
				emulatortest.WantRejections(t, st.Rejections, map[string]int{emulator.ReasonExpiredToken: 1})
				if now := current(tr); now.AccessToken == first.AccessToken || !carries(now) {
					t.Error("the replay did not carry the new token")
				}
			})
		}
	})
}
