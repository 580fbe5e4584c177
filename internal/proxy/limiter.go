package proxy

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tokentrip/tokentrip/internal/slots"
)

// WaitLimiter caps an Acoustic org's requests in flight, as the provider's own
// limiter does in its Wait mode, and reports to the metrics each request that had
// to wait for a slot and for how long. Give it to the provider Config's Limiter.
type WaitLimiter struct {
	slots slots.Slots
	waits prometheus.Counter
	wait  prometheus.Observer
}

// AcousticLimiter returns a WaitLimiter of n slots for the credential named name.
func (m *Metrics) AcousticLimiter(name string, n int) *WaitLimiter {
	return &WaitLimiter{
		slots: slots.New(n),
		waits: m.limiterWaits.WithLabelValues(name),
		wait:  m.limiterWait.WithLabelValues(name),
	}
}

// Acquire takes a slot, waiting for one while all are held, until ctx ends. The
// release function it returns frees the slot; only its first call counts.
func (l *WaitLimiter) Acquire(ctx context.Context) (func(), error) {
	if release, ok, err := l.slots.Try(ctx); ok || err != nil {
		return release, err
	}
	l.waits.Inc()
	start := time.Now()
	defer func() { l.wait.Observe(time.Since(start).Seconds()) }()
	return l.slots.Wait(ctx)
}
