package acoustictest

import (
	"net/http"
	"net/url"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
)

// tokenResponse is the JSON body of a successful token request.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
}

// oauthError is the JSON body of a failed request to the token endpoint or REST.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// serveToken answers POST /oauth/token, whose form-encoded body carries
// grant_type=refresh_token, client_id, client_secret and refresh_token.
//
// Success is 200 with access_token, token_type "bearer", the refresh_token sent,
// and expires_in (the seconds the access token has left). While the current
// access token of that refresh token is younger than the earliest-refresh age
// (3 hours), the answer carries the same token; after that a new one is minted.
//
// Failures: a body that is not application/x-www-form-urlencoded, 400
// invalid_request; another grant, 400 unsupported_grant_type; unknown client,
// wrong secret or revoked client, 401 invalid_client; unknown, revoked or another
// client's refresh token, 400 invalid_grant; over WithMintLimit, 429 access_denied.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	c := s.core
	var form url.Values
	parse := func(body []byte) (grant string, err error) {
		form, err = url.ParseQuery(string(body))
		return form.Get("grant_type"), err
	}
	badRequest := func() {
		emulator.WriteJSON(w, http.StatusBadRequest, oauthError{"invalid_request", "The body must be application/x-www-form-urlencoded."})
	}
	fail := func(status int) {
		emulator.WriteJSON(w, status, oauthError{"temporarily_unavailable", http.StatusText(status)})
	}
	if !c.AdmitTokenRequest(w, r, "application/x-www-form-urlencoded", parse, badRequest, fail) {
		return
	}
	grantType := form.Get("grant_type")
	if grantType != emulator.GrantRefreshToken {
		s.fail(w, http.StatusBadRequest, emulator.ReasonUnsupportedGrant, "unsupported_grant_type",
			"Only the refresh_token grant is supported.")
		return
	}
	client, reason := c.Clients.Authenticate(form.Get("client_id"), form.Get("client_secret"))
	if reason != "" {
		s.fail(w, http.StatusUnauthorized, reason, "invalid_client", "Bad client credentials.")
		return
	}

	refreshToken := form.Get("refresh_token")
	now := c.Now()
	tok, retryAfter, reason := s.currentToken(client.ID, refreshToken, now)
	switch reason {
	case "":
	case emulator.ReasonMintLimit:
		emulator.SetRetryAfter(w.Header(), retryAfter)
		s.fail(w, http.StatusTooManyRequests, reason, "access_denied", "Access token limits exceeded")
		return
	default:
		s.fail(w, http.StatusBadRequest, reason, "invalid_grant", "Invalid refresh token.")
		return
	}
	emulator.WriteJSON(w, http.StatusOK, tokenResponse{
		AccessToken:  tok.Value,
		TokenType:    "bearer",
		RefreshToken: refreshToken,
		ExpiresIn:    emulator.RemainingSeconds(now, tok.ExpiresAt),
	})
}

// currentToken returns the access token a refresh token buys now: its current one
// while that is valid and younger than the earliest-refresh age, else a newly
// minted one. On failure it returns a rejection reason, and for the mint limit
// how long until a mint is allowed again.
func (s *Server) currentToken(clientID, refreshToken string, now time.Time) (emulator.Token, time.Duration, string) {
	c := s.core
	s.mu.Lock()
	defer s.mu.Unlock()

	g, ok := s.grants[refreshToken]
	if !ok || g.revoked || g.clientID != clientID {
		return emulator.Token{}, 0, emulator.ReasonInvalidGrant
	}
	if n := len(g.minted); n > 0 {
		cur, verdict := c.Tokens.Check(g.minted[n-1], emulator.AccessToken)
		if verdict == emulator.Valid && now.Sub(cur.IssuedAt) < s.cfg.earliestRefresh {
			return cur, 0, ""
		}
	}

	if s.cfg.mintLimit > 0 {
		recent := s.mints[:0]
		for _, t := range s.mints {
			if now.Sub(t) < s.cfg.mintWindow {
				recent = append(recent, t)
			}
		}
		s.mints = recent
		if len(recent) >= s.cfg.mintLimit {
			return emulator.Token{}, recent[0].Add(s.cfg.mintWindow).Sub(now), emulator.ReasonMintLimit
		}
		s.mints = append(s.mints, now)
	}
	tok := c.Tokens.Add(emulator.Token{
		Kind:      emulator.AccessToken,
		ClientID:  clientID,
		IssuedAt:  now,
		ExpiresAt: now.Add(s.cfg.tokenLifetime),
	})
	g.minted = append(g.minted, tok.Value)
	c.Counters.TokenIssued()
	return tok, 0, ""
}

// fail counts a rejection and answers with a JSON error.
func (s *Server) fail(w http.ResponseWriter, status int, reason, code, description string) {
	s.core.Counters.Reject(reason)
	emulator.WriteJSON(w, status, oauthError{Error: code, Description: description})
}
