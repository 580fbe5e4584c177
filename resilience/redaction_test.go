package resilience_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"testing"

	"github.com/tokentrip/tokentrip/provider/mcv1"
	"github.com/tokentrip/tokentrip/provider/mcv1/mcv1test"
	"github.com/tokentrip/tokentrip/transport"
)

// TestNoSecretInLogsErrorsOrRenderings drives a client through every fault the
// suite knows — failing and throttled token requests, revoked and expired tokens on
// REST and SOAP, revoked credentials until the breaker opens, a timeout, a bad
// configuration — with logging at Debug level. Then it searches everything a user
// could see for every secret and token the run used or was issued: the log, every
// error in every rendering, every event, and every rendering of the configuration,
// the Provider and the Token. Nothing may be found.
func TestNoSecretInLogsErrorsOrRenderings(t *testing.T) {
	h := newHarness(t, setup{config: func(cfg *mcv1.Config) {
		cfg.Offline = true // refresh tokens, rotated on every fetch
		cfg.Legacy = true  // legacy tokens next to the access tokens
		cfg.SourceOptions = []transport.SourceOption{
			transport.WithBackoff(noBackoff),
			transport.WithLogger(cfg.Logger), // the Source's own logger option too
		}
	}})
	var errs []error
	record := func(o outcome) {
		if o.err != nil {
			errs = append(errs, o.err)
		}
	}

	// Token requests that fail, then a throttled one, before the first token.
	h.srv.FailTokenRequests(2, http.StatusInternalServerError, 0)
	record(restAPI.call(t.Context(), h))
	issued, ok := h.tr.Source().Current()
	if !ok {
		t.Fatal("no token after the first call")
	}
	h.srv.FailTokenRequests(1, http.StatusTooManyRequests, 0)
	record(soapAPI.call(t.Context(), h))
	// Rejected tokens, replayed with new ones (each redeeming a refresh token).
	for _, reject := range []func(string) bool{h.srv.RevokeToken, h.srv.ExpireToken} {
		for _, a := range []api{restAPI, soapAPI} {
			used, _ := h.tr.Source().Current()
			reject(used.AccessToken)
			record(a.call(t.Context(), h))
		}
	}
	// A token endpoint that gives up; then revoked credentials until the breaker
	// opens and refuses.
	cur, _ := h.tr.Source().Current()
	h.srv.RevokeToken(cur.AccessToken)
	h.srv.FailTokenRequests(100, http.StatusBadGateway, 0)
	record(restAPI.call(t.Context(), h))
	h.srv.FailTokenRequests(0, 0, 0)
	h.srv.RevokeClient(mcv1test.DefaultClientID)
	for range 4 {
		record(soapAPI.call(t.Context(), h))
	}
	if _, err := h.tr.Source().Token(t.Context()); err != nil {
		errs = append(errs, err)
	}
	// Configurations that cannot work, carrying the secret where it does not belong.
	for _, bad := range []mcv1.Config{
		{AuthURL: h.srv.URL, ClientID: mcv1test.DefaultClientID, ClientSecret: " " + mcv1test.DefaultClientSecret + "\n"},
		{AuthURL: "https://" + mcv1test.DefaultClientID + ":" + mcv1test.DefaultClientSecret + "@auth.example.com", ClientID: mcv1test.DefaultClientID, ClientSecret: mcv1test.DefaultClientSecret},
		{AuthURL: "https://auth.example.com/?secret=" + mcv1test.DefaultClientSecret, ClientID: mcv1test.DefaultClientID, ClientSecret: mcv1test.DefaultClientSecret},
	} {
		if _, err := mcv1.NewTransport(bad); err != nil {
			errs = append(errs, err)
		}
	}

	if st := h.tr.Source().Stats(); st.Breaker != "open" || len(errs) < 8 {
		t.Fatalf("the run did not reach every fault: breaker %s, %d errors", st.Breaker, len(errs))
	}
	if !errors.Is(errs[len(errs)-4], transport.ErrCircuitOpen) {
		t.Fatalf("the last call's error is %v, want the breaker's", errs[len(errs)-4])
	}

	texts := map[string]string{"log": h.logs.String()}
	for i, err := range errs {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			texts[fmt.Sprintf("error %d as %s", i, verb)] = fmt.Sprintf(verb, err)
		}
	}
	for i, ev := range h.events.all() {
		texts[fmt.Sprintf("event %d (%s)", i, ev.Kind)] = fmt.Sprintf("%+v %#v", ev, ev)
	}
	provider, err := mcv1.NewProvider(h.cfg)
	if err != nil {
		t.Fatal(err)
	}
	renderings := []any{h.cfg, &h.cfg, provider, issued, &issued, h.tr.Source().Stats(), h.tr.Stats()}
	for i, v := range renderings {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			texts[fmt.Sprintf("rendering %d (%T) as %s", i, v, verb)] = fmt.Sprintf(verb, v)
		}
	}
	if b, err := json.Marshal(h.cfg); err == nil {
		texts["the Config as JSON"] = string(b)
	}
	var slogged lockedBuffer
	for _, handler := range []slog.Handler{slog.NewJSONHandler(&slogged, nil), slog.NewTextHandler(&slogged, nil)} {
		slog.New(handler).Info("configured", "config", h.cfg, "provider", provider)
	}
	texts["the Config and Provider through slog"] = slogged.String()

	secrets := h.secrets.list()
	found := leaks(secrets, texts)
	size := 0
	for _, s := range texts {
		size += len(s)
	}
	t.Logf("FIGURE redaction: %d secret values (client secret, access, refresh and legacy tokens) searched in %d texts of %d bytes in all (a %d-byte Debug log, %d errors in 5 renderings each, %d events, %d values in 4 renderings each, the Config as JSON and through slog): %d found",
		len(secrets), len(texts), size, len(h.logs.String()), len(errs), len(h.events.all()), len(renderings), len(found))
	if len(secrets) < 10 {
		t.Errorf("only %d secret values collected; the run should have issued more tokens", len(secrets))
	}
	for _, f := range found {
		t.Error(f)
	}
}
