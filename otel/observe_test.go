package tokentripotel_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/tokentrip/tokentrip/internal/manualclock"
	"github.com/tokentrip/tokentrip/internal/providerfunc"
	tokentripotel "github.com/tokentrip/tokentrip/otel"
	"github.com/tokentrip/tokentrip/transport"
)

// credential is a Source of a fleet of credentials under test: its token endpoint
// answers a token or rejects it, and its clock moves by hand.
type credential struct {
	src       *transport.Source
	clk       *manualclock.Clock
	refreshes int // refreshes ahead to make
	open      bool
}

func newCredential(t *testing.T, i int, hook func(transport.Event), refreshes int, open bool) *credential {
	c := &credential{clk: manualclock.New(time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)), refreshes: refreshes, open: open}
	var mu sync.Mutex
	n := 0
	c.src = transport.NewSource(providerfunc.Func(func(context.Context) (transport.Token, error) {
		mu.Lock()
		defer mu.Unlock()
		n++
		if open {
			return transport.Token{}, &transport.FetchError{Kind: transport.ErrCredentialsRejected, Provider: "mcv2"}
		}
		return transport.Token{AccessToken: fmt.Sprintf("tok-%d-%d", i, n), Expiry: c.clk.Now().Add(20 * time.Minute)}, nil
	}), transport.Settings{Name: fmt.Sprintf("mcv2/%08x", i), Clock: c.clk.Now, Hook: hook, Breaker: transport.BreakerSettings{Rejections: 1, Outages: 1, Cooldown: time.Hour}, RefreshLead: 5 * time.Minute})
	return c
}

// run fetches, then makes the credential's refreshes ahead, each awaited.
func (c *credential) run() {
	ctx := context.Background()
	c.src.Token(ctx)
	for range c.refreshes {
		c.clk.Advance(16 * time.Minute) // past the refresh point, short of expiry
		c.src.Token(ctx)
		c.src.Wait()
	}
}

// TestObserveAddsUpCredentials: Sources observed by one Instruments, with the
// attributes of Config only, add up — refreshes ahead are summed and breakers
// counted by state — instead of each collection showing whichever Source was read
// last; unregistering a Source keeps its refreshes in the counter (which never
// goes down) and takes its breaker out of the gauge. Series stay bounded.
func TestObserveAddsUpCredentials(t *testing.T) {
	for _, n := range []int{1, 3, 1000} {
		t.Run(fmt.Sprint(n, " credentials"), func(t *testing.T) {
			tm := newTelemetry(t, attribute.String("deployment.environment.name", "test"))
			creds := make([]*credential, n)
			regs := make([]interface{ Unregister() error }, n)
			wantRefreshes, wantOpen := 0, 0
			for i := range creds {
				open := i%4 == 1
				refreshes := 0
				if !open {
					refreshes = i % 3
				}
				creds[i] = newCredential(t, i, tm.in.Hook, refreshes, open)
				reg, err := tm.in.Observe(creds[i].src)
				if err != nil {
					t.Fatal(err)
				}
				regs[i] = reg
				wantRefreshes += refreshes
				if open {
					wantOpen++
				}
			}
			var wg sync.WaitGroup
			for _, c := range creds {
				wg.Add(1)
				go func() { defer wg.Done(); c.run() }()
			}
			wg.Wait()
			check := func(refreshes, open, closed int) {
				t.Helper()
				got := tm.collect(t)
				if v := total(got[tokentripotel.MetricRefreshesAhead]); v != float64(refreshes) {
					t.Errorf("refreshes ahead %v, want %d", v, refreshes)
				}
				for state, want := range map[string]int{"open": open, "closed": closed, "half-open": 0} {
					if v := total(got[tokentripotel.MetricBreakerState], tokentripotel.AttrBreakerState.String(state)); v != float64(want) {
						t.Errorf("breakers %s: %v, want %d", state, v, want)
					}
				}
				// Bounded: provider × error.type × breaker state, whatever n is.
				for name, points := range got {
					if len(points) > 4 {
						t.Errorf("%s has %d series for %d credentials", name, len(points), n)
					}
				}
			}
			check(wantRefreshes, wantOpen, n-wantOpen)

			// Retire every other credential: its refreshes stay counted.
			retiredOpen := 0
			for i := 0; i < n; i += 2 {
				regs[i].Unregister()
				regs[i].Unregister() // twice: no effect
				if creds[i].open {
					retiredOpen++
				}
			}
			left := n - (n+1)/2
			check(wantRefreshes, wantOpen-retiredOpen, left-(wantOpen-retiredOpen))
		})
	}
}

// TestFailedFetchSpanLastsAsLongAsTheFetch: the span of a failed fetch — retries
// until the endpoint gave up, a rejection — lasts as long as the fetch did, as a
// successful one's does, and the duration histogram counts it.
func TestFailedFetchSpanLastsAsLongAsTheFetch(t *testing.T) {
	for _, tt := range []struct {
		name    string
		took    time.Duration
		answer  error
		errType string
	}{
		{"endpoint down after retries", 7 * time.Second, &transport.FetchError{Kind: transport.ErrEndpoint, Provider: "mcv2"}, "endpoint_unavailable"},
		{"credentials rejected", 300 * time.Millisecond, &transport.FetchError{Kind: transport.ErrCredentialsRejected, Provider: "mcv2"}, "credentials_rejected"},
		{"a token", 450 * time.Millisecond, nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tm := newTelemetry(t)
			clk := manualclock.New(time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC))
			src := transport.NewSource(providerfunc.Func(func(context.Context) (transport.Token, error) {
				clk.Advance(tt.took)
				if tt.answer != nil {
					return transport.Token{}, tt.answer
				}
				return transport.Token{AccessToken: "tok", Expiry: clk.Now().Add(time.Hour)}, nil
			}), transport.Settings{Name: "mcv2/0a1b2c3d", Clock: clk.Now, Hook: tm.in.Hook})
			src.Token(context.Background())
			spans := tm.spans.GetSpans()
			if len(spans) != 1 {
				t.Fatalf("%d spans, want 1", len(spans))
			}
			if d := spans[0].EndTime.Sub(spans[0].StartTime); d != tt.took {
				t.Fatalf("the span lasts %v, want %v", d, tt.took)
			}
			got := tm.collect(t)
			if v := total(got[tokentripotel.MetricFetchDuration]); v != 1 {
				t.Fatalf("duration histogram counted %v fetches, want 1", v)
			}
			if tt.errType != "" {
				if v := total(got[tokentripotel.MetricFetchDuration], attribute.String("error.type", tt.errType)); v != 1 {
					t.Fatalf("duration histogram has no %s point", tt.errType)
				}
			}
		})
	}
}
