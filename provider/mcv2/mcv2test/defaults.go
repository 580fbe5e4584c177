package mcv2test

import "time"

// Credentials a Server accepts when no option registers others: one client of
// each kind an enhanced package can hold, and an API user for SOAP UsernameToken.
const (
	DefaultClientID     = "tokentrip-mcv2-client-id" // server-to-server: client_credentials
	DefaultClientSecret = "tokentrip-mcv2-client-secret"
	DefaultWebAppID     = "tokentrip-mcv2-web-app-id" // web app: authorization_code with a secret
	DefaultWebAppSecret = "tokentrip-mcv2-web-app-secret"
	DefaultPublicAppID  = "tokentrip-mcv2-public-app-id" // public app: authorization_code, no secret
	DefaultAPIUsername  = "tokentrip-api-user"
	DefaultAPIPassword  = "tokentrip-api-password"
)

// What a Server grants unless told otherwise.
const (
	DefaultScope                = "email_read email_write email_send" // granted when a request names no scope
	DefaultAccountID            = "100000001"                         // the MID userinfo reports for tokens requested without account_id
	DefaultTokenLifetime        = 20 * time.Minute                    // Marketing Cloud's access token lifetime
	DefaultRefreshTokenLifetime = 30 * 24 * time.Hour                 // Marketing Cloud's default refresh token lifetime
)

// CodeLifetime is how long an authorization code can be redeemed.
const CodeLifetime = 5 * time.Minute

// Grant types of POST /v2/token, the keys of Stats.TokenRequestsByGrant (which
// also counts any other grant_type a request names).
const (
	GrantClientCredentials = "client_credentials"
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
)

// Paths of the authentication endpoints.
const (
	TokenPath     = "/v2/token"
	AuthorizePath = "/v2/authorize"
	UserinfoPath  = "/v2/userinfo"
)
