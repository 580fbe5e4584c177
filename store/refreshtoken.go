package store

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/tokentrip/tokentrip/internal/redact"
	"github.com/tokentrip/tokentrip/transport"
)

// ErrConflict is returned by CompareAndSwap when the stored refresh token is no longer
// the one the caller spent: another fetch rotated it first. Load returns the winner's.
var ErrConflict = errors.New("store: refresh token was rotated by someone else")

// RefreshTokens keeps the current refresh token of each credential, by key. Refresh
// tokens are single use: a provider loads one, spends it, and stores its successor
// with CompareAndSwap before it uses the access token that came with it.
//
// A RefreshTokens may also keep, with each refresh token, the access token issued
// with it, through two more methods, as Memory and store/redis's RefreshTokens do:
//
//	LoadPair(ctx, key) (refresh string, access transport.Token, err error)
//	CompareAndSwapPair(ctx, key, prev, next string, access transport.Token) error
//
// When two holders of one rotating refresh token spend it at the same moment, the
// provider refuses the second (the token was single use); a provider whose store
// has these methods then adopts the winner's successor and access token, after
// checking the token as if it came from the network, instead of failing or
// spending the successor too: one refresh per rotation, however many processes
// share the credential.
type RefreshTokens interface {
	// Load returns the stored refresh token for key, or "" if there is none.
	Load(ctx context.Context, key string) (string, error)
	// CompareAndSwap stores next for key if the stored token is still prev ("" for
	// none), and fails with ErrConflict otherwise.
	CompareAndSwap(ctx context.Context, key, prev, next string) error
}

// Memory is a RefreshTokens held in this process, shared by the Providers of the
// process that use it; it keeps the access token issued with each refresh token
// too (LoadPair, CompareAndSwapPair). The zero value is ready to use. A type that embeds Memory to
// change how it stores must override CompareAndSwapPair and LoadPair as well as
// CompareAndSwap and Load: providers use the pair methods when they exist.
type Memory struct {
	mu     sync.Mutex
	tokens map[string]string
	access map[string]transport.Token
}

// Load implements RefreshTokens.
func (m *Memory) Load(_ context.Context, key string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tokens[key], nil
}

// CompareAndSwap implements RefreshTokens.
func (m *Memory) CompareAndSwap(ctx context.Context, key, prev, next string) error {
	return m.CompareAndSwapPair(ctx, key, prev, next, transport.Token{})
}

// LoadPair returns the refresh token stored for key ("" if none) and the access
// token stored with it (the zero Token if none).
func (m *Memory) LoadPair(_ context.Context, key string) (string, transport.Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tokens[key], m.access[key], nil
}

// CompareAndSwapPair is CompareAndSwap that also stores access, the access token
// issued with next. A plain CompareAndSwap leaves no access token with the refresh
// token it stores.
func (m *Memory) CompareAndSwapPair(_ context.Context, key, prev, next string, access transport.Token) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tokens[key] != prev {
		return ErrConflict
	}
	if m.tokens == nil {
		m.tokens, m.access = map[string]string{}, map[string]transport.Token{}
	}
	m.tokens[key] = next
	if access.AccessToken == "" || next == "" {
		delete(m.access, key)
	} else {
		m.access[key] = access
	}
	return nil
}

// Format prints the same text for every verb, never a token.
func (m *Memory) Format(f fmt.State, verb rune) { redact.Format(f, verb, "store.Memory{[REDACTED]}") }
