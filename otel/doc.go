// Package tokentripotel reports what tokentrip's token Sources do as OpenTelemetry
// metrics and spans: fetches, failures and their duration, refreshes ahead,
// invalidations, replays, adoptions from a Store and the circuit breaker's state,
// and a span around every token fetch. It lives in its own module, so that
// tokentrip itself depends on no OpenTelemetry package.
//
// Import it under its package name, which differs from its directory:
//
//	import tokentripotel "github.com/tokentrip/tokentrip/otel"
//
// Give Instruments.Hook to the provider's Config.Source.Hook (a transport.Settings) and
// the Source to Instruments.Observe. Attributes are bounded: the provider's name
// ("mcv1", "mcv2", "acoustic" or "other"), error.type on failures, the breaker's
// state, and the attributes of Config. No metric or span carries a client id, a
// secret or a token; Source names, which may name a credential, are not used.
//
// For the API calls themselves, compose with otelhttp: set the provider's
// Config.Transport.Base to otelhttp.NewTransport(base), and every attempt, a replay after a
// rejected token included, gets its client span (see the package example).
package tokentripotel
