package mcv1test

import (
	"encoding/json"
	"net/http"

	"github.com/tokentrip/tokentrip/internal/emulator"
)

// tokenRequest is the JSON body of POST /v1/requestToken.
type tokenRequest struct {
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
	AccessType   string `json:"accessType"`   // "offline": also return a refresh token
	RefreshToken string `json:"refreshToken"` // redeem a refresh token instead
}

// tokenResponse is the JSON body of a successful token request.
type tokenResponse struct {
	AccessToken  string `json:"accessToken"`
	ExpiresIn    int    `json:"expiresIn"`
	RefreshToken string `json:"refreshToken,omitempty"`
	LegacyToken  string `json:"legacyToken,omitempty"`
}

// errorResponse is the JSON body of a failed token request.
type errorResponse struct {
	Message       string `json:"message"`
	ErrorCode     int    `json:"errorcode"`
	Documentation string `json:"documentation"`
}

// Error codes of the legacy token endpoint.
const (
	errorCodeUnauthorized    = 1
	errorCodeEnhancedPackage = 10007
	enhancedPackageMessage   = "This client id belongs to an enhanced installed package; request its tokens from /v2/token."
)

// serveToken answers POST /v1/requestToken.
//
// Success is 200 with accessToken and expiresIn (the seconds it has left); with
// "accessType":"offline", or when redeeming a refresh token, also a new
// refreshToken; with the query ?legacy=1, also a legacyToken that works like the
// access token. Refresh tokens are single use.
//
// Failures: a body that is not JSON, 400; unknown client, wrong secret, revoked
// client, or a refresh token that is unknown, spent, expired or another client's,
// 401 {"message":"Unauthorized","errorcode":1,"documentation":""}; an enhanced
// package's client, 401 with errorcode 10007.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	c := s.core
	var req tokenRequest
	parse := func(body []byte) (string, error) {
		if err := json.Unmarshal(body, &req); err != nil {
			return "", err
		}
		if req.RefreshToken != "" {
			return emulator.GrantRefreshToken, nil
		}
		return emulator.GrantClientCredentials, nil
	}
	badRequest := func() {
		writeError(w, http.StatusBadRequest, http.StatusText(http.StatusBadRequest), http.StatusBadRequest)
	}
	fail := func(status int) { writeError(w, status, http.StatusText(status), status) }
	if !c.AdmitTokenRequest(w, r, "application/json", parse, badRequest, fail) {
		return
	}

	client, reason := c.Clients.Authenticate(req.ClientID, req.ClientSecret)
	if reason != "" {
		c.Counters.Reject(reason)
		writeUnauthorized(w)
		return
	}
	if client.Kind == kindEnhanced {
		c.Counters.Reject(emulator.ReasonWrongPackage)
		writeError(w, http.StatusUnauthorized, enhancedPackageMessage, errorCodeEnhancedPackage)
		return
	}

	offline := req.AccessType == "offline"
	if req.RefreshToken != "" {
		if _, verdict := c.Tokens.Spend(req.RefreshToken, emulator.RefreshToken, client.ID); verdict != emulator.Valid {
			if verdict == emulator.Spent {
				c.Counters.Reject(emulator.ReasonReusedGrant)
			} else {
				c.Counters.Reject(emulator.ReasonInvalidGrant)
			}
			writeUnauthorized(w)
			return
		}
		offline = true // the spent refresh token is replaced by a new one
	}

	now := c.Now()
	access := c.Tokens.Add(emulator.Token{
		Kind:      emulator.AccessToken,
		ClientID:  client.ID,
		IssuedAt:  now,
		ExpiresAt: now.Add(s.cfg.TokenLifetime),
	})
	c.Counters.TokenIssued()
	if s.cfg.oneTokenPerClient {
		c.Tokens.Supersede(client.ID, emulator.AccessToken, access.Value)
	}
	resp := tokenResponse{
		AccessToken: access.Value,
		ExpiresIn:   emulator.RemainingSeconds(now, access.ExpiresAt),
	}
	if offline {
		resp.RefreshToken = c.Tokens.Add(emulator.Token{
			Kind:      emulator.RefreshToken,
			ClientID:  client.ID,
			IssuedAt:  now,
			ExpiresAt: now.Add(s.cfg.RefreshLifetime),
		}).Value
	}
	if r.URL.Query().Get("legacy") == "1" {
		legacy := access
		legacy.Value = ""
		resp.LegacyToken = c.Tokens.Add(legacy).Value
	}
	emulator.WriteJSON(w, http.StatusOK, resp)
}

func writeUnauthorized(w http.ResponseWriter) {
	writeError(w, http.StatusUnauthorized, "Unauthorized", errorCodeUnauthorized)
}

func writeError(w http.ResponseWriter, status int, message string, code int) {
	emulator.WriteJSON(w, status, errorResponse{Message: message, ErrorCode: code})
}
