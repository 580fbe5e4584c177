// Package store keeps what must outlive one token fetch: the rotating refresh tokens
// of Marketing Cloud's offline and authorization-code flows, which are spent on use
// and so must be saved before the new access token is used. It offers an in-memory
// store and a crash-safe file store; store/redis shares them across processes.
package store
