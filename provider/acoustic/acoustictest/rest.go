package acoustictest

import (
	"net/http"

	"github.com/tokentrip/tokentrip/internal/emulator"
)

// serveREST answers any call under /rest/: it needs "Authorization: Bearer
// <access token>" and echoes the request.
//
// Failures: over the concurrency cap or throttled by ThrottleAPICalls, 429
// {"error":"too_many_requests",…}; no
// token, 401 {"error":"unauthorized",…}; an unknown, revoked or expired token, 401
// {"error":"invalid_token",…}; both 401s with a WWW-Authenticate header.
func (s *Server) serveREST(w http.ResponseWriter, r *http.Request) {
	c := s.core
	body, done, ok := c.AdmitAPICall(w, r, emulator.CallREST, func() {
		emulator.WriteJSON(w, http.StatusTooManyRequests, oauthError{"too_many_requests", faultTooManyRequests + "."})
	})
	if !ok {
		return
	}
	defer done()
	if c.Faults.NextThrottled() {
		c.Counters.Reject(emulator.ReasonThrottled)
		emulator.WriteJSON(w, http.StatusTooManyRequests, oauthError{"too_many_requests", faultThrottled + "."})
		return
	}

	switch reason := s.checkToken(r); reason {
	case "":
		emulator.WriteEcho(w, r, body, "")
	case emulator.ReasonMissingToken:
		c.Counters.Reject(reason)
		w.Header().Set("WWW-Authenticate", `Bearer realm="oauth"`)
		emulator.WriteJSON(w, http.StatusUnauthorized, oauthError{"unauthorized", "A bearer access token is required."})
	default:
		c.Counters.Reject(reason)
		desc := "Invalid access token."
		if reason == emulator.ReasonExpiredToken {
			desc = "Access token expired."
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="oauth", error="invalid_token"`)
		emulator.WriteJSON(w, http.StatusUnauthorized, oauthError{"invalid_token", desc})
	}
}
