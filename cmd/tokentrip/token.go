package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tokentrip/tokentrip/store"
	"github.com/tokentrip/tokentrip/transport"
)

// tokenOutput is what "tokentrip token --json" prints: the token and what the
// provider said about it.
type tokenOutput struct {
	Provider        string     `json:"provider"`
	TokenType       string     `json:"token_type"`
	AccessToken     string     `json:"access_token"`
	ExpiresAt       time.Time  `json:"expires_at"`
	ExpiresIn       int64      `json:"expires_in"`              // seconds from now
	RefreshAfter    *time.Time `json:"refresh_after,omitempty"` // Acoustic: the earliest a new token is issued
	RESTInstanceURL string     `json:"rest_instance_url,omitempty"`
	SOAPInstanceURL string     `json:"soap_instance_url,omitempty"`
	BaseURL         string     `json:"base_url,omitempty"` // Acoustic: the pod's API base URL
	Scope           string     `json:"scope,omitempty"`
}

// runToken is "tokentrip token": fetch one access token and print it.
func runToken(ctx context.Context, env *environ, args []string) int {
	var s settings
	c := tokenCLI(env, &s)
	if code, ok := c.parseArgs(args, &s); !ok {
		return code
	}
	logger, err := s.newLogger(env.stderr)
	if err != nil {
		return failure(env, "token", err)
	}
	if s.cacheDir != "" {
		cache, err := store.NewTokenCache(s.cacheDir)
		if err != nil {
			return failure(env, "token", usagef("--cache (TOKENTRIP_CACHE): %v", err))
		}
		s.tokens = cache.Bind(s.cacheBinding()...)
	}
	tr, err := s.newTransport(logger, nil)
	if err != nil {
		return failure(env, "token", asUsage(err))
	}
	defer tr.CloseIdleConnections()

	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	tok, err := tr.Source().Token(ctx)
	if err != nil {
		if ctx.Err() != nil && !isFetchError(err) {
			err = fmt.Errorf("no token within %s (--timeout): %w", s.timeout, err)
		}
		return failure(env, "token", err)
	}
	if s.tokens != nil {
		tok = refreshed(ctx, tr.Source(), tok)
	}
	if !s.jsonOut {
		fmt.Fprintln(env.stdout, tok.AccessToken)
		return exitOK
	}
	out := s.describe(tok, time.Now())
	enc := json.NewEncoder(env.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return failure(env, "token", err)
	}
	return exitOK
}

// cacheBinding is everything besides the Store key that makes a cached token the
// one these settings would fetch: the endpoint and the secrets. A run with another
// auth URL, pod or base URL, or another secret or refresh token, never adopts the
// token of a run with different ones, even under the same client id.
func (s *settings) cacheBinding() []string {
	return []string{
		s.provider, s.subdomain, s.authURL, s.pod, s.baseURL,
		s.clientID, s.accountID, s.scope, s.clientSecret, s.refreshToken,
	}
}

// refreshed returns the token a refresh ahead brought, if tok came from the cache
// past its refresh point and so started one: the caller gets the fresher token and
// the next run finds it in the cache. If ctx ends first, tok is still usable.
func refreshed(ctx context.Context, src *transport.Source, tok transport.Token) transport.Token {
	done := make(chan struct{})
	go func() { src.Wait(); close(done) }()
	select {
	case <-done:
		if cur, ok := src.Current(); ok {
			return cur
		}
	case <-ctx.Done():
	}
	return tok
}

// tokenCLI is the flag set of "tokentrip token", filling s.
func tokenCLI(env *environ, s *settings) *cli {
	c := newCLI("token", "Fetch an access token and print it on stdout, for scripts and curl.", env)
	c.credentialFlags(s)
	c.boolean(&s.jsonOut, "json", "print JSON: token_type, access_token, expires_at, expires_in, instance URLs")
	c.duration(&s.timeout, "timeout", "TOKENTRIP_TIMEOUT", "DURATION", defaultTimeout, "give up on the token endpoint after this long")
	c.str(&s.cacheDir, "cache", "TOKENTRIP_CACHE", "DIR", "",
		"keep tokens in DIR (created 0700) between runs: a run within a token's life asks the endpoint nothing", forAll)
	c.logFlags(s, "error")
	return c
}

// describe is the JSON form of tok, fetched for these settings, as of now.
func (s *settings) describe(tok transport.Token, now time.Time) tokenOutput {
	out := tokenOutput{
		Provider:        s.provider,
		TokenType:       "Bearer",
		AccessToken:     tok.AccessToken,
		ExpiresAt:       tok.Expiry.UTC(),
		ExpiresIn:       int64(tok.Expiry.Sub(now).Round(time.Second) / time.Second),
		RESTInstanceURL: tok.RESTInstanceURL,
		SOAPInstanceURL: tok.SOAPInstanceURL,
		Scope:           tok.Scope,
	}
	if !tok.RefreshAfter.IsZero() {
		ra := tok.RefreshAfter.UTC()
		out.RefreshAfter = &ra
	}
	switch s.provider {
	case providerMCv1:
		// Legacy tokens carry no instance URLs; a tenant's are fixed by its subdomain.
		if s.subdomain != "" && out.RESTInstanceURL == "" {
			sub := strings.ToLower(s.subdomain)
			out.RESTInstanceURL = "https://" + sub + ".rest.marketingcloudapis.com/"
			out.SOAPInstanceURL = "https://" + sub + ".soap.marketingcloudapis.com/"
		}
	case providerAcoustic:
		if base, err := s.acousticConfig(nil).Endpoint(); err == nil {
			out.BaseURL = base
		}
	}
	return out
}

// isFetchError reports whether err is the library's account of a failed fetch,
// which says more than a deadline does.
func isFetchError(err error) bool {
	var fe *transport.FetchError
	return errors.As(err, &fe)
}
