package resilience_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/tokentrip/tokentrip/internal/manualclock"
	"github.com/tokentrip/tokentrip/transport"
)

// TestMain checks that nothing the suite started outlives it.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// start is the moment the suite's manual clocks begin at.
var start = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// quickRetry retries like the default policy, with waits of a millisecond or two
// instead of hundreds: the tests count attempts, they do not wait for them.
var quickRetry = transport.RetryPolicy{WaitMin: time.Millisecond, WaitMax: 2 * time.Millisecond}

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
	logs     *lockedBuffer
	events   *eventLog
	stats    func() emulatorStats
}

// setup says how a harness differs from the defaults.
type setup struct {
	clock        func() time.Time // the emulator's and the Source's (nil: the wall clock)
	tokenLatency time.Duration    // the emulator's delay of every token request
	settings     func(s *settings)
	config       func(cfg any)     // the provider's *Config, after settings are applied
	transport    transport.Options // laid over the provider's
}

// settings are the fields every provider's Config has, as the harness sets them.
type settings struct {
	AuthURL    string   // where tokens come from (default: the emulator)
	APIHosts   []string // further hosts in scope (providers that have them)
	HTTPClient *http.Client
	Base       http.RoundTripper
	Retry      transport.RetryPolicy
	Logger     *slog.Logger
	Hook       func(transport.Event)
	Clock      func() time.Time
	Settings   transport.Settings
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
}

// emulatorStats is what the suite reads of an emulator's counters.
type emulatorStats struct {
	TokenRequests int
	APICalls      int            // REST, SOAP and XML API calls received
	Rejections    map[string]int // by emulator.Reason…
}

func newHarness(t *testing.T, v *vendor, s setup) *harness {
	t.Helper()
	h := &harness{vendor: v, logs: &lockedBuffer{}, events: &eventLog{}}
	h.srv, h.url, h.stats = v.serve(s)
	t.Cleanup(h.srv.Close)
	h.secrets = newSecretSet(v.secrets...)
	h.tap = &tokenTap{next: h.srv.Client().Transport, secrets: h.secrets}
	set := settings{
		AuthURL:    h.url,
		HTTPClient: &http.Client{Transport: h.tap},
		Base:       h.srv.Client().Transport,
		Retry:      quickRetry,
		Logger:     slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Hook:       h.events.record,
		Clock:      s.clock,
	}
	if s.settings != nil {
		s.settings(&set)
	}
	var err error
	h.config, h.provider, h.tr, err = v.build(t, set, s.config, s.transport)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.tr.CloseIdleConnections)
	h.client = &http.Client{Transport: h.tr}
	return h
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

// outcome is what a caller got from one API call.
type outcome struct {
	status int
	body   []byte
	err    error
	took   time.Duration // from the call to its response headers or error
	fault  bool          // a 200 whose body reports a failure (Acoustic's XML API)
}

// ok reports whether the call succeeded: no error, and a 200 that is no fault.
func (o outcome) ok() bool { return o.err == nil && o.status == http.StatusOK && !o.fault }

func (o outcome) String() string {
	if o.err != nil {
		return "error: " + o.err.Error()
	}
	return fmt.Sprintf("HTTP %d %.200s", o.status, o.body)
}

// send makes one call through client and reads the whole answer.
func send(ctx context.Context, client *http.Client, method, url, contentType string, body io.Reader) outcome {
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return outcome{err: err}
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	began := time.Now()
	resp, err := client.Do(req)
	took := time.Since(began)
	if err != nil {
		return outcome{err: err, took: took}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return outcome{status: resp.StatusCode, body: b, err: err, took: took}
}

// api is one kind of call a user makes through tokentrip.
type api struct {
	name string
	call func(ctx context.Context, h *harness) outcome
}

// concurrently runs call n times at once and returns the outcomes in order.
func concurrently(n int, call func() outcome) []outcome {
	out := make([]outcome, n)
	var wg sync.WaitGroup
	for i := range out {
		wg.Go(func() { out[i] = call() })
	}
	wg.Wait()
	return out
}

// failures returns the outcomes that are not a 200.
func failures(outs []outcome) []outcome {
	var failed []outcome
	for _, o := range outs {
		if !o.ok() {
			failed = append(failed, o)
		}
	}
	return failed
}

// mustSucceed fails the test unless every outcome is a 200.
func mustSucceed(t *testing.T, what string, outs ...outcome) {
	t.Helper()
	if failed := failures(outs); len(failed) > 0 {
		t.Fatalf("%s: %d of %d calls failed, the first with %v", what, len(failed), len(outs), failed[0])
	}
}

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

// eventLog records the Source's events, in order.
type eventLog struct {
	mu     sync.Mutex
	events []transport.Event
}

func (l *eventLog) record(ev transport.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, ev)
}

func (l *eventLog) all() []transport.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

// breakerChanges lists the breaker's state changes as "from→to".
func (l *eventLog) breakerChanges() []string {
	var changes []string
	for _, ev := range l.all() {
		if ev.Kind == transport.EventBreaker {
			changes = append(changes, ev.From+"→"+ev.To)
		}
	}
	return changes
}

// lockedBuffer is a bytes.Buffer that a logger and the test may use at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// secretSet collects every secret value a test used or was issued.
type secretSet struct {
	mu     sync.Mutex
	values map[string]bool
}

func newSecretSet(values ...string) *secretSet {
	s := &secretSet{values: map[string]bool{}}
	s.add(values...)
	return s
}

func (s *secretSet) add(values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range values {
		if v != "" {
			s.values[v] = true
		}
	}
}

func (s *secretSet) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.values))
	for v := range s.values {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

// leaks returns, for each text that contains one of secrets, where it was found.
func leaks(secrets []string, texts map[string]string) []string {
	var found []string
	for where, text := range texts {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				found = append(found, fmt.Sprintf("%s shows a secret starting %.6q", where, s))
			}
		}
	}
	slices.Sort(found)
	return found
}

// tokenFields are the members of token answers that carry a credential, in the
// spellings of the three vendors.
var tokenFields = []string{"accessToken", "refreshToken", "legacyToken", "access_token", "refresh_token"}

// tokenTap is the token client's http.RoundTripper: it sends each token request on,
// keeps the credentials of every answer in secrets, and notes when each request left
// and its answer came back.
type tokenTap struct {
	next    http.RoundTripper
	secrets *secretSet

	mu        sync.Mutex
	exchanges []exchange
}

// exchange is one token request as the client saw it.
type exchange struct {
	sent, answered time.Time
	status         int
}

func (tt *tokenTap) RoundTrip(req *http.Request) (*http.Response, error) {
	sent := time.Now()
	resp, err := tt.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	var fields map[string]any
	if json.Unmarshal(body, &fields) == nil {
		for _, name := range tokenFields {
			if v, ok := fields[name].(string); ok {
				tt.secrets.add(v)
			}
		}
	}
	tt.mu.Lock()
	tt.exchanges = append(tt.exchanges, exchange{sent: sent, answered: time.Now(), status: resp.StatusCode})
	tt.mu.Unlock()
	return resp, nil
}

func (tt *tokenTap) seen() []exchange {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	return slices.Clone(tt.exchanges)
}

// percentile returns the q-th quantile (0 < q <= 1) of ds by the nearest-rank
// method: the smallest value that at least q of the values do not exceed.
func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	rank := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
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
