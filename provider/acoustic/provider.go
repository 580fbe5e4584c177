package acoustic

import (
	"context"
	"crypto/sha256"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tokentrip/tokentrip/internal/oauthwire"
	"github.com/tokentrip/tokentrip/internal/providerkit"
	"github.com/tokentrip/tokentrip/transport"
)

// Acoustic's token lifetimes.
const (
	// tokenLifetime is how long an access token lives after Acoustic issues it.
	tokenLifetime = 4 * time.Hour
	// reissueAge is how old the current access token must be before Acoustic issues
	// a new one; until then every token request returns the current token again.
	reissueAge = 3 * time.Hour
)

const (
	// roundingSlack covers expires_in being rounded down to whole seconds, which
	// makes a token look up to a second older than it is.
	roundingSlack = time.Second
	// reissueRetry spaces the requests made when Acoustic still hands back the same
	// token past the moment it was expected to issue a new one.
	reissueRetry = time.Minute
)

// Provider fetches Acoustic Campaign access tokens with the refresh_token grant. It
// implements transport.Provider: each Fetch makes one token request (retried on
// network errors, 5xx and 429 with exponential backoff and jitter). A Provider is
// safe for concurrent use; NewTransport and NewClient make one for you.
//
// Acoustic issues a new token only once the current one is three hours old, and
// answers earlier requests with the current token and its remaining lifetime
// (expires_in, in whole seconds rounded down). Fetch therefore works out when the
// token was issued — now less the part of its four hours already spent — and sets
// Token.RefreshAfter to three hours and one second past that (the second covers the
// rounding), so that the Source does not ask before Acoustic will answer with
// something new. A same-token answer is no error:
//
//   - When Acoustic answers with the token it gave last time, the issue time worked
//     out then is kept, so RefreshAfter does not drift with each answer's rounding
//     and latency.
//   - When that answer comes at or after RefreshAfter (Acoustic's clock is behind),
//     RefreshAfter moves a minute on, so that nobody asks again at once: asking too
//     often gets "Access token limits exceeded".
//   - An expires_in longer than four hours, which Acoustic does not document, makes
//     the token count as issued now.
type Provider struct {
	cfg          Config // for the Transport NewTransport builds
	tokenURL     string
	form         []byte // the encoded token request; it holds the secrets
	secrets      []string
	refreshToken string
	kit          providerkit.Kit

	mu   sync.Mutex
	last issue // the last token Acoustic returned
}

// issue is what the Provider remembers of the last token it was given.
type issue struct {
	fingerprint  [sha256.Size]byte // of the access token, which itself is not kept here
	issuedAt     time.Time
	refreshAfter time.Time
}

// NewProvider returns a Provider for cfg, or the *transport.ConfigError of the
// first field that cannot work.
func NewProvider(cfg Config) (*Provider, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	base, _ := cfg.Endpoint()
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"client_id":     {cfg.ClientID},
		"client_secret": {cfg.ClientSecret},
		"refresh_token": {cfg.RefreshToken},
	}
	cfg.Transport.Hosts = slices.Clone(cfg.Transport.Hosts)
	return &Provider{
		cfg:          cfg,
		tokenURL:     base + "/oauth/token",
		form:         []byte(form.Encode()),
		secrets:      []string{cfg.ClientSecret, cfg.RefreshToken, oauthwire.ScrubbedID(cfg.ClientID)}, // the client id: no log line may carry it
		refreshToken: cfg.RefreshToken,
		kit:          providerkit.New(name, cfg.Common),
	}, nil
}

// Fetch implements transport.Provider: it trades the refresh token for an access
// token. Failures are *transport.FetchError values of kind
// transport.ErrCredentialsRejected, transport.ErrEndpoint or transport.ErrConfig.
func (p *Provider) Fetch(ctx context.Context) (transport.Token, error) {
	resp, err := p.kit.Endpoint.Post(ctx, p.tokenURL, "application/x-www-form-urlencoded", p.form)
	if err != nil {
		return transport.Token{}, p.endpointFailure(resp, err)
	}
	r, err := oauthwire.Decode(name, resp)
	if err != nil {
		return transport.Token{}, p.undecodable(resp.StatusCode, err)
	}
	if !r.OK(resp.StatusCode) {
		return transport.Token{}, p.rejection(resp.StatusCode, r)
	}
	return p.token(r)
}

// CheckToken implements transport.TokenChecker: it reports why tok, read from a
// store rather than from Acoustic, is not a token this Provider could have fetched
// — an access token with characters a header cannot carry, a lifetime longer than
// a day from now, a refresh point after its expiry, or instance URLs, which
// Acoustic never returns. A Source adopts a token from its Store only when it
// passes. The error never quotes the token.
func (p *Provider) CheckToken(tok transport.Token) error {
	if err := p.kit.CheckStored("Acoustic", tok); err != nil {
		return err
	}
	switch {
	case tok.RefreshAfter.After(tok.Expiry):
		return p.kit.StoredError("a refresh point after its expiry")
	case tok.RESTInstanceURL != "" || tok.SOAPInstanceURL != "":
		return p.kit.StoredError("instance URLs, which Acoustic never returns")
	}
	return nil
}

var _ transport.TokenChecker = (*Provider)(nil)

// token turns a successful answer into a Token, working out when it was issued.
func (p *Provider) token(r oauthwire.Response) (transport.Token, error) {
	if problem := oauthwire.TokenProblem(r.AccessToken); problem != "" {
		return transport.Token{}, p.malformed("access_token " + problem)
	}
	if r.TokenType != "" && !strings.EqualFold(r.TokenType, "bearer") {
		return transport.Token{}, p.malformed("token_type is " + quoteShort(p.scrub(r.TokenType, r.AccessToken, r.RefreshToken)) + ", not bearer")
	}
	life := tokenLifetime // Acoustic always says; if it ever does not, its documented lifetime
	if text, ok := r.LifetimeText(); ok {
		var problem string
		if life, problem = oauthwire.ParseLifetime("expires_in", text, oauthwire.MaxLifetime); problem != "" {
			return transport.Token{}, p.malformed(problem)
		}
	}
	if r.RefreshToken != "" && r.RefreshToken != p.refreshToken {
		p.kit.Log(context.Background(), slog.LevelWarn, "refresh_token_changed", slog.String("next", "keeping the configured one"))
	}

	now := p.kit.Now()
	expiry := now.Add(life)
	issuedAt := expiry.Add(-tokenLifetime) // now, less the part of its lifetime already spent
	if life > tokenLifetime {
		issuedAt = now // a lifetime Acoustic does not document: take the token as new
	}
	refreshAfter := issuedAt.Add(reissueAge + roundingSlack)

	fp := sha256.Sum256([]byte(r.AccessToken))
	p.mu.Lock()
	if fp == p.last.fingerprint {
		issuedAt, refreshAfter = p.last.issuedAt, p.last.refreshAfter
		if !now.Before(refreshAfter) {
			// Acoustic's clock has not reached its three hours yet: ask again a
			// little later rather than at once.
			refreshAfter = now.Add(reissueRetry)
		}
	}
	p.last = issue{fingerprint: fp, issuedAt: issuedAt, refreshAfter: refreshAfter}
	p.mu.Unlock()

	return transport.Token{AccessToken: r.AccessToken, Expiry: expiry, RefreshAfter: refreshAfter}, nil
}

// String describes the Provider by its Config, without its secrets.
func (p *Provider) String() string { return "acoustic.Provider{" + p.cfg.String() + "}" }

// GoString keeps %#v from printing the secrets.
func (p *Provider) GoString() string { return "&" + p.String() }

// CloseIdleConnections closes the idle connections of the token endpoint's client.
// A Transport over this Provider calls it from its own CloseIdleConnections.
func (p *Provider) CloseIdleConnections() { p.kit.Endpoint.CloseIdleConnections() }
