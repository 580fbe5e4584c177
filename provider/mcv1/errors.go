package mcv1

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/tokentrip/tokentrip/internal/endpoint"
	"github.com/tokentrip/tokentrip/internal/oauthwire"
	"github.com/tokentrip/tokentrip/transport"
)

// Error codes of the legacy token endpoint.
const (
	codeNotAuthorized   = "0"     // the REST API's answer to a call without a valid token
	codeUnauthorized    = "1"     // wrong, unknown or revoked client, or a refresh token that cannot be redeemed
	codeNotFound        = "404"   // no such path
	codeEnhancedPackage = "10007" // an enhanced package's client id on the legacy endpoint
)

// Hints: the next step for each kind of failure.
const (
	hintCredentials = "check ClientID and ClientSecret: they must be a legacy installed package's API integration that is still active"
	hintEnhanced    = "this client id belongs to an enhanced installed package: use provider/mcv2, which requests tokens from /v2/token"
	hintNotFound    = "no legacy token endpoint at this URL: check Subdomain, or AuthURL (the auth base URL, such as https://auth.exacttargetapis.com)"
	hintRESTHost    = "the URL answered like a REST API that wants a token: point AuthURL at the auth service (an auth host), not the REST host"
	hintRefused     = "the token endpoint refused the request: check that AuthURL points at Marketing Cloud's legacy auth service"
	hintMalformed   = "the token endpoint's answer is unusable; check that AuthURL points at Marketing Cloud's legacy auth service, and try again later"
)

// rejection maps an answer that carries no token, or an error code beside one, to a *transport.FetchError that
// keeps Marketing Cloud's code and message, with every secret scrubbed from them,
// and names the next step.
func rejection(status int, r tokenResponse, secrets []string) *transport.FetchError {
	code := r.code()
	e := &transport.FetchError{
		Provider:   name,
		StatusCode: status,
		Code:       oauthwire.Scrub(code, secrets...),
		Message:    oauthwire.Scrub(r.Message, secrets...),
	}
	switch {
	case code == codeEnhancedPackage:
		e.Kind, e.Hint = transport.ErrConfig, hintEnhanced
	case code == codeNotFound || status == http.StatusNotFound:
		e.Kind, e.Hint = transport.ErrConfig, hintNotFound
	case code == codeNotAuthorized && status == http.StatusUnauthorized:
		e.Kind, e.Hint = transport.ErrConfig, hintRESTHost
	case code == codeUnauthorized || status == http.StatusUnauthorized || status == http.StatusForbidden:
		e.Kind, e.Hint = transport.ErrCredentialsRejected, hintCredentials
	case status >= 400:
		e.Kind, e.Hint = transport.ErrConfig, hintRefused
	default:
		e.Kind, e.Hint = transport.ErrEndpoint, hintMalformed
		if e.Message == "" && r.AccessToken != "" {
			e.Message = "the token response has an errorcode next to its accessToken"
		} else if e.Message == "" {
			e.Message = "the token response has no accessToken"
		}
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	return e
}

// undecodable maps an answer that is not the JSON object Marketing Cloud sends. Its
// status still tells rejected credentials and wrong URLs apart; a 2xx is a broken
// endpoint. The body itself is never quoted: it might hold a token.
func undecodable(resp *endpoint.Response, err error) *transport.FetchError {
	if resp.StatusCode >= 400 {
		return rejection(resp.StatusCode, tokenResponse{}, nil)
	}
	if te, ok := errors.AsType[*json.UnmarshalTypeError](err); ok && te.Field != "" {
		return malformed(resp.StatusCode, "the token response's "+te.Field+" is a JSON "+te.Value+", not what Marketing Cloud sends")
	}
	return malformed(resp.StatusCode, "the token response is not a JSON object (Content-Type "+oauthwire.MediaType(resp.Header)+")")
}

// malformed reports a 2xx answer that cannot be used.
func malformed(status int, message string) *transport.FetchError {
	return &transport.FetchError{Kind: transport.ErrEndpoint, Provider: name, StatusCode: status, Message: message, Hint: hintMalformed}
}
