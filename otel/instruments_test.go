package tokentripotel_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	tokentripotel "github.com/tokentrip/tokentrip/otel"
	"github.com/tokentrip/tokentrip/provider/mcv2"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
	"github.com/tokentrip/tokentrip/transport"
)

// clock is a clock the test moves by hand, shared by the emulator and the Source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// telemetry is an Instruments over in-memory OpenTelemetry SDKs.
type telemetry struct {
	in     *tokentripotel.Instruments
	reader *sdkmetric.ManualReader
	spans  *tracetest.InMemoryExporter
}

func newTelemetry(t *testing.T, attrs ...attribute.KeyValue) *telemetry {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	spans := tracetest.NewInMemoryExporter()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	t.Cleanup(func() { mp.Shutdown(context.Background()); tp.Shutdown(context.Background()) })
	in, err := tokentripotel.New(tokentripotel.Config{MeterProvider: mp, TracerProvider: tp, Attributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	return &telemetry{in: in, reader: reader, spans: spans}
}

// point is one data point of a collected metric.
type point struct {
	attrs attribute.Set
	value float64 // a sum's or gauge's value, a histogram's count
}

// collect returns the collected metrics' points by metric name.
func (tm *telemetry) collect(t *testing.T) map[string][]point {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := tm.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string][]point{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != tokentripotel.ScopeName {
			t.Errorf("scope %q", sm.Scope.Name)
		}
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				if !d.IsMonotonic {
					t.Errorf("%s: a counter that is not monotonic", m.Name)
				}
				for _, p := range d.DataPoints {
					out[m.Name] = append(out[m.Name], point{p.Attributes, float64(p.Value)})
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					out[m.Name] = append(out[m.Name], point{p.Attributes, float64(p.Value)})
				}
			case metricdata.Histogram[float64]:
				if m.Unit != "s" {
					t.Errorf("%s: unit %q, want s", m.Name, m.Unit)
				}
				for _, p := range d.DataPoints {
					out[m.Name] = append(out[m.Name], point{p.Attributes, float64(p.Count)})
				}
			default:
				t.Errorf("%s: unexpected data %T", m.Name, m.Data)
			}
		}
	}
	return out
}

// total sums a metric's points whose attributes include every one of want.
func total(points []point, want ...attribute.KeyValue) float64 {
	var sum float64
	for _, p := range points {
		ok := true
		for _, kv := range want {
			if v, has := p.attrs.Value(kv.Key); !has || v != kv.Value {
				ok = false
			}
		}
		if ok {
			sum += p.value
		}
	}
	return sum
}

// events records a Source's events before handing them to the Instruments.
type events struct {
	mu   sync.Mutex
	all  []transport.Event
	next func(transport.Event)
}

func (e *events) hook(ev transport.Event) {
	e.mu.Lock()
	e.all = append(e.all, ev)
	e.mu.Unlock()
	e.next(ev)
}

func (e *events) count(kind transport.EventKind, with func(transport.Event) bool) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, ev := range e.all {
		if ev.Kind == kind && (with == nil || with(ev)) {
			n++
		}
	}
	return n
}

// TestMetricsAndSpansOfAClientsLife drives an mcv2 client through its life against
// the emulator — a fetch that a retry fixes, a revoked token replaced and the call
// replayed, a refresh ahead of expiry, revoked credentials until the breaker opens —
// and checks every metric and span against what the Source reported, and that no
// attribute holds the client id, the secret or a token.
func TestMetricsAndSpansOfAClientsLife(t *testing.T) {
	clk := &clock{now: time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)}
	srv := mcv2test.NewServer(mcv2test.WithClock(clk.Now))
	defer srv.Close()
	env := attribute.String("deployment.environment.name", "test")
	tm := newTelemetry(t, env)
	evs := &events{next: tm.in.Hook}
	tr, err := mcv2.NewTransport(mcv2.Config{
		AuthURL: srv.URL, ClientID: srv.ClientID, ClientSecret: srv.ClientSecret,
		HTTPClient: srv.Client(), Base: srv.Client().Transport, Clock: clk.Now, Hook: evs.hook,
		Retry: transport.RetryPolicy{WaitMin: time.Millisecond, WaitMax: 2 * time.Millisecond},
		SourceOptions: []transport.SourceOption{
			transport.WithBackoff(func(int) time.Duration { return 0 }),
			transport.WithBreaker(3, 0, time.Hour),
		},
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
	if src.BreakerState() != "open" {
		t.Fatalf("breaker %s, want open", src.BreakerState())
	}

	// Metrics: each agrees with the events and Stats of the Source.
	got := tm.collect(t)
	st := src.Stats()
	fetched := evs.count(transport.EventFetched, nil)
	failed := evs.count(transport.EventFetchFailed, nil)
	mcv2Attr := tokentripotel.AttrProvider.String("mcv2")
	checks := []struct {
		metric string
		attrs  []attribute.KeyValue
		want   float64
	}{
		{tokentripotel.MetricFetches, []attribute.KeyValue{mcv2Attr, env}, float64(fetched + failed)},
		{tokentripotel.MetricFetchFailures, []attribute.KeyValue{mcv2Attr, attribute.String("error.type", "credentials_rejected")}, 3},
		{tokentripotel.MetricFetchDuration, []attribute.KeyValue{mcv2Attr}, float64(fetched + evs.count(transport.EventFetchFailed, func(ev transport.Event) bool { return ev.Duration > 0 }))},
		{tokentripotel.MetricRefreshesAhead, []attribute.KeyValue{env}, float64(st.RefreshesAhead)},
		{tokentripotel.MetricInvalidations, []attribute.KeyValue{mcv2Attr}, float64(st.Invalidations)},
		{tokentripotel.MetricReplays, []attribute.KeyValue{mcv2Attr}, float64(evs.count("replayed", nil))},
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
