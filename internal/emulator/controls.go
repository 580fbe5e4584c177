package emulator

import (
	"context"
	"net/http"
	"time"
)

// Controls are the knobs, counters and clock every emulator offers its tests:
// mcv1test, mcv2test and acoustictest embed them in their Server, which adds only
// what its vendor does differently. Each vendor answers a failure set here in its
// own wire format, as its package documents. All methods are safe for concurrent
// use. The same controls are served as JSON under ControlPrefix.
type Controls struct {
	core *Core
}

// Client returns the HTTP client that talks to the server (and trusts its
// certificate, for a TLS server). It follows no redirect, so that a test reads
// each answer as the server gave it: the code mcv2test's /v2/authorize redirects
// with, say.
func (c *Controls) Client() *http.Client { return c.core.srv.Client() }

// Close lets held requests go, cuts delayed ones short (their connections close
// without an answer), shuts the server down and blocks until every request to it
// has finished.
func (c *Controls) Close() { c.core.close() }

// Now returns the time by the server's clock (see each package's WithClock),
// which judges every lifetime.
func (c *Controls) Now() time.Time { return c.core.Now() }

// FailTokenRequests makes the next n token requests fail with HTTP status, in the
// vendor's error format, plus a Retry-After header when retryAfter > 0. n <= 0
// cancels failures still queued.
func (c *Controls) FailTokenRequests(n, status int, retryAfter time.Duration) {
	c.core.Faults.FailTokenRequests(n, Failure{Status: status, RetryAfter: retryAfter})
}

// ThrottleAPICalls makes the next n API calls answered as the vendor answers
// throttling: Marketing Cloud REST 429 with Retry-After: 5 and errorcode 50100,
// its SOAP a 500 "Rate Limited" fault with apifault Code 17; Acoustic a 429. n <= 0
// cancels throttling still queued.
func (c *Controls) ThrottleAPICalls(n int) { c.core.Faults.ThrottleAPICalls(n) }

// RevokeClient makes every further token request from the client fail as the
// vendor refuses bad client credentials, and revokes every token issued to it so
// far; those stay revoked after RestoreClient. It reports whether the client is
// registered.
func (c *Controls) RevokeClient(id string) bool {
	if !c.core.Clients.SetRevoked(id, true) {
		return false
	}
	c.core.Tokens.RevokeClient(id)
	return true
}

// RestoreClient lets a revoked client fetch tokens again and reports whether it
// is registered.
func (c *Controls) RestoreClient(id string) bool { return c.core.Clients.SetRevoked(id, false) }

// RevokeToken revokes one token, access or refresh, and reports whether this
// server issued it. API calls with a revoked access token fail as an unknown
// token does; a revoked refresh token buys nothing more. (Acoustic's refresh
// tokens take the access tokens minted from them along, as deleting a user's
// access in its UI does.)
func (c *Controls) RevokeToken(token string) bool {
	if c.core.Tokens.Revoke(token) {
		return true
	}
	return c.core.RevokeGrant != nil && c.core.RevokeGrant(token)
}

// ExpireToken makes one token expire now, by the server's clock, and reports
// whether this server issued it.
func (c *Controls) ExpireToken(token string) bool { return c.core.Tokens.Expire(token) }

// HoldTokenRequests makes token requests that arrive from now on wait, counted
// but unanswered, until ReleaseTokenRequests (or until their client gives up).
func (c *Controls) HoldTokenRequests() { c.core.TokenGate.Hold() }

// ReleaseTokenRequests lets every held token request go on and stops holding.
func (c *Controls) ReleaseTokenRequests() { c.core.TokenGate.Release() }

// WaitTokenRequestsHeld blocks until at least n token requests are being held, or
// ctx ends.
func (c *Controls) WaitTokenRequestsHeld(ctx context.Context, n int) error {
	return c.core.TokenGate.Wait(ctx, n)
}

// HoldAPICalls makes API calls that arrive from now on wait, counted but
// unanswered, until ReleaseAPICalls (or until their client gives up). Held calls
// keep their place under a concurrency cap.
func (c *Controls) HoldAPICalls() { c.core.APIGate.Hold() }

// ReleaseAPICalls lets every held API call go on and stops holding.
func (c *Controls) ReleaseAPICalls() { c.core.APIGate.Release() }

// WaitAPICallsHeld blocks until at least n API calls are being held, or ctx ends.
func (c *Controls) WaitAPICallsHeld(ctx context.Context, n int) error {
	return c.core.APIGate.Wait(ctx, n)
}

// SetTokenLatency delays every token request that arrives from now on by d (real
// time, not the clock's), after HoldTokenRequests lets it through. 0 removes the
// delay.
func (c *Controls) SetTokenLatency(d time.Duration) { c.core.tokenLatency.Store(int64(max(d, 0))) }

// SetAPILatency delays every API call that arrives from now on by d (real time),
// after HoldAPICalls lets it through; a delayed call keeps its place under a
// concurrency cap. 0 removes the delay.
func (c *Controls) SetAPILatency(d time.Duration) { c.core.apiLatency.Store(int64(max(d, 0))) }

// LastEnvelope returns the last SOAP envelope (Marketing Cloud) or XML API
// envelope (Acoustic: the raw body, or the decoded xml field of a form) exactly as
// it arrived, or nil if there was none.
func (c *Controls) LastEnvelope() []byte {
	c.core.mu.Lock()
	defer c.core.mu.Unlock()
	return append([]byte(nil), c.core.lastEnvelope...)
}

// Stats returns a snapshot of the server's counters.
func (c *Controls) Stats() Stats {
	s := c.core.Counters.Snapshot()
	return Stats{
		TokenRequests:         s.TokenRequests,
		TokenRequestsByGrant:  s.TokenRequestsByGrant,
		TokensIssued:          s.TokensIssued,
		RESTCalls:             s.Calls[CallREST],
		SOAPCalls:             s.Calls[CallSOAP],
		XMLAPICalls:           s.Calls[CallXMLAPI],
		MaxConcurrent:         c.core.inFlight.peak(),
		ConcurrencyRejections: s.Rejections[ReasonConcurrencyLimit],
		Rejections:            s.Rejections,
	}
}

// ResetStats sets every counter back to zero; MaxConcurrent restarts from the
// calls in flight now.
func (c *Controls) ResetStats() {
	c.core.Counters.Reset()
	c.core.inFlight.resetPeak()
}

// Stats counts what a server has seen since it started or since ResetStats.
type Stats struct {
	// TokenRequests counts requests that reached the token endpoint, answered or not.
	TokenRequests int `json:"token_requests"`
	// TokenRequestsByGrant counts the same by grant ("client_credentials",
	// "authorization_code", "refresh_token", or any other grant_type a request
	// named), for bodies that parsed.
	TokenRequestsByGrant map[string]int `json:"token_requests_by_grant"`
	// TokensIssued counts new access tokens. Refresh and legacy tokens are not
	// counted, nor Acoustic's answers that repeat the current token.
	TokensIssued int `json:"tokens_issued"`
	// RESTCalls, SOAPCalls and XMLAPICalls count API calls received, accepted or
	// not. Marketing Cloud has no XML API, Acoustic no SOAP.
	RESTCalls   int `json:"rest_calls"`
	SOAPCalls   int `json:"soap_calls"`
	XMLAPICalls int `json:"xmlapi_calls"`
	// MaxConcurrent is the most API calls in flight at once.
	MaxConcurrent int `json:"max_concurrent"`
	// ConcurrencyRejections counts API calls turned away by a concurrency cap
	// (Acoustic's); it equals Rejections["concurrency_limit"].
	ConcurrencyRejections int `json:"concurrency_rejections"`
	// Rejections counts refused requests by reason: "invalid_client",
	// "expired_token" and the other strings each package's documentation lists.
	Rejections map[string]int `json:"rejections"`
}
