package acoustic_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/provider/acoustic"
)

func TestSemaphoreFailFast(t *testing.T) {
	s := acoustic.NewSemaphore(3, acoustic.FailFast)
	var releases []func()
	for range 3 {
		release, err := s.Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, release)
	}
	if _, err := s.Acquire(context.Background()); !errors.Is(err, acoustic.ErrTooManyInFlight) {
		t.Fatalf("fourth Acquire: %v, want ErrTooManyInFlight", err)
	}
	releases[0]()
	releases[0]() // a second call must not free another request's slot
	if got := s.InFlight(); got != 2 {
		t.Fatalf("InFlight after one release (called twice) = %d, want 2", got)
	}
	if _, err := s.Acquire(context.Background()); err != nil {
		t.Fatalf("Acquire after a release: %v", err)
	}
}

func TestSemaphoreWait(t *testing.T) {
	s := acoustic.NewSemaphore(2, acoustic.Wait)
	first, _ := s.Acquire(context.Background())
	if _, err := s.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}

	// A waiter whose context ends gets the context's error, not a slot.
	ctx, cancel := context.WithCancel(context.Background())
	gaveUp := make(chan error, 1)
	go func() {
		_, err := s.Acquire(ctx)
		gaveUp <- err
	}()
	cancel()
	if err := <-gaveUp; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiter: %v, want context.Canceled", err)
	}

	// A waiter gets the slot the moment one is released.
	got := make(chan error, 1)
	go func() {
		_, err := s.Acquire(context.Background())
		got <- err
	}()
	first()
	if err := <-got; err != nil {
		t.Fatalf("waiter: %v", err)
	}
	if s.InFlight() != 2 || s.Limit() != 2 {
		t.Errorf("InFlight %d of %d, want 2 of 2", s.InFlight(), s.Limit())
	}

	if _, err := acoustic.NewSemaphore(0, acoustic.Wait).Acquire(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Acquire with an ended context: %v, want context.Canceled", err)
	}
	if n := acoustic.NewSemaphore(0, acoustic.Wait).Limit(); n != acoustic.DefaultMaxInFlight {
		t.Errorf("NewSemaphore(0) has %d slots, want %d", n, acoustic.DefaultMaxInFlight)
	}
}

// roundTripFunc is a base RoundTripper that runs a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// trackedBody records whether it was closed.
type trackedBody struct {
	io.Reader
	closed bool
}

func (b *trackedBody) Close() error { b.closed = true; return nil }

func TestLimitHoldsASlotUntilTheBodyIsDone(t *testing.T) {
	sem := acoustic.NewSemaphore(1, acoustic.FailFast)
	var seen int // slots held while the base sends
	ok := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		seen = sem.InFlight()
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("answer")), Request: r}, nil
	})
	rt := acoustic.Limit(ok, sem, "api-campaign-us-1.goacoustic.com", "127.0.0.1:8080")

	cases := []struct {
		name   string
		url    string
		limits bool
		finish func(*http.Response)
	}{
		{"read to the end", "https://api-campaign-us-1.goacoustic.com/XMLAPI", true, func(r *http.Response) { _, _ = io.ReadAll(r.Body) }},
		{"closed unread", "https://API-CAMPAIGN-US-1.goacoustic.com:443/rest/x", true, func(r *http.Response) { _ = r.Body.Close() }},
		{"host and port", "http://127.0.0.1:8080/XMLAPI", true, func(r *http.Response) { _ = r.Body.Close() }},
		{"same host, other port", "http://127.0.0.1:9090/XMLAPI", false, func(r *http.Response) { _ = r.Body.Close() }},
		{"other host", "https://example.com/", false, func(r *http.Response) { _ = r.Body.Close() }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, c.url, nil)
			resp, err := rt.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			want := 0
			if c.limits {
				want = 1
			}
			if seen != want || sem.InFlight() != want {
				t.Fatalf("slots held while sending %d, after RoundTrip %d; want %d", seen, sem.InFlight(), want)
			}
			c.finish(resp)
			if sem.InFlight() != 0 {
				t.Fatalf("the slot is still held after the body was done with")
			}
		})
	}
}

func TestLimitRefusalAndFailure(t *testing.T) {
	sem := acoustic.NewSemaphore(1, acoustic.FailFast)
	boom := errors.New("connection refused")
	failing := roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, boom })
	rt := acoustic.Limit(failing, sem)

	req, _ := http.NewRequest(http.MethodPost, "https://api-campaign-us-1.goacoustic.com/XMLAPI", nil)
	if _, err := rt.RoundTrip(req); !errors.Is(err, boom) || sem.InFlight() != 0 {
		t.Fatalf("base failure: %v with %d slots held; want the base's error and none held", err, sem.InFlight())
	}

	release, _ := sem.Acquire(context.Background())
	defer release()
	body := &trackedBody{Reader: strings.NewReader("<Envelope/>")}
	req, _ = http.NewRequest(http.MethodPost, "https://api-campaign-us-1.goacoustic.com/XMLAPI", body)
	if _, err := rt.RoundTrip(req); !errors.Is(err, acoustic.ErrTooManyInFlight) {
		t.Fatalf("with every slot taken: %v, want ErrTooManyInFlight", err)
	}
	if !body.closed {
		t.Error("the refused request's body was not closed")
	}
}

// TestLimitModeRendering: a Config names its mode in words.
func TestLimitModeRendering(t *testing.T) {
	for m, want := range map[acoustic.LimitMode]string{acoustic.Wait: "wait", acoustic.FailFast: "fail-fast", 9: "LimitMode(9)"} {
		if got := (acoustic.Config{LimitMode: m}).String(); !strings.Contains(got, "LimitMode:"+want+" ") && !strings.HasSuffix(got, "LimitMode:"+want+"}") {
			t.Errorf("%d: Config.String() = %q, want LimitMode:%s", int(m), got, want)
		}
	}
}

// callsInFlight starts n XML API calls at once and returns a channel that yields
// each one's outcome: its status, or its error.
func callsInFlight(t *testing.T, client *http.Client, base string, n int) <-chan error {
	t.Helper()
	out := make(chan error, n)
	for range n {
		go func() {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/XMLAPI", strings.NewReader(getLists))
			resp, err := client.Do(req)
			if err != nil {
				out <- err
				return
			}
			body, err := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if err == nil && (resp.StatusCode != http.StatusOK || string(body) != xmlSuccess) {
				err = fmt.Errorf("status %d: %s", resp.StatusCode, body)
			}
			out <- err
		}()
	}
	return out
}

// TestInFlightCapWait: thirty calls at once reach the emulator at most ten at a
// time, and none is rejected. Without the cap, the emulator rejects twenty.
func TestInFlightCapWait(t *testing.T) {
	cases := []struct {
		name        string
		maxInFlight int
		rejected    int
	}{
		{"capped", 0, 0},
		{"uncapped", -1, 20},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv, client := warmClient(t, func(cfg *acoustic.Config) { cfg.MaxInFlight = c.maxInFlight })
			srv.HoldAPICalls()
			results := callsInFlight(t, client, srv.URL, 30)
			if err := srv.WaitAPICallsHeld(t.Context(), emulator.AcousticConcurrencyLimit); err != nil {
				t.Fatal(err)
			}
			failed := 0
			for range c.rejected { // the emulator turns these away at once
				if err := <-results; err != nil {
					failed++
				}
			}
			srv.ReleaseAPICalls()
			for range 30 - c.rejected {
				if err := <-results; err != nil {
					failed++
				}
			}
			st := srv.Stats()
			if st.MaxConcurrent > emulator.AcousticConcurrencyLimit || st.ConcurrencyRejections != c.rejected || failed != c.rejected {
				t.Errorf("emulator saw %d at once and rejected %d; %d calls failed; want at most %d at once and %d rejected",
					st.MaxConcurrent, st.ConcurrencyRejections, failed, emulator.AcousticConcurrencyLimit, c.rejected)
			}
			if st.XMLAPICalls != 30 || st.TokenRequests != 0 {
				t.Errorf("emulator: %d calls, %d token requests; want 30 and 0", st.XMLAPICalls, st.TokenRequests)
			}
		})
	}
}

// TestInFlightCapFailFast: with ten calls held at the emulator, the eleventh fails
// at once with ErrTooManyInFlight and is never sent.
func TestInFlightCapFailFast(t *testing.T) {
	srv, client := warmClient(t, func(cfg *acoustic.Config) { cfg.LimitMode = acoustic.FailFast })
	srv.HoldAPICalls()
	results := callsInFlight(t, client, srv.URL, 10)
	if err := srv.WaitAPICallsHeld(t.Context(), 10); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/XMLAPI", strings.NewReader(getLists))
	if _, err := client.Do(req); !errors.Is(err, acoustic.ErrTooManyInFlight) {
		t.Fatalf("eleventh call: %v, want ErrTooManyInFlight", err)
	}
	srv.ReleaseAPICalls()
	for range 10 {
		if err := <-results; err != nil {
			t.Errorf("held call: %v", err)
		}
	}
	if st := srv.Stats(); st.XMLAPICalls != 10 || st.ConcurrencyRejections != 0 {
		t.Errorf("emulator: %d calls, %d rejected; want 10 and 0", st.XMLAPICalls, st.ConcurrencyRejections)
	}
}

// announcing is a Limiter that tells the test when a request starts waiting for a
// slot.
type announcing struct {
	acoustic.Limiter
	waiting chan struct{}
}

func (a announcing) Acquire(ctx context.Context) (func(), error) {
	a.waiting <- struct{}{}
	return a.Limiter.Acquire(ctx)
}

// TestInFlightCapWaitHonoursContext: a call queued behind the cap gives up, unsent,
// when its context ends.
func TestInFlightCapWaitHonoursContext(t *testing.T) {
	srv, clock := newEmulator(t)
	cfg := configFor(srv, clock)
	limiter := announcing{acoustic.NewSemaphore(1, acoustic.Wait), make(chan struct{}, 3)}
	cfg.Limiter = limiter
	client := newClient(t, cfg)
	if r := postXML(t, client, srv.URL, getLists); r.Status != 200 {
		t.Fatalf("warm-up call: %d %s", r.Status, r.Body)
	}
	<-limiter.waiting
	srv.HoldAPICalls()
	held := callsInFlight(t, client, srv.URL, 1)
	<-limiter.waiting
	if err := srv.WaitAPICallsHeld(t.Context(), 1); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	queued := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/XMLAPI", strings.NewReader(getLists))
		_, err := client.Do(req)
		queued <- err
	}()
	<-limiter.waiting
	cancel()
	if err := <-queued; !errors.Is(err, context.Canceled) {
		t.Errorf("queued call with a cancelled context: %v, want context.Canceled", err)
	}
	srv.ReleaseAPICalls()
	if err := <-held; err != nil {
		t.Errorf("held call: %v", err)
	}
	if st := srv.Stats(); st.XMLAPICalls != 2 {
		t.Errorf("emulator saw %d calls, want 2: the cancelled one must not be sent", st.XMLAPICalls)
	}
}

// TestSharedLimiter: two Transports of one org that share a Limiter share its cap.
func TestSharedLimiter(t *testing.T) {
	srv, clock := newEmulator(t)
	shared := acoustic.NewSemaphore(emulator.AcousticConcurrencyLimit, acoustic.Wait)
	cfg := configFor(srv, clock)
	cfg.Limiter = shared
	a, b := newClient(t, cfg), newClient(t, cfg)
	for _, c := range []*http.Client{a, b} {
		if r := postXML(t, c, srv.URL, getLists); r.Status != 200 {
			t.Fatalf("warm-up call: %d %s", r.Status, r.Body)
		}
	}
	srv.ResetStats()
	srv.HoldAPICalls()
	fromA, fromB := callsInFlight(t, a, srv.URL, 15), callsInFlight(t, b, srv.URL, 15)
	if err := srv.WaitAPICallsHeld(t.Context(), 10); err != nil {
		t.Fatal(err)
	}
	srv.ReleaseAPICalls()
	for range 15 {
		for _, results := range []<-chan error{fromA, fromB} {
			if err := <-results; err != nil {
				t.Errorf("call: %v", err)
			}
		}
	}
	if st := srv.Stats(); st.MaxConcurrent > 10 || st.ConcurrencyRejections != 0 || shared.InFlight() != 0 {
		t.Errorf("emulator saw %d at once, rejected %d; %d slots still held", st.MaxConcurrent, st.ConcurrencyRejections, shared.InFlight())
	}
}
