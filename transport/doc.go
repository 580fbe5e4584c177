// Package transport keeps one credential fresh and puts it on the requests that
// belong to it. A Source caches the token a Provider fetches, shares one fetch among
// all goroutines and refreshes ahead of expiry in the background; a Transport is the
// http.RoundTripper that applies it, and replays once when the server rejects it.
//
// The package knows no vendor's wire format: providers (mcv1, mcv2, acoustic, or any
// oauth2.TokenSource) implement Provider, and describe their hosts and verdicts
// through options.
package transport
