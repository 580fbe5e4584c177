// Package acoustictest is an emulator of Acoustic Campaign's OAuth token endpoint
// and APIs for tests: POST /oauth/token with its refresh_token grant and its
// 4-hour lifetime / 3-hour earliest-refresh rule, the XML API at /XMLAPI and REST
// under /rest/, served by a real HTTP server on loopback. Like net/http/httptest,
// it is meant for tokentrip's own tests, its demo and users' tests, with knobs for
// lifetimes, latency, failures, revocation, the per-organization concurrency cap
// and counters to assert on. Paths under /-/ are the JSON control endpoints (see
// emulator.ControlPrefix).
//
// A Server is one pod hosting one organization: pods are the client's concern, and
// the cap of concurrent API calls applies to the whole server.
//
// How the shared controls read here: FailTokenRequests answers
// {"error":"temporarily_unavailable","error_description":<status text>}; an
// application revoked by RevokeClient gets invalid_client, and every access token
// minted for it is revoked, while its refresh tokens work again after
// RestoreClient; a revoked or expired access token makes the next token request for
// its refresh token mint a new one, and its API calls fail as WithSessionFailure
// chose (XML API) or with 401 invalid_token (REST).
package acoustictest
