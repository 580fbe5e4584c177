// Package redisstore shares tokentrip's state across a fleet of processes through
// Redis: access tokens with one fetch per token lifetime for the whole fleet
// (transport.Store), rotated refresh tokens by compare-and-swap
// (store.RefreshTokens), the circuit breaker's state (gobreaker's
// SharedDataStore), and a lease-based semaphore that caps requests in flight
// across processes, as Acoustic's ten-per-org limit needs.
//
// To use it, set a provider's Config.Store to a Store (the provider keys each
// credential's token by client, business unit, scope and user) and, for rotating
// refresh tokens, Config.RefreshTokens to its RefreshTokens.
//
// It lives in its own package so that programs that do not use Redis never import
// it. Keys are namespaced by a prefix and hashed (no client id, secret or token
// appears in a key), values may be sealed with AES-GCM under a key of the user's,
// and token entries expire with the token. When Redis cannot be reached every
// part falls back to working inside the process, with a warning, and returns to
// sharing once Redis answers again.
//
// Redis 5 or later is required (the scripts read the server's clock).
package redisstore
