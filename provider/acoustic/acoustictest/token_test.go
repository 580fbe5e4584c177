package acoustictest_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/internal/emulator/emulatortest"
	"github.com/tokentrip/tokentrip/provider/acoustic/acoustictest"
)

func TestRequestToken(t *testing.T) {
	clock := emulatortest.ManualClock()
	srv := acoustictest.NewServer(acoustictest.WithClock(clock.Now))
	defer srv.Close()

	r := requestToken(t, srv, defaultForm())
	emulatortest.WantMatch(t, r, `^\{"access_token":"at-[A-Z2-7]{52}","token_type":"bearer","refresh_token":"`+
		emulator.AcousticRefreshToken+`","expires_in":14400\}$`)
	emulatortest.WantContentType(t, r, "application/json; charset=utf-8")
	st := srv.Stats()
	if st.TokenRequests != 1 || st.TokensIssued != 1 || st.TokenRequestsByGrant[emulator.GrantRefreshToken] != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestSameTokenUntilThreeHoursOld(t *testing.T) {
	clock := emulatortest.ManualClock()
	srv := acoustictest.NewServer(acoustictest.WithClock(clock.Now))
	defer srv.Close()

	steps := []struct {
		advance     time.Duration
		same        bool // same token as the step before
		wantExpires int
	}{
		{0, false, 14400},
		{time.Minute, true, 14340},
		{2*time.Hour + 58*time.Minute + 59*time.Second, true, 3601}, // 2:59:59 old
		{time.Second, false, 14400},                                 // exactly 3:00:00: a new one
		{time.Hour, true, 10800},
	}
	prev := ""
	for i, step := range steps {
		clock.Advance(step.advance)
		tok := fetchToken(t, srv, defaultForm())
		if same := tok.AccessToken == prev; same != step.same {
			t.Errorf("step %d: same token = %v, want %v", i, same, step.same)
		}
		if tok.ExpiresIn != step.wantExpires {
			t.Errorf("step %d: expires_in = %d, want %d", i, tok.ExpiresIn, step.wantExpires)
		}
		prev = tok.AccessToken
	}
	if st := srv.Stats(); st.TokenRequests != len(steps) || st.TokensIssued != 2 {
		t.Errorf("stats = %+v, want %d requests and 2 minted", st, len(steps))
	}
}

func TestOldTokenLivesOnAfterANewOne(t *testing.T) {
	clock := emulatortest.ManualClock()
	srv := acoustictest.NewServer(acoustictest.WithClock(clock.Now))
	defer srv.Close()
	first := fetchToken(t, srv, defaultForm()).AccessToken
	clock.Advance(3 * time.Hour)
	second := fetchToken(t, srv, defaultForm()).AccessToken

	for _, tok := range []string{first, second} {
		if r := xmlCall(t, srv, tok, getLists); r.Status != 200 || r.Body != `<Envelope><Body><RESULT><SUCCESS>TRUE</SUCCESS></RESULT></Body></Envelope>` {
			t.Errorf("XML API: %d %s", r.Status, r.Body)
		}
	}
	clock.Advance(time.Hour) // the first is 4 hours old now
	if r := xmlCall(t, srv, first, getLists); r.Body == `<Envelope><Body><RESULT><SUCCESS>TRUE</SUCCESS></RESULT></Body></Envelope>` {
		t.Error("a 4-hour-old token still works")
	}
}

func TestRenewsEarlyWhenTheTokenIsGone(t *testing.T) {
	for name, kill := range map[string]func(*acoustictest.Server, string) bool{
		"revoked": (*acoustictest.Server).RevokeToken,
		"expired": (*acoustictest.Server).ExpireToken,
	} {
		t.Run(name, func(t *testing.T) {
			srv := acoustictest.NewServer()
			defer srv.Close()
			first := fetchToken(t, srv, defaultForm()).AccessToken
			if !kill(srv, first) {
				t.Fatal("token not found")
			}
			if second := fetchToken(t, srv, defaultForm()).AccessToken; second == first {
				t.Error("got the dead token back")
			}
		})
	}
}

func TestFormValuesAreDecoded(t *testing.T) {
	const (
		id     = "app id/1"
		secret = "s3cr+t&x=y%z"
		rt     = "rt+with/slashes=and&amps"
	)
	srv := acoustictest.NewServer(acoustictest.WithClient(id, secret, rt))
	defer srv.Close()
	form := url.Values{"grant_type": {"refresh_token"}, "client_id": {id}, "client_secret": {secret}, "refresh_token": {rt}}
	if tok := fetchToken(t, srv, form); tok.RefreshToken != rt {
		t.Errorf("refresh_token = %q, want %q", tok.RefreshToken, rt)
	}
	// The same values sent unencoded are different values.
	raw := "grant_type=refresh_token&client_id=" + id + "&client_secret=" + secret + "&refresh_token=" + rt
	if r := send(t, srv, http.MethodPost, emulator.AcousticTokenPath, "application/x-www-form-urlencoded", raw); r.Status == 200 {
		t.Errorf("unencoded values accepted: %s", r.Body)
	}
}

func TestMintLimit(t *testing.T) {
	clock := emulatortest.ManualClock()
	srv := acoustictest.NewServer(
		acoustictest.WithClock(clock.Now),
		acoustictest.WithEarliestRefresh(0),
		acoustictest.WithMintLimit(2, time.Hour),
	)
	defer srv.Close()

	fetchToken(t, srv, defaultForm())
	clock.Advance(10 * time.Minute)
	fetchToken(t, srv, defaultForm())
	r := requestToken(t, srv, defaultForm())
	emulatortest.WantReply(t, r, 429, `{"error":"access_denied","error_description":"Access token limits exceeded"}`)
	if got := r.Header.Get("Retry-After"); got != "3000" {
		t.Errorf("Retry-After = %q, want 3000 (50 minutes)", got)
	}
	clock.Advance(50 * time.Minute)
	fetchToken(t, srv, defaultForm())
	if st := srv.Stats(); st.TokensIssued != 3 || st.Rejections[emulator.ReasonMintLimit] != 1 {
		t.Errorf("stats = %+v", st)
	}
}

func TestRevokeRefreshToken(t *testing.T) {
	srv := acoustictest.NewServer()
	defer srv.Close()
	tok := fetchToken(t, srv, defaultForm()).AccessToken

	if !srv.RevokeToken(emulator.AcousticRefreshToken) {
		t.Fatal("refresh token not found")
	}
	emulatortest.WantReply(t, requestToken(t, srv, defaultForm()), 400, `{"error":"invalid_grant","error_description":"Invalid refresh token."}`)
	emulatortest.WantReply(t, xmlCall(t, srv, tok, getLists), 200, sessionFault)
	emulatortest.WantRejections(t, srv.Stats().Rejections, map[string]int{emulator.ReasonInvalidGrant: 1, emulator.ReasonRevokedToken: 1})
}

func TestRevokeAndRestoreClient(t *testing.T) {
	srv := acoustictest.NewServer()
	defer srv.Close()
	old := fetchToken(t, srv, defaultForm()).AccessToken

	srv.RevokeClient(emulator.AcousticClientID)
	emulatortest.WantReply(t, requestToken(t, srv, defaultForm()), 401, `{"error":"invalid_client","error_description":"Bad client credentials."}`)
	emulatortest.WantReply(t, xmlCall(t, srv, old, getLists), 200, sessionFault)

	srv.RestoreClient(emulator.AcousticClientID)
	fresh := fetchToken(t, srv, defaultForm()).AccessToken
	if fresh == old {
		t.Error("restored client got the revoked token back")
	}
	emulatortest.WantRejections(t, srv.Stats().Rejections, map[string]int{emulator.ReasonRevokedClient: 1, emulator.ReasonRevokedToken: 1})
}
