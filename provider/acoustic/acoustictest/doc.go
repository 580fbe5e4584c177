// Package acoustictest is an emulator of Acoustic Campaign's OAuth token endpoint
// and APIs for tests: POST /oauth/token with its refresh_token grant and its
// 4-hour lifetime / 3-hour earliest-refresh rule, the XML API at /XMLAPI and REST
// under /rest/, served by a real HTTP server on loopback. Like net/http/httptest,
// it is meant for tokentrip's own tests, its demo and users' tests, with knobs for
// lifetimes, latency, failures, revocation, the per-organization concurrency cap
// and counters to assert on. Paths under /-/ are the JSON control endpoints (GET
// /-/ lists them).
//
// A Server is one pod hosting one organization: pods are the client's concern, and
// the cap of concurrent API calls applies to the whole server.
//
// How the shared controls read here: FailTokenRequests answers
// {"error":"temporarily_unavailable","error_description":<status text>}; an
// application revoked by RevokeClient gets invalid_client, and every access token
// minted for it is revoked, while its refresh tokens work again after
// RestoreClient; RevokeToken of a refresh token does what deleting a user's access
// in Acoustic's UI does: the refresh token gets invalid_grant from then on, and
// every access token minted from it is revoked; a revoked or expired access token
// makes the next token request for its refresh token mint a new one, and its API
// calls fail with the errorid 145 fault (or as WithSessionUnauthorized or
// WithSessionEmptyBody chose) on the XML API, with 401 invalid_token on REST.
//
// Stats().TokenRequestsByGrant counts token requests under their grant_type:
// "refresh_token", the only one the endpoint knows, or any other a request names.
// Stats().ConcurrencyRejections counts the calls turned away by the cap.
// Stats().Rejections counts refused requests under these reasons:
//   - "bad_request": a token body that is not form-encoded, a body too large, the
//     XML API not POSTed to;
//   - "not_found": a path that is none of the endpoints;
//   - "invalid_client": an unknown client id or a wrong secret;
//   - "revoked_client": an application revoked by RevokeClient;
//   - "unsupported_grant": a grant_type other than refresh_token;
//   - "invalid_grant": an unknown, revoked or another client's refresh token;
//   - "injected_failure": a failure queued by FailTokenRequests;
//   - "mint_limit": a token request over WithMintLimit;
//   - "missing_token": an API call without a bearer token;
//   - "invalid_token": an API call with an unknown token;
//   - "expired_token": an API call with an expired token;
//   - "revoked_token": an API call with a revoked token;
//   - "throttled": an API call throttled by ThrottleAPICalls;
//   - "malformed_envelope": an XML API body that is not an Envelope with a Body;
//   - "concurrency_limit": an API call over the concurrency cap.
package acoustictest
