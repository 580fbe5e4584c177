package acoustictest

import (
	"context"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
)

// FailTokenRequests makes the next n token requests fail with HTTP status and a
// body {"error":"temporarily_unavailable","error_description":<status text>},
// plus a Retry-After header when retryAfter > 0. n <= 0 cancels failures still
// queued.
func (s *Server) FailTokenRequests(n, status int, retryAfter time.Duration) {
	s.core.Faults.FailTokenRequests(n, emulator.Failure{Status: status, RetryAfter: retryAfter})
}

// RevokeClient makes every further token request from the application fail with
// invalid_client and revokes every access token minted for it so far; those stay
// revoked after RestoreClient, while its refresh tokens work again then. It
// reports whether the client is registered.
func (s *Server) RevokeClient(id string) bool { return s.core.RevokeClient(id) }

// RestoreClient lets a revoked application fetch tokens again and reports whether
// it is registered.
func (s *Server) RestoreClient(id string) bool { return s.core.RestoreClient(id) }

// RevokeRefreshToken does what deleting a user's access in Acoustic's UI does:
// the refresh token gets invalid_grant from now on and every access token minted
// from it is revoked. It reports whether the refresh token is registered.
func (s *Server) RevokeRefreshToken(refreshToken string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, ok := s.grants[refreshToken]
	if !ok {
		return false
	}
	g.revoked = true
	for _, tok := range g.minted {
		s.core.Tokens.Revoke(tok)
	}
	return true
}

// RevokeToken revokes one access token and reports whether this server minted
// it. The next token request for its refresh token mints a new one.
func (s *Server) RevokeToken(token string) bool { return s.core.Tokens.Revoke(token) }

// ExpireToken makes one access token expire now (by the server's clock) and
// reports whether this server minted it. The next token request for its refresh
// token mints a new one.
func (s *Server) ExpireToken(token string) bool { return s.core.Tokens.Expire(token) }

// HoldTokenRequests makes token requests that arrive from now on wait, counted
// but unanswered, until ReleaseTokenRequests (or until their client gives up).
func (s *Server) HoldTokenRequests() { s.core.TokenGate.Hold() }

// ReleaseTokenRequests lets every held token request go on and stops holding.
func (s *Server) ReleaseTokenRequests() { s.core.TokenGate.Release() }

// WaitTokenRequestsHeld blocks until at least n token requests are being held, or
// ctx ends.
func (s *Server) WaitTokenRequestsHeld(ctx context.Context, n int) error {
	return s.core.TokenGate.Wait(ctx, n)
}

// HoldAPICalls makes XML API and REST calls that arrive from now on wait, counted
// but unanswered, until ReleaseAPICalls (or until their client gives up). Held
// calls keep their place under the concurrency cap, so holding as many calls as
// the cap allows makes the next one be rejected.
func (s *Server) HoldAPICalls() { s.core.APIGate.Hold() }

// ReleaseAPICalls lets every held API call go on and stops holding.
func (s *Server) ReleaseAPICalls() { s.core.APIGate.Release() }

// WaitAPICallsHeld blocks until at least n API calls are being held, or ctx ends.
func (s *Server) WaitAPICallsHeld(ctx context.Context, n int) error {
	return s.core.APIGate.Wait(ctx, n)
}

// LastEnvelope returns the XML the last XML API call carried (the raw body, or
// the decoded xml field of a form), or nil if there was none.
func (s *Server) LastEnvelope() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]byte(nil), s.lastEnvelope...)
}
