package tokentripotel

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/tokentrip/tokentrip/transport"
)

// ScopeName is the instrumentation scope of the meter and the tracer.
const ScopeName = "github.com/tokentrip/tokentrip/otel"

// The names of the metrics, following OpenTelemetry's naming conventions: a
// "tokentrip." namespace, no unit in the name, counters without "_total".
const (
	MetricFetches        = "tokentrip.token.fetches"          // counter: fetches that ended, failed or not
	MetricFetchFailures  = "tokentrip.token.fetch.failures"   // counter: failed fetches, by error.type
	MetricFetchDuration  = "tokentrip.token.fetch.duration"   // histogram, seconds
	MetricRefreshesAhead = "tokentrip.token.refreshes_ahead"  // counter: background refreshes before expiry (Observe)
	MetricInvalidations  = "tokentrip.token.invalidations"    // counter: cached tokens dropped after a rejection
	MetricAdoptions      = "tokentrip.token.adoptions"        // counter: tokens another process fetched, taken from the Store
	MetricReplays        = "tokentrip.request.replays"        // counter: requests sent again with a new token
	MetricRejectedAgain  = "tokentrip.request.rejected_again" // counter: replays the server rejected too
	MetricBreakerState   = "tokentrip.breaker.state"          // gauge: breakers in each state; for one Source 1 for its state, 0 for the others (Observe)
	MetricBreakerChanges = "tokentrip.breaker.transitions"    // counter: state changes, by the state entered
	MetricStoreOutages   = "tokentrip.store.outages"          // counter: times the Store became unreachable
)

// SpanFetch is the name of the span around a token fetch.
const SpanFetch = "tokentrip.token.fetch"

// Attribute keys of tokentrip's own.
const (
	AttrProvider     = attribute.Key("tokentrip.provider")      // "mcv1", "mcv2", "acoustic" or "other"
	AttrBreakerState = attribute.Key("tokentrip.breaker.state") // "closed", "half-open" or "open"
)

// The event kinds of a replay and of a rejection that a replay did not fix, by
// their values, so that the adapter counts them whichever tokentrip it is built with.
const (
	eventReplayed      transport.EventKind = "replayed"
	eventRejectedAgain transport.EventKind = "rejected_again"
)

// fetchBuckets are the duration histogram's bounds, in seconds: token fetches take
// from milliseconds (an emulator, a cache) to tens of seconds (retries).
var fetchBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}

// Config says where the metrics and spans go and what identifies them.
type Config struct {
	// MeterProvider and TracerProvider receive the metrics and spans (nil: the
	// global providers, otel.GetMeterProvider and otel.GetTracerProvider).
	MeterProvider  metric.MeterProvider
	TracerProvider trace.TracerProvider

	// Attributes are added to every metric and span, to tell credentials apart:
	// a business unit's name, an environment. Keep them few and fixed, and never
	// put a client id or a secret in them.
	Attributes []attribute.KeyValue
}

// Instruments turns the events of Sources into metrics and spans. Create one for
// every set of Attributes — one for all credentials, or one per business unit —
// pass Hook to each Source and Observe each Source: the metrics of the Sources
// that share an Instruments add up. Its methods are safe for concurrent use.
type Instruments struct {
	tracer trace.Tracer
	meter  metric.Meter
	attrs  []attribute.KeyValue

	fetches, failures, invalidations, adoptions  metric.Int64Counter
	replays, rejectedAgain, transitions, outages metric.Int64Counter
	duration                                     metric.Float64Histogram

	obs observed // the Sources given to Observe (observe.go)
}

// New creates the instruments. It fails only if the MeterProvider refuses one.
func New(cfg Config) (*Instruments, error) {
	mp, tp := cfg.MeterProvider, cfg.TracerProvider
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	in := &Instruments{
		tracer: tp.Tracer(ScopeName),
		meter:  mp.Meter(ScopeName),
		attrs:  slices.Clip(slices.Clone(cfg.Attributes)),
	}
	var errs []error
	counter := func(name, unit, desc string) metric.Int64Counter {
		c, err := in.meter.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	in.fetches = counter(MetricFetches, "{fetch}", "Token fetches that ended, successful or not.")
	in.failures = counter(MetricFetchFailures, "{fetch}", "Token fetches that failed, by error.type.")
	in.invalidations = counter(MetricInvalidations, "{token}", "Cached tokens dropped because a server rejected them.")
	in.adoptions = counter(MetricAdoptions, "{token}", "Tokens another process fetched, adopted from the Store.")
	in.replays = counter(MetricReplays, "{request}", "Requests sent again with a new token after a rejection.")
	in.rejectedAgain = counter(MetricRejectedAgain, "{request}", "Replayed requests that the server rejected again.")
	in.transitions = counter(MetricBreakerChanges, "{transition}", "Circuit breaker state changes, by the state entered.")
	in.outages = counter(MetricStoreOutages, "{outage}", "Times the shared Store became unreachable.")
	var err error
	in.duration, err = in.meter.Float64Histogram(MetricFetchDuration, metric.WithUnit("s"),
		metric.WithDescription("How long token fetches took, retries included."),
		metric.WithExplicitBucketBoundaries(fetchBuckets...))
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return in, nil
}

// Hook records ev. Give it to a provider's Config.Source.Hook, a transport.Settings.Hook.
func (in *Instruments) Hook(ev transport.Event) {
	ctx := context.Background()
	attrs := metric.WithAttributes(in.with(ev)...)
	switch ev.Kind {
	case transport.EventFetched:
		in.fetches.Add(ctx, 1, attrs)
		in.duration.Record(ctx, ev.Duration.Seconds(), attrs)
		in.span(ev, "")
	case transport.EventFetchFailed:
		kind := errorType(ev.Err)
		withErr := metric.WithAttributes(in.with(ev, semconv.ErrorTypeKey.String(kind))...)
		in.fetches.Add(ctx, 1, attrs)
		in.failures.Add(ctx, 1, withErr)
		if ev.Duration > 0 {
			in.duration.Record(ctx, ev.Duration.Seconds(), withErr)
		}
		in.span(ev, kind)
	case transport.EventInvalidated:
		in.invalidations.Add(ctx, 1, attrs)
	case transport.EventAdopted:
		in.adoptions.Add(ctx, 1, attrs)
	case eventReplayed:
		in.replays.Add(ctx, 1, attrs)
	case eventRejectedAgain:
		in.rejectedAgain.Add(ctx, 1, attrs)
	case transport.EventBreaker:
		in.transitions.Add(ctx, 1, metric.WithAttributes(in.with(ev, AttrBreakerState.String(breakerState(ev.To)))...))
	case transport.EventStoreDown:
		in.outages.Add(ctx, 1, attrs)
	}
}

// span records the fetch that ev reports: it ended now and lasted ev.Duration.
// The fetch runs apart from any caller's request, so the span is a root. A failed
// fetch whose event carries no duration gets a span of no length.
func (in *Instruments) span(ev transport.Event, errType string) {
	end := time.Now()
	attrs := in.with(ev)
	if errType != "" {
		attrs = append(attrs, semconv.ErrorTypeKey.String(errType))
	}
	_, span := in.tracer.Start(context.Background(), SpanFetch,
		trace.WithTimestamp(end.Add(-ev.Duration)),
		trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(attrs...))
	if errType != "" {
		// The kind only: the error's text is the library's own and holds no
		// secret, but it is not a bounded value.
		span.SetStatus(codes.Error, errType)
	}
	span.End(trace.WithTimestamp(end))
}

// with returns the attributes of ev's metrics: Config's, the provider's, extra.
func (in *Instruments) with(ev transport.Event, extra ...attribute.KeyValue) []attribute.KeyValue {
	out := make([]attribute.KeyValue, 0, len(in.attrs)+1+len(extra))
	out = append(out, in.attrs...)
	out = append(out, AttrProvider.String(providerOf(ev.Source)))
	return append(out, extra...)
}

// providerOf reads the provider from a Source name — "mcv2/3fa2b1c9", "mcv1:…",
// "acoustic" — and names anything else "other", so that the attribute stays
// bounded and never carries what a name may hold.
func providerOf(source string) string {
	name, _, _ := strings.Cut(source, "/")
	name, _, _ = strings.Cut(name, ":")
	switch name {
	case "mcv1", "mcv2", "acoustic":
		return name
	}
	return "other"
}

// errorType is the error.type of a failed fetch: the kind of tokentrip error.
func errorType(err error) string {
	switch {
	case err == nil:
		return semconv.ErrorTypeOther.Value.AsString()
	case errors.Is(err, transport.ErrCircuitOpen):
		return "circuit_open"
	case errors.Is(err, transport.ErrCredentialsRejected):
		return "credentials_rejected"
	case errors.Is(err, transport.ErrConfig):
		return "config"
	case errors.Is(err, transport.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, transport.ErrEndpoint):
		return "endpoint_unavailable"
	}
	return semconv.ErrorTypeOther.Value.AsString()
}

// breakerState bounds a breaker state's name to the three gobreaker has.
func breakerState(s string) string {
	switch s {
	case "closed", "half-open", "open":
		return s
	}
	return "other"
}
