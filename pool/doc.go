// Package pool holds many credentials by name and builds each one's
// transport.Transport — its Source, its circuit breaker and, for Acoustic, its
// limiter — only when the credential is first used. A program that serves
// thousands of tenants or business units pays, for each idle one, a name and a
// Builder: no token, no goroutine, no connection.
//
// A credential's Builder runs once, on first use, however many goroutines ask for
// it at the same moment; after that, Pool.Transport is a map read and an atomic
// load. A Builder sends nothing: the first token is fetched by the first request.
package pool
