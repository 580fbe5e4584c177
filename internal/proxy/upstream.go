package proxy

import (
	"net/http"
	"time"
)

// NewUpstreamTransport returns the http.Transport that carries a proxy's requests
// to the vendors: a clone of http.DefaultTransport that keeps an idle connection
// per host for each of maxInFlight requests (http.DefaultTransport keeps two, so
// a proxy under load would open — and, over TLS, handshake — a connection for
// most requests) and speaks HTTP/2 to upstreams that offer it. Pass it as the
// provider Config's Base.
func NewUpstreamTransport(maxInFlight int) *http.Transport {
	if maxInFlight <= 0 {
		maxInFlight = DefaultMaxInFlight
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 0 // no total bound: the per-host one is what matters
	t.MaxIdleConnsPerHost = maxInFlight
	t.IdleConnTimeout = 90 * time.Second
	t.ForceAttemptHTTP2 = true
	return t
}
