package resilience_test

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"testing"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/provider/acoustic"
	"github.com/tokentrip/tokentrip/provider/mcv1"
	"github.com/tokentrip/tokentrip/provider/mcv2"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
	"github.com/tokentrip/tokentrip/store"
	"github.com/tokentrip/tokentrip/transport"
)

// TestNoSecretInLogsErrorsOrRenderings drives a client of each provider through
// every fault the suite knows — failing and throttled token requests, revoked and
// expired tokens on both kinds of API, a token endpoint that stays down, revoked
// credentials until the breaker opens, configurations that cannot work — with
// logging at Debug level. Then it searches everything a user could see for every
// secret and token the run used or was issued (client secrets, refresh tokens,
// authorization codes, access and legacy tokens): the log, every error in five
// renderings, every event, and the configuration, Provider and Token in every
// rendering. Nothing may be found.
func TestNoSecretInLogsErrorsOrRenderings(t *testing.T) {
	const redirectURI = "https://app.example.com/callback"
	tests := []struct {
		vendor    *vendor
		clientID  string                         // the client (default: the vendor's)
		tweak     func(cfg any)                  // the credential under test
		prepare   func(t *testing.T, h *harness) // before the first call
		padSecret func(cfg any)                  // a configuration error around the secret
	}{
		{
			vendor: mcv1Vendor,
			tweak: func(cfg any) {
				c := cfg.(*mcv1.Config)
				c.Offline = true // refresh tokens, rotated on every fetch
				c.Legacy = true  // legacy tokens next to the access tokens
			},
			padSecret: func(cfg any) { c := cfg.(*mcv1.Config); c.ClientSecret = " " + c.ClientSecret + "\n" },
		},
		{
			vendor:   mcv2Vendor,
			clientID: emulator.MCv2WebAppID,
			tweak: func(cfg any) {
				c := cfg.(*mcv2.Config) // a web app acting for a user: rotating refresh tokens
				c.ClientID, c.ClientSecret = emulator.MCv2WebAppID, emulator.MCv2WebAppSecret
				c.RedirectURI, c.RefreshTokens = redirectURI, &store.Memory{}
			},
			prepare: func(t *testing.T, h *harness) {
				code := h.srv.(*mcv2test.Server).IssueCode(mcv2test.CodeGrant{RedirectURI: redirectURI})
				h.secrets.add(code, emulator.MCv2WebAppSecret)
				if _, err := h.provider.(*mcv2.Provider).Exchange(t.Context(), mcv2.Callback{Code: code}); err != nil {
					t.Fatal(err)
				}
			},
			padSecret: func(cfg any) { c := cfg.(*mcv2.Config); c.ClientSecret = " " + c.ClientSecret + "\n" },
		},
		{
			vendor:    acousticVendor,
			padSecret: func(cfg any) { c := cfg.(*acoustic.Config); c.RefreshToken = " " + c.RefreshToken + "\n" },
		},
	}
	for _, tt := range tests {
		v := tt.vendor
		clientID := cmp.Or(tt.clientID, v.clientID)
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, v, setup{
				settings: func(s *settings) {
					s.Source.Backoff = noBackoff
				},
				config: tt.tweak,
			})
			if tt.prepare != nil {
				tt.prepare(t, h)
			}
			var errs []error
			record := func(o outcome) {
				if o.err != nil {
					errs = append(errs, o.err)
				}
			}

			// Token requests that fail, then a throttled one.
			h.srv.FailTokenRequests(2, http.StatusInternalServerError, 0)
			record(h.rest(t.Context()))
			issued, ok := h.tr.Source().Current()
			if !ok {
				t.Fatal("no token after the first call")
			}
			h.srv.ExpireToken(issued.AccessToken)
			h.srv.FailTokenRequests(1, http.StatusTooManyRequests, 0)
			record(h.soap(t.Context()))
			// Rejected tokens, replayed with new ones.
			for _, reject := range []func(string) bool{h.srv.RevokeToken, h.srv.ExpireToken} {
				for _, call := range []func(context.Context) outcome{h.rest, h.soap} {
					used, _ := h.tr.Source().Current()
					reject(used.AccessToken)
					record(call(t.Context()))
				}
			}
			// A token endpoint that stays down; then revoked credentials until the
			// breaker opens and refuses.
			cur, _ := h.tr.Source().Current()
			h.srv.RevokeToken(cur.AccessToken)
			h.srv.FailTokenRequests(100, http.StatusBadGateway, 0)
			record(h.rest(t.Context()))
			h.srv.FailTokenRequests(0, 0, 0)
			h.srv.RevokeClient(clientID)
			for range 4 {
				record(h.soap(t.Context()))
			}
			if _, err := h.tr.Source().Token(t.Context()); err != nil {
				errs = append(errs, err)
			}
			if st := h.tr.Source().Stats(); st.Breaker != "open" || !errors.Is(errs[len(errs)-1], transport.ErrCircuitOpen) {
				t.Fatalf("the run did not reach every fault: breaker %s, last error %v", st.Breaker, errs[len(errs)-1])
			}
			// Configurations that cannot work, with the secret where it does not
			// belong: around white space, in the URL's user info, in its query.
			secret := v.secrets[len(v.secrets)-1]
			bads := []struct {
				authURL string
				tweak   func(any)
			}{
				{h.url, tt.padSecret},
				{"https://" + clientID + ":" + secret + "@auth.example.com", nil},
				{"https://auth.example.com/?secret=" + secret, nil},
			}
			for _, bad := range bads {
				if _, _, _, err := v.build(t, settings{AuthURL: bad.authURL}, bad.tweak); err != nil {
					errs = append(errs, err)
				} else {
					t.Errorf("a configuration with AuthURL %.30q… was accepted", bad.authURL)
				}
			}

			texts := map[string]string{"log": h.logs.String()}
			for i, err := range errs {
				for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
					texts[fmt.Sprintf("error %d as %s", i, verb)] = fmt.Sprintf(verb, err)
				}
			}
			for i, ev := range h.events.Events() {
				texts[fmt.Sprintf("event %d (%s)", i, ev.Kind)] = fmt.Sprintf("%+v %#v", ev, ev)
			}
			renderings := []any{h.config, h.provider, issued, &issued, h.tr.Source().Stats()}
			for i, v := range renderings {
				for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
					texts[fmt.Sprintf("rendering %d (%T) as %s", i, v, verb)] = fmt.Sprintf(verb, v)
				}
			}
			if b, err := json.Marshal(h.config); err == nil {
				texts["the Config as JSON"] = string(b)
			}
			var slogged bytes.Buffer
			for _, handler := range []slog.Handler{slog.NewJSONHandler(&slogged, nil), slog.NewTextHandler(&slogged, nil)} {
				slog.New(handler).Info("configured", "config", h.config, "provider", h.provider)
			}
			texts["the Config and Provider through slog"] = slogged.String()

			secrets := h.secrets.list()
			found := leaks(secrets, texts)
			size := 0
			for _, s := range texts {
				size += len(s)
			}
			t.Logf("FIGURE redaction %s: %d secret values searched in %d texts of %d bytes in all (a %d-byte Debug log, %d errors in 5 renderings each, %d events, %d values in 4 renderings each, the Config as JSON and through slog): %d found",
				v.name, len(secrets), len(texts), size, len(h.logs.String()), len(errs), len(h.events.Events()), len(renderings), len(found))
			if len(secrets) < 6 {
				t.Errorf("only %d secret values collected; the run should have issued more tokens", len(secrets))
			}
			for _, f := range found {
				t.Error(f)
			}
		})
	}
}
