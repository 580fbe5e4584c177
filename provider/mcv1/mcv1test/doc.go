// Package mcv1test is an emulator of Salesforce Marketing Cloud's legacy ("v1")
// authentication for tests: POST /v1/requestToken plus the REST and SOAP APIs its
// tokens unlock, served by a real HTTP server on loopback. Like net/http/httptest,
// it is meant for tokentrip's own tests, its demo and users' tests, with knobs for
// token lifetimes, latency, failures, revocation and counters to assert on.
//
// Routes: POST /v1/requestToken is the token endpoint; /Service.asmx (any case) is
// the SOAP API; any other path under /v1/ or /v2/ is 404; paths under /-/ are the
// JSON control endpoints (GET /-/ lists them); every other path is a REST call that needs "Authorization: Bearer <token>".
//
// How the shared controls read here: FailTokenRequests answers
// {"message":<status text>,"errorcode":<status>,"documentation":""}; a client
// revoked by RevokeClient gets 401 "Unauthorized" (errorcode 1); an API call with a
// revoked token gets REST 401 or SOAP "Login Failed", with an expired one REST 401
// or SOAP "Token Expired".
//
// Stats().TokenRequestsByGrant counts token requests under "client_credentials"
// (clientId and clientSecret) and "refresh_token" (a refreshToken too): the legacy
// endpoint has no grant_type, these name what a request asks for.
// Stats().Rejections counts refused requests under these reasons:
//   - "bad_request": a token body that is not JSON, a body too large, the SOAP
//     endpoint not POSTed to;
//   - "not_found": an unknown path under /v1/ or /v2/;
//   - "invalid_client": an unknown client id or a wrong secret;
//   - "revoked_client": a client revoked by RevokeClient;
//   - "wrong_package": an enhanced package's client (errorcode 10007);
//   - "invalid_grant": an unknown, expired, revoked or another client's refresh token;
//   - "reused_grant": a refresh token that was already redeemed;
//   - "injected_failure": a failure queued by FailTokenRequests;
//   - "missing_token": an API call without a credential;
//   - "invalid_token": an API call with an unknown token or a wrong API user password;
//   - "expired_token": an API call with an expired token;
//   - "revoked_token": an API call with a revoked or superseded token;
//   - "throttled": an API call throttled by ThrottleAPICalls;
//   - "duplicate_credentials": a SOAP header with more than one credential;
//   - "malformed_envelope": a SOAP body that is not a SOAP envelope.
package mcv1test
