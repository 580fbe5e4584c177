package mcv1test

// Reasons a request was refused, the keys of Stats().Rejections.
const (
	ReasonBadRequest           = "bad_request"           // token body not JSON, body too large, SOAP endpoint not POSTed to
	ReasonNotFound             = "not_found"             // an unknown path under /v1/ or /v2/
	ReasonInvalidClient        = "invalid_client"        // unknown client id or wrong secret
	ReasonRevokedClient        = "revoked_client"        // a client revoked by RevokeClient
	ReasonWrongPackage         = "wrong_package"         // an enhanced package's client (errorcode 10007)
	ReasonInvalidGrant         = "invalid_grant"         // unknown, expired or another client's refresh token
	ReasonReusedGrant          = "reused_grant"          // a refresh token that was already redeemed
	ReasonInjectedFailure      = "injected_failure"      // a failure queued by FailTokenRequests
	ReasonMissingToken         = "missing_token"         // API call without a credential
	ReasonInvalidToken         = "invalid_token"         // API call with an unknown token or wrong API user password
	ReasonExpiredToken         = "expired_token"         // API call with an expired token
	ReasonRevokedToken         = "revoked_token"         // API call with a revoked or superseded token
	ReasonThrottled            = "throttled"             // API call throttled by ThrottleAPICalls
	ReasonDuplicateCredentials = "duplicate_credentials" // SOAP header with more than one credential
	ReasonMalformedEnvelope    = "malformed_envelope"    // SOAP body that is not a SOAP envelope
)
