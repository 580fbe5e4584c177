package mcv2

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/tokentrip/tokentrip/internal/endpoint"
	"github.com/tokentrip/tokentrip/internal/oauthwire"
	"github.com/tokentrip/tokentrip/internal/providerkit"
	"github.com/tokentrip/tokentrip/transport"
)

// ErrNoRefreshToken means a user's credential has no refresh token in its store:
// the user has not authorised the app yet, or the token was removed. It comes
// wrapped in a *transport.FetchError of kind ErrCredentialsRejected.
var ErrNoRefreshToken = providerkit.NewError(name, "no refresh token stored")

// ErrRotatedElsewhere means a refresh token was refused because another process
// had already spent it and stored its successor. The next fetch uses the
// successor; it comes wrapped in a *transport.FetchError of kind ErrEndpoint.
var ErrRotatedElsewhere = providerkit.NewError(name, "refresh token rotated by another process")

// Hints: the next step for each failure.
const (
	hintCredentials   = "check ClientID and ClientSecret against the package's API integration (Setup > Apps > Installed Packages); a public app sends no secret"
	hintLegacy        = "this client belongs to a legacy installed package, which /v2/token does not serve: use provider/mcv1, or an enhanced package"
	hintIntegration   = "the API integration's type does not allow the %s grant (server-to-server integrations use client credentials; web and public apps use authorization codes and refresh tokens), or the package is not installed in business unit AccountID"
	hintBadCode       = "the authorization code is invalid, expired (codes live 5 minutes), already redeemed, or redirect_uri or the PKCE verifier differ from the authorisation request: send the user through AuthorizeURL again"
	hintBadRefresh    = "the refresh token is invalid, expired (30 days by default), spent, or revoked when the user logged out (request the offline scope to keep it): send the user through AuthorizeURL again"
	hintGrant         = "the token endpoint does not know the %s grant: check that Subdomain or AuthURL points at Marketing Cloud's /v2/token"
	hintScope         = "request only scopes the package's API integration grants (Scope)"
	hintRequest       = "the token endpoint refused the request; check AccountID, Scope and RedirectURI"
	hintNotFound      = "there is no token endpoint at this address: check Subdomain or AuthURL"
	hintNoRefresh     = "the user must authorise the app first: AuthorizeURL, ParseCallback, Exchange"
	hintRotated       = "another process renewed this credential first; the next fetch uses its refresh token"
	hintStore         = "the refresh-token store failed; fix it and the next fetch tries again"
	hintUnsavedRotate = "the refresh-token store failed after a refresh; the new refresh token is kept in memory and saved by the next fetch"
)

// decode reads a token endpoint's answer. A success (2xx, an access token, no
// error) comes back as it is; anything else becomes a *transport.FetchError.
func decode(resp *endpoint.Response, req tokenRequest) (oauthwire.Response, error) {
	r, err := oauthwire.Decode(name, resp)
	switch {
	case err != nil && resp.StatusCode == http.StatusNotFound:
		return r, rejection(resp.StatusCode, oauthwire.Response{}, req)
	case err != nil:
		return r, err
	case resp.StatusCode/100 != 2 || r.Error != "":
		return r, rejection(resp.StatusCode, r, req)
	case r.AccessToken == "":
		return r, malformed("no access_token")
	}
	return r, nil
}

// rejection maps an error answer to the kind of failure it is and the next step.
func rejection(status int, r oauthwire.Response, req tokenRequest) *transport.FetchError {
	secrets := append(req.secrets(), r.AccessToken, r.RefreshToken)
	e := &transport.FetchError{
		Provider:   name,
		StatusCode: status,
		Code:       scrub(r.Error, secrets),
		Message:    scrub(r.ErrorDescription, secrets),
	}
	switch {
	case r.Error == "invalid_client" && strings.Contains(strings.ToLower(r.ErrorDescription), "not eligible"):
		e.Kind, e.Hint = transport.ErrConfig, hintLegacy
	case r.Error == "invalid_client":
		e.Kind, e.Hint = transport.ErrCredentialsRejected, hintCredentials
	case r.Error == "unauthorized_client":
		e.Kind, e.Hint = transport.ErrConfig, fmt.Sprintf(hintIntegration, req.GrantType)
	case r.Error == "unsupported_grant_type":
		e.Kind, e.Hint = transport.ErrConfig, fmt.Sprintf(hintGrant, req.GrantType)
	case r.Error == "invalid_grant" && req.GrantType == grantAuthorizationCode:
		e.Kind, e.Hint = transport.ErrCredentialsRejected, hintBadCode
	case r.Error == "invalid_grant":
		e.Kind, e.Hint = transport.ErrCredentialsRejected, hintBadRefresh
	case r.Error == "invalid_scope":
		e.Kind, e.Hint = transport.ErrConfig, hintScope
	case status == http.StatusNotFound:
		e.Kind, e.Hint = transport.ErrConfig, hintNotFound
	case status == http.StatusUnauthorized, status == http.StatusForbidden:
		e.Kind, e.Hint = transport.ErrCredentialsRejected, hintCredentials
	case status/100 == 2:
		// An error in a success status: the answer cannot be trusted either way.
		e.Kind, e.Hint = transport.ErrEndpoint, "the token endpoint answered with an error in a success status"
	default:
		e.Kind, e.Hint = transport.ErrConfig, hintRequest
	}
	if e.Message == "" && e.Code == "" {
		e.Message = http.StatusText(status)
	}
	return e
}

// storeError reports a failure of the refresh-token store.
func storeError(action string, err error, hint string) error {
	return &transport.FetchError{
		Kind:     transport.ErrEndpoint,
		Provider: name,
		Message:  action + " the refresh token",
		Hint:     hint,
		Err:      err,
	}
}

// scrub replaces every non-empty secret in s with a placeholder, in case an
// endpoint echoes what it was sent.
func scrub(s string, secrets []string) string { return oauthwire.Scrub(s, secrets...) }
