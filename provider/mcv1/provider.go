package mcv1

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/tokentrip/tokentrip/internal/providerkit"
	"github.com/tokentrip/tokentrip/store"
	"github.com/tokentrip/tokentrip/transport"
)

// Provider fetches legacy Marketing Cloud tokens for one Config; it implements
// transport.Provider. Give it to one Source and share that: NewTransport does. Its
// Fetch calls run one at a time, so a refresh token is never spent twice.
type Provider struct {
	cfg      Config
	tokenURL string
	key      string              // where the refresh token is stored, with Offline
	tokens   store.RefreshTokens // nil without Offline
	kit      providerkit.Kit
	turn     chan struct{} // one slot: the Fetch holding it runs, the others wait

	mu     sync.Mutex
	legacy [2]legacyPair // with Legacy: the two latest fetches, newest first
}

// legacyPair is an access token and the legacy token issued with it.
type legacyPair struct{ access, legacy string }

// storeTimeout bounds saving a rotated refresh token, which goes on after the
// caller has given up: Marketing Cloud has already spent the old one.
const storeTimeout = 10 * time.Second

// NewProvider validates cfg and returns a Provider for it.
func NewProvider(cfg Config) (*Provider, error) {
	base, err := cfg.authBase()
	if err != nil {
		return nil, err
	}
	cfg.Transport.Hosts = slices.Clone(cfg.Transport.Hosts)
	p := &Provider{
		cfg:      cfg,
		tokenURL: base + tokenPath,
		kit:      providerkit.New(name, cfg.Common),
		turn:     make(chan struct{}, 1),
	}
	if cfg.Legacy {
		p.tokenURL += "?legacy=1"
	}
	if cfg.Offline {
		p.tokens = cfg.RefreshTokens
		if p.tokens == nil {
			p.tokens = &store.Memory{}
		}
		p.key = cfg.RefreshTokenKey
		if p.key == "" {
			p.key = name + ":" + cfg.ClientID + "@" + base
		}
	}
	return p, nil
}

// Fetch requests a token from POST {auth}/v1/requestToken. Without Offline it sends
// the client credentials. With Offline it redeems the stored refresh token (or, when
// none is stored, asks for offline access) and stores the refresh token that comes
// back before it returns; when Marketing Cloud rejects the stored refresh token,
// Fetch re-authorises with the client credentials in a second exchange.
//
// Concurrent calls take turns; a caller whose ctx ends while waiting gives up. A
// failure is a *transport.FetchError.
func (p *Provider) Fetch(ctx context.Context) (transport.Token, error) {
	select {
	case p.turn <- struct{}{}:
	case <-ctx.Done():
		return transport.Token{}, &transport.FetchError{
			Kind:     transport.ErrEndpoint,
			Provider: name,
			Message:  "gave up waiting for this Provider's previous fetch",
			Hint:     "give each Provider to one Source, which runs one fetch at a time",
			Err:      ctx.Err(),
		}
	}
	defer func() { <-p.turn }()

	var ans answer
	var err error
	if p.cfg.Offline {
		ans, err = p.fetchOffline(ctx)
	} else {
		ans, err = p.exchange(ctx, p.credentials())
	}
	if err != nil {
		return transport.Token{}, err
	}
	p.remember(ans)
	return ans.token, nil
}

// fetchOffline redeems the stored refresh token, falling back to the client
// credentials, and stores the successor before the token is returned.
func (p *Provider) fetchOffline(ctx context.Context) (answer, error) {
	stored, err := p.tokens.Load(ctx, p.key)
	if err != nil {
		return answer{}, storeError("loading the refresh token failed", err)
	}
	if stored != "" {
		req := p.credentials()
		req.RefreshToken = stored
		ans, err := p.exchange(ctx, req)
		if err == nil {
			return ans, p.rotate(ctx, stored, ans.refresh)
		}
		if !errors.Is(err, transport.ErrCredentialsRejected) {
			return answer{}, err
		}
		p.kit.Log(ctx, slog.LevelWarn, "refresh_token_rejected", slog.String("next", "re-authorising with the client credentials"))
	}
	req := p.credentials()
	req.AccessType = "offline"
	ans, err := p.exchange(ctx, req)
	if err != nil {
		return answer{}, err
	}
	return ans, p.rotate(ctx, stored, ans.refresh)
}

// rotate replaces the spent refresh token with next in the store. It runs on even
// when ctx has ended. When another process rotated the token meanwhile, its token
// is kept: both are valid, and the store must not go back in time.
func (p *Provider) rotate(ctx context.Context, spent, next string) error {
	if next == spent {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	err := p.tokens.CompareAndSwap(ctx, p.key, spent, next)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrConflict):
		p.kit.Log(ctx, slog.LevelInfo, "refresh_token_rotated_elsewhere", slog.String("next", "keeping the stored one"))
		return nil
	default:
		return storeError("saving the new refresh token failed", err)
	}
}

// exchange makes one token request and reads its answer.
func (p *Provider) exchange(ctx context.Context, req tokenRequest) (answer, error) {
	sent := p.kit.Now()
	resp, err := p.kit.Endpoint.Post(ctx, p.tokenURL, "application/json", req.encode())
	if err != nil {
		return answer{}, err
	}
	return readAnswer(resp, sent, req.secrets())
}

func (p *Provider) credentials() tokenRequest {
	return tokenRequest{ClientID: p.cfg.ClientID, ClientSecret: p.cfg.ClientSecret}
}

func storeError(message string, err error) error {
	return &transport.FetchError{
		Kind:     transport.ErrEndpoint,
		Provider: name,
		Message:  message,
		Hint:     "check the RefreshTokens store; if a new refresh token was lost, the next fetch re-authorises with the client credentials",
		Err:      err,
	}
}

// remember keeps the legacy token of a fetch for LegacyToken.
func (p *Provider) remember(ans answer) {
	if !p.cfg.Legacy {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.legacy[1] = p.legacy[0]
	p.legacy[0] = legacyPair{access: ans.token.AccessToken, legacy: ans.legacy}
}

// LegacyToken returns the legacy token Marketing Cloud issued with tok, when
// Config.Legacy is set and tok is one of the two tokens this Provider fetched last
// (a Source's current token, or the one it just replaced). Ask the Source for its
// token and pass it here:
//
//	tok, err := tr.Source().Token(ctx)
//	legacy, ok := p.LegacyToken(tok)
func (p *Provider) LegacyToken(tok transport.Token) (string, bool) {
	if tok.AccessToken == "" {
		return "", false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pair := range p.legacy {
		if pair.access == tok.AccessToken && pair.legacy != "" {
			return pair.legacy, true
		}
	}
	return "", false
}

// String describes the Provider by its Config, secrets redacted.
func (p *Provider) String() string { return "mcv1.Provider{" + p.cfg.String() + "}" }

// GoString keeps %#v from printing the Provider's fields, secrets among them.
func (p *Provider) GoString() string { return "&" + p.String() }

// CloseIdleConnections closes the idle connections of the token endpoint's client.
// A Transport over this Provider calls it from its own CloseIdleConnections.
func (p *Provider) CloseIdleConnections() { p.kit.Endpoint.CloseIdleConnections() }
