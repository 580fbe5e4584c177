// Package mcv1test is an emulator of Salesforce Marketing Cloud's legacy ("v1")
// authentication for tests: POST /v1/requestToken plus the REST and SOAP APIs its
// tokens unlock, served by a real HTTP server on loopback. Like net/http/httptest,
// it is meant for tokentrip's own tests, its demo and users' tests, with knobs for
// token lifetimes, latency, failures, revocation and counters to assert on.
//
// Routes: POST /v1/requestToken is the token endpoint; /Service.asmx (any case) is
// the SOAP API; any other path under /v1/ or /v2/ is 404; every other path is a REST
// call that needs "Authorization: Bearer <token>".
package mcv1test
