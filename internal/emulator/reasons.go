package emulator

// Reasons a request was refused, as counted in Counts.Rejections and
// Stats.Rejections. They are exported nowhere else: each emulator package's doc
// lists the strings it counts under, and tests inside the module use these names.
const (
	ReasonBadRequest           = "bad_request"           // malformed body, wrong content type, missing field, body too large
	ReasonNotFound             = "not_found"             // no such endpoint
	ReasonInvalidClient        = "invalid_client"        // unknown client id or wrong secret
	ReasonRevokedClient        = "revoked_client"        // the client was revoked
	ReasonWrongPackage         = "wrong_package"         // enhanced package on v1, legacy package on v2
	ReasonUnsupportedGrant     = "unsupported_grant"     // grant type the endpoint does not know
	ReasonUnauthorizedClient   = "unauthorized_client"   // grant type the client may not use
	ReasonInvalidGrant         = "invalid_grant"         // unknown, expired or mismatched code or refresh token
	ReasonReusedGrant          = "reused_grant"          // a code or refresh token that was already spent
	ReasonInjectedFailure      = "injected_failure"      // a failure the test asked for
	ReasonMintLimit            = "mint_limit"            // too many tokens minted in the window
	ReasonMissingToken         = "missing_token"         // API call without a credential
	ReasonInvalidToken         = "invalid_token"         // API call with an unknown token or wrong password
	ReasonExpiredToken         = "expired_token"         // API call with an expired token
	ReasonRevokedToken         = "revoked_token"         // API call with a revoked or superseded token
	ReasonThrottled            = "throttled"             // API call throttled on request of the test
	ReasonDuplicateCredentials = "duplicate_credentials" // SOAP header with more than one credential
	ReasonMalformedEnvelope    = "malformed_envelope"    // SOAP or XML API body that is not a usable envelope
	ReasonConcurrencyLimit     = "concurrency_limit"     // too many API calls in flight
)
