package emulator

import (
	"crypto/subtle"
	"sync"
)

// Client is a registered API client (an installed package or an application).
type Client struct {
	ID     string
	Secret string
	Kind   string // what the emulator package makes of it: "legacy", "web", …
}

// Clients is a registry of clients. It is safe for concurrent use; the zero value
// is ready.
type Clients struct {
	mu      sync.Mutex
	m       map[string]Client
	revoked map[string]bool
}

// Add registers c, replacing any client with the same ID.
func (cs *Clients) Add(c Client) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.m == nil {
		cs.m = make(map[string]Client)
		cs.revoked = make(map[string]bool)
	}
	cs.m[c.ID] = c
}

// Lookup returns the client registered under id and whether it is revoked.
func (cs *Clients) Lookup(id string) (c Client, revoked, ok bool) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	c, ok = cs.m[id]
	return c, cs.revoked[id], ok
}

// Authenticate checks a client id and secret. It returns the client, or the
// rejection reason (ReasonInvalidClient or ReasonRevokedClient).
func (cs *Clients) Authenticate(id, secret string) (Client, string) {
	c, revoked, ok := cs.Lookup(id)
	switch {
	case !ok || !SecretsEqual(c.Secret, secret):
		return Client{}, ReasonInvalidClient
	case revoked:
		return Client{}, ReasonRevokedClient
	}
	return c, ""
}

// SetRevoked revokes or restores a client and reports whether it is registered.
func (cs *Clients) SetRevoked(id string, revoked bool) bool {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if _, ok := cs.m[id]; !ok {
		return false
	}
	cs.revoked[id] = revoked
	return true
}

// SecretsEqual compares two secrets in constant time.
func SecretsEqual(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
