package mcv1test_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/internal/emulator/emulatortest"
	"github.com/tokentrip/tokentrip/provider/mcv1/mcv1test"
)

func TestRequestToken(t *testing.T) {
	const secret = `[A-Z2-7]{52}`
	tests := []struct {
		name        string
		opts        []mcv1test.Option
		query, body string
		want        string // regexp of the whole body
	}{
		{
			name: "client credentials",
			body: tokenBody(),
			want: `^\{"accessToken":"at-` + secret + `","expiresIn":3600\}$`,
		},
		{
			name: "offline access adds a refresh token",
			body: tokenBody("accessType", "offline"),
			want: `^\{"accessToken":"at-` + secret + `","expiresIn":3600,"refreshToken":"rt-` + secret + `"\}$`,
		},
		{
			name:  "legacy=1 adds a legacy token",
			query: "?legacy=1",
			body:  tokenBody(),
			want:  `^\{"accessToken":"at-` + secret + `","expiresIn":3600,"legacyToken":"at-` + secret + `"\}$`,
		},
		{
			name: "configured lifetime",
			opts: []mcv1test.Option{mcv1test.WithTokenLifetime(10 * time.Minute)},
			body: tokenBody(),
			want: `^\{"accessToken":"at-` + secret + `","expiresIn":600\}$`,
		},
		{
			name: "registered client",
			opts: []mcv1test.Option{mcv1test.WithClient("id-2", "s3cr3t")},
			body: `{"clientId":"id-2","clientSecret":"s3cr3t"}`,
			want: `^\{"accessToken":"at-` + secret + `","expiresIn":3600\}$`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := emulatortest.ManualClock()
			srv := mcv1test.NewServer(append(tt.opts, mcv1test.WithClock(clock.Now))...)
			defer srv.Close()

			r := send(t, srv, http.MethodPost, emulator.MCv1TokenPath+tt.query, "application/json; charset=utf-8", tt.body)
			emulatortest.WantMatch(t, r, tt.want)
			emulatortest.WantContentType(t, r, "application/json; charset=utf-8")
			st := srv.Stats()
			if st.TokenRequests != 1 || st.TokensIssued != 1 || st.TokenRequestsByGrant[emulator.GrantClientCredentials] != 1 {
				t.Errorf("stats = %+v", st)
			}
		})
	}
}

func TestRefreshTokensAreSingleUse(t *testing.T) {
	srv := mcv1test.NewServer(
		mcv1test.WithClient(emulator.MCv1ClientID, emulator.MCv1ClientSecret),
		mcv1test.WithClient("other", "other-secret"),
	)
	defer srv.Close()

	first := fetchToken(t, srv, tokenBody("accessType", "offline"))
	second := fetchToken(t, srv, tokenBody("refreshToken", first.RefreshToken))
	if second.RefreshToken == "" || second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken {
		t.Fatalf("refresh gave %+v after %+v: want a new access and refresh token", second, first)
	}
	if second.ExpiresIn != 3600 {
		t.Errorf("expiresIn = %d, want 3600", second.ExpiresIn)
	}

	// The redeemed refresh token is spent; the new one works once.
	emulatortest.WantReply(t, requestToken(t, srv, tokenBody("refreshToken", first.RefreshToken)),
		401, `{"message":"Unauthorized","errorcode":1,"documentation":""}`)
	// Another client cannot redeem it.
	emulatortest.WantReply(t, requestToken(t, srv, `{"clientId":"other","clientSecret":"other-secret","refreshToken":"`+second.RefreshToken+`"}`),
		401, `{"message":"Unauthorized","errorcode":1,"documentation":""}`)
	third := fetchToken(t, srv, tokenBody("refreshToken", second.RefreshToken))

	// Both access tokens issued by refreshing still work: a refresh does not revoke.
	for _, tok := range []string{first.AccessToken, second.AccessToken, third.AccessToken} {
		if r := restCall(t, srv, "/platform/v1/endpoints", tok); r.Status != 200 {
			t.Errorf("REST with %s: %d %s", tok[:8], r.Status, r.Body)
		}
	}
	st := srv.Stats()
	if st.TokenRequests != 5 || st.TokensIssued != 3 ||
		st.TokenRequestsByGrant[emulator.GrantClientCredentials] != 1 || st.TokenRequestsByGrant[emulator.GrantRefreshToken] != 4 {
		t.Errorf("stats = %+v", st)
	}
	emulatortest.WantRejections(t, srv.Stats().Rejections, map[string]int{emulator.ReasonReusedGrant: 1, emulator.ReasonInvalidGrant: 1})
}

func TestRefreshTokenLifetime(t *testing.T) {
	clock := emulatortest.ManualClock()
	srv := mcv1test.NewServer(mcv1test.WithClock(clock.Now), mcv1test.WithRefreshTokenLifetime(24*time.Hour))
	defer srv.Close()

	rt := fetchToken(t, srv, tokenBody("accessType", "offline")).RefreshToken
	clock.Advance(24 * time.Hour)
	emulatortest.WantReply(t, requestToken(t, srv, tokenBody("refreshToken", rt)),
		401, `{"message":"Unauthorized","errorcode":1,"documentation":""}`)
	emulatortest.WantRejections(t, srv.Stats().Rejections, map[string]int{emulator.ReasonInvalidGrant: 1})
}

func TestOneTokenPerClient(t *testing.T) {
	tests := []struct {
		name      string
		opts      []mcv1test.Option
		firstCode int
	}{
		{name: "off by default: both tokens work", firstCode: 200},
		{name: "on: the newer token revokes the older", opts: []mcv1test.Option{mcv1test.WithOneTokenPerClient()}, firstCode: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mcv1test.NewServer(tt.opts...)
			defer srv.Close()
			first := fetchToken(t, srv, tokenBody()).AccessToken
			second := fetchToken(t, srv, tokenBody()).AccessToken

			if r := restCall(t, srv, "/platform/v1/endpoints", first); r.Status != tt.firstCode {
				t.Errorf("older token: %d %s, want %d", r.Status, r.Body, tt.firstCode)
			}
			if r := restCall(t, srv, "/platform/v1/endpoints", second); r.Status != 200 {
				t.Errorf("newer token: %d %s, want 200", r.Status, r.Body)
			}
		})
	}
}

func TestRevokeAndRestoreClient(t *testing.T) {
	srv := mcv1test.NewServer()
	defer srv.Close()
	old := fetchToken(t, srv, tokenBody("accessType", "offline"))

	if !srv.RevokeClient(emulator.MCv1ClientID) {
		t.Fatal("RevokeClient: client not found")
	}
	if srv.RevokeClient("nobody") {
		t.Error("RevokeClient of an unknown client reported success")
	}
	emulatortest.WantReply(t, requestToken(t, srv, tokenBody()), 401, `{"message":"Unauthorized","errorcode":1,"documentation":""}`)
	emulatortest.WantReply(t, restCall(t, srv, "/platform/v1/endpoints", old.AccessToken), 401, emulatortest.MCNotAuthorized)

	srv.RestoreClient(emulator.MCv1ClientID)
	fresh := fetchToken(t, srv, tokenBody())
	if r := restCall(t, srv, "/platform/v1/endpoints", fresh.AccessToken); r.Status != 200 {
		t.Errorf("token issued after restore: %d %s", r.Status, r.Body)
	}
	// What was revoked stays revoked.
	emulatortest.WantReply(t, restCall(t, srv, "/platform/v1/endpoints", old.AccessToken), 401, emulatortest.MCNotAuthorized)
	emulatortest.WantReply(t, requestToken(t, srv, tokenBody("refreshToken", old.RefreshToken)), 401, `{"message":"Unauthorized","errorcode":1,"documentation":""}`)
	emulatortest.WantRejections(t, srv.Stats().Rejections, map[string]int{
		emulator.ReasonRevokedClient: 1,
		emulator.ReasonRevokedToken:  2,
		emulator.ReasonInvalidGrant:  1,
	})
}
