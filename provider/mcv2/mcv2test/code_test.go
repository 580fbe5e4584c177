package mcv2test_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/internal/emulator/emulatortest"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
)

const callback = "https://app.example/code_callback"

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// codeRequest is an authorization_code request for the default web app.
func codeRequest(code string, extra ...any) map[string]any {
	m := map[string]any{
		"grant_type": "authorization_code", "code": code, "redirect_uri": callback,
		"client_id": emulator.MCv2WebAppID, "client_secret": emulator.MCv2WebAppSecret,
	}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i].(string)] = extra[i+1]
	}
	return m
}

func TestAuthorizationCode(t *testing.T) {
	const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	badCode := oauthError("invalid_grant", "The authorization code is invalid, expired, already used or issued to another client.")
	tests := []struct {
		name    string
		grant   mcv2test.CodeGrant
		request func(code string) map[string]any
		advance time.Duration
		status  int
		want    string // exact body of a failure
		reason  string
	}{
		{
			name:    "web app",
			grant:   mcv2test.CodeGrant{RedirectURI: callback},
			request: func(c string) map[string]any { return codeRequest(c) },
			status:  200,
		},
		{
			name:  "public app with PKCE S256",
			grant: mcv2test.CodeGrant{ClientID: emulator.MCv2PublicAppID, RedirectURI: callback, CodeChallenge: s256(verifier)},
			request: func(c string) map[string]any {
				return codeRequest(c, "client_id", emulator.MCv2PublicAppID, "client_secret", "", "code_verifier", verifier)
			},
			status: 200,
		},
		{
			name:    "plain PKCE",
			grant:   mcv2test.CodeGrant{RedirectURI: callback, CodeChallenge: verifier, CodeChallengeMethod: "plain"},
			request: func(c string) map[string]any { return codeRequest(c, "code_verifier", verifier) },
			status:  200,
		},
		{
			name:    "code a second before it expires",
			grant:   mcv2test.CodeGrant{RedirectURI: callback},
			request: func(c string) map[string]any { return codeRequest(c) },
			advance: emulator.MCv2CodeLifetime - time.Second,
			status:  200,
		},
		{
			name:    "expired code",
			grant:   mcv2test.CodeGrant{RedirectURI: callback},
			request: func(c string) map[string]any { return codeRequest(c) },
			advance: emulator.MCv2CodeLifetime,
			status:  400, want: badCode, reason: emulator.ReasonInvalidGrant,
		},
		{
			name:    "unknown code",
			grant:   mcv2test.CodeGrant{RedirectURI: callback},
			request: func(string) map[string]any { return codeRequest("code-forged") },
			status:  400, want: badCode, reason: emulator.ReasonInvalidGrant,
		},
		{
			name:    "code of another client",
			grant:   mcv2test.CodeGrant{ClientID: emulator.MCv2PublicAppID, RedirectURI: callback},
			request: func(c string) map[string]any { return codeRequest(c) },
			status:  400, want: badCode, reason: emulator.ReasonInvalidGrant,
		},
		{
			name:    "redirect_uri mismatch",
			grant:   mcv2test.CodeGrant{RedirectURI: callback},
			request: func(c string) map[string]any { return codeRequest(c, "redirect_uri", url.QueryEscape(callback)) },
			status:  400, reason: emulator.ReasonInvalidGrant,
			want: oauthError("invalid_grant", "The redirect_uri does not match the one the authorization code was issued for."),
		},
		{
			name:    "PKCE verifier missing",
			grant:   mcv2test.CodeGrant{RedirectURI: callback, CodeChallenge: s256(verifier)},
			request: func(c string) map[string]any { return codeRequest(c) },
			status:  400, reason: emulator.ReasonInvalidGrant,
			want: oauthError("invalid_grant", "The code_verifier does not match the code_challenge."),
		},
		{
			name:    "PKCE verifier wrong",
			grant:   mcv2test.CodeGrant{RedirectURI: callback, CodeChallenge: s256(verifier)},
			request: func(c string) map[string]any { return codeRequest(c, "code_verifier", verifier+"x") },
			status:  400, reason: emulator.ReasonInvalidGrant,
			want: oauthError("invalid_grant", "The code_verifier does not match the code_challenge."),
		},
		{
			name:    "web app without its secret",
			grant:   mcv2test.CodeGrant{RedirectURI: callback},
			request: func(c string) map[string]any { return codeRequest(c, "client_secret", "") },
			status:  401, reason: emulator.ReasonInvalidClient,
			want: oauthError("invalid_client", "Client authentication failed. Make sure that the client ID and client secret are valid."),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := emulatortest.ManualClock()
			srv := mcv2test.NewServer(mcv2test.WithClock(clock.Now))
			defer srv.Close()
			code := srv.IssueCode(tt.grant)
			clock.Advance(tt.advance)

			r := requestToken(t, srv, tt.request(code))
			if tt.status != 200 {
				emulatortest.WantReply(t, r, tt.status, tt.want)
				emulatortest.WantRejections(t, srv.Stats().Rejections, map[string]int{tt.reason: 1})
				return
			}
			if r.Status != 200 {
				t.Fatalf("status %d, body %s", r.Status, r.Body)
			}
			// The code is spent: a second exchange fails.
			emulatortest.WantReply(t, requestToken(t, srv, tt.request(code)), 400, badCode)
			emulatortest.WantRejections(t, srv.Stats().Rejections, map[string]int{emulator.ReasonReusedGrant: 1})
		})
	}
}

func TestAuthorizeRedirectsWithACode(t *testing.T) {
	srv := mcv2test.NewServer()
	defer srv.Close()
	q := url.Values{
		"response_type": {"code"},
		"client_id":     {emulator.MCv2WebAppID},
		"redirect_uri":  {callback + "?app=1"},
		"scope":         {"email_read offline"},
		"state":         {"xyz"},
		"account_id":    {"5150"},
	}
	r := send(t, srv, http.MethodGet, emulator.MCv2AuthorizePath+"?"+q.Encode(), "", "")
	if r.Status != http.StatusFound {
		t.Fatalf("status %d, body %s", r.Status, r.Body)
	}
	loc, err := url.Parse(r.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	back := loc.Query()
	if loc.Scheme+"://"+loc.Host+loc.Path != callback || back.Get("state") != "xyz" || back.Get("app") != "1" || back.Get("code") == "" {
		t.Fatalf("redirected to %s", loc)
	}

	tok := fetchToken(t, srv, codeRequest(back.Get("code"), "redirect_uri", callback+"?app=1"))
	if tok.Scope != "email_read offline" || tok.RefreshToken == "" {
		t.Errorf("token = %+v", tok)
	}
	if got, _ := srv.TokenAccount(tok.AccessToken); got != "5150" {
		t.Errorf("account = %q, want 5150", got)
	}
}

func TestAuthorizeErrors(t *testing.T) {
	tests := []struct {
		name         string
		query        url.Values
		want, reason string
	}{
		{
			name:   "response_type token",
			query:  url.Values{"response_type": {"token"}, "client_id": {emulator.MCv2WebAppID}, "redirect_uri": {callback}},
			want:   oauthError("unsupported_response_type", `response_type must be \"code\".`),
			reason: emulator.ReasonBadRequest,
		},
		{
			name:   "unknown client",
			query:  url.Values{"response_type": {"code"}, "client_id": {"nobody"}, "redirect_uri": {callback}},
			want:   oauthError("invalid_client", "Client authentication failed. Make sure that the client ID and client secret are valid."),
			reason: emulator.ReasonInvalidClient,
		},
		{
			name:   "server-to-server client",
			query:  url.Values{"response_type": {"code"}, "client_id": {emulator.MCv2ClientID}, "redirect_uri": {callback}},
			want:   oauthError("unauthorized_client", "This client is not authorized to use this grant type."),
			reason: emulator.ReasonUnauthorizedClient,
		},
		{
			name:   "relative redirect_uri",
			query:  url.Values{"response_type": {"code"}, "client_id": {emulator.MCv2WebAppID}, "redirect_uri": {"/cb"}},
			want:   oauthError("invalid_request", "redirect_uri must be an absolute URL."),
			reason: emulator.ReasonBadRequest,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mcv2test.NewServer()
			defer srv.Close()
			emulatortest.WantReply(t, send(t, srv, http.MethodGet, emulator.MCv2AuthorizePath+"?"+tt.query.Encode(), "", ""), 400, tt.want)
			emulatortest.WantRejections(t, srv.Stats().Rejections, map[string]int{tt.reason: 1})
		})
	}
}

func TestUserinfo(t *testing.T) {
	clock := emulatortest.ManualClock()
	srv := mcv2test.NewServer(mcv2test.WithClock(clock.Now))
	defer srv.Close()
	inBU := fetchToken(t, srv, clientCredentials("account_id", "5150")).AccessToken
	noBU := fetchToken(t, srv, clientCredentials()).AccessToken

	info := func(mid string) string {
		return `{"sub":"` + emulator.MCv2ClientID + `","user":{"sub":"` + emulator.MCv2ClientID +
			`","name":"tokentrip emulator user","preferred_username":"tokentrip-user","email":"tokentrip-user@example.com"},` +
			`"organization":{"member_id":` + mid + `,"enterprise_id":100000001,"stack_key":"S0"},` +
			`"rest":{"rest_instance_url":"` + srv.URL + `/","soap_instance_url":"` + srv.URL + `/"}}`
	}
	emulatortest.WantReply(t, send(t, srv, http.MethodGet, emulator.MCv2UserinfoPath, "", "", "Authorization", "Bearer "+inBU), 200, info("5150"))
	emulatortest.WantReply(t, send(t, srv, http.MethodGet, emulator.MCv2UserinfoPath, "", "", "Authorization", "Bearer "+noBU), 200, info("100000001"))

	clock.Advance(emulator.MCv2TokenLifetime)
	emulatortest.WantReply(t, send(t, srv, http.MethodGet, emulator.MCv2UserinfoPath, "", "", "Authorization", "Bearer "+inBU), 401, emulatortest.MCNotAuthorized)
	emulatortest.WantReply(t, send(t, srv, http.MethodGet, emulator.MCv2UserinfoPath, "", ""), 401, emulatortest.MCNotAuthorized)
	emulatortest.WantRejections(t, srv.Stats().Rejections, map[string]int{emulator.ReasonExpiredToken: 1, emulator.ReasonMissingToken: 1})
}
