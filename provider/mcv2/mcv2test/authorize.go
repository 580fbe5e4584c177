package mcv2test

import (
	"net/http"
	"net/url"

	"github.com/tokentrip/tokentrip/internal/emulator"
)

// serveAuthorize answers GET /v2/authorize as if the user logged in and approved
// at once: it redirects (302) to redirect_uri with code and state in the query.
// It reads response_type (must be "code"), client_id (a web or public app),
// redirect_uri (required), scope, state, account_id, code_challenge and
// code_challenge_method. Requests it cannot redirect get a 400 OAuth error.
func (s *Server) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("response_type") != "code" {
		s.fail(w, http.StatusBadRequest, emulator.ReasonBadRequest, "unsupported_response_type", `response_type must be "code".`)
		return
	}
	client, revoked, ok := s.core.Clients.Lookup(q.Get("client_id"))
	switch {
	case !ok:
		s.fail(w, http.StatusBadRequest, emulator.ReasonInvalidClient, "invalid_client", descInvalidClient)
		return
	case revoked:
		s.fail(w, http.StatusBadRequest, emulator.ReasonRevokedClient, "invalid_client", descInvalidClient)
		return
	case !grantAllowed(client.Kind, emulator.GrantAuthorizationCode):
		s.fail(w, http.StatusBadRequest, emulator.ReasonUnauthorizedClient, "unauthorized_client", descUnauthorized)
		return
	}
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || !redirect.IsAbs() {
		s.fail(w, http.StatusBadRequest, emulator.ReasonBadRequest, "invalid_request", "redirect_uri must be an absolute URL.")
		return
	}

	code := s.IssueCode(CodeGrant{
		ClientID:            client.ID,
		RedirectURI:         q.Get("redirect_uri"),
		AccountID:           q.Get("account_id"),
		Scope:               q.Get("scope"),
		CodeChallenge:       q.Get("code_challenge"),
		CodeChallengeMethod: q.Get("code_challenge_method"),
	})
	back := redirect.Query()
	back.Set("code", code)
	if state := q.Get("state"); state != "" {
		back.Set("state", state)
	}
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}
