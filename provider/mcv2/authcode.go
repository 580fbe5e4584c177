package mcv2

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"

	"github.com/tokentrip/tokentrip/store"
	"github.com/tokentrip/tokentrip/transport"
)

// An AuthOption changes an authorisation: AuthorizeURL and Exchange take the same
// ones.
type AuthOption func(*authOptions)

type authOptions struct {
	verifier string
}

func newAuthOptions(opts []AuthOption) authOptions {
	var o authOptions
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// WithPKCE adds Proof Key for Code Exchange (RFC 7636, method S256): AuthorizeURL
// sends the challenge derived from verifier, and Exchange sends verifier itself, so
// that a stolen code is useless to anyone else. Create the verifier with NewVerifier
// and keep it with the state until the callback. Marketing Cloud has not confirmed
// PKCE support, so it is off unless asked for.
func WithPKCE(verifier string) AuthOption {
	return func(o *authOptions) { o.verifier = verifier }
}

// NewVerifier returns a PKCE code verifier: 32 random bytes, base64url-encoded (43
// characters).
func NewVerifier() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // never fails: crypto/rand.Read crashes the program instead
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// challenge is the S256 code challenge of verifier.
func challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// validVerifier reports whether v is a code verifier RFC 7636 allows: 43 to 128
// characters of A-Z, a-z, 0-9, "-", ".", "_" and "~".
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0) {
			return false
		}
	}
	return true
}

// AuthorizeURL returns the address to send the user's browser to, so that they
// authorise the app: the tenant's /v2/authorize with response_type=code, the client
// id, Config.RedirectURI, Config.Scope and state: an unguessable value, such as
// crypto/rand.Text()'s, kept with the user's session for ParseCallback. Values are
// percent-encoded, spaces as %20.
func (p *Provider) AuthorizeURL(state string, opts ...AuthOption) string {
	o := newAuthOptions(opts)
	var q strings.Builder
	add := func(key, value string) {
		if q.Len() > 0 {
			q.WriteByte('&')
		}
		q.WriteString(key)
		q.WriteByte('=')
		q.WriteString(strings.ReplaceAll(url.QueryEscape(value), "+", "%20"))
	}
	add("response_type", "code")
	add("client_id", p.cfg.ClientID)
	if p.cfg.RedirectURI != "" {
		add("redirect_uri", p.cfg.RedirectURI)
	}
	if scope := p.cfg.scope(); scope != "" {
		add("scope", scope)
	}
	add("state", state)
	if o.verifier != "" {
		add("code_challenge", challenge(o.verifier))
		add("code_challenge_method", "S256")
	}
	return p.tenant.Load().authorizeURL() + "?" + q.String()
}

// Exchange redeems the code of a callback (from ParseCallback) for the user's
// first access token and refresh token. It saves the refresh token in
// Config.RefreshTokens, replacing any earlier one, and keeps the access token for
// the next Fetch, so that a Source built on this Provider starts without another
// token request. A callback's tssd moves the Provider to that tenant: the exchange
// and every later token call go to its auth host (unless Config.AuthURL is set),
// and its hosts join the scope of Transports built afterwards (Provider.NewTransport).
//
// Exchange needs Config.RefreshTokens and Config.RedirectURI, and the same
// AuthOptions as the AuthorizeURL that started the authorisation.
func (p *Provider) Exchange(ctx context.Context, cb Callback, opts ...AuthOption) (transport.Token, error) {
	if p.cfg.RefreshTokens == nil {
		return transport.Token{}, configError("RefreshTokens", "required by Exchange, to keep the refresh token the code is redeemed for")
	}
	if p.cfg.RedirectURI == "" {
		return transport.Token{}, configError("RedirectURI", "required by Exchange: the redirect URI registered on the app, as sent by AuthorizeURL")
	}
	if cb.Code == "" {
		return transport.Token{}, &CallbackError{Err: ErrMissingCode}
	}
	o := newAuthOptions(opts)
	if o.verifier != "" && !validVerifier(o.verifier) {
		return transport.Token{}, configError("WithPKCE", "the verifier must be 43 to 128 characters of A-Z, a-z, 0-9, '-', '.', '_' and '~'; use NewVerifier")
	}
	t := p.tenant.Load()
	if cb.Subdomain != "" {
		if !validTSSD(cb.Subdomain) {
			return transport.Token{}, &CallbackError{Err: ErrInvalidTSSD}
		}
		t = newTenant(p.cfg, cb.Subdomain)
	}
	req := p.request(grantAuthorizationCode)
	req.Code = cb.Code
	req.RedirectURI = p.cfg.RedirectURI
	req.CodeVerifier = o.verifier

	p.mu.Lock()
	defer p.mu.Unlock()
	start := p.kit.Now()
	ans, err := p.post(ctx, t, req)
	if err != nil {
		return transport.Token{}, err
	}
	if ans.RefreshToken == "" {
		return transport.Token{}, malformed("the code exchange returned no refresh_token")
	}
	if err := p.replace(ctx, ans.RefreshToken); err != nil {
		return transport.Token{}, err
	}
	p.tenant.Store(t)
	tok, err := token(ans, start, t, req.secrets())
	if err != nil {
		return transport.Token{}, err
	}
	p.handover = &tok
	return tok, nil
}

// replace saves a new authorisation's refresh token over whatever is stored, even
// when ctx has ended: the code is spent.
func (p *Provider) replace(ctx context.Context, next string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	const attempts = 3 // each lost only to a concurrent writer
	err := store.ErrConflict
	for range attempts {
		var cur string
		if cur, err = p.cfg.RefreshTokens.Load(ctx, p.key); err != nil {
			break
		}
		if err = p.cfg.RefreshTokens.CompareAndSwap(ctx, p.key, cur, next); !errors.Is(err, store.ErrConflict) {
			break
		}
	}
	if err != nil {
		return storeError("saving", err, "the code is spent: fix the store, then send the user through AuthorizeURL again")
	}
	p.unsaved = rotation{}
	return nil
}
