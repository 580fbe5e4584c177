package mcv2

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokentrip/tokentrip/internal/oauthwire"
	"github.com/tokentrip/tokentrip/internal/providerkit"
	"github.com/tokentrip/tokentrip/internal/tokenpairs"
	"github.com/tokentrip/tokentrip/store"
	"github.com/tokentrip/tokentrip/transport"
)

// storeTimeout bounds saving a refresh token once its predecessor is spent: the save
// runs on after the caller's context ends, since the new token is the only one
// that still works.
const storeTimeout = 10 * time.Second

// handoverMinLife is the life an exchanged access token must have left for the
// first Fetch to hand it over instead of renewing it.
const handoverMinLife = time.Minute

// Provider fetches Marketing Cloud v2 tokens for one Config: with the
// client_credentials grant, or, when the Config has RefreshTokens, with the
// user's rotating refresh token. It implements transport.Provider; wrap it in one
// transport.Source (the NewTransport function and method do) and share that. A
// Provider is safe for concurrent use.
type Provider struct {
	cfg Config
	kit providerkit.Kit
	key string // of the refresh token in cfg.RefreshTokens

	tenant atomic.Pointer[tenant] // where token calls go; Exchange may move it

	// mu serialises every use of the refresh token, so that it is spent once.
	mu       sync.Mutex
	handover *transport.Token // the exchanged access token, for the first Fetch
	unsaved  rotation         // a refresh whose new refresh token could not be saved
	last     string           // the access token Fetch returned last, never adopted again
}

// rotation is a refresh token spent for next, with the access token that came
// with them.
type rotation struct {
	spent, next string
	tok         transport.Token
}

// NewProvider validates cfg and returns its Provider. It sends nothing.
func NewProvider(cfg Config) (*Provider, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.Scope = append([]string(nil), cfg.Scope...)
	cfg.Transport.Hosts = append([]string(nil), cfg.Transport.Hosts...)
	p := &Provider{
		cfg: cfg,
		kit: providerkit.New(name, cfg.Common),
		key: cfg.refreshKey(),
	}
	p.tenant.Store(newTenant(cfg, cfg.Subdomain))
	return p, nil
}

// Fetch gets a new access token with one token-endpoint exchange: the
// client_credentials grant, or, for a user's credential, the refresh_token grant,
// whose new refresh token is saved in Config.RefreshTokens before Fetch returns.
// The first Fetch after Exchange hands over the exchanged token instead.
func (p *Provider) Fetch(ctx context.Context) (transport.Token, error) {
	if p.cfg.RefreshTokens != nil {
		return p.refresh(ctx)
	}
	return p.grant(ctx, p.tenant.Load(), p.request(grantClientCredentials))
}

// Subdomain returns the tenant subdomain token calls go to: Config.Subdomain, or
// the tssd of the callback Exchange redeemed. An app that serves users of several
// tenants keeps it with the user, for the Config it builds after a restart.
func (p *Provider) Subdomain() string { return p.tenant.Load().subdomain }

// String describes the Provider without its secrets.
func (p *Provider) String() string { return "mcv2.Provider{" + p.cfg.String() + "}" }

// GoString keeps %#v from printing the Provider's secrets and tokens.
func (p *Provider) GoString() string { return "&" + p.String() }

// RefreshTokenKey returns the key of this credential's refresh token in
// Config.RefreshTokens, for seeding or removing it.
func (p *Provider) RefreshTokenKey() string { return p.key }

// request returns the parts of a token request that every grant shares.
func (p *Provider) request(grant string) tokenRequest {
	return tokenRequest{
		GrantType:    grant,
		ClientID:     p.cfg.ClientID,
		ClientSecret: p.cfg.ClientSecret,
		Scope:        p.cfg.scope(),
		AccountID:    p.cfg.AccountID,
	}
}

// grant sends one token request to t and reads the token from its answer.
func (p *Provider) grant(ctx context.Context, t *tenant, req tokenRequest) (transport.Token, error) {
	start := p.kit.Now()
	ans, err := p.post(ctx, t, req)
	if err != nil {
		return transport.Token{}, err
	}
	return token(ans, start, t, req.secrets())
}

// refresh renews a user's access token with the stored refresh token and stores
// the refresh token that replaces it — or, when another holder of the credential
// has just done so, adopts the access token it stored with it.
func (p *Provider) refresh(ctx context.Context) (transport.Token, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	tok, err := p.refreshLocked(ctx)
	if err == nil {
		p.last = tok.AccessToken
	}
	return tok, err
}

func (p *Provider) refreshLocked(ctx context.Context) (transport.Token, error) {
	if tok := p.handover; tok != nil {
		p.handover = nil
		if p.fresh(*tok) {
			return *tok, nil
		}
	}
	if u := p.unsaved; u.next != "" {
		if err := p.rotate(ctx, u.spent, u.next, u.tok); err != nil {
			return transport.Token{}, err
		}
		if p.fresh(u.tok) {
			return u.tok, nil
		}
	}
	spent, access, err := p.loadPair(ctx)
	if err != nil {
		return transport.Token{}, storeError("loading", err, hintStore)
	}
	if spent != "" && p.adoptable(access) {
		// Another holder of the credential renewed it moments ago: its token, not
		// a second grant.
		return access, nil
	}
	if spent == "" {
		return transport.Token{}, &transport.FetchError{
			Kind:     transport.ErrCredentialsRejected,
			Provider: name,
			Message:  "no refresh token under key " + p.key,
			Hint:     hintNoRefresh,
			Err:      ErrNoRefreshToken,
		}
	}
	return p.spend(ctx, spent, true)
}

// held returns the tokens the Provider holds besides those a request carries, for
// scrubbing from errors. p.mu is held.
func (p *Provider) held() []string {
	h := []string{p.unsaved.next, p.unsaved.tok.AccessToken}
	if p.handover != nil {
		h = append(h, p.handover.AccessToken)
	}
	return h
}

// spend redeems the refresh token spent and saves its successor, with the access
// token that came with it, before it returns. When Marketing Cloud refuses spent
// because another process spent it first, the winner's result is adopted
// (refused); retry allows spending the winner's successor once when there is no
// access token to adopt. p.mu is held.
func (p *Provider) spend(ctx context.Context, spent string, retry bool) (transport.Token, error) {
	t := p.tenant.Load()
	req := p.request(grantRefreshToken)
	req.RefreshToken = spent
	req.held = p.held()
	start := p.kit.Now()
	ans, err := p.post(ctx, t, req)
	if err != nil {
		return p.refused(ctx, spent, err, retry)
	}
	tok, tokErr := token(ans, start, t, req.secrets())
	if ans.RefreshToken != "" {
		withAccess := tok
		if tokErr != nil {
			withAccess = transport.Token{}
		}
		if err := p.rotate(ctx, spent, ans.RefreshToken, withAccess); err != nil {
			return transport.Token{}, err
		}
	}
	return tok, tokErr
}

// Rotation races: when two processes (or two Providers sharing RefreshTokens) spend
// the same refresh token at once, Marketing Cloud grants the first and refuses the
// second with invalid_grant. The loser's refusal may arrive before the winner has
// stored the successor, so the loser waits for it, a bounded time.
const (
	// rotationWait bounds the wait for the winner's successor. A refusal that no
	// rotation explains within it is a real one: spent, expired or revoked.
	rotationWait = 2 * time.Second
	// rotationPoll is how often the loser looks at the store while it waits.
	rotationPoll = 25 * time.Millisecond
)

// refused looks again at a refresh that failed with invalid_grant. When the store
// holds another refresh token by now (at once, or within rotationWait), another
// holder of the credential spent this one first: its access token, stored with
// its successor (tokenpairs.Store), is adopted when it passes the checks a token
// from the network passes; without one, the successor is spent once (retry). A
// race is never reported as rejected credentials: when it cannot be resolved, the
// error is ErrRotatedElsewhere, which the Source's breaker ignores
// (transport.ErrSuperseded). A refusal that no rotation explains is returned as
// it came.
func (p *Provider) refused(ctx context.Context, spent string, err error, retry bool) (transport.Token, error) {
	var fe *transport.FetchError
	if !errors.As(err, &fe) || fe.Code != "invalid_grant" {
		return transport.Token{}, err
	}
	cur, access, lerr := p.awaitRotation(ctx, spent)
	switch {
	case lerr != nil && ctx.Err() == nil:
		return transport.Token{}, storeError("loading", lerr, hintStore)
	case lerr != nil:
		return transport.Token{}, p.rotatedElsewhere(fe, ctx.Err())
	case cur == "" || cur == spent:
		return transport.Token{}, err // nobody rotated it: the refusal is real
	case p.adoptable(access):
		return access, nil
	case retry:
		return p.spend(ctx, cur, false)
	}
	return transport.Token{}, p.rotatedElsewhere(fe, nil)
}

// rotatedElsewhere is the error of a rotation race that could not be resolved.
func (p *Provider) rotatedElsewhere(fe *transport.FetchError, cause error) error {
	return &transport.FetchError{
		Kind:       transport.ErrEndpoint,
		Provider:   name,
		StatusCode: fe.StatusCode,
		Code:       fe.Code,
		Message:    fe.Message,
		Hint:       hintRotated,
		Err:        errors.Join(ErrRotatedElsewhere, transport.ErrSuperseded, cause),
	}
}

// awaitRotation loads the stored refresh token until it is no longer spent, for
// at most rotationWait, and returns it with the access token stored with it, if
// the store keeps one (tokenpairs.Store).
func (p *Provider) awaitRotation(ctx context.Context, spent string) (string, transport.Token, error) {
	deadline := time.NewTimer(rotationWait)
	defer deadline.Stop()
	var tick *time.Ticker
	for {
		cur, access, err := p.loadPair(ctx)
		if err != nil || (cur != spent && cur != "") {
			return cur, access, err
		}
		if tick == nil {
			tick = time.NewTicker(rotationPoll)
			defer tick.Stop()
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			return cur, transport.Token{}, nil
		case <-ctx.Done():
			return "", transport.Token{}, ctx.Err()
		}
	}
}

// loadPair loads the stored refresh token and, from a tokenpairs.Store, the access
// token stored with it.
func (p *Provider) loadPair(ctx context.Context) (string, transport.Token, error) {
	if tp, ok := p.cfg.RefreshTokens.(tokenpairs.Store); ok {
		return tp.LoadPair(ctx, p.key)
	}
	cur, err := p.cfg.RefreshTokens.Load(ctx, p.key)
	return cur, transport.Token{}, err
}

// rotate saves next in place of the spent refresh token, even when ctx has ended.
// When the store no longer holds spent, someone stored a newer authorisation
// meanwhile, and that one stays. When the store fails, next is kept in memory, with
// tok, for the next Fetch to save: it is the only refresh token that still works.
func (p *Provider) rotate(ctx context.Context, spent, next string, tok transport.Token) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	var err error
	if tp, ok := p.cfg.RefreshTokens.(tokenpairs.Store); ok && tok.AccessToken != "" {
		err = tp.CompareAndSwapPair(ctx, p.key, spent, next, tok)
	} else {
		err = p.cfg.RefreshTokens.CompareAndSwap(ctx, p.key, spent, next)
	}
	if err != nil && !errors.Is(err, store.ErrConflict) {
		p.unsaved = rotation{spent: spent, next: next, tok: tok}
		return storeError("saving", err, hintUnsavedRotate)
	}
	p.unsaved = rotation{}
	return nil
}

// adoptable reports whether an access token stored with the refresh token by
// another holder of the credential may be handed out instead of a new grant: it
// passes the checks a token from the network passes, has life left, and is not the
// token this Provider handed out last (which the Source is replacing, perhaps
// because the API refused it). p.mu is held.
func (p *Provider) adoptable(access transport.Token) bool {
	return access.AccessToken != "" && access.AccessToken != p.last && p.CheckToken(access) == nil && p.fresh(access)
}

// fresh reports whether tok has enough life left to be handed out.
func (p *Provider) fresh(tok transport.Token) bool {
	return tok.AccessToken != "" && p.kit.Now().Add(handoverMinLife).Before(tok.Expiry)
}

// post sends req to t's token endpoint and returns its successful answer; any
// other answer is a *transport.FetchError.
func (p *Provider) post(ctx context.Context, t *tenant, req tokenRequest) (oauthwire.Response, error) {
	resp, err := p.kit.Endpoint.Post(ctx, t.tokenURL(), "application/json", req.encode())
	if err != nil {
		clean := func(s string) string { return scrub(s, req.secrets()) }
		return oauthwire.Response{}, oauthwire.Explain(name, resp, err, clean)
	}
	return decode(resp, req)
}

// CloseIdleConnections closes the idle connections of the token endpoint's client.
// A Transport over this Provider calls it from its own CloseIdleConnections.
func (p *Provider) CloseIdleConnections() { p.kit.Endpoint.CloseIdleConnections() }
