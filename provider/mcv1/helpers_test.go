package mcv1_test

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/internal/emulator/emulatortest"
	"github.com/tokentrip/tokentrip/internal/manualclock"
	"github.com/tokentrip/tokentrip/internal/testkit"
	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/provider/mcv1"
	"github.com/tokentrip/tokentrip/provider/mcv1/mcv1test"
	"github.com/tokentrip/tokentrip/transport"
)

// TestMain checks that nothing outlives the tests but idle keep-alive connections,
// which the examples' default transports hold on to.
func TestMain(m *testing.M) { testkit.VerifyTestMain(m) }

// start is the moment the tests' manual clocks begin at.
var start = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// issuedToken matches any access or refresh token the emulator issues.
var issuedToken = regexp.MustCompile(`(at|rt)-[A-Z2-7]{52}`)

// fastRetry retries once, at once: the error tests count every attempt.
var fastRetry = provider.Retry{MaxRetries: 1, WaitMin: time.Millisecond, WaitMax: time.Millisecond}

// newServer starts an emulator that the test closes when it ends.
func newServer(t *testing.T, opts ...mcv1test.Option) *mcv1test.Server {
	return testkit.Started(t, mcv1test.NewServer(opts...))
}

// configFor returns a Config for the emulator's default client. Its HTTP clients
// are the server's, so that closing the server closes their connections.
func configFor(srv *mcv1test.Server) mcv1.Config {
	return mcv1.Config{
		AuthURL:      srv.URL,
		ClientID:     emulator.MCv1ClientID,
		ClientSecret: emulator.MCv1ClientSecret,
		Common: provider.Common{
			HTTPClient: srv.Client(),
			Retry:      fastRetry,
			Transport:  transport.Options{Base: srv.Client().Transport},
		},
	}
}

func newProvider(t *testing.T, cfg mcv1.Config) *mcv1.Provider {
	t.Helper()
	p, err := mcv1.NewProvider(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func manualClock() *manualclock.Clock { return manualclock.New(start) }

// recordTokenRequests makes cfg's token client record what it sends.
func recordTokenRequests(cfg *mcv1.Config) *testkit.Recorder {
	rec := &testkit.Recorder{Next: cfg.HTTPClient.Transport}
	cfg.HTTPClient = rec.Client()
	return rec
}

// wantFetchError checks that err is a *transport.FetchError of kind, with the given
// status and code, a hint, and no secret or token in its text.
func wantFetchError(t *testing.T, err error, kind error, status int, code string, secrets ...string) *transport.FetchError {
	t.Helper()
	fe, ok := errors.AsType[*transport.FetchError](err)
	if !ok {
		t.Fatalf("error %v (%T), want a *transport.FetchError", err, err)
	}
	if !errors.Is(err, kind) || fe.Provider != "mcv1" || fe.StatusCode != status || fe.Code != code || fe.Hint == "" {
		t.Errorf("got %+v\nwant kind %v, provider mcv1, status %d, code %q and a hint", *fe, kind, status, code)
	}
	wantNoSecrets(t, "error", err.Error(), secrets...)
	return fe
}

// wantNoSecrets fails when text shows the client secret, one of secrets, or
// anything shaped like a token the emulator issues.
func wantNoSecrets(t *testing.T, what, text string, secrets ...string) {
	t.Helper()
	testkit.WantAbsent(t, what, text, append(secrets, emulator.MCv1ClientSecret)...)
	if tok := issuedToken.FindString(text); tok != "" {
		t.Errorf("%s shows a token: %s", what, text)
	}
}

// waitHeld waits until n token requests are held at the emulator's gate.
func waitHeld(t *testing.T, srv *mcv1test.Server, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := srv.WaitTokenRequestsHeld(ctx, n); err != nil {
		t.Fatalf("waiting for %d held token requests: %v", n, err)
	}
}

// wantGrants checks how many token requests of each kind the emulator saw.
func wantGrants(t *testing.T, srv *mcv1test.Server, clientCredentials, refresh int) {
	t.Helper()
	st := srv.Stats()
	if got := st.TokenRequestsByGrant[emulator.GrantClientCredentials]; got != clientCredentials {
		t.Errorf("client-credentials requests = %d, want %d (stats %+v)", got, clientCredentials, st)
	}
	if got := st.TokenRequestsByGrant[emulator.GrantRefreshToken]; got != refresh {
		t.Errorf("refresh-token requests = %d, want %d (stats %+v)", got, refresh, st)
	}
}

// wantRejections checks the emulator's refusals by reason.
func wantRejections(t *testing.T, srv *mcv1test.Server, want map[string]int) {
	t.Helper()
	got := srv.Stats().Rejections
	if len(got) != len(want) {
		t.Errorf("rejections = %v, want %v", got, want)
		return
	}
	for reason, n := range want {
		if got[reason] != n {
			t.Errorf("rejections = %v, want %v", got, want)
			return
		}
	}
}

// get makes a GET with client and returns the status and body.
func get(t *testing.T, client *http.Client, url string) (int, string) {
	t.Helper()
	r := emulatortest.Send(t, client, http.MethodGet, url, "", "")
	return r.Status, r.Body
}
