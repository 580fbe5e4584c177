package resilience_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/transport"
)

// TestRevokedCredentialsStorm: the credentials are revoked while a service sends
// 1,000 requests a second for ten seconds, with tokentrip's default settings. The
// vendor sees at most five token requests, and once the breaker is open every
// caller gets its typed error without anything being sent.
//
// It runs in real time, paced by the wall clock: the breaker's cooldown is measured
// by gobreaker on the wall clock, and the latency of a refusal is what is measured.
// It is not parallel, so that no other test competes for the CPU meanwhile.
func TestRevokedCredentialsStorm(t *testing.T) {
	const (
		rate     = 1000 // requests a second
		duration = 10 * time.Second
		arrivals = int(duration / time.Second * rate)
	)
	h := newHarness(t, mcv1Vendor, setup{settings: func(s *settings) {
		s.Retry = provider.Retry{} // every default
		s.Source.Logger = nil      // ten thousand log lines would measure the logger
	}})
	mustSucceed(t, "call before the revocation", h.rest(t.Context()))
	revokeCredentials(t, h)

	type result struct {
		began time.Time
		outcome
	}
	results := make([]result, arrivals)
	var wg sync.WaitGroup
	began := time.Now()
	for i := range arrivals {
		// Open-loop arrivals: the i-th request arrives i milliseconds in, however
		// long the earlier ones take.
		time.Sleep(time.Until(began.Add(time.Duration(i) * time.Second / rate)))
		wg.Go(func() {
			results[i] = result{time.Now(), h.rest(t.Context())}
		})
	}
	wg.Wait()
	elapsed := time.Since(began)

	// The hook's time of the change to open; the error names that moment (to
	// within the time between two clock readings) plus the 30s cooldown.
	openedAt, ok := eventTime(h.events.Events(), transport.EventBreaker, "open")
	if !ok {
		t.Fatalf("the breaker never opened; breaker changes %v", breakerChanges(h.events))
	}
	var (
		refusals   []time.Duration
		beforeOpen int
		wrong      []outcome
	)
	for _, r := range results {
		switch {
		case r.ok():
			wrong = append(wrong, r.outcome) // revoked credentials cannot succeed
		case r.began.Before(openedAt):
			// Before the breaker opens, callers get the rejection itself, or the
			// Source's backoff error that wraps it.
			if !errors.Is(r.err, transport.ErrCredentialsRejected) {
				wrong = append(wrong, r.outcome)
			}
			beforeOpen++
		default:
			coe, isOpen := errors.AsType[*transport.RetryError](r.err)
			if !isOpen || !errors.Is(r.err, transport.ErrCircuitOpen) || !errors.Is(r.err, transport.ErrCredentialsRejected) ||
				coe.Retry.Sub(openedAt.Add(defaultBreakerCooldown)).Abs() > 100*time.Millisecond {
				wrong = append(wrong, r.outcome)
				continue
			}
			refusals = append(refusals, r.took)
		}
	}
	st := h.stats()
	p50, p99, worst := percentile(refusals, 0.50), percentile(refusals, 0.99), percentile(refusals, 1)
	t.Logf("FIGURE storm: %d requests in %v (%.0f/s); %d token requests in all (1 before the revocation); breaker open %v after the revocation; %d calls refused by the open breaker (p50 %v, p99 %v, max %v), %d failed before it opened; %d API calls reached the vendor",
		arrivals, elapsed.Round(time.Millisecond), float64(arrivals)/elapsed.Seconds(), st.TokenRequests,
		openedAt.Sub(began).Round(time.Millisecond), len(refusals), p50, p99, worst, beforeOpen, st.APICalls-1)

	if st.TokenRequests > 5 {
		t.Errorf("%d token requests, want at most 5", st.TokenRequests)
	}
	if len(wrong) > 0 {
		t.Errorf("%d calls got something other than the rejection (before the breaker opened) or the breaker's error (after), the first: %v", len(wrong), wrong[0])
	}
	if len(refusals) < arrivals*9/10 {
		t.Errorf("only %d of %d calls met the open breaker", len(refusals), arrivals)
	}
	// The latency bound is asserted on the 90th percentile, p99 and the maximum are
	// reported: the packages of a test run share two cores, and under the race
	// detector a call can lose its CPU for milliseconds to a neighbour's test.
	if p90 := percentile(refusals, 0.90); p90 >= time.Millisecond {
		t.Errorf("p90 of the breaker's refusals = %v, want under 1ms", p90)
	}
	if _, err := h.tr.Source().Token(t.Context()); !errors.Is(err, transport.ErrCircuitOpen) {
		t.Errorf("Source.Token while open: %v, want the breaker's error", err)
	}
}

// TestBreakerOpensOnRepeatedFailures: the breaker opens after three fetches in a
// row whose credentials were rejected, or five in a row that found the endpoint
// down; then callers get the open breaker's *transport.RetryError that names the next try and
// wraps the failure that opened it, and nothing more is sent.
func TestBreakerOpensOnRepeatedFailures(t *testing.T) {
	tests := []struct {
		name      string
		fault     func(t *testing.T, h *harness)
		wantFails int   // fetches that fail before the breaker opens
		cause     error // what the open breaker's error wraps
	}{
		{
			name:      "credentials rejected",
			fault:     revokeCredentials,
			wantFails: 3,
			cause:     transport.ErrCredentialsRejected,
		},
		{
			name:      "endpoint down",
			fault:     failTokenRequests(1000, http.StatusServiceUnavailable),
			wantFails: 5,
			cause:     transport.ErrEndpoint,
		},
	}
	for _, v := range vendors {
		for _, tt := range tests {
			t.Run(v.name+" "+tt.name, func(t *testing.T) {
				t.Parallel()
				clock := manualClock()
				h := newHarness(t, v, setup{
					clock:    clock.Now,
					settings: func(s *settings) { s.Retry.MaxRetries = -1 }, // one token request per fetch
				})
				tt.fault(t, h)

				fails := 0
				var o outcome
				for {
					o = h.rest(t.Context())
					if errors.Is(o.err, transport.ErrCircuitOpen) || fails > 10 {
						break
					}
					wantKind(t, "failed fetch", o.err, tt.cause)
					fails++
					clock.Advance(time.Minute) // past the Source's backoff
				}
				openedAt := clock.Now().Add(-time.Minute)
				requests := h.tokenRequests()
				refused := concurrently(100, func() outcome { return h.rest(t.Context()) })

				t.Logf("FIGURE %s %s: breaker opened after %d failed fetches (%d token requests); its error took %v; 100 more calls while open, %d more token requests",
					v.name, tt.name, fails, requests, o.took, h.tokenRequests()-requests)
				if fails != tt.wantFails || requests != tt.wantFails {
					t.Errorf("breaker opened after %d failed fetches (%d token requests), want %d", fails, requests, tt.wantFails)
				}
				for _, r := range append(refused, o) {
					coe, ok := errors.AsType[*transport.RetryError](r.err)
					if !ok || !errors.Is(r.err, transport.ErrCircuitOpen) || !errors.Is(r.err, tt.cause) || !coe.Retry.Equal(openedAt.Add(defaultBreakerCooldown)) {
						t.Fatalf("call while open: %v; want a *transport.RetryError of the open breaker wrapping %v that names %v", r, tt.cause, openedAt.Add(defaultBreakerCooldown))
					}
				}
				if got := h.tokenRequests(); got != requests {
					t.Errorf("token requests went from %d to %d while the breaker was open", requests, got)
				}
				if got := breakerChanges(h.events); !slices.Equal(got, []string{"closed→open"}) {
					t.Errorf("breaker changes %v, want [closed→open]", got)
				}
			})
		}
	}
}

// TestBreakerProbesAfterCooldown: once the cooldown named in the breaker's error
// has passed, one probe goes to the token endpoint however many callers are
// waiting. If the credentials were restored the breaker closes and every call
// succeeds; if not it opens again. Every state change reaches the hook.
//
// The cooldown is 200ms of real time, because gobreaker measures it on the wall
// clock; the Source's own backoff is turned off so no other clock is involved.
func TestBreakerProbesAfterCooldown(t *testing.T) {
	const cooldown = 200 * time.Millisecond
	tests := []struct {
		name        string
		restore     bool
		wantChanges []string
	}{
		{"credentials restored", true, []string{"closed→open", "open→half-open", "half-open→closed"}},
		{"still revoked", false, []string{"closed→open", "open→half-open", "half-open→open"}},
	}
	for _, v := range vendors {
		for _, tt := range tests {
			t.Run(v.name+" "+tt.name, func(t *testing.T) {
				t.Parallel()
				h := newHarness(t, v, setup{settings: func(s *settings) {
					s.Source.Breaker, s.Source.Backoff = transport.BreakerSettings{Rejections: 3, Outages: 5, Cooldown: cooldown}, noBackoff
				}})
				mustSucceed(t, "call before the revocation", h.rest(t.Context()))
				revokeCredentials(t, h)
				for i := range 3 {
					if o := h.rest(t.Context()); !errors.Is(o.err, transport.ErrCredentialsRejected) || errors.Is(o.err, transport.ErrCircuitOpen) {
						t.Fatalf("call %d after the revocation: %v, want the rejection", i+1, o)
					}
				}
				o := h.rest(t.Context())
				coe, ok := errors.AsType[*transport.RetryError](o.err)
				if !ok || !errors.Is(o.err, transport.ErrCircuitOpen) {
					t.Fatalf("call after three rejections: %v, want the breaker's error", o)
				}
				if tt.restore {
					h.restoreCredentials()
				}
				before := h.tokenRequests()

				time.Sleep(time.Until(coe.Retry)) // the cooldown under test
				outs := concurrently(20, func() outcome { return h.rest(t.Context()) })

				probes := h.tokenRequests() - before
				changes := breakerChanges(h.events)
				st := h.tr.Source().Stats()
				t.Logf("FIGURE %s %s: cooldown %v; %d probe token requests for 20 callers; breaker changes %v; %d of 20 calls succeeded; Stats.BreakerChanges %d",
					v.name, tt.name, cooldown, probes, changes, 20-len(failures(outs)), st.BreakerChanges)
				if probes != 1 {
					t.Errorf("%d token requests after the cooldown, want one probe", probes)
				}
				if !slices.Equal(changes, tt.wantChanges) || st.BreakerChanges != uint64(len(tt.wantChanges)) {
					t.Errorf("breaker changes %v (Stats %d), want %v", changes, st.BreakerChanges, tt.wantChanges)
				}
				if tt.restore {
					mustSucceed(t, "calls after the probe", outs...)
					mustSucceed(t, "a later call", h.rest(t.Context()))
					if st := h.tr.Source().Stats(); st.Breaker != "closed" {
						t.Errorf("breaker %s, want closed", st.Breaker)
					}
					return
				}
				for _, o := range outs {
					wantKind(t, "call after a failed probe", o.err, transport.ErrCredentialsRejected)
				}
				if _, err := h.tr.Source().Token(context.Background()); !errors.Is(err, transport.ErrCircuitOpen) {
					t.Errorf("after the failed probe: %v, want the breaker's error", err)
				}
			})
		}
	}
}

// eventTime returns the time of the first event of kind (for breaker events, the
// first change to state to).
func eventTime(events []transport.Event, kind transport.EventKind, to string) (time.Time, bool) {
	for _, ev := range events {
		if ev.Kind == kind && (to == "" || ev.To == to) {
			return ev.Time, true
		}
	}
	return time.Time{}, false
}
