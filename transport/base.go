package transport

import (
	"net/http"
	"sync"
)

// The connection pool of DefaultBase.
const (
	// defaultIdlePerHost is how many idle connections DefaultBase keeps per host:
	// enough for 128 calls in flight to one host over HTTP/1.1 to find a connection
	// waiting when they come back, where http.DefaultTransport keeps 2 and makes the
	// rest open new ones (each a TCP and TLS handshake).
	defaultIdlePerHost = 128
	// defaultIdle bounds the idle connections across all hosts, for an application
	// that talks to many tenants' hosts.
	defaultIdle = 4 * defaultIdlePerHost
)

// DefaultBase returns the RoundTripper under every Transport built without
// Options.Base: one connection pool that all of them share, as http.Client shares
// http.DefaultTransport. It is a clone of http.DefaultTransport (proxy from the
// environment, HTTP/2 where the server offers it, idle connections closed after
// 90 seconds) that keeps up to 128 idle connections per host and 512 in all, so
// that a busy client reuses its connections instead of opening new ones.
//
// Size the pool by the calls in flight to one host at the peak: over HTTP/1.1 each
// needs a connection of its own, and a call that finds no idle one opens a new one.
// Above 128 calls in flight, or to bound connections, set Options.Base to a clone of
// http.DefaultTransport whose MaxIdleConnsPerHost (and MaxIdleConns, for many
// hosts) is at least that number, or MaxConnsPerHost to cap them. Over HTTP/2 one
// connection carries up to the server's limit of concurrent streams (often 100 or
// more). Its CloseIdleConnections, which Transport.CloseIdleConnections calls,
// closes the idle connections of every Transport that shares it.
func DefaultBase() http.RoundTripper { return defaultBase() }

var defaultBase = sync.OnceValue(func() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = defaultIdlePerHost
	t.MaxIdleConns = defaultIdle
	return t
})
