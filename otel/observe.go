package tokentripotel

import (
	"context"

	"go.opentelemetry.io/otel/metric"

	"github.com/tokentrip/tokentrip/transport"
)

// breakerStates are the states the breaker gauge reports, one series each.
var breakerStates = []string{"closed", "half-open", "open"}

// Observe reports what src keeps in its Stats and no event carries: its refreshes
// ahead, and its breaker's state, read at each collection. These metrics carry the
// attributes of Config only. Call Unregister on the result when src is retired.
func (in *Instruments) Observe(src *transport.Source) (metric.Registration, error) {
	refreshes, err := in.meter.Int64ObservableCounter(MetricRefreshesAhead, metric.WithUnit("{refresh}"),
		metric.WithDescription("Background token refreshes started before expiry."))
	if err != nil {
		return nil, err
	}
	state, err := in.meter.Int64ObservableGauge(MetricBreakerState, metric.WithUnit("{state}"),
		metric.WithDescription("The circuit breaker's state: 1 for the current one, 0 for the others."))
	if err != nil {
		return nil, err
	}
	base := in.attrs // clipped: appending copies
	return in.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		st := src.Stats()
		o.ObserveInt64(refreshes, int64(st.RefreshesAhead), metric.WithAttributes(base...))
		for _, s := range breakerStates {
			v := int64(0)
			if s == st.Breaker {
				v = 1
			}
			o.ObserveInt64(state, v, metric.WithAttributes(append(base, AttrBreakerState.String(s))...))
		}
		return nil
	}, refreshes, state)
}
