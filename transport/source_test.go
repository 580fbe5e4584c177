package transport_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/tokentrip/tokentrip/internal/providerfunc"
	"github.com/tokentrip/tokentrip/transport"
)

func TestColdStampedeSharesOneFetch(t *testing.T) {
	ts := newTokenServer(t, nil)
	ts.latency = 50 * time.Millisecond
	src := transport.NewSource(ts.provider(), transport.Settings{})

	const callers = 1000
	var wg sync.WaitGroup
	got := make([]string, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Go(func() {
			tok, err := src.Token(context.Background())
			got[i], errs[i] = tok.AccessToken, err
		})
	}
	wg.Wait()
	for i := range callers {
		if errs[i] != nil || got[i] != "tok-1" {
			t.Fatalf("caller %d: token %q, error %v; want tok-1", i, got[i], errs[i])
		}
	}
	if n := ts.requests.Load(); n != 1 {
		t.Fatalf("token requests = %d, want 1", n)
	}
	if st := src.Stats(); st.Fetches != 1 {
		t.Fatalf("Stats().Fetches = %d, want 1", st.Fetches)
	}
}

func TestRefreshAheadNeverBlocksCallers(t *testing.T) {
	src, ts, clock := newClockedSource(t, transport.Settings{})
	ctx := context.Background()
	first := mustToken(t, src)
	// Cross the refresh point (5 minutes before a 20-minute expiry) and hold the
	// refresh fetch open: every caller must still be served the current token.
	clock.Advance(16 * time.Minute)
	ts.hold = make(chan struct{})
	ts.entered = make(chan struct{}, 1)

	const callers, calls = 50, 20
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			for range calls {
				tok, err := src.Token(ctx)
				if err != nil || tok.AccessToken != first.AccessToken {
					t.Errorf("during refresh: token %q, error %v; want %q", tok.AccessToken, err, first.AccessToken)
					return
				}
			}
		})
	}
	<-ts.entered // the refresh reached the endpoint…
	wg.Wait()    // …and all callers finished while it was held there.
	close(ts.hold)
	src.Wait()

	tok, err := src.Token(ctx)
	if err != nil || tok.AccessToken != "tok-2" {
		t.Fatalf("after refresh: token %q, error %v; want tok-2", tok.AccessToken, err)
	}
	if n := ts.requests.Load(); n != 2 {
		t.Fatalf("token requests = %d, want 2 (one fetch, one refresh)", n)
	}
	if st := src.Stats(); st.RefreshesAhead != 1 {
		t.Fatalf("RefreshesAhead = %d, want 1", st.RefreshesAhead)
	}
}

func TestRefreshPointRespectsRefreshAfter(t *testing.T) {
	clock := newClock()
	fetches := 0
	src := transport.NewSource(providerfunc.Func(func(context.Context) (transport.Token, error) {
		fetches++
		now := clock.Now()
		// Like Acoustic: four hours of life, no new token before three hours.
		return transport.Token{AccessToken: "same", Expiry: now.Add(4 * time.Hour), RefreshAfter: now.Add(3 * time.Hour)}, nil
	}), transport.Settings{Clock: clock.Now, RefreshLead: 2 * time.Hour})
	mustToken(t, src)
	clock.Advance(2*time.Hour + 30*time.Minute) // past expiry-lead, before RefreshAfter
	mustToken(t, src)
	src.Wait()
	if fetches != 1 {
		t.Fatalf("fetches before RefreshAfter = %d, want 1", fetches)
	}
	clock.Advance(31 * time.Minute)
	mustToken(t, src)
	src.Wait()
	if fetches != 2 {
		t.Fatalf("fetches after RefreshAfter = %d, want 2", fetches)
	}
}

func TestTokenWithoutExpiryGetsDefaultLifetime(t *testing.T) {
	clock := newClock()
	src := transport.NewSource(providerfunc.Func(func(context.Context) (transport.Token, error) {
		return transport.Token{AccessToken: "forever?"}, nil
	}), transport.Settings{Clock: clock.Now, DefaultLifetime: time.Hour})
	if tok, want := mustToken(t, src), clock.Now().Add(time.Hour); !tok.Expiry.Equal(want) {
		t.Fatalf("Expiry = %v, want %v", tok.Expiry, want)
	}
}

func TestWaiterCancellationLeavesFetchRunning(t *testing.T) {
	ts := newTokenServer(t, nil)
	ts.hold = make(chan struct{})
	ts.entered = make(chan struct{}, 1)
	src := transport.NewSource(ts.provider(), transport.Settings{})

	ctx, cancel := context.WithCancel(context.Background())
	impatient := make(chan error, 1)
	go func() {
		_, err := src.Token(ctx)
		impatient <- err
	}()
	<-ts.entered
	patient := make(chan transport.Token, 1)
	go func() {
		tok, _ := src.Token(context.Background())
		patient <- tok
	}()
	cancel()
	if err := <-impatient; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiter got %v, want context.Canceled", err)
	}
	close(ts.hold)
	if tok := <-patient; tok.AccessToken != "tok-1" {
		t.Fatalf("patient waiter got %q, want tok-1", tok.AccessToken)
	}
	if n := ts.requests.Load(); n != 1 {
		t.Fatalf("token requests = %d, want 1", n)
	}
}

func TestFailedFetchFansOutWithoutStorm(t *testing.T) {
	src, ts, clock := newClockedSource(t, transport.Settings{Backoff: transport.ExponentialBackoff(time.Second, time.Minute)})
	ts.status.Store(http.StatusServiceUnavailable)
	ts.hold = make(chan struct{})
	ts.entered = make(chan struct{}, 1)

	const callers = 100
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		wg.Go(func() {
			_, err := src.Token(context.Background())
			errs <- err
		})
	}
	<-ts.entered
	close(ts.hold)
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, transport.ErrEndpoint) {
			t.Fatalf("caller got %v, want ErrEndpoint", err)
		}
	}
	if n := ts.requests.Load(); n != 1 {
		t.Fatalf("token requests after the first failure = %d, want 1", n)
	}

	// Straight after: refused without asking the endpoint again.
	_, err := src.Token(context.Background())
	var backoff *transport.RetryError
	if !errors.As(err, &backoff) || errors.Is(err, transport.ErrCircuitOpen) || !errors.Is(err, transport.ErrEndpoint) {
		t.Fatalf("retry inside the backoff got %v, want a backoff's RetryError wrapping ErrEndpoint", err)
	}
	if n := ts.requests.Load(); n != 1 {
		t.Fatalf("token requests inside the backoff = %d, want 1", n)
	}

	// After the backoff, with the endpoint healed, the next call fetches.
	ts.status.Store(0)
	clock.Advance(time.Second)
	tok, err := src.Token(context.Background())
	if err != nil || tok.AccessToken != "tok-1" {
		t.Fatalf("after the backoff: %q, %v", tok.AccessToken, err)
	}
}

func TestFailedRefreshKeepsTokenAndBacksOff(t *testing.T) {
	src, ts, clock := newClockedSource(t, transport.Settings{Backoff: transport.ExponentialBackoff(time.Minute, time.Hour)})
	ctx := context.Background()
	mustToken(t, src)
	ts.status.Store(http.StatusInternalServerError)
	clock.Advance(16 * time.Minute) // inside the refresh window
	for range 10 {
		tok, err := src.Token(ctx)
		if err != nil || tok.AccessToken != "tok-1" {
			t.Fatalf("while refresh fails: %q, %v; want tok-1", tok.AccessToken, err)
		}
		src.Wait()
	}
	if n := ts.requests.Load(); n != 2 {
		t.Fatalf("token requests = %d, want 2: one failed refresh, then backoff", n)
	}
	clock.Advance(time.Minute)
	ts.status.Store(0)
	src.Token(ctx)
	src.Wait()
	if tok, _ := src.Token(ctx); tok.AccessToken != "tok-2" {
		t.Fatalf("after backoff: %q, want tok-2", tok.AccessToken)
	}
}

func TestInvalidateOnlyDropsTheTokenUsed(t *testing.T) {
	ts := newTokenServer(t, nil)
	src := transport.NewSource(ts.provider(), transport.Settings{})
	ctx := context.Background()
	old, _ := src.Token(ctx)
	src.Invalidate(old)
	fresh, _ := src.Token(ctx)
	for range 100 {
		src.Invalidate(old) // late rejections of the old token
	}
	again, _ := src.Token(ctx)
	if fresh.AccessToken != "tok-2" || again.AccessToken != "tok-2" {
		t.Fatalf("tokens %q then %q, want tok-2 both times", fresh.AccessToken, again.AccessToken)
	}
	if n := ts.requests.Load(); n != 2 {
		t.Fatalf("token requests = %d, want 2", n)
	}
	if st := src.Stats(); st.Invalidations != 1 {
		t.Fatalf("Invalidations = %d, want 1", st.Invalidations)
	}
}

func TestBreakerOpensOnRejectedCredentials(t *testing.T) {
	var events []transport.Event
	src, ts, clock := newClockedSource(t, transport.Settings{Hook: func(ev transport.Event) { events = append(events, ev) }})
	ts.status.Store(http.StatusUnauthorized)
	for range 3 {
		_, err := src.Token(context.Background())
		if !errors.Is(err, transport.ErrCredentialsRejected) {
			t.Fatalf("got %v, want ErrCredentialsRejected", err)
		}
		clock.Advance(time.Minute) // past the fetch backoff
	}
	_, err := src.Token(context.Background())
	var open *transport.RetryError
	if !errors.As(err, &open) || !errors.Is(err, transport.ErrCircuitOpen) || !errors.Is(err, transport.ErrCredentialsRejected) {
		t.Fatalf("got %v, want the open breaker's RetryError wrapping the rejection", err)
	}
	if n := ts.requests.Load(); n != 3 {
		t.Fatalf("token requests = %d, want 3", n)
	}
	if src.Stats().Breaker != "open" {
		t.Fatalf("breaker %s, want open", src.Stats().Breaker)
	}
	var sawOpen bool
	for _, ev := range events {
		sawOpen = sawOpen || (ev.Kind == transport.EventBreaker && ev.To == "open")
	}
	if !sawOpen {
		t.Fatal("no breaker event reached the hook")
	}
}

func TestCancelledProbeLeavesBreakerHalfOpen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var answer error = &transport.FetchError{Kind: transport.ErrCredentialsRejected}
		setAnswer := func(err error) { mu.Lock(); answer = err; mu.Unlock() }
		src := transport.NewSource(providerfunc.Func(func(context.Context) (transport.Token, error) {
			mu.Lock()
			err := answer
			mu.Unlock()
			if err == nil {
				return transport.Token{AccessToken: "t"}, nil
			}
			return transport.Token{}, err
		}), transport.Settings{Breaker: transport.BreakerSettings{Rejections: 1, Outages: -1, Cooldown: 5 * time.Millisecond}, Backoff: func(int) time.Duration { return 0 }})
		ctx := context.Background()
		src.Token(ctx)
		if src.Stats().Breaker != "open" {
			t.Fatalf("breaker %s after a rejection, want open", src.Stats().Breaker)
		}
		// The breaker times its cooldown on the wall clock: the bubble's, which a
		// sleep moves on at once when every goroutine in it is blocked.
		time.Sleep(6 * time.Millisecond)
		if got := src.Stats().Breaker; got != "half-open" {
			t.Fatalf("breaker %s after the cooldown, want half-open: it never went half-open", got)
		}
		setAnswer(context.Canceled)
		src.Token(ctx)
		if got := src.Stats().Breaker; got != "half-open" {
			t.Fatalf("breaker %s after a cancelled probe, want half-open", got)
		}
		setAnswer(nil)
		if _, err := src.Token(ctx); err != nil || src.Stats().Breaker != "closed" {
			t.Fatalf("after a good probe: %v, breaker %s", err, src.Stats().Breaker)
		}
	})
}
