package acoustictest

import "time"

// Credentials a Server accepts when no WithClient option registers others.
const (
	DefaultClientID     = "tokentrip-acoustic-client-id"
	DefaultClientSecret = "tokentrip-acoustic-client-secret"
	DefaultRefreshToken = "tokentrip-acoustic-refresh-token"
)

// Rules Acoustic applies, which a Server follows unless told otherwise.
const (
	DefaultTokenLifetime    = 4 * time.Hour // how long an access token lives
	DefaultEarliestRefresh  = 3 * time.Hour // how old the current token must be before a new one is minted
	DefaultConcurrencyLimit = 10            // API calls in flight per organization
)

// GrantRefreshToken is the only grant the token endpoint knows, and the key of
// Stats.TokenRequestsByGrant it counts under (which also counts any other
// grant_type a request names).
const GrantRefreshToken = "refresh_token"

// Paths of the endpoints. The XML API path is matched case-insensitively; REST is
// everything under RESTPrefix.
const (
	TokenPath  = "/oauth/token"
	XMLAPIPath = "/XMLAPI"
	RESTPrefix = "/rest/"
)
