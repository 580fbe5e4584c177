// Package store keeps what must outlive one token fetch: the rotating refresh tokens
// of Marketing Cloud's offline and authorization-code flows, which are spent on use
// and so must be saved before the new access token is used, and — for short-lived
// runs such as cron jobs and the CLI — access tokens between runs. It offers an
// in-memory and a crash-safe file store of refresh tokens, and TokenCache, a
// directory of access tokens; store/redis shares them across a fleet.
package store
