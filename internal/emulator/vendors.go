package emulator

import "time"

// Grant types, the keys of Stats.TokenRequestsByGrant (which also counts any other
// grant_type a request names). Marketing Cloud's legacy endpoint has no grant_type;
// mcv1test counts its requests under the grant they amount to.
const (
	GrantClientCredentials = "client_credentials"
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
)

// Marketing Cloud legacy packages (mcv1test): the token endpoint, the client a
// Server registers when no option registers one, and the lifetimes Marketing Cloud
// gives legacy tokens.
const (
	MCv1TokenPath            = "/v1/requestToken"
	MCv1ClientID             = "tokentrip-mcv1-client-id"
	MCv1ClientSecret         = "tokentrip-mcv1-client-secret"
	MCv1TokenLifetime        = time.Hour
	MCv1RefreshTokenLifetime = 700 * 24 * time.Hour
)

// Marketing Cloud enhanced packages (mcv2test): the authentication endpoints, the
// clients a Server registers when no option registers one (one of each kind an
// enhanced package can hold), the lifetimes Marketing Cloud gives, the scope
// granted when a request names none and the enterprise's MID.
const (
	MCv2TokenPath            = "/v2/token"
	MCv2AuthorizePath        = "/v2/authorize"
	MCv2UserinfoPath         = "/v2/userinfo"
	MCv2ClientID             = "tokentrip-mcv2-client-id" // server-to-server: client_credentials
	MCv2ClientSecret         = "tokentrip-mcv2-client-secret"
	MCv2WebAppID             = "tokentrip-mcv2-web-app-id" // web app: authorization_code with a secret
	MCv2WebAppSecret         = "tokentrip-mcv2-web-app-secret"
	MCv2PublicAppID          = "tokentrip-mcv2-public-app-id" // public app: authorization_code, no secret
	MCv2TokenLifetime        = 20 * time.Minute
	MCv2RefreshTokenLifetime = 30 * 24 * time.Hour
	MCv2CodeLifetime         = 5 * time.Minute
	MCv2Scope                = "email_read email_write email_send"
	MCv2AccountID            = "100000001"
)

// The API user both Marketing Cloud emulators register for SOAP UsernameToken when
// no option registers another.
const (
	MCAPIUsername = "tokentrip-api-user"
	MCAPIPassword = "tokentrip-api-password"
)

// Acoustic Campaign (acoustictest): the endpoints (the XML API path is matched
// case-insensitively, REST is everything under AcousticRESTPrefix), the
// application and refresh token a Server registers when no option registers one,
// and the rules Acoustic applies.
const (
	AcousticTokenPath        = "/oauth/token"
	AcousticXMLAPIPath       = "/XMLAPI"
	AcousticRESTPrefix       = "/rest/"
	AcousticClientID         = "tokentrip-acoustic-client-id"
	AcousticClientSecret     = "tokentrip-acoustic-client-secret"
	AcousticRefreshToken     = "tokentrip-acoustic-refresh-token"
	AcousticTokenLifetime    = 4 * time.Hour // how long an access token lives
	AcousticEarliestRefresh  = 3 * time.Hour // how old the current token must be before a new one is minted
	AcousticConcurrencyLimit = 10            // API calls in flight per organization
)
