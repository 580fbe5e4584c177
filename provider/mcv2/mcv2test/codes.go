package mcv2test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
)

// CodeGrant is what a user approved: the authorization an authorization code
// stands for until it is redeemed at /v2/token.
type CodeGrant struct {
	// ClientID is the web or public app the code is issued to; empty means the
	// Server's WebAppID.
	ClientID string
	// RedirectURI must be sent, identical, with the code.
	RedirectURI string
	// AccountID is the business unit (MID) the tokens will be bound to; empty for
	// none.
	AccountID string
	// Scope is the scope granted; empty means the Server's Scope.
	Scope string
	// CodeChallenge turns on PKCE: the code is redeemed only with a code_verifier
	// that matches it. Empty means no PKCE.
	CodeChallenge string
	// CodeChallengeMethod is "S256" (the default, BASE64URL(SHA-256(verifier))) or
	// "plain".
	CodeChallengeMethod string
}

type authCode struct {
	CodeGrant
	expiresAt time.Time
	used      bool
}

// IssueCode returns a new authorization code for g, as if a user had just
// approved it at /v2/authorize. The code can be redeemed once, within 5 minutes
// by the server's clock.
func (s *Server) IssueCode(g CodeGrant) string {
	if g.ClientID == "" {
		g.ClientID = s.WebAppID
	}
	if g.CodeChallenge != "" && g.CodeChallengeMethod == "" {
		g.CodeChallengeMethod = "S256"
	}
	value := emulator.NewSecret("code-")
	expires := s.core.Now().Add(emulator.MCv2CodeLifetime)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[value] = &authCode{CodeGrant: g, expiresAt: expires}
	return value
}

// redeemCode exchanges an authorization code for tokens: the code must be known,
// unused, unexpired, issued to this client, sent with the same redirect_uri and,
// under PKCE, with a matching code_verifier. Only a successful exchange spends it.
func (s *Server) redeemCode(w http.ResponseWriter, clientID string, req tokenRequest) {
	now := s.core.Now()
	s.mu.Lock()
	code, ok := s.codes[req.Code]
	reason, desc := "", ""
	switch {
	case !ok || code.ClientID != clientID || !now.Before(code.expiresAt):
		reason, desc = emulator.ReasonInvalidGrant, descBadCode
	case code.used:
		reason, desc = emulator.ReasonReusedGrant, descBadCode
	case code.RedirectURI != req.RedirectURI:
		reason, desc = emulator.ReasonInvalidGrant, descRedirectMismatch
	case code.CodeChallenge != "" && !verifierMatches(code.CodeGrant, req.CodeVerifier):
		reason, desc = emulator.ReasonInvalidGrant, descPKCE
	default:
		code.used = true
	}
	s.mu.Unlock()
	if reason != "" {
		s.fail(w, http.StatusBadRequest, reason, "invalid_grant", desc)
		return
	}

	account, scope := code.AccountID, code.Scope
	if req.AccountID != "" {
		account = string(req.AccountID)
	}
	s.issue(w, clientID, account, scope, true)
}

// verifierMatches checks a PKCE code_verifier against the code's challenge.
func verifierMatches(g CodeGrant, verifier string) bool {
	if verifier == "" {
		return false
	}
	if g.CodeChallengeMethod == "plain" {
		return emulator.SecretsEqual(verifier, g.CodeChallenge)
	}
	sum := sha256.Sum256([]byte(verifier))
	return emulator.SecretsEqual(base64.RawURLEncoding.EncodeToString(sum[:]), g.CodeChallenge)
}
