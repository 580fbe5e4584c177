package transport

import (
	"context"

	"golang.org/x/oauth2"
)

// FromOAuth2 makes a Provider of any oauth2.TokenSource, so that a credential already
// served by golang.org/x/oauth2 gains the Source's sharing, refresh-ahead and breaker.
// Wrap the TokenSource unwrapped: oauth2.ReuseTokenSource would hide new tokens from
// the Source until the old one expires.
func FromOAuth2(ts oauth2.TokenSource) Provider {
	return providerFunc(func(context.Context) (Token, error) {
		t, err := ts.Token()
		if err != nil {
			return Token{}, err
		}
		tok := Token{AccessToken: t.AccessToken, Expiry: t.Expiry}
		if scope, ok := t.Extra("scope").(string); ok {
			tok.Scope = scope
		}
		return tok, nil
	})
}

// OAuth2 returns the Source as an oauth2.TokenSource, for code that speaks
// golang.org/x/oauth2. Its Token calls use context.Background; use Token with a
// context where you have one.
func (s *Source) OAuth2() oauth2.TokenSource { return oauth2TokenSource{s} }

type oauth2TokenSource struct{ s *Source }

func (o oauth2TokenSource) Token() (*oauth2.Token, error) {
	t, err := o.s.Token(context.Background())
	if err != nil {
		return nil, err
	}
	return &oauth2.Token{AccessToken: t.AccessToken, TokenType: "Bearer", Expiry: t.Expiry}, nil
}
