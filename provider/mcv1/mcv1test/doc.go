// Package mcv1test is an emulator of Salesforce Marketing Cloud's legacy ("v1")
// authentication for tests: POST /v1/requestToken plus the REST and SOAP APIs its
// tokens unlock, served by a real HTTP server on loopback. Like net/http/httptest,
// it is meant for tokentrip's own tests, its demo and users' tests, with knobs for
// token lifetimes, latency, failures, revocation and counters to assert on.
//
// Routes: POST /v1/requestToken is the token endpoint; /Service.asmx (any case) is
// the SOAP API; any other path under /v1/ or /v2/ is 404; paths under /-/ are the
// JSON control endpoints (see emulator.ControlPrefix); every other path is a REST
// call that needs "Authorization: Bearer <token>".
//
// How the shared controls read here: FailTokenRequests answers
// {"message":<status text>,"errorcode":<status>,"documentation":""}; a client
// revoked by RevokeClient gets 401 "Unauthorized" (errorcode 1); an API call with a
// revoked token gets REST 401 or SOAP "Login Failed", with an expired one REST 401
// or SOAP "Token Expired".
package mcv1test
