package proxy

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/tokentrip/tokentrip/transport"
)

// Labels of the metrics. Every label takes values from a fixed set, or from the
// operator's own names for credentials: never a client id, a path or a Host.
const (
	labelRoute      = "route"      // rest, soap, xmlapi, none (refused or unrouted), internal (/-/…)
	labelCode       = "code"       // the HTTP status answered
	labelReason     = "reason"     // why a request was refused (refused… constants)
	labelCredential = "credential" // the Backend's Name
	labelState      = "state"      // a breaker state
)

// Routes of requests that reached no upstream.
const (
	routeNone     = "none"
	routeInternal = "internal"
)

// Metrics are what the proxy reports at /-/metrics in the Prometheus text format:
// requests by route and status, their latency, requests in flight and refusals,
// and, per credential, token fetches, failures, invalidations, persisting
// rejections and replays, the breaker's state and Acoustic's limiter waits. It also reports the Go runtime and
// the process (memory, file descriptors). Create one with NewMetrics before the
// Transports, whose Sources report to SourceHook.
type Metrics struct {
	registry *prometheus.Registry

	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	inFlight prometheus.Gauge
	refused  *prometheus.CounterVec

	fetches, fetchFailures, invalidations *prometheus.CounterVec
	rejectedAgain                         *prometheus.CounterVec
	breakerChanges                        *prometheus.CounterVec
	limiterWaits                          *prometheus.CounterVec
	limiterWait                           *prometheus.HistogramVec

	// The handlers whose built Backends are read at each scrape.
	mu       sync.Mutex
	handlers []*Handler
}

// NewMetrics returns the proxy's metrics in a registry of their own.
func NewMetrics() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: counterVec("tokentrip_proxy_requests_total", "Requests answered by the proxy, by route and HTTP status.", labelRoute, labelCode),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tokentrip_proxy_request_duration_seconds",
			Help:    "Time from a request's arrival to the end of its answer, by route.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12), // 1 ms to 24 s
		}, []string{labelRoute}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "tokentrip_proxy_in_flight_requests",
			Help: "Requests being forwarded now (capped by --max-in-flight).",
		}),
		refused:        counterVec("tokentrip_proxy_refused_total", "Requests refused before forwarding, by reason: host, origin, method, upgrade, path, busy, buffer, encoding, too_large.", labelReason),
		fetches:        counterVec("tokentrip_token_fetches_total", "Tokens fetched from the token endpoint.", labelCredential),
		fetchFailures:  counterVec("tokentrip_token_fetch_failures_total", "Token fetches that failed, refusals by an open breaker included.", labelCredential),
		invalidations:  counterVec("tokentrip_token_invalidations_total", "Cached tokens dropped because an API rejected them.", labelCredential),
		rejectedAgain:  counterVec("tokentrip_token_rejected_again_total", "Tokens rejected again right after a fresh fetch: the rejection persists (revoked access, a missing permission).", labelCredential),
		breakerChanges: counterVec("tokentrip_breaker_transitions_total", "Circuit breaker state changes, by the state entered.", labelCredential, labelState),
		limiterWaits:   counterVec("tokentrip_acoustic_limiter_waits_total", "Acoustic requests that waited for one of the org's in-flight slots.", labelCredential),
		limiterWait: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "tokentrip_acoustic_limiter_wait_seconds",
			Help:    "How long Acoustic requests that had to wait waited for a slot.",
			Buckets: prometheus.ExponentialBuckets(0.001, 4, 9), // 1 ms to 65 s
		}, []string{labelCredential}),
	}
	m.registry.MustRegister(
		m.requests, m.latency, m.inFlight, m.refused,
		m.fetches, m.fetchFailures, m.invalidations, m.rejectedAgain, m.breakerChanges,
		m.limiterWaits, m.limiterWait,
		backendCollector{m},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

// counterVec is the family of counters named name, one by each set of labels.
func counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// SourceHook returns the hook for the Source of the credential named name (pass it
// as the provider Config's Hook): it turns the Source's events into metrics.
func (m *Metrics) SourceHook(name string) func(transport.Event) {
	c := &credentialMetrics{
		fetches:       m.fetches.WithLabelValues(name),
		fetchFailures: m.fetchFailures.WithLabelValues(name),
		invalidations: m.invalidations.WithLabelValues(name),
		rejectedAgain: m.rejectedAgain.WithLabelValues(name),
		breakerTo:     m.breakerChanges.MustCurryWith(prometheus.Labels{labelCredential: name}),
	}
	return c.observe
}

// credentialMetrics are one credential's counters of Source events.
type credentialMetrics struct {
	fetches, fetchFailures, invalidations, rejectedAgain prometheus.Counter
	breakerTo                                            *prometheus.CounterVec
}

// observe is the one place where Source events become metrics.
func (c *credentialMetrics) observe(e transport.Event) {
	switch e.Kind {
	case transport.EventFetched:
		c.fetches.Inc()
	case transport.EventFetchFailed:
		c.fetchFailures.Inc()
	case transport.EventInvalidated:
		c.invalidations.Inc()
	case transport.EventRejectedAgain:
		c.rejectedAgain.Inc()
	case transport.EventReplayed:
		// Counted from the Transport's Stats at each scrape (backendCollector),
		// which holds every replay whether or not it is reported as an event;
		// counting the event too would count each replay twice.
	case transport.EventBreaker:
		if e.To == "closed" || e.To == "half-open" || e.To == "open" {
			c.breakerTo.WithLabelValues(e.To).Inc()
		}
	}
}

// attach makes h's Backends part of the metrics. Backend names label the series,
// so they must differ across every handler the metrics serve.
func (m *Metrics) attach(h *Handler) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	names := make(map[string]bool, len(h.backends))
	for _, other := range m.handlers {
		for _, b := range other.backends {
			names[b.Name] = true
		}
	}
	for _, b := range h.backends {
		if names[b.Name] {
			return fmt.Errorf("proxy: two backends named %q", b.Name)
		}
		names[b.Name] = true
	}
	m.handlers = append(m.handlers, h)
	return nil
}

// Descriptions of what backendCollector reads from each built Backend at a scrape.
var (
	descReplays = prometheus.NewDesc("tokentrip_replays_total",
		"Requests replayed with a new token after the API rejected the first.", []string{labelCredential}, nil)
	descUnreplayable = prometheus.NewDesc("tokentrip_unreplayable_rejections_total",
		"Rejections passed to the client as they came, the request's body being too large to replay.", []string{labelCredential}, nil)
	descBreakerState = prometheus.NewDesc("tokentrip_breaker_state",
		"The token source's circuit breaker: 0 closed, 1 half-open, 2 open.", []string{labelCredential}, nil)
	descExpiry = prometheus.NewDesc("tokentrip_token_expiry_timestamp_seconds",
		"When the cached token expires, in Unix seconds; 0 without one.", []string{labelCredential}, nil)
)

// backendCollector reads, at each scrape, every built Backend's replays from its
// Transport's Stats and its breaker's state and token expiry from its Source. It
// holds nothing per Backend: one not yet built costs the metrics nothing and
// reports nothing.
type backendCollector struct{ m *Metrics }

// Describe implements prometheus.Collector.
func (c backendCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descReplays, descUnreplayable, descBreakerState, descExpiry} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c backendCollector) Collect(ch chan<- prometheus.Metric) {
	c.m.mu.Lock()
	handlers := c.m.handlers
	c.m.mu.Unlock()
	for _, h := range handlers {
		for _, b := range h.backends {
			live, ok := b.built()
			if !ok {
				continue
			}
			src := live.tr.Source()
			var st transport.Stats // a static credential replays nothing
			if src != nil {
				st = src.Stats()
			}
			ch <- prometheus.MustNewConstMetric(descReplays, prometheus.CounterValue, float64(st.Replays), b.Name)
			ch <- prometheus.MustNewConstMetric(descUnreplayable, prometheus.CounterValue, float64(st.Unreplayable), b.Name)
			if src == nil {
				continue
			}
			ch <- prometheus.MustNewConstMetric(descBreakerState, prometheus.GaugeValue, breakerValue(st.Breaker), b.Name)
			expiry := 0.0
			if exp := st.Expiry; !exp.IsZero() {
				expiry = float64(exp.UnixNano()) / 1e9
			}
			ch <- prometheus.MustNewConstMetric(descExpiry, prometheus.GaugeValue, expiry, b.Name)
		}
	}
}

// breakerValue is the gauge value of a breaker state.
func breakerValue(state string) float64 {
	switch state {
	case "closed":
		return 0
	case "half-open":
		return 1
	default:
		return 2
	}
}

// observeRequest counts one answered request.
func (m *Metrics) observeRequest(route string, code int, d time.Duration) {
	m.requests.WithLabelValues(route, statusLabel(code)).Inc()
	m.latency.WithLabelValues(route).Observe(d.Seconds())
}

// statusLabel renders an HTTP status for the code label; anything outside the
// three-digit range becomes "other", so that the label set stays bounded.
func statusLabel(code int) string {
	if code < 100 || code > 599 {
		return "other"
	}
	return statusLabels[code]
}

// statusLabels holds the code label of each status, so that counting a request
// formats nothing.
var statusLabels = func() (t [600]string) {
	for i := 100; i < len(t); i++ {
		t[i] = strconv.Itoa(i)
	}
	return t
}()
