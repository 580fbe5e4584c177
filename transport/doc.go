// Package transport keeps one credential fresh and puts it on the requests that
// belong to it. A Source caches the token a Provider fetches, shares one fetch among
// all goroutines and refreshes ahead of expiry in the background; a Transport is the
// http.RoundTripper that applies it, and replays once when the server rejects it.
//
// The package knows no vendor's wire format: providers (mcv1, mcv2, acoustic, or any
// oauth2.TokenSource) implement Provider, and describe their hosts and verdicts
// through options.
//
// # Connections
//
// Every Transport built without WithBase sends through DefaultBase: one connection
// pool for the whole application, which keeps up to 128 idle connections per host
// (http.DefaultTransport keeps 2) and speaks HTTP/2 where the server offers it. Over
// HTTP/1.1 each call in flight holds a connection, and one that finds none idle
// opens a new one, a TCP and TLS handshake. Size the pool by the calls in flight to
// one host at the peak: beyond 128, or to cap connections, pass WithBase a clone of
// http.DefaultTransport with MaxIdleConnsPerHost (and MaxIdleConns across hosts) at
// least that number, and MaxConnsPerHost to bound them.
package transport
