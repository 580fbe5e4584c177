package store_test

import (
	"encoding/json"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/internal/eventrec"
	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/provider/mcv2"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
	"github.com/tokentrip/tokentrip/store"
	"github.com/tokentrip/tokentrip/transport"
)

// syncBuffer is a log destination that handlers may write to concurrently.
type syncBuffer = eventrec.Log

// TestNoCredentialInAnyLogLine runs a client over a TokenCache through a life that
// logs every kind of line at Debug — a fetch, a token saved and adopted, a retry, a
// rejected token replaced and the call replayed, a corrupt cache, a cache others
// could write, revoked credentials until the breaker opens — and finds in none of
// them the client id, the secret or any access token issued.
func TestNoCredentialInAnyLogLine(t *testing.T) {
	srv := mcv2test.NewServer()
	defer srv.Close()
	dir := filepath.Join(t.TempDir(), "cache")
	log := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	issued := map[string]bool{}
	newClient := func() (*transport.Transport, *http.Client) {
		c, err := store.NewTokenCache(dir)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := mcv2.NewTransport(mcv2.Config{
			AuthURL: srv.URL, ClientID: emulator.MCv2ClientID, ClientSecret: emulator.MCv2ClientSecret,
			Common: provider.Common{HTTPClient: srv.Client(), Transport: transport.Options{Base: srv.Client().Transport},
				Retry:  provider.Retry{WaitMin: time.Millisecond, WaitMax: 2 * time.Millisecond},
				Source: transport.Settings{Store: c, Logger: logger, Backoff: func(int) time.Duration { return 0 }, Breaker: transport.BreakerSettings{Rejections: 2, Outages: -1, Cooldown: time.Hour}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(tr.CloseIdleConnections)
		return tr, &http.Client{Transport: tr}
	}
	call := func(tr *transport.Transport, client *http.Client) {
		if resp, err := client.Get(srv.URL + "/platform/v1/endpoints"); err == nil {
			resp.Body.Close()
		}
		if cur, ok := tr.Source().Current(); ok {
			issued[cur.AccessToken] = true
		}
	}
	cacheFile := filepath.Join(dir, "tokens.json")
	steps := []struct {
		name string
		run  func()
		want string // a line the step logs
	}{
		{"a fetch, saved to the cache", func() { tr, c := newClient(); call(tr, c) }, `msg="tokentrip: fetched"`},
		{"the next run adopts it", func() { tr, c := newClient(); call(tr, c) }, `msg="tokentrip: adopted"`},
		{"a rejected token, replaced and replayed", func() {
			tr, c := newClient()
			call(tr, c)
			for tok := range issued {
				srv.ExpireToken(tok)
			}
			call(tr, c)
		}, `msg="tokentrip: replayed"`},
		{"a retry", func() {
			tr, c := newClient()
			call(tr, c)
			for tok := range issued {
				srv.ExpireToken(tok)
			}
			srv.FailTokenRequests(1, http.StatusServiceUnavailable, 0)
			call(tr, c)
		}, `msg="tokentrip: retrying"`},
		{"a corrupt cache", func() {
			os.WriteFile(cacheFile, []byte("garbage"), 0o600)
			tr, c := newClient()
			call(tr, c)
		}, `msg="tokentrip: store_corrupt"`},
		{"a cache others could write", func() {
			os.Chmod(cacheFile, 0o644)
			tr, c := newClient()
			call(tr, c)
			os.Chmod(cacheFile, 0o600)
		}, `msg="tokentrip: store_down"`},
		{"revoked credentials until the breaker opens", func() {
			srv.RevokeClient(srv.ClientID)
			defer srv.RestoreClient(srv.ClientID)
			os.Remove(cacheFile)
			tr, c := newClient()
			for range 3 {
				call(tr, c)
			}
		}, `msg="tokentrip: breaker"`},
		{"giving up on the endpoint", func() {
			os.Remove(cacheFile)
			srv.FailTokenRequests(10, http.StatusServiceUnavailable, 0)
			defer srv.FailTokenRequests(0, 0, 0)
			tr, c := newClient()
			call(tr, c)
		}, `msg="tokentrip: gave_up"`},
	}
	for _, st := range steps {
		before := len(log.String())
		st.run()
		if !strings.Contains(log.String()[before:], st.want) {
			t.Errorf("%s: no %s line:\n%s", st.name, st.want, log.String()[before:])
		}
	}
	// Every token the cache ever held counts as issued too.
	if data, err := os.ReadFile(cacheFile); err == nil {
		var f struct {
			Tokens map[string]struct {
				AccessToken string `json:"access_token"`
			} `json:"tokens"`
		}
		json.Unmarshal(data, &f)
		for _, tok := range f.Tokens {
			issued[tok.AccessToken] = true
		}
	}
	if len(issued) < 3 {
		t.Fatalf("%d tokens seen; the scenario should issue several", len(issued))
	}
	out := log.String()
	secrets := []string{srv.ClientID, srv.ClientSecret}
	for _, tok := range slices.Sorted(maps.Keys(issued)) { // in order, for a stable report
		secrets = append(secrets, tok, tok[:len(tok)/2])
	}
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("a log line holds %q", s)
		}
	}
	if testing.Verbose() {
		t.Log(out)
	}
	t.Logf("FIGURE %d log lines at Debug, %d tokens issued, none in a line", strings.Count(out, "\n"), len(issued))
}
