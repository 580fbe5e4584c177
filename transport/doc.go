// Package transport keeps one credential fresh and puts it on the requests that
// belong to it. A Source caches the token a Provider fetches, shares one fetch among
// all goroutines and refreshes ahead of expiry in the background; a Transport is the
// http.RoundTripper that applies it, and replays once when the server rejects it.
//
// The package knows no vendor's wire format: providers (mcv1, mcv2, acoustic, or any
// oauth2.TokenSource) implement Provider, and describe their hosts and verdicts
// through Options.
//
// # Configuration
//
// Each knob has one place: Settings for a Source, Options for a Transport. Both are
// plain structs whose zero value takes every default, and each field's comment
// states its default:
//
//	src := transport.NewSource(p, transport.Settings{Name: "billing", Logger: logger})
//	tr := transport.New(src, transport.Options{Hosts: []string{"api.example.com"}})
//
// # Errors
//
// Errors are typed and wrapped; match them with errors.Is and errors.As. Their
// text has no package prefix: each reads as a fragment an application can wrap
// ("…: credentials rejected"), and the ones about a provider's token endpoint or
// configuration (FetchError, ConfigError) start with the provider's name.
//
// # Connections
//
// Every Transport built without Options.Base sends through DefaultBase: one
// connection pool for the whole application, which keeps up to 128 idle connections
// per host (http.DefaultTransport keeps 2) and speaks HTTP/2 where the server offers
// it. Over HTTP/1.1 each call in flight holds a connection, and one that finds none
// idle opens a new one, a TCP and TLS handshake. Size the pool by the calls in
// flight to one host at the peak: beyond 128, or to cap connections, set Base to a
// clone of http.DefaultTransport with MaxIdleConnsPerHost (and MaxIdleConns across
// hosts) at least that number, and MaxConnsPerHost to bound them.
package transport
