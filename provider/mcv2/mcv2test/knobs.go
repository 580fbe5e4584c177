package mcv2test

import (
	"context"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
)

// FailTokenRequests makes the next n token requests fail with HTTP status and a
// body {"error":"temporarily_unavailable","error_description":<status text>,
// "error_uri":…}, plus a Retry-After header when retryAfter > 0. n <= 0 cancels
// failures still queued.
func (s *Server) FailTokenRequests(n, status int, retryAfter time.Duration) {
	s.core.Faults.FailTokenRequests(n, emulator.Failure{Status: status, RetryAfter: retryAfter})
}

// ThrottleAPICalls makes the next n REST or SOAP calls throttled: REST answers 429
// with Retry-After: 5 and errorcode 50100, SOAP answers 500 with a soap:Server
// "Rate Limited" fault carrying apifault Code 17. n <= 0 cancels throttling.
func (s *Server) ThrottleAPICalls(n int) { s.core.Faults.ThrottleAPICalls(n) }

// RevokeClient makes every further token request from the client fail with
// invalid_client and revokes every token (access and refresh) issued to it so far;
// those stay revoked after RestoreClient. It reports whether the client is
// registered.
func (s *Server) RevokeClient(id string) bool { return s.core.RevokeClient(id) }

// RestoreClient lets a revoked client fetch tokens again and reports whether the
// client is registered.
func (s *Server) RestoreClient(id string) bool { return s.core.RestoreClient(id) }

// RevokeToken revokes one access or refresh token and reports whether it was
// issued by this server. API calls with a revoked access token fail as an unknown
// token does: REST 401, SOAP "Login Failed".
func (s *Server) RevokeToken(token string) bool { return s.core.Tokens.Revoke(token) }

// ExpireToken makes one token expire now (by the server's clock) and reports
// whether it was issued by this server: REST then answers 401, SOAP "Token Expired".
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

// HoldAPICalls makes REST and SOAP calls that arrive from now on wait, counted but
// unanswered, until ReleaseAPICalls (or until their client gives up).
func (s *Server) HoldAPICalls() { s.core.APIGate.Hold() }

// ReleaseAPICalls lets every held API call go on and stops holding.
func (s *Server) ReleaseAPICalls() { s.core.APIGate.Release() }

// WaitAPICallsHeld blocks until at least n API calls are being held, or ctx ends.
func (s *Server) WaitAPICallsHeld(ctx context.Context, n int) error {
	return s.core.APIGate.Wait(ctx, n)
}

// LastEnvelope returns the body of the last request to /Service.asmx exactly as
// it arrived, or nil if there was none.
func (s *Server) LastEnvelope() []byte { return s.mc.LastEnvelope() }

// TokenAccount returns the account_id (business unit MID) an access or refresh
// token was requested for, "" if none was; ok is false for a token this server
// never issued.
func (s *Server) TokenAccount(token string) (accountID string, ok bool) {
	t, ok := s.core.Tokens.Lookup(token)
	return t.AccountID, ok
}
