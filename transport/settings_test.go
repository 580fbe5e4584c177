package transport_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/providerfunc"
	"github.com/tokentrip/tokentrip/store"
	"github.com/tokentrip/tokentrip/transport"
)

// TestSettingsZeroNegativeAndSet: a zero field takes the default its comment
// states, a negative RefreshLead or ExpiryMargin means none, and a set one is
// used. Observed on a one-hour token: when Current stops handing it out (expiry
// less the margin), and whether a Token call at a moment starts a background
// refresh (the refresh point: expiry less the lead).
func TestSettingsZeroNegativeAndSet(t *testing.T) {
	const life = time.Hour
	tests := []struct {
		name         string
		set          transport.Settings
		usableUntil  time.Duration // from the fetch: Current says false from here on
		refreshFrom  time.Duration // from the fetch: a Token call refreshes in the background from here on
		noRefreshYet time.Duration // a moment before refreshFrom, with the token usable
	}{
		{"defaults: 10s margin, 5min lead", transport.Settings{}, life - 10*time.Second, life - 5*time.Minute, life - 5*time.Minute - time.Second},
		{"no margin, no lead", transport.Settings{ExpiryMargin: -1, RefreshLead: -1}, life, life, life - time.Second},
		{"a 1min margin, a 20min lead", transport.Settings{ExpiryMargin: time.Minute, RefreshLead: 20 * time.Minute}, life - time.Minute, life - 20*time.Minute, life - 20*time.Minute - time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newClock()
			start := clock.Now()
			at := func(d time.Duration) { clock.Advance(start.Add(d).Sub(clock.Now())) }
			var fetches atomic.Int64
			set := tt.set
			set.Clock = clock.Now
			src := transport.NewSource(providerfunc.Func(func(context.Context) (transport.Token, error) {
				fetches.Add(1)
				return transport.Token{AccessToken: "t", Expiry: start.Add(life)}, nil
			}), set)
			if _, err := src.Token(context.Background()); err != nil {
				t.Fatal(err)
			}
			at(tt.usableUntil - time.Nanosecond)
			if _, ok := src.Current(); !ok {
				t.Fatalf("not usable just before %v", tt.usableUntil)
			}
			at(tt.usableUntil)
			if _, ok := src.Current(); ok {
				t.Fatalf("still usable at %v", tt.usableUntil)
			}
			if tt.refreshFrom >= tt.usableUntil {
				return // no refresh ahead: the token is replaced only when it is unusable
			}
			at(tt.noRefreshYet)
			_, _ = src.Token(context.Background())
			src.Wait()
			if n := fetches.Load(); n != 1 {
				t.Fatalf("%d fetches before the refresh point, want 1", n)
			}
			at(tt.refreshFrom)
			_, _ = src.Token(context.Background())
			src.Wait()
			if n := fetches.Load(); n != 2 {
				t.Fatalf("%d fetches at the refresh point, want 2", n)
			}
		})
	}
}

// TestBreakerSettings: zero thresholds are the defaults (3 rejections, 5
// outages); a negative one never opens the breaker for its kind of failure.
func TestBreakerSettings(t *testing.T) {
	rejected := &transport.FetchError{Kind: transport.ErrCredentialsRejected}
	outage := &transport.FetchError{Kind: transport.ErrEndpoint}
	tests := []struct {
		name     string
		breaker  transport.BreakerSettings
		answer   error
		failures int
		want     string
	}{
		{"default: open after 3 rejections", transport.BreakerSettings{}, rejected, 3, "open"},
		{"default: closed after 2 rejections", transport.BreakerSettings{}, rejected, 2, "closed"},
		{"default: open after 5 outages", transport.BreakerSettings{}, outage, 5, "open"},
		{"default: closed after 4 outages", transport.BreakerSettings{}, outage, 4, "closed"},
		{"rejections off", transport.BreakerSettings{Rejections: -1}, rejected, 20, "closed"},
		{"outages off", transport.BreakerSettings{Outages: -1}, outage, 20, "closed"},
		{"rejections off, outages still on", transport.BreakerSettings{Rejections: -1}, outage, 5, "open"},
		{"one rejection", transport.BreakerSettings{Rejections: 1}, rejected, 1, "open"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := transport.NewSource(providerfunc.Func(func(context.Context) (transport.Token, error) {
				return transport.Token{}, tt.answer
			}), transport.Settings{Breaker: tt.breaker, Backoff: func(int) time.Duration { return 0 }})
			for range tt.failures {
				if _, err := src.Token(context.Background()); !errors.Is(err, tt.answer) {
					t.Fatalf("Token: %v, want %v", err, tt.answer)
				}
			}
			if got := src.Stats().Breaker; got != tt.want {
				t.Fatalf("breaker %s after %d failures, want %s", got, tt.failures, tt.want)
			}
		})
	}
}

// TestStoreWithoutKeyPanics: a Store without a StoreKey would share one token
// between every credential on it, so NewSource refuses it.
func TestStoreWithoutKeyPanics(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "StoreKey") {
			t.Fatalf("recovered %v, want a panic naming StoreKey", r)
		}
	}()
	transport.NewSource(providerfunc.Func(func(context.Context) (transport.Token, error) {
		return transport.Token{}, nil
	}), transport.Settings{Store: &store.MemoryTokens{}})
}

// TestReplayLimitSettings: zero buffers up to the 1 MiB default, so a body
// without GetBody is replayed after a 401; a negative limit buffers nothing, so
// the 401 comes back as it came and the rejected token is dropped.
func TestReplayLimitSettings(t *testing.T) {
	for _, tt := range []struct {
		limit      int64
		wantStatus int
		wantCalls  int64
	}{
		{0, http.StatusOK, 2},
		{-1, http.StatusUnauthorized, 1},
	} {
		ts := newTokenServer(t, nil)
		api := newAPIServer(t, ts)
		client, tr := newClient(t, ts, api, tt.limit)
		tok, _ := tr.Source().Token(context.Background())
		ts.revoke(tok.AccessToken)
		req, _ := http.NewRequest(http.MethodPost, api.URL+"/x", io.NopCloser(strings.NewReader("a body without GetBody")))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		st := tr.Source().Stats()
		if resp.StatusCode != tt.wantStatus || api.calls.Load() != tt.wantCalls || st.Invalidations != 1 {
			t.Fatalf("ReplayLimit %d: HTTP %d, %d calls, %d invalidations; want %d, %d, 1", tt.limit, resp.StatusCode, api.calls.Load(), st.Invalidations, tt.wantStatus, tt.wantCalls)
		}
	}
}

// TestAuthorize: Options.Authorize puts the credential on the Transport's own copy
// of the request instead of the Bearer header; its error ends the request unsent,
// with the body closed; the caller's request is never touched.
func TestAuthorize(t *testing.T) {
	ts := newTokenServer(t, nil)
	api := newAPIServer(t, ts)
	var fail atomic.Bool
	src := transport.NewSource(ts.provider(), transport.Settings{})
	tr := transport.New(src, transport.Options{Hosts: []string{api.URL}, Authorize: func(req *http.Request, tok transport.Token) error {
		if fail.Load() {
			return errors.New("no credential today")
		}
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		req.Header.Set("X-Token-Scheme", "custom")
		return nil
	}})
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr}

	req, _ := http.NewRequest(http.MethodGet, api.URL+"/x", nil)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(req.Header) != 0 || api.auths[0] == "" {
		t.Fatalf("HTTP %d, caller's header %v, sent %q; want 200, the caller's request untouched", resp.StatusCode, req.Header, api.auths)
	}

	fail.Store(true)
	body := &trackingBody{Reader: strings.NewReader("payload")}
	req, _ = http.NewRequest(http.MethodPost, api.URL+"/x", body)
	if _, err := client.Do(req); err == nil || !strings.Contains(err.Error(), "no credential today") {
		t.Fatalf("Do: %v, want Authorize's error", err)
	}
	if api.calls.Load() != 1 || !body.closed {
		t.Fatalf("%d calls, body closed %t; want the request unsent and its body closed", api.calls.Load(), body.closed)
	}
}
