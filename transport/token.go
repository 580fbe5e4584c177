package transport

import (
	"context"
	"encoding/json"
	"time"
)

// Token is an access token and what the provider said about it.
type Token struct {
	// AccessToken is the credential itself. It never appears in String or logs.
	AccessToken string
	// Expiry is when the provider stops accepting the token. Zero means the provider
	// did not say; the Source then applies its default lifetime.
	Expiry time.Time
	// RefreshAfter is the earliest moment the provider will issue a different token
	// (zero: any time). Acoustic, for one, hands back the same token for three hours.
	RefreshAfter time.Time
	// RESTInstanceURL and SOAPInstanceURL are the tenant's API base URLs, where the
	// provider returns them. Their hosts join the Transport's scope.
	RESTInstanceURL string
	SOAPInstanceURL string
	// Scope is the space-separated scope the token was granted, where known.
	Scope string
}

// String describes the token without revealing it. fmt's %v and %s, and log/slog's
// text handler, render a Token with it.
func (t Token) String() string {
	if t.AccessToken == "" {
		return "Token{empty}"
	}
	return "Token{AccessToken:[REDACTED] Expiry:" + t.Expiry.Format(time.RFC3339) + "}"
}

// GoString keeps %#v from printing the secret too.
func (t Token) GoString() string { return t.String() }

// MarshalJSON renders the token without its secret, so that a Token logged or
// reported as JSON (log/slog's JSON handler among them) leaks nothing. To persist
// a token, copy its fields into a type of your own (as store/redis does).
func (t Token) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		AccessToken     string    `json:"access_token"`
		Expiry          time.Time `json:"expiry"`
		RefreshAfter    time.Time `json:"refresh_after,omitzero"`
		RESTInstanceURL string    `json:"rest_instance_url,omitempty"`
		SOAPInstanceURL string    `json:"soap_instance_url,omitempty"`
		Scope           string    `json:"scope,omitempty"`
	}{"[REDACTED]", t.Expiry, t.RefreshAfter, t.RESTInstanceURL, t.SOAPInstanceURL, t.Scope})
}

// Provider fetches a token. Each call makes exactly one token-endpoint exchange (its
// HTTP client may retry transient failures); caching, sharing and refreshing are the
// Source's job.
type Provider interface {
	Fetch(ctx context.Context) (Token, error)
}

// providerFunc adapts a function to the Provider interface.
type providerFunc func(ctx context.Context) (Token, error)

func (f providerFunc) Fetch(ctx context.Context) (Token, error) { return f(ctx) }
