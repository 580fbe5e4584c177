package mcv2test

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/tokentrip/tokentrip/internal/emulator"
)

// tokenRequest is the JSON body of POST /v2/token, for every grant.
type tokenRequest struct {
	GrantType    string     `json:"grant_type"`
	ClientID     string     `json:"client_id"`
	ClientSecret string     `json:"client_secret"`
	Scope        string     `json:"scope"`
	AccountID    flexString `json:"account_id"`
	Code         string     `json:"code"`
	RedirectURI  string     `json:"redirect_uri"`
	CodeVerifier string     `json:"code_verifier"`
	RefreshToken string     `json:"refresh_token"`
}

// flexString is a JSON string that may also arrive as a number: account_id is a
// MID, and clients send it either way.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	if bytes.HasPrefix(b, []byte(`"`)) {
		return json.Unmarshal(b, (*string)(f))
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return err
	}
	*f = flexString(n)
	return nil
}

// tokenResponse is the JSON body of a successful token request.
type tokenResponse struct {
	AccessToken     string `json:"access_token"`
	TokenType       string `json:"token_type"`
	ExpiresIn       int    `json:"expires_in"`
	Scope           string `json:"scope"`
	SOAPInstanceURL string `json:"soap_instance_url"`
	RESTInstanceURL string `json:"rest_instance_url"`
	RefreshToken    string `json:"refresh_token,omitempty"`
}

// oauthError is the JSON body of a failed token request; its URI, the error_uri,
// is always emulator.MCErrorDocs.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
	URI         string `json:"error_uri"`
}

// Descriptions of the token endpoint's errors.
const (
	descInvalidRequest   = "The request body must be a JSON object (Content-Type: application/json)."
	descInvalidClient    = "Client authentication failed. Make sure that the client ID and client secret are valid."
	descNotEligible      = "This client is not eligible for OAuth 2.0: it belongs to a legacy installed package, whose tokens come from /v1/requestToken."
	descUnsupportedGrant = "The grant type is not supported. Use client_credentials, authorization_code or refresh_token."
	descUnauthorized     = "This client is not authorized to use this grant type."
	descBadCode          = "The authorization code is invalid, expired, already used or issued to another client."
	descRedirectMismatch = "The redirect_uri does not match the one the authorization code was issued for."
	descPKCE             = "The code_verifier does not match the code_challenge."
	descBadRefresh       = "The refresh token is invalid, expired, already used or issued to another client."
)

// serveToken answers POST /v2/token.
//
// Success is 200 with access_token, token_type "Bearer", expires_in (seconds
// left), scope, soap_instance_url, rest_instance_url and, for authorization_code
// and refresh_token, a new refresh_token. Redeeming a refresh token spends it.
//
// Failures: 401 invalid_client for an unknown client, a wrong secret, a revoked
// client or a legacy package ("not eligible"); 400 invalid_request for a body that
// is not JSON; 400 unsupported_grant_type; 400 unauthorized_client when the
// client's kind may not use the grant; 400 invalid_grant for a bad, expired,
// spent or mismatched code or refresh token.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	var req tokenRequest
	parse := func(body []byte) (string, error) {
		err := json.Unmarshal(body, &req)
		return req.GrantType, err
	}
	badRequest := func() {
		emulator.WriteJSON(w, http.StatusBadRequest, oauthError{"invalid_request", descInvalidRequest, emulator.MCErrorDocs})
	}
	fail := func(status int) {
		emulator.WriteJSON(w, status, oauthError{"temporarily_unavailable", http.StatusText(status), emulator.MCErrorDocs})
	}
	if !s.core.AdmitTokenRequest(w, r, "application/json", parse, badRequest, fail) {
		return
	}

	switch req.GrantType {
	case emulator.GrantClientCredentials, emulator.GrantAuthorizationCode, emulator.GrantRefreshToken:
	default:
		s.fail(w, http.StatusBadRequest, emulator.ReasonUnsupportedGrant, "unsupported_grant_type", descUnsupportedGrant)
		return
	}
	client, ok := s.authenticate(w, req.ClientID, req.ClientSecret)
	if !ok {
		return
	}
	if !grantAllowed(client.Kind, req.GrantType) {
		s.fail(w, http.StatusBadRequest, emulator.ReasonUnauthorizedClient, "unauthorized_client", descUnauthorized)
		return
	}

	switch req.GrantType {
	case emulator.GrantClientCredentials:
		s.issue(w, client.ID, string(req.AccountID), req.Scope, false)
	case emulator.GrantAuthorizationCode:
		s.redeemCode(w, client.ID, req)
	case emulator.GrantRefreshToken:
		s.redeemRefreshToken(w, client.ID, req)
	}
}

// grantAllowed reports whether a client of the given kind may use grant:
// server-to-server integrations use client credentials, web and public apps the
// user-facing grants.
func grantAllowed(kind, grant string) bool {
	if grant == emulator.GrantClientCredentials {
		return kind == kindServer
	}
	return kind == kindWeb || kind == kindPublic
}

// authenticate checks the client of a request, answering for it when it fails.
// Public apps have no secret; a secret they send anyway is ignored.
func (s *Server) authenticate(w http.ResponseWriter, id, secret string) (emulator.Client, bool) {
	client, revoked, ok := s.core.Clients.Lookup(id)
	switch {
	case !ok, client.Kind != kindPublic && !emulator.SecretsEqual(client.Secret, secret):
		s.fail(w, http.StatusUnauthorized, emulator.ReasonInvalidClient, "invalid_client", descInvalidClient)
	case revoked:
		s.fail(w, http.StatusUnauthorized, emulator.ReasonRevokedClient, "invalid_client", descInvalidClient)
	case client.Kind == kindLegacy:
		s.fail(w, http.StatusUnauthorized, emulator.ReasonWrongPackage, "invalid_client", descNotEligible)
	default:
		return client, true
	}
	return emulator.Client{}, false
}

// redeemRefreshToken spends a refresh token and issues a new pair in its place.
func (s *Server) redeemRefreshToken(w http.ResponseWriter, clientID string, req tokenRequest) {
	old, verdict := s.core.Tokens.Spend(req.RefreshToken, emulator.RefreshToken, clientID)
	switch verdict {
	case emulator.Valid:
	case emulator.Spent:
		s.fail(w, http.StatusBadRequest, emulator.ReasonReusedGrant, "invalid_grant", descBadRefresh)
		return
	default:
		s.fail(w, http.StatusBadRequest, emulator.ReasonInvalidGrant, "invalid_grant", descBadRefresh)
		return
	}
	account, scope := old.AccountID, old.Scope
	if req.AccountID != "" {
		account = string(req.AccountID)
	}
	if req.Scope != "" {
		scope = req.Scope
	}
	s.issue(w, clientID, account, scope, true)
}

// issue answers with a new access token (and a new refresh token if asked).
func (s *Server) issue(w http.ResponseWriter, clientID, accountID, scope string, withRefresh bool) {
	c := s.core
	if scope == "" {
		scope = s.Scope
	}
	now := c.Now()
	access := c.Tokens.Add(emulator.Token{
		Kind:      emulator.AccessToken,
		ClientID:  clientID,
		AccountID: accountID,
		Scope:     scope,
		IssuedAt:  now,
		ExpiresAt: now.Add(s.cfg.TokenLifetime),
	})
	c.Counters.TokenIssued()
	rest, soap := s.instanceURLs()
	resp := tokenResponse{
		AccessToken:     access.Value,
		TokenType:       "Bearer",
		ExpiresIn:       emulator.RemainingSeconds(now, access.ExpiresAt),
		Scope:           scope,
		SOAPInstanceURL: soap,
		RESTInstanceURL: rest,
	}
	if withRefresh {
		refresh := access
		refresh.Value = ""
		refresh.Kind = emulator.RefreshToken
		refresh.ExpiresAt = now.Add(s.cfg.RefreshLifetime)
		resp.RefreshToken = c.Tokens.Add(refresh).Value
	}
	emulator.WriteJSON(w, http.StatusOK, resp)
}

// fail counts a rejection and answers with an OAuth error.
func (s *Server) fail(w http.ResponseWriter, status int, reason, code, description string) {
	s.core.Counters.Reject(reason)
	emulator.WriteJSON(w, status, oauthError{Error: code, Description: description, URI: emulator.MCErrorDocs})
}
