package emulator

import (
	"context"
	"time"
)

// Config is what every emulator lets a test set.
type Config struct {
	Clock        Clock         // nil: time.Now
	TokenLatency time.Duration // added to every token request
	APILatency   time.Duration // added to every API call
}

// Core is the state every emulator shares: its clock, registries, counters, gates
// and queued faults. It is safe for concurrent use.
type Core struct {
	Clock    Clock
	Tokens   *Tokens
	Clients  Clients
	Counters Counters
	Faults   Faults

	// TokenGate holds token requests, APIGate holds API calls (see Gate).
	TokenGate Gate
	APIGate   Gate

	tokenLatency time.Duration
	apiLatency   time.Duration
}

// NewCore returns a Core configured by cfg.
func NewCore(cfg Config) *Core {
	clock := cfg.Clock
	if clock == nil {
		clock = time.Now
	}
	return &Core{
		Clock:        clock,
		Tokens:       NewTokens(clock),
		tokenLatency: cfg.TokenLatency,
		apiLatency:   cfg.APILatency,
	}
}

// Now returns the emulator's current time.
func (c *Core) Now() time.Time { return c.Clock.Now() }

// PauseToken passes a token request through TokenGate and the token latency. It
// returns an error only when ctx ends first, in which case nobody is listening
// and the handler should just return.
func (c *Core) PauseToken(ctx context.Context) error {
	return pause(ctx, &c.TokenGate, c.tokenLatency)
}

// PauseAPI is PauseToken for API calls: APIGate, then the API latency.
func (c *Core) PauseAPI(ctx context.Context) error {
	return pause(ctx, &c.APIGate, c.apiLatency)
}

func pause(ctx context.Context, g *Gate, d time.Duration) error {
	if err := g.Pass(ctx); err != nil {
		return err
	}
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// RevokeClient revokes a client and every token issued to it; it reports whether
// the client is registered. Tokens stay revoked after RestoreClient.
func (c *Core) RevokeClient(id string) bool {
	if !c.Clients.SetRevoked(id, true) {
		return false
	}
	c.Tokens.RevokeClient(id)
	return true
}

// RestoreClient lets a revoked client ask for tokens again; it reports whether the
// client is registered.
func (c *Core) RestoreClient(id string) bool {
	return c.Clients.SetRevoked(id, false)
}

// Close opens both gates, so that a server can shut down while a test still holds
// requests.
func (c *Core) Close() {
	c.TokenGate.Release()
	c.APIGate.Release()
}
