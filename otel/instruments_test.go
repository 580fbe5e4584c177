package tokentripotel_test

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/internal/eventrec"
	"github.com/tokentrip/tokentrip/internal/manualclock"
	tokentripotel "github.com/tokentrip/tokentrip/otel"
	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/provider/mcv2"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
	"github.com/tokentrip/tokentrip/transport"
)

// TestMetricsAndSpansOfAClientsLife drives an mcv2 client through its life against
// the emulator — a fetch that a retry fixes, a revoked token replaced and the call
// replayed, a refresh ahead of expiry, revoked credentials until the breaker opens —
// and checks every metric and span against what the Source reported, and that no
// attribute holds the client id, the secret or a token.
func TestMetricsAndSpansOfAClientsLife(t *testing.T) {
	clk := manualclock.New(time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC))
	srv := mcv2test.NewServer(mcv2test.WithClock(clk.Now))
	defer srv.Close()
	env := attribute.String("deployment.environment.name", "test")
	tm := newTelemetry(t, env)
	evs := &eventrec.Recorder{} // what the Source reported, beside what the Instruments made of it
	tr, err := mcv2.NewTransport(mcv2.Config{
		AuthURL: srv.URL, ClientID: emulator.MCv2ClientID, ClientSecret: emulator.MCv2ClientSecret,
		Common: provider.Common{HTTPClient: srv.Client(), Transport: transport.Options{Base: srv.Client().Transport},
			Retry:  provider.Retry{WaitMin: time.Millisecond, WaitMax: 2 * time.Millisecond},
			Source: transport.Settings{Clock: clk.Now, Hook: func(ev transport.Event) { evs.Hook(ev); tm.in.Hook(ev) }, Backoff: func(int) time.Duration { return 0 }, Breaker: transport.BreakerSettings{Rejections: 3, Outages: -1, Cooldown: time.Hour}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.CloseIdleConnections()
	src := tr.Source()
	reg, err := tm.in.Observe(src)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Unregister()

	client := &http.Client{Transport: tr}
	tokens := map[string]bool{}
	call := func() int {
		t.Helper()
		resp, err := client.Get(srv.URL + "/platform/v1/endpoints")
		if cur, ok := src.Current(); ok {
			tokens[cur.AccessToken] = true
		}
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	srv.FailTokenRequests(1, http.StatusServiceUnavailable, 0) // retried inside the fetch
	if got := call(); got != http.StatusOK {
		t.Fatalf("first call: %d", got)
	}
	first, _ := src.Current()
	srv.RevokeToken(first.AccessToken) // a 401: invalidate, fetch, replay
	if got := call(); got != http.StatusOK {
		t.Fatalf("call with a revoked token: %d", got)
	}
	cur, _ := src.Current()
	clk.Advance(cur.Expiry.Sub(clk.Now()) - time.Minute) // past the refresh point
	if got := call(); got != http.StatusOK {
		t.Fatalf("call at the refresh point: %d", got)
	}
	src.Wait()
	clk.Advance(time.Hour) // every token expired
	srv.RevokeClient(srv.ClientID)
	for range 4 { // three rejections open the breaker; the fourth is refused
		if got := call(); got != 0 {
			t.Fatalf("call with revoked credentials: %d", got)
		}
	}
	if src.Stats().Breaker != "open" {
		t.Fatalf("breaker %s, want open", src.Stats().Breaker)
	}

	// Metrics: each agrees with the events and Stats of the Source.
	got := tm.collect(t)
	st := src.Stats()
	fetched := evs.Count(transport.EventFetched)
	failed := evs.Count(transport.EventFetchFailed)
	timedFailures := 0 // failures that reached the token endpoint, and took time
	for _, ev := range evs.Events() {
		if ev.Kind == transport.EventFetchFailed && ev.Duration > 0 {
			timedFailures++
		}
	}
	mcv2Attr := tokentripotel.AttrProvider.String("mcv2")
	checks := []struct {
		metric string
		attrs  []attribute.KeyValue
		want   float64
	}{
		{tokentripotel.MetricFetches, []attribute.KeyValue{mcv2Attr, env}, float64(fetched + failed)},
		{tokentripotel.MetricFetchFailures, []attribute.KeyValue{mcv2Attr, attribute.String("error.type", "credentials_rejected")}, 3},
		{tokentripotel.MetricFetchDuration, []attribute.KeyValue{mcv2Attr}, float64(fetched + timedFailures)},
		{tokentripotel.MetricRefreshesAhead, []attribute.KeyValue{env}, float64(st.RefreshesAhead)},
		{tokentripotel.MetricInvalidations, []attribute.KeyValue{mcv2Attr}, float64(st.Invalidations)},
		{tokentripotel.MetricReplays, []attribute.KeyValue{mcv2Attr}, float64(evs.Count("replayed"))},
		{tokentripotel.MetricBreakerChanges, []attribute.KeyValue{tokentripotel.AttrBreakerState.String("open")}, 1},
		{tokentripotel.MetricBreakerState, []attribute.KeyValue{tokentripotel.AttrBreakerState.String("open")}, 1},
		{tokentripotel.MetricBreakerState, []attribute.KeyValue{tokentripotel.AttrBreakerState.String("closed")}, 0},
	}
	for _, c := range checks {
		if v := total(got[c.metric], c.attrs...); v != c.want {
			t.Errorf("%s %v = %v, want %v", c.metric, c.attrs, v, c.want)
		}
	}
	if fetched != 3 || st.RefreshesAhead != 1 || st.Invalidations != 1 {
		t.Errorf("the scenario went otherwise: %d fetched, %d refreshes ahead, %d invalidations; want 3, 1, 1", fetched, st.RefreshesAhead, st.Invalidations)
	}

	// Spans: one per fetch that ended, failures marked, none longer than the run.
	spans := tm.spans.GetSpans()
	if len(spans) != fetched+failed {
		t.Fatalf("%d spans, want %d", len(spans), fetched+failed)
	}
	failedSpans := 0
	for _, s := range spans {
		if s.Name != tokentripotel.SpanFetch || s.Parent.IsValid() || s.EndTime.Before(s.StartTime) {
			t.Errorf("span %q, parent %v, %v–%v", s.Name, s.Parent.IsValid(), s.StartTime, s.EndTime)
		}
		if s.Status.Code == codes.Error {
			failedSpans++
			if s.Status.Description != "credentials_rejected" {
				t.Errorf("failed span's status: %q", s.Status.Description)
			}
		}
	}
	if failedSpans != failed {
		t.Errorf("%d failed spans, want %d", failedSpans, failed)
	}

	// Nothing carries the client id, the secret or a token.
	secrets := []string{srv.ClientID, srv.ClientSecret}
	for tok := range tokens {
		secrets = append(secrets, tok)
	}
	var seen []string
	for name, points := range got {
		for _, p := range points {
			for _, kv := range p.attrs.ToSlice() {
				seen = append(seen, name+" "+string(kv.Key)+"="+kv.Value.String())
			}
		}
	}
	for _, s := range spans {
		seen = append(seen, s.Name, s.Status.Description)
		for _, kv := range s.Attributes {
			seen = append(seen, string(kv.Key)+"="+kv.Value.String())
		}
	}
	for _, text := range seen {
		for _, secret := range secrets {
			if strings.Contains(text, secret) {
				t.Errorf("%q holds the client id, the secret or a token", text)
			}
		}
	}

	names := make([]string, 0, len(got))
	for name := range got {
		names = append(names, name)
	}
	slices.Sort(names)
	t.Logf("FIGURE metrics emitted (%d): %s", len(names), strings.Join(names, ", "))
	t.Logf("FIGURE spans: %d %s (%d failed)", len(spans), tokentripotel.SpanFetch, failedSpans)
}

// TestHookCountsEveryKind feeds the Instruments each event a Source can report,
// the replay events included, and checks the counter each one moves, with bounded
// attributes whatever the Source is named.
func TestHookCountsEveryKind(t *testing.T) {
	tests := []struct {
		ev     transport.Event
		metric string
		attrs  []attribute.KeyValue
	}{
		{transport.Event{Kind: transport.EventFetched, Source: "mcv1/0a1b2c3d", Duration: 20 * time.Millisecond}, tokentripotel.MetricFetches, []attribute.KeyValue{tokentripotel.AttrProvider.String("mcv1")}},
		{transport.Event{Kind: transport.EventFetchFailed, Source: "acoustic", Err: &transport.FetchError{Kind: transport.ErrEndpoint, Err: fmt.Errorf("%w", transport.ErrTimeout)}}, tokentripotel.MetricFetchFailures, []attribute.KeyValue{tokentripotel.AttrProvider.String("acoustic"), attribute.String("error.type", "timeout")}},
		{transport.Event{Kind: transport.EventFetchFailed, Source: "mcv2/x", Err: &transport.FetchError{Kind: transport.ErrEndpoint}}, tokentripotel.MetricFetchFailures, []attribute.KeyValue{attribute.String("error.type", "endpoint_unavailable")}},
		{transport.Event{Kind: transport.EventFetchFailed, Source: "mcv2/x", Err: errors.New("something else")}, tokentripotel.MetricFetchFailures, []attribute.KeyValue{attribute.String("error.type", "_OTHER")}},
		{transport.Event{Kind: transport.EventInvalidated, Source: "mcv2:client-id-7"}, tokentripotel.MetricInvalidations, []attribute.KeyValue{tokentripotel.AttrProvider.String("mcv2")}},
		{transport.Event{Kind: transport.EventAdopted, Source: "billing client-id-7"}, tokentripotel.MetricAdoptions, []attribute.KeyValue{tokentripotel.AttrProvider.String("other")}},
		{transport.Event{Kind: "replayed", Source: "mcv2/x"}, tokentripotel.MetricReplays, nil},
		{transport.Event{Kind: "rejected_again", Source: "mcv2/x"}, tokentripotel.MetricRejectedAgain, nil},
		{transport.Event{Kind: transport.EventBreaker, Source: "mcv2/x", From: "open", To: "half-open"}, tokentripotel.MetricBreakerChanges, []attribute.KeyValue{tokentripotel.AttrBreakerState.String("half-open")}},
		{transport.Event{Kind: transport.EventStoreDown, Source: "mcv2/x", Err: errors.New("redis down")}, tokentripotel.MetricStoreOutages, nil},
	}
	for _, tt := range tests {
		t.Run(string(tt.ev.Kind)+" "+tt.ev.Source, func(t *testing.T) {
			tm := newTelemetry(t)
			tm.in.Hook(tt.ev)
			got := tm.collect(t)
			if v := total(got[tt.metric], tt.attrs...); v != 1 {
				t.Fatalf("%s %v = %v, want 1 (collected %v)", tt.metric, tt.attrs, v, got)
			}
			for name, points := range got {
				for _, p := range points {
					for _, kv := range p.attrs.ToSlice() {
						if strings.Contains(kv.Value.String(), "client-id-7") {
							t.Errorf("%s carries the Source name: %s=%s", name, kv.Key, kv.Value.String())
						}
					}
				}
			}
		})
	}
}
