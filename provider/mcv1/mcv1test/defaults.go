package mcv1test

import "time"

// Credentials a Server accepts when no option registers others.
const (
	DefaultClientID     = "tokentrip-mcv1-client-id"
	DefaultClientSecret = "tokentrip-mcv1-client-secret"
	DefaultAPIUsername  = "tokentrip-api-user"
	DefaultAPIPassword  = "tokentrip-api-password"
)

// Lifetimes Marketing Cloud gives legacy tokens, which a Server uses unless told
// otherwise.
const (
	DefaultTokenLifetime        = time.Hour
	DefaultRefreshTokenLifetime = 700 * 24 * time.Hour
)

// Grant names under which Stats.TokenRequestsByGrant counts requests. The legacy
// endpoint has no grant_type; these name what a request asks for.
const (
	GrantClientCredentials = "client_credentials" // clientId and clientSecret
	GrantRefreshToken      = "refresh_token"      // clientId, clientSecret and refreshToken
)
