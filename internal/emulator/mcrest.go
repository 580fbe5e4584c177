package emulator

import (
	"net/http"
)

// ServeREST serves any Marketing Cloud REST call (every method, every path): it
// needs "Authorization: Bearer <access token>" and echoes the request.
//
// Failures: a missing, unknown, revoked or expired token gets 401 with the
// "Not Authorized" body and a WWW-Authenticate header; a call throttled by the
// test gets 429, Retry-After: 5 and errorcode 50100.
func (m *MarketingCloud) ServeREST(w http.ResponseWriter, r *http.Request) {
	c := m.core
	body, done, ok := c.AdmitAPICall(w, r, CallREST, func() { writeRESTThrottled(w) })
	if !ok {
		return
	}
	defer done()
	if c.Faults.NextThrottled() {
		c.Counters.Reject(ReasonThrottled)
		writeRESTThrottled(w)
		return
	}
	value, ok := BearerToken(r)
	if !ok {
		c.Counters.Reject(ReasonMissingToken)
		WriteNotAuthorized(w)
		return
	}
	tok, verdict := c.Tokens.Check(value, AccessToken)
	if verdict != Valid {
		c.Counters.Reject(verdict.Reason())
		WriteNotAuthorized(w)
		return
	}
	WriteEcho(w, r, body, tok.AccountID)
}

// writeRESTThrottled answers 429 the way Marketing Cloud REST throttles.
func writeRESTThrottled(w http.ResponseWriter) {
	w.Header().Set("Retry-After", mcThrottleWait)
	writeRawJSON(w, http.StatusTooManyRequests, mcRateLimited)
}
