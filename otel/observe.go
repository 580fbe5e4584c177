package tokentripotel

import (
	"context"
	"sync"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/embedded"

	"github.com/tokentrip/tokentrip/transport"
)

// breakerStates are the states the breaker gauge reports, one series each.
var breakerStates = []string{"closed", "half-open", "open"}

// observed is what an Instruments reads at each collection: the Sources given to
// Observe, read by one callback, so that credentials sharing the attributes of
// Config add up instead of overwriting one another's series.
type observed struct {
	mu      sync.Mutex
	sources map[*transport.Source]int // Observe calls not unregistered yet, per Source
	retired uint64                    // refreshes ahead of the Sources no longer observed
	reg     metric.Registration       // the callback, registered by the first Observe
}

// Observe reports what src keeps in its Stats and no event carries: its refreshes
// ahead, and its breaker's state, read at each collection. Every Source observed
// by one Instruments is reported together, with the attributes of Config only:
// tokentrip.token.refreshes_ahead is their sum, and tokentrip.breaker.state counts
// the breakers in each state (for one Source, 1 for its state and 0 for the others).
// Call Unregister on the result when src is retired; its refreshes stay counted.
func (in *Instruments) Observe(src *transport.Source) (metric.Registration, error) {
	o := &in.obs
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.reg == nil {
		refreshes, err := in.meter.Int64ObservableCounter(MetricRefreshesAhead, metric.WithUnit("{refresh}"),
			metric.WithDescription("Background token refreshes started before expiry."))
		if err != nil {
			return nil, err
		}
		state, err := in.meter.Int64ObservableGauge(MetricBreakerState, metric.WithUnit("{breaker}"),
			metric.WithDescription("Circuit breakers in each state: for one credential, 1 for its state and 0 for the others."))
		if err != nil {
			return nil, err
		}
		base := in.attrs // clipped: appending copies
		reg, err := in.meter.RegisterCallback(func(_ context.Context, ob metric.Observer) error {
			total, counts := o.read()
			ob.ObserveInt64(refreshes, int64(total), metric.WithAttributes(base...))
			for i, s := range breakerStates {
				ob.ObserveInt64(state, counts[i], metric.WithAttributes(append(base, AttrBreakerState.String(s))...))
			}
			return nil
		}, refreshes, state)
		if err != nil {
			return nil, err
		}
		o.reg, o.sources = reg, map[*transport.Source]int{}
	}
	o.sources[src]++
	return &observation{o: o, src: src}, nil
}

// read sums the refreshes ahead of the observed Sources, and counts their
// breakers by state.
func (o *observed) read() (refreshes uint64, states [3]int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	refreshes = o.retired
	for src := range o.sources {
		st := src.Stats()
		refreshes += st.RefreshesAhead
		for i, s := range breakerStates {
			if st.Breaker == s {
				states[i]++
			}
		}
	}
	return refreshes, states
}

// observation is the Registration Observe returns: one Source's place in the
// Instruments' callback.
type observation struct {
	embedded.Registration
	o    *observed
	src  *transport.Source
	once sync.Once
}

// Unregister stops reporting the Source; what it counted so far stays in the sum.
// Calls after the first do nothing.
func (r *observation) Unregister() error {
	r.once.Do(func() {
		o := r.o
		o.mu.Lock()
		defer o.mu.Unlock()
		if o.sources[r.src]--; o.sources[r.src] <= 0 {
			delete(o.sources, r.src)
			o.retired += r.src.Stats().RefreshesAhead
		}
	})
	return nil
}
