// Package redisstore shares tokentrip's state across a fleet of processes through
// Redis: access tokens with one fetch per token lifetime for the whole fleet, and
// the circuit breaker's state (transport.Store), rotated refresh tokens by
// compare-and-swap, with the access token issued with each (RefreshTokens), and
// a lease-based semaphore that caps requests in flight across processes, as
// Acoustic's ten-per-org limit needs.
//
// To use it, set a provider's Config.Source.Store to a Store (the provider keys each
// credential's token by client, business unit, scope and user) and, for rotating
// refresh tokens, Config.RefreshTokens to its RefreshTokens.
//
// It lives in its own package so that programs that do not use Redis never import
// it. Keys are namespaced by a prefix and hashed (no client id, secret or token
// appears in a key); values are sealed with AES-GCM under the fleet's key
// (Options.EncryptionKey; New refuses to run without one unless told
// Options.Unencrypted), and everything read back is checked as if it came from the
// network, so that whoever can write to Redis cannot make the fleet adopt a token
// or stop it; token entries expire with the token. Every Redis operation ends
// within the Store's timeout whatever the client's options. When Redis cannot be
// reached, or stalls, every part falls back to working inside the process, with a
// warning, and returns to sharing once Redis answers again. docs/RELIABILITY.md
// holds the threat model and the measured bounds.
//
// Redis 5 or later is required (the scripts read the server's clock).
package redisstore
