// Package mcv2test is an emulator of Salesforce Marketing Cloud's enhanced-package
// ("v2") OAuth 2.0 authentication for tests: POST /v2/token with the
// client_credentials, authorization_code (with optional PKCE) and rotating
// refresh_token grants, plus the REST and SOAP APIs its tokens unlock, served by a
// real HTTP server on loopback. Like net/http/httptest, it is meant for tokentrip's
// own tests, its demo and users' tests, with knobs for lifetimes, latency, failures,
// revocation and counters to assert on.
//
// Routes: POST /v2/token is the token endpoint; GET /v2/authorize approves at once
// and redirects with a code; GET /v2/userinfo describes a token's user and business
// unit; /Service.asmx (any case) is the SOAP API; any other path under /v1/ or /v2/
// is 404; paths under /-/ are the JSON control endpoints (see
// emulator.ControlPrefix); every other path is a REST call that needs
// "Authorization: Bearer <token>".
//
// How the shared controls read here: FailTokenRequests answers
// {"error":"temporarily_unavailable","error_description":<status text>,"error_uri":…};
// a client revoked by RevokeClient gets 401 invalid_client, and so do its refresh
// tokens; an API call with a revoked token gets REST 401 or SOAP "Login Failed",
// with an expired one REST 401 or SOAP "Token Expired".
package mcv2test
