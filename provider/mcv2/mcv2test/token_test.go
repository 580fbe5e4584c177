package mcv2test_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/internal/emulator/emulatortest"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
)

const tokenPattern = `[A-Z2-7]{52}`

func TestClientCredentials(t *testing.T) {
	tests := []struct {
		name        string
		opts        []mcv2test.Option
		body        map[string]any
		wantScope   string
		wantExpires int
		wantURLs    func(serverURL string) string // rest and soap instance URL
		wantAccount string
	}{
		{
			name: "defaults", body: clientCredentials(),
			wantScope: emulator.MCv2Scope, wantExpires: 1200,
			wantURLs: func(u string) string { return u + "/" },
		},
		{
			name: "scope and account_id", body: clientCredentials("scope", "data_extensions_read", "account_id", "5150"),
			wantScope: "data_extensions_read", wantExpires: 1200, wantAccount: "5150",
			wantURLs: func(u string) string { return u + "/" },
		},
		{
			name: "numeric account_id", body: clientCredentials("account_id", 7281698),
			wantScope: emulator.MCv2Scope, wantExpires: 1200, wantAccount: "7281698",
			wantURLs: func(u string) string { return u + "/" },
		},
		{
			name: "schemeless instance URLs", opts: []mcv2test.Option{mcv2test.WithSchemelessInstanceURLs()}, body: clientCredentials(),
			wantScope: emulator.MCv2Scope, wantExpires: 1200,
			wantURLs: func(u string) string { return strings.TrimPrefix(u, "http://") },
		},
		{
			name: "configured instance URLs and lifetime",
			opts: []mcv2test.Option{
				mcv2test.WithInstanceURLs("https://mc-x.rest.example/", "https://mc-x.rest.example/"),
				mcv2test.WithTokenLifetime(1079 * time.Second),
			},
			body: clientCredentials(), wantScope: emulator.MCv2Scope, wantExpires: 1079,
			wantURLs: func(string) string { return "https://mc-x.rest.example/" },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := emulatortest.ManualClock()
			srv := mcv2test.NewServer(append(tt.opts, mcv2test.WithClock(clock.Now))...)
			defer srv.Close()

			r := requestToken(t, srv, tt.body)
			urls := regexp.QuoteMeta(tt.wantURLs(srv.URL))
			want := `^\{"access_token":"(at-` + tokenPattern + `)","token_type":"Bearer","expires_in":` + strconv.Itoa(tt.wantExpires) +
				`,"scope":"` + tt.wantScope + `","soap_instance_url":"` + urls + `","rest_instance_url":"` + urls + `"\}$`
			m := emulatortest.WantMatch(t, r, want)
			if got, ok := srv.TokenAccount(m[1]); !ok || got != tt.wantAccount {
				t.Errorf("TokenAccount = %q, %v; want %q", got, ok, tt.wantAccount)
			}
			st := srv.Stats()
			if st.TokenRequests != 1 || st.TokensIssued != 1 || st.TokenRequestsByGrant[emulator.GrantClientCredentials] != 1 {
				t.Errorf("stats = %+v", st)
			}
		})
	}
}

func TestRefreshTokenRotation(t *testing.T) {
	srv := mcv2test.NewServer()
	defer srv.Close()
	code := srv.IssueCode(mcv2test.CodeGrant{RedirectURI: "https://app.example/cb", AccountID: "5150"})
	first := fetchToken(t, srv, map[string]any{
		"grant_type": "authorization_code", "code": code, "redirect_uri": "https://app.example/cb",
		"client_id": emulator.MCv2WebAppID, "client_secret": emulator.MCv2WebAppSecret,
	})
	refresh := func(rt string) emulatortest.Reply {
		return requestToken(t, srv, map[string]any{
			"grant_type": "refresh_token", "refresh_token": rt,
			"client_id": emulator.MCv2WebAppID, "client_secret": emulator.MCv2WebAppSecret,
		})
	}

	r := refresh(first.RefreshToken)
	m := emulatortest.WantMatch(t, r, `^\{"access_token":"(at-`+tokenPattern+`)","token_type":"Bearer","expires_in":1200,"scope":"`+
		emulator.MCv2Scope+`","soap_instance_url":"[^"]+","rest_instance_url":"[^"]+","refresh_token":"(rt-`+tokenPattern+`)"\}$`)
	second := tokenFields{AccessToken: m[1], RefreshToken: m[2]}
	if second.AccessToken == first.AccessToken || second.RefreshToken == first.RefreshToken {
		t.Fatal("refresh did not rotate both tokens")
	}
	if got, _ := srv.TokenAccount(second.AccessToken); got != "5150" {
		t.Errorf("refreshed token's account = %q, want the code's 5150", got)
	}

	// The spent refresh token is refused; the new one works once more.
	emulatortest.WantReply(t, refresh(first.RefreshToken), 400,
		oauthError("invalid_grant", "The refresh token is invalid, expired, already used or issued to another client."))
	third := refresh(second.RefreshToken)
	if third.Status != 200 {
		t.Fatalf("refresh with the rotated token: %d %s", third.Status, third.Body)
	}
	// Refreshing does not revoke access tokens already issued.
	if r := restCall(t, srv, "/platform/v1/endpoints", first.AccessToken); r.Status != 200 {
		t.Errorf("first access token after rotation: %d %s", r.Status, r.Body)
	}
	st := srv.Stats()
	if st.TokensIssued != 3 || st.TokenRequestsByGrant[emulator.GrantRefreshToken] != 3 || st.TokenRequestsByGrant[emulator.GrantAuthorizationCode] != 1 {
		t.Errorf("stats = %+v", st)
	}
	emulatortest.WantRejections(t, srv.Stats().Rejections, map[string]int{emulator.ReasonReusedGrant: 1})
}

func TestTokensAreBoundToTheirAccount(t *testing.T) {
	srv := mcv2test.NewServer()
	defer srv.Close()
	a := fetchToken(t, srv, clientCredentials("account_id", "1001")).AccessToken
	b := fetchToken(t, srv, clientCredentials("account_id", "1002")).AccessToken
	none := fetchToken(t, srv, clientCredentials()).AccessToken

	for tok, want := range map[string]string{a: "1001", b: "1002", none: ""} {
		if got, ok := srv.TokenAccount(tok); !ok || got != want {
			t.Errorf("TokenAccount = %q, %v; want %q", got, ok, want)
		}
	}
	if _, ok := srv.TokenAccount("at-never-issued"); ok {
		t.Error("TokenAccount knows a token never issued")
	}
	if st := srv.Stats(); st.TokensIssued != 3 {
		t.Errorf("TokensIssued = %d, want 3", st.TokensIssued)
	}
	emulatortest.WantReply(t, restCall(t, srv, "/platform/v1/endpoints", a), 200,
		`{"ok":true,"method":"GET","path":"/platform/v1/endpoints","bodyLength":0,"accountId":"1001"}`)
}
