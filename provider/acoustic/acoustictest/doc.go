// Package acoustictest is an emulator of Acoustic Campaign's OAuth token endpoint
// and APIs for tests: POST /oauth/token with its refresh_token grant and its
// 4-hour lifetime / 3-hour earliest-refresh rule, the XML API at /XMLAPI and REST
// under /rest/, served by a real HTTP server on loopback. Like net/http/httptest,
// it is meant for tokentrip's own tests, its demo and users' tests, with knobs for
// lifetimes, latency, failures, revocation, the per-organization concurrency cap
// and counters to assert on.
//
// A Server is one pod hosting one organization: pods are the client's concern, and
// the cap of concurrent API calls applies to the whole server.
package acoustictest
