package acoustic_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/internal/testkit"
	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/provider/acoustic"
	"github.com/tokentrip/tokentrip/provider/acoustic/acoustictest"
	"github.com/tokentrip/tokentrip/transport"
)

// TestTokenRequestEncoding sends credentials full of characters that mean
// something in a form. The emulator only answers with a token when it decodes
// exactly the registered values; the captured body shows what went on the wire.
func TestTokenRequestEncoding(t *testing.T) {
	const (
		id      = "app id&x=1+2"
		secret  = "s&cr=t+ /ünï%20?#"
		refresh = "rt &=+ 東京 \"quoted\""
	)
	srv, clock := newEmulator(t, acoustictest.WithClient(id, secret, refresh))
	capture := &testkit.Recorder{}
	p, err := acoustic.NewProvider(acoustic.Config{
		BaseURL:      srv.URL,
		ClientID:     id,
		ClientSecret: secret,
		RefreshToken: refresh,
		Common: provider.Common{
			HTTPClient: capture.Client(),
			Source:     transport.Settings{Clock: clock.Now},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := p.Fetch(t.Context())
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if tok.AccessToken == "" {
		t.Fatal("no access token")
	}

	sent := capture.Sent()
	if len(sent) != 1 {
		t.Fatalf("sent %d token requests, want 1", len(sent))
	}
	if sent[0].Method != http.MethodPost || sent[0].URL != srv.URL+"/oauth/token" || sent[0].ContentType != "application/x-www-form-urlencoded" {
		t.Errorf("sent %s %s with Content-Type %q", sent[0].Method, sent[0].URL, sent[0].ContentType)
	}
	form, err := url.ParseQuery(sent[0].Body)
	if err != nil {
		t.Fatalf("body %q is not a form: %v", sent[0].Body, err)
	}
	want := url.Values{"grant_type": {"refresh_token"}, "client_id": {id}, "client_secret": {secret}, "refresh_token": {refresh}}
	if !reflect.DeepEqual(form, want) {
		t.Errorf("the form decodes to %v, want %v", form, want)
	}
	if n := strings.Count(sent[0].Body, "&"); n != 3 {
		t.Errorf("body has %d separators, want 3: a value was not escaped", n)
	}
	st := srv.Stats()
	if st.TokenRequestsByGrant[emulator.GrantRefreshToken] != 1 || st.TokensIssued != 1 || len(st.Rejections) != 0 {
		t.Errorf("emulator stats %+v, want one accepted refresh_token request", st)
	}
}

// TestSameTokenKeepsItsIssueTime asks inside the three hours: Acoustic answers with
// the current token and its remaining lifetime, which is no error, and RefreshAfter
// stays three hours (and a second) past the original issue.
func TestSameTokenKeepsItsIssueTime(t *testing.T) {
	srv, clock := newEmulator(t)
	cfg := configFor(srv, clock)
	p, err := acoustic.NewProvider(cfg)
	if err != nil {
		t.Fatal(err)
	}
	first, err := p.Fetch(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	wantRefresh := start.Add(3*time.Hour + time.Second)
	if !first.Expiry.Equal(start.Add(4*time.Hour)) || !first.RefreshAfter.Equal(wantRefresh) {
		t.Fatalf("first token: Expiry %v RefreshAfter %v; want %v and %v", first.Expiry, first.RefreshAfter, start.Add(4*time.Hour), wantRefresh)
	}

	clock.Advance(90*time.Minute + 17*time.Second + 400*time.Millisecond)
	again, err := p.Fetch(t.Context())
	if err != nil {
		t.Fatalf("asking again inside the three hours: %v", err)
	}
	if again.AccessToken != first.AccessToken || !again.RefreshAfter.Equal(wantRefresh) {
		t.Errorf("second answer: same token %v, RefreshAfter %v; want the same token and %v", again.AccessToken == first.AccessToken, again.RefreshAfter, wantRefresh)
	}
	if lag := first.Expiry.Sub(again.Expiry); lag < 0 || lag > time.Second {
		t.Errorf("second answer expires %v, want within a second before %v", again.Expiry, first.Expiry)
	}

	// A process that starts now learns the token's age from expires_in alone.
	restarted, err := acoustic.NewProvider(cfg)
	if err != nil {
		t.Fatal(err)
	}
	late, err := restarted.Fetch(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// expires_in is whole seconds, rounded down: the estimate may be early by up to
	// a second, which the second added to RefreshAfter covers.
	if late.AccessToken != first.AccessToken || late.RefreshAfter.Before(start.Add(3*time.Hour)) || late.RefreshAfter.After(wantRefresh) {
		t.Errorf("restarted process: RefreshAfter %v, want within a second before %v", late.RefreshAfter, wantRefresh)
	}
	if st := srv.Stats(); st.TokenRequests != 3 || st.TokensIssued != 1 {
		t.Errorf("emulator: %d token requests, %d minted; want 3 and 1", st.TokenRequests, st.TokensIssued)
	}
}

// TestThreeHourRule runs the whole stack on a manual clock: inside three hours no
// call makes a token request, and the first call past them starts the one
// background refresh that mints a new token.
func TestThreeHourRule(t *testing.T) {
	srv, clock := newEmulator(t)
	tr, err := acoustic.NewTransport(configFor(srv, clock))
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: tr}
	if r := postXML(t, client, srv.URL, getLists); r.Status != 200 || r.Body != xmlSuccess {
		t.Fatalf("first call: %d %s", r.Status, r.Body)
	}
	first, _ := tr.Source().Current()

	for _, at := range []time.Duration{time.Minute, time.Hour, 2*time.Hour + 59*time.Minute, 3 * time.Hour} {
		clock.Advance(at - clock.Now().Sub(start))
		if r := postXML(t, client, srv.URL, getLists); r.Status != 200 {
			t.Fatalf("call at %v: %d %s", at, r.Status, r.Body)
		}
		tr.Source().Wait()
		if st := srv.Stats(); st.TokenRequests != 1 {
			t.Fatalf("at %v: %d token requests, want 1", at, st.TokenRequests)
		}
	}

	clock.Advance(2 * time.Second)
	if r := postXML(t, client, srv.URL, getLists); r.Status != 200 {
		t.Fatalf("call past three hours: %d %s", r.Status, r.Body)
	}
	tr.Source().Wait()
	st := srv.Stats()
	if st.TokenRequests != 2 || st.TokensIssued != 2 {
		t.Fatalf("past three hours: %d token requests, %d minted; want 2 and 2", st.TokenRequests, st.TokensIssued)
	}
	second, _ := tr.Source().Current()
	if second.AccessToken == first.AccessToken || !second.RefreshAfter.Equal(clock.Now().Add(3*time.Hour+time.Second)) {
		t.Errorf("after the refresh: new token %v, RefreshAfter %v", second.AccessToken != first.AccessToken, second.RefreshAfter)
	}
	if r := postXML(t, client, srv.URL, getLists); r.Status != 200 {
		t.Fatalf("call with the new token: %d %s", r.Status, r.Body)
	}
	if st := srv.Stats(); st.TokenRequests != 2 || st.XMLAPICalls != 7 || len(st.Rejections) != 0 {
		t.Errorf("emulator stats %+v", st)
	}
}

// TestSameTokenPastRefreshAfter: when Acoustic still returns the same token at
// the moment tokentrip expected a new one (its clock disagrees), RefreshAfter moves
// a minute on, and neither the Provider nor the Source asks again at once.
func TestSameTokenPastRefreshAfter(t *testing.T) {
	t.Run("provider", func(t *testing.T) {
		srv, clock := newEmulator(t, acoustictest.WithEarliestRefresh(3*time.Hour+30*time.Second))
		p, err := acoustic.NewProvider(configFor(srv, clock))
		if err != nil {
			t.Fatal(err)
		}
		first, err := p.Fetch(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(first.RefreshAfter.Sub(clock.Now()))
		same, err := p.Fetch(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if same.AccessToken != first.AccessToken || !same.RefreshAfter.Equal(clock.Now().Add(time.Minute)) {
			t.Fatalf("same token %v, RefreshAfter %v; want the same token and a minute from now", same.AccessToken == first.AccessToken, same.RefreshAfter)
		}
		clock.Advance(time.Minute)
		next, err := p.Fetch(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if next.AccessToken == first.AccessToken {
			t.Fatal("a minute later Acoustic minted no new token")
		}
	})
	t.Run("source", func(t *testing.T) {
		srv, clock := newEmulator(t, acoustictest.WithEarliestRefresh(3*time.Hour+30*time.Second))
		tr, err := acoustic.NewTransport(configFor(srv, clock))
		if err != nil {
			t.Fatal(err)
		}
		client := &http.Client{Transport: tr}
		call := func() {
			t.Helper()
			if r := postXML(t, client, srv.URL, getLists); r.Status != 200 {
				t.Fatalf("call: %d %s", r.Status, r.Body)
			}
			tr.Source().Wait()
		}
		call()
		clock.Advance(3*time.Hour + time.Second)
		call() // refreshes, and gets the same token back
		for range 5 {
			call()
		}
		if st := srv.Stats(); st.TokenRequests != 2 || st.TokensIssued != 1 {
			t.Fatalf("%d token requests, %d minted; want 2 and 1", st.TokenRequests, st.TokensIssued)
		}
		// The Source refreshes again halfway through what is left of the hour.
		clock.Advance(30 * time.Minute)
		call()
		if st := srv.Stats(); st.TokenRequests != 3 || st.TokensIssued != 2 {
			t.Fatalf("half an hour later: %d token requests, %d minted; want 3 and 2", st.TokenRequests, st.TokensIssued)
		}
	})
}

// TestEmulatorRejections drives the emulator into each token-endpoint failure it
// knows and checks the error that comes back.
func TestEmulatorRejections(t *testing.T) {
	cases := []struct {
		name  string
		setup func(*acoustictest.Server, *acoustic.Config)
		kind  error
		code  string
	}{
		{"wrong secret", func(_ *acoustictest.Server, c *acoustic.Config) { c.ClientSecret = "wrong" }, transport.ErrCredentialsRejected, "invalid_client"},
		{"unknown client", func(_ *acoustictest.Server, c *acoustic.Config) { c.ClientID = "nobody" }, transport.ErrCredentialsRejected, "invalid_client"},
		{"revoked client", func(s *acoustictest.Server, _ *acoustic.Config) { s.RevokeClient(emulator.AcousticClientID) }, transport.ErrCredentialsRejected, "invalid_client"},
		{"unknown refresh token", func(_ *acoustictest.Server, c *acoustic.Config) { c.RefreshToken = "rt-unknown" }, transport.ErrCredentialsRejected, "invalid_grant"},
		{"revoked refresh token", func(s *acoustictest.Server, _ *acoustic.Config) {
			s.RevokeToken(s.RefreshToken)
		}, transport.ErrCredentialsRejected, "invalid_grant"},
		{"endpoint down", func(s *acoustictest.Server, _ *acoustic.Config) {
			s.FailTokenRequests(2, http.StatusServiceUnavailable, 0)
		}, transport.ErrEndpoint, "temporarily_unavailable"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv, clock := newEmulator(t)
			cfg := configFor(srv, clock)
			cfg.Retry = provider.Retry{MaxRetries: 1, WaitMin: time.Millisecond, WaitMax: time.Millisecond}
			c.setup(srv, &cfg)
			p, err := acoustic.NewProvider(cfg)
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.Fetch(t.Context())
			var fe *transport.FetchError
			if !errors.As(err, &fe) || !errors.Is(err, c.kind) || fe.Code != c.code || fe.Message == "" || fe.Hint == "" {
				t.Fatalf("error %#v, want kind %v with code %s, a message and a hint", err, c.kind, c.code)
			}
			assertNoSecrets(t, err, cfg.ClientSecret, cfg.RefreshToken)
			if c.kind == transport.ErrCredentialsRejected && srv.Stats().TokenRequests != 1 {
				t.Errorf("rejected credentials were retried: %d token requests", srv.Stats().TokenRequests)
			}
			if c.kind == transport.ErrEndpoint && srv.Stats().TokenRequests != 2 {
				t.Errorf("an unavailable endpoint got %d requests, want 2 (one retry)", srv.Stats().TokenRequests)
			}
		})
	}
}

// TestMintLimit: Acoustic's "Access token limits exceeded" is the endpoint
// throttling, not a rejection of the credentials.
func TestMintLimit(t *testing.T) {
	srv, clock := newEmulator(t, acoustictest.WithEarliestRefresh(0), acoustictest.WithMintLimit(1, time.Hour))
	cfg := configFor(srv, clock)
	cfg.Retry = provider.Retry{MaxRetries: -1}
	p, err := acoustic.NewProvider(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Fetch(t.Context()); err != nil {
		t.Fatal(err)
	}
	_, err = p.Fetch(t.Context())
	var fe *transport.FetchError
	if !errors.As(err, &fe) || !errors.Is(err, transport.ErrEndpoint) || errors.Is(err, transport.ErrCredentialsRejected) {
		t.Fatalf("error %v, want ErrEndpoint", err)
	}
	if fe.StatusCode != http.StatusTooManyRequests || fe.Code != "access_denied" || fe.Message != "Access token limits exceeded" || !strings.Contains(fe.Hint, "three hours") {
		t.Errorf("error %+v", fe)
	}
	assertNoSecrets(t, err, cfg.ClientSecret, cfg.RefreshToken)
}

// TestFetchHonoursContext: a caller that gives up gets its context's error.
func TestFetchHonoursContext(t *testing.T) {
	srv, clock := newEmulator(t)
	srv.HoldTokenRequests()
	p, err := acoustic.NewProvider(configFor(srv, clock))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := p.Fetch(ctx)
		done <- err
	}()
	if err := srv.WaitTokenRequestsHeld(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) || !errors.Is(err, transport.ErrEndpoint) {
		t.Errorf("error %v, want context.Canceled as ErrEndpoint", err)
	}
}

// TestChangedRefreshTokenIsLogged: Acoustic's refresh tokens do not rotate; if one
// ever comes back changed, the configured one stays in use and a warning (without
// either value) says so.
func TestChangedRefreshTokenIsLogged(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"at-1","token_type":"bearer","refresh_token":"rt-rotated","expires_in":14399}`)
	}))
	defer srv.Close()
	var logged bytes.Buffer
	p, err := acoustic.NewProvider(acoustic.Config{
		BaseURL:      srv.URL,
		ClientID:     "client",
		ClientSecret: testSecret,
		RefreshToken: testRefresh,
		Common:       provider.Common{Source: transport.Settings{Logger: slog.New(slog.NewTextHandler(&logged, nil))}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Fetch(t.Context()); err != nil {
		t.Fatal(err)
	}
	if out := logged.String(); !strings.Contains(out, `msg="tokentrip: refresh_token_changed"`) || strings.Contains(out, "rt-rotated") || strings.Contains(out, testRefresh) {
		t.Errorf("log: %s", out)
	}
}
