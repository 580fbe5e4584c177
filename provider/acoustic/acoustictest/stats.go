package acoustictest

import "github.com/tokentrip/tokentrip/internal/emulator"

// Reasons a request was refused, the keys of Stats.Rejections.
const (
	ReasonBadRequest        = "bad_request"        // token body not form-encoded, body too large, XML API not POSTed
	ReasonNotFound          = "not_found"          // a path that is none of the endpoints
	ReasonInvalidClient     = "invalid_client"     // unknown client id or wrong secret
	ReasonRevokedClient     = "revoked_client"     // an application revoked by RevokeClient
	ReasonUnsupportedGrant  = "unsupported_grant"  // a grant_type other than refresh_token
	ReasonInvalidGrant      = "invalid_grant"      // unknown, revoked or another client's refresh token
	ReasonInjectedFailure   = "injected_failure"   // a failure queued by FailTokenRequests
	ReasonMintLimit         = "mint_limit"         // over WithMintLimit
	ReasonMissingToken      = "missing_token"      // API call without a bearer token
	ReasonInvalidToken      = "invalid_token"      // API call with an unknown token
	ReasonExpiredToken      = "expired_token"      // API call with an expired token
	ReasonRevokedToken      = "revoked_token"      // API call with a revoked token
	ReasonMalformedEnvelope = "malformed_envelope" // XML API body that is not an Envelope with a Body
	ReasonConcurrencyLimit  = "concurrency_limit"  // API call over the concurrency cap
)

// Stats counts what a Server has seen since it started or since ResetStats.
type Stats struct {
	TokenRequests         int            // requests to /oauth/token, answered or not
	TokenRequestsByGrant  map[string]int // the same by grant_type (form bodies only)
	TokensMinted          int            // new access tokens (a request answered with the current token mints none)
	XMLAPICalls           int            // XML API calls received, accepted or not
	RESTCalls             int            // REST calls received, accepted or not
	MaxConcurrent         int            // the most API calls in flight at once
	ConcurrencyRejections int            // API calls rejected by the concurrency cap
	Rejections            map[string]int // refused requests by reason (Reason…)
}

// Stats returns a snapshot of the server's counters.
func (s *Server) Stats() Stats {
	c := s.core.Counters.Snapshot()
	return Stats{
		TokenRequests:         c.TokenRequests,
		TokenRequestsByGrant:  c.TokenRequestsByGrant,
		TokensMinted:          c.TokensIssued,
		XMLAPICalls:           c.Calls[emulator.CallXMLAPI],
		RESTCalls:             c.Calls[emulator.CallREST],
		MaxConcurrent:         s.limiter.peak(),
		ConcurrencyRejections: c.Rejections[emulator.ReasonConcurrencyLimit],
		Rejections:            c.Rejections,
	}
}

// ResetStats sets every counter back to zero; MaxConcurrent restarts from the
// calls in flight now.
func (s *Server) ResetStats() {
	s.core.Counters.Reset()
	s.limiter.resetPeak()
}
