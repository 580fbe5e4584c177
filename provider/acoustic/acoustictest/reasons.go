package acoustictest

// Reasons a request was refused, the keys of Stats().Rejections.
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
	ReasonThrottled         = "throttled"          // API call throttled by ThrottleAPICalls
	ReasonMalformedEnvelope = "malformed_envelope" // XML API body that is not an Envelope with a Body
	ReasonConcurrencyLimit  = "concurrency_limit"  // API call over the concurrency cap
)
