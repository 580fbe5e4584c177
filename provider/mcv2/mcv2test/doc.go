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
// is 404; paths under /-/ are the JSON control endpoints (GET /-/ lists them);
// every other path is a REST call that needs "Authorization: Bearer <token>".
//
// How the shared controls read here: FailTokenRequests answers
// {"error":"temporarily_unavailable","error_description":<status text>,"error_uri":…};
// a client revoked by RevokeClient gets 401 invalid_client, and so do its refresh
// tokens; an API call with a revoked token gets REST 401 or SOAP "Login Failed",
// with an expired one REST 401 or SOAP "Token Expired".
//
// Stats().TokenRequestsByGrant counts token requests under their grant_type:
// "client_credentials", "authorization_code", "refresh_token" or any other a
// request names. Stats().Rejections counts refused requests under these reasons:
//   - "bad_request": a token body that is not JSON, a bad /v2/authorize request, a
//     body too large, the SOAP endpoint not POSTed to;
//   - "not_found": an unknown path under /v1/ or /v2/;
//   - "invalid_client": an unknown client id or a wrong secret;
//   - "revoked_client": a client revoked by RevokeClient;
//   - "wrong_package": a legacy package's client ("not eligible");
//   - "unsupported_grant": a grant_type the endpoint does not know;
//   - "unauthorized_client": a grant the client's kind may not use;
//   - "invalid_grant": an unknown, expired or mismatched code or refresh token, a
//     PKCE failure;
//   - "reused_grant": a code or refresh token that was already redeemed;
//   - "injected_failure": a failure queued by FailTokenRequests;
//   - "missing_token": an API call without a credential;
//   - "invalid_token": an API call with an unknown token or a wrong API user password;
//   - "expired_token": an API call with an expired token;
//   - "revoked_token": an API call with a revoked token;
//   - "throttled": an API call throttled by ThrottleAPICalls;
//   - "duplicate_credentials": a SOAP header with more than one credential;
//   - "malformed_envelope": a SOAP body that is not a SOAP envelope.
package mcv2test
