package resilience_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/internal/eventrec"
	"github.com/tokentrip/tokentrip/internal/manualclock"
	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/transport"
)

// TestMain checks that nothing the suite started outlives it.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// start is the moment the suite's manual clocks begin at.
var start = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// quickRetry retries like the default policy, with waits of a millisecond or two
// instead of hundreds: the tests count attempts, they do not wait for them.
var quickRetry = provider.Retry{WaitMin: time.Millisecond, WaitMax: 2 * time.Millisecond}

// The defaults of transport.Settings and transport.Options the suite holds the
// library to, as their field comments state them.
const (
	defaultBreakerCooldown = 30 * time.Second // Settings.Breaker.Cooldown
	defaultReplayLimit     = 1 << 20          // Options.ReplayLimit
)

// noBackoff lets the Source start a fetch after every failure, so that a test can
// drive the breaker one fetch per call without moving a clock.
func noBackoff(int) time.Duration { return 0 }

// harness is a vendor's emulator and a tokentrip client for it, built by the
// vendor's provider, with everything the suite watches attached: the answers of the
// token requests (every token issued goes into secrets), the Source's events and a
// JSON log at Debug level.
type harness struct {
	vendor   *vendor
	srv      vendorEmulator
	url      string // the emulator's base URL
	config   any    // the provider's Config, as built
	provider any    // the provider's Provider
	tr       *transport.Transport
	client   *http.Client
	secrets  *secretSet
	tap      *tokenTap
	logs     *eventrec.Log
	events   *eventrec.Recorder
}

// setup says how a harness differs from the defaults.
type setup struct {
	clock        func() time.Time // the emulator's and the Source's (nil: the wall clock)
	tokenLatency time.Duration    // the emulator's delay of every token request
	settings     func(s *settings)
	config       func(cfg any) // the provider's *Config, after settings are applied
	transport    transport.Options
}

// settings are the fields of a provider's Config that the harness sets: where
// tokens come from (default: the emulator), and the settings every provider's
// Config embeds.
type settings struct {
	AuthURL string
	provider.Common
}

// vendorEmulator is what the suite asks of every vendor's emulator.
type vendorEmulator interface {
	Client() *http.Client
	Close()
	FailTokenRequests(n, status int, retryAfter time.Duration)
	RevokeClient(id string) bool
	RestoreClient(id string) bool
	RevokeToken(token string) bool
	ExpireToken(token string) bool
	HoldAPICalls()
	ReleaseAPICalls()
	WaitAPICallsHeld(ctx context.Context, n int) error
	SetTokenLatency(d time.Duration)
	Stats() emulator.Stats
}

// emulatorStats is what the suite reads of an emulator's counters.
type emulatorStats struct {
	TokenRequests int
	APICalls      int            // REST, SOAP and XML API calls received
	Rejections    map[string]int // by emulator.Reason…
}

func newHarness(t *testing.T, v *vendor, s setup) *harness {
	t.Helper()
	h := &harness{vendor: v, logs: &eventrec.Log{}, events: &eventrec.Recorder{}}
	h.srv, h.url = v.serve(s.clock)
	t.Cleanup(h.srv.Close)
	h.srv.SetTokenLatency(s.tokenLatency)
	h.secrets = newSecretSet(v.secrets...)
	h.tap = &tokenTap{next: h.srv.Client().Transport, secrets: h.secrets}
	set := settings{AuthURL: h.url, Common: provider.Common{
		HTTPClient: &http.Client{Transport: h.tap},
		Retry:      quickRetry,
		Source: transport.Settings{
			Logger: slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			Hook:   h.events.Hook,
			Clock:  s.clock,
		},
		Transport: s.transport,
	}}
	if set.Transport.Base == nil {
		set.Transport.Base = h.srv.Client().Transport
	}
	if s.settings != nil {
		s.settings(&set)
	}
	var err error
	h.config, h.provider, h.tr, err = v.build(t, set, s.config)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.tr.CloseIdleConnections)
	h.client = &http.Client{Transport: h.tr}
	return h
}

// stats reads the emulator's counters.
func (h *harness) stats() emulatorStats {
	st := h.srv.Stats()
	return emulatorStats{st.TokenRequests, st.RESTCalls + st.SOAPCalls + st.XMLAPICalls, st.Rejections}
}

// tokenRequests is how many requests the emulator's token endpoint received.
func (h *harness) tokenRequests() int { return h.stats().TokenRequests }

// revokeCredentials revokes the client's credentials at the vendor, and every
// token issued for them; restoreCredentials lets them fetch tokens again.
func revokeCredentials(t *testing.T, h *harness) {
	t.Helper()
	if !h.srv.RevokeClient(h.vendor.clientID) {
		t.Fatal("the emulator does not know the client")
	}
}

func (h *harness) restoreCredentials() { h.srv.RestoreClient(h.vendor.clientID) }

// rest and soap make the vendor's two kinds of call.
func (h *harness) rest(ctx context.Context) outcome { return h.vendor.rest.call(ctx, h) }
func (h *harness) soap(ctx context.Context) outcome { return h.vendor.soap.call(ctx, h) }

// waitFor waits, at most ten seconds, for an emulator gate to hold n requests.
func waitFor(t *testing.T, n int, wait func(ctx context.Context, n int) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := wait(ctx, n); err != nil {
		t.Fatalf("waiting for %d held requests: %v", n, err)
	}
}

// manualClock is a clock that moves only when the test says so.
func manualClock() *manualclock.Clock { return manualclock.New(start) }

// breakerChanges lists the breaker's state changes in events as "from→to".
func breakerChanges(events *eventrec.Recorder) []string {
	var changes []string
	for _, ev := range events.Events() {
		if ev.Kind == transport.EventBreaker {
			changes = append(changes, ev.From+"→"+ev.To)
		}
	}
	return changes
}

// wantKind fails the test unless err matches every one of kinds.
func wantKind(t *testing.T, what string, err error, kinds ...error) {
	t.Helper()
	for _, k := range kinds {
		if !errors.Is(err, k) {
			t.Errorf("%s: error %v does not match %v", what, err, k)
		}
	}
}
