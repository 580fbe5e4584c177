package mcv1test_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/provider/mcv1/mcv1test"
)

const notAuthorized = `{"documentation":"https://developer.salesforce.com/docs/atlas.en-us.mc-apis.meta/mc-apis/error-handling.htm","errorcode":0,"message":"Not Authorized"}`

func TestTokenExpiresByTheClock(t *testing.T) {
	clock := manualClock()
	srv := mcv1test.NewServer(mcv1test.WithClock(clock.Now))
	defer srv.Close()
	tok := fetchToken(t, srv, tokenBody()).AccessToken

	clock.Advance(time.Hour - time.Second)
	if r := restCall(t, srv, "/platform/v1/endpoints", tok); r.Status != 200 {
		t.Fatalf("a second before expiry: %d %s", r.Status, r.Body)
	}
	clock.Advance(time.Second)
	r := restCall(t, srv, "/platform/v1/endpoints", tok)
	wantReply(t, r, 401, notAuthorized)
	if got := r.Header.Get("WWW-Authenticate"); got != `Bearer realm="example.com", error="invalid_token"` {
		t.Errorf("WWW-Authenticate = %q", got)
	}
	wantRejections(t, srv, map[string]int{emulator.ReasonExpiredToken: 1})
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
	wantReply(t, requestToken(t, srv, tokenBody()), 401, `{"message":"Unauthorized","errorcode":1,"documentation":""}`)
	wantReply(t, restCall(t, srv, "/platform/v1/endpoints", old.AccessToken), 401, notAuthorized)

	srv.RestoreClient(emulator.MCv1ClientID)
	fresh := fetchToken(t, srv, tokenBody())
	if r := restCall(t, srv, "/platform/v1/endpoints", fresh.AccessToken); r.Status != 200 {
		t.Errorf("token issued after restore: %d %s", r.Status, r.Body)
	}
	// What was revoked stays revoked.
	wantReply(t, restCall(t, srv, "/platform/v1/endpoints", old.AccessToken), 401, notAuthorized)
	wantReply(t, requestToken(t, srv, tokenBody("refreshToken", old.RefreshToken)), 401, `{"message":"Unauthorized","errorcode":1,"documentation":""}`)
	wantRejections(t, srv, map[string]int{
		emulator.ReasonRevokedClient: 1,
		emulator.ReasonRevokedToken:  2,
		emulator.ReasonInvalidGrant:  1,
	})
}

func TestRevokeAndExpireToken(t *testing.T) {
	srv := mcv1test.NewServer()
	defer srv.Close()
	revoked := fetchToken(t, srv, tokenBody()).AccessToken
	expired := fetchToken(t, srv, tokenBody()).AccessToken
	kept := fetchToken(t, srv, tokenBody()).AccessToken

	if !srv.RevokeToken(revoked) || !srv.ExpireToken(expired) {
		t.Fatal("RevokeToken or ExpireToken did not find the token")
	}
	if srv.RevokeToken("at-never-issued") {
		t.Error("RevokeToken of an unknown token reported success")
	}
	wantReply(t, restCall(t, srv, "/x", revoked), 401, notAuthorized)
	wantReply(t, restCall(t, srv, "/x", expired), 401, notAuthorized)
	if r := restCall(t, srv, "/x", kept); r.Status != 200 {
		t.Errorf("untouched token: %d %s", r.Status, r.Body)
	}
	wantRejections(t, srv, map[string]int{emulator.ReasonRevokedToken: 1, emulator.ReasonExpiredToken: 1})
}

func TestFailTokenRequests(t *testing.T) {
	tests := []struct {
		status     int
		retryAfter time.Duration
		wantHeader string
		wantBody   string
	}{
		{503, 7 * time.Second, "7", `{"message":"Service Unavailable","errorcode":503,"documentation":""}`},
		{429, 1500 * time.Millisecond, "2", `{"message":"Too Many Requests","errorcode":429,"documentation":""}`},
		{500, 0, "", `{"message":"Internal Server Error","errorcode":500,"documentation":""}`},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			srv := mcv1test.NewServer()
			defer srv.Close()
			srv.FailTokenRequests(2, tt.status, tt.retryAfter)

			for range 2 {
				r := requestToken(t, srv, tokenBody())
				wantReply(t, r, tt.status, tt.wantBody)
				if got := r.Header.Get("Retry-After"); got != tt.wantHeader {
					t.Errorf("Retry-After = %q, want %q", got, tt.wantHeader)
				}
			}
			fetchToken(t, srv, tokenBody())
			st := srv.Stats()
			if st.TokenRequests != 3 || st.TokensIssued != 1 || st.Rejections[emulator.ReasonInjectedFailure] != 2 {
				t.Errorf("stats = %+v", st)
			}
		})
	}
}

func TestHoldTokenRequests(t *testing.T) {
	srv := mcv1test.NewServer()
	defer srv.Close()
	srv.HoldTokenRequests()

	const n = 3
	var wg sync.WaitGroup
	statuses := make([]int, n)
	for i := range n {
		wg.Go(func() { statuses[i] = requestToken(t, srv, tokenBody()).Status })
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := srv.WaitTokenRequestsHeld(ctx, n); err != nil {
		t.Fatal(err)
	}
	if st := srv.Stats(); st.TokenRequests != n || st.TokensIssued != 0 {
		t.Errorf("while held: stats = %+v, want %d requests and no token", st, n)
	}
	srv.ReleaseTokenRequests()
	wg.Wait()
	for i, s := range statuses {
		if s != 200 {
			t.Errorf("request %d: status %d", i, s)
		}
	}
	if st := srv.Stats(); st.TokensIssued != n {
		t.Errorf("after release: TokensIssued = %d, want %d", st.TokensIssued, n)
	}
}

func TestHoldAPICalls(t *testing.T) {
	srv := mcv1test.NewServer()
	defer srv.Close()
	tok := fetchToken(t, srv, tokenBody()).AccessToken
	srv.HoldAPICalls()

	done := make(chan reply)
	go func() { done <- restCall(t, srv, "/hub/v1/dataevents", tok) }()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := srv.WaitAPICallsHeld(ctx, 1); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-done:
		t.Fatalf("held call answered: %d %s", r.Status, r.Body)
	default:
	}
	srv.ReleaseAPICalls()
	if r := <-done; r.Status != 200 {
		t.Errorf("released call: %d %s", r.Status, r.Body)
	}
}

func TestCloseReleasesHeldRequests(t *testing.T) {
	srv := mcv1test.NewServer()
	srv.HoldTokenRequests()
	done := make(chan error)
	go func() {
		resp, err := srv.Client().Post(srv.URL+emulator.MCv1TokenPath, "application/json", nil)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := srv.WaitTokenRequestsHeld(ctx, 1); err != nil {
		t.Fatal(err)
	}
	srv.Close() // must not hang
	<-done
}

func TestLatency(t *testing.T) {
	const delay = 30 * time.Millisecond
	srv := mcv1test.NewServer()
	defer srv.Close()
	srv.SetTokenLatency(delay)
	srv.SetAPILatency(delay)

	began := time.Now()
	tok := fetchToken(t, srv, tokenBody()).AccessToken
	if took := time.Since(began); took < delay {
		t.Errorf("token request took %v, want at least %v", took, delay)
	}
	began = time.Now()
	if r := restCall(t, srv, "/x", tok); r.Status != 200 {
		t.Fatalf("REST: %d %s", r.Status, r.Body)
	}
	if took := time.Since(began); took < delay {
		t.Errorf("API call took %v, want at least %v", took, delay)
	}
}

func TestResetStats(t *testing.T) {
	srv := mcv1test.NewServer()
	defer srv.Close()
	fetchToken(t, srv, tokenBody())
	requestToken(t, srv, `{}`)
	srv.ResetStats()
	st := srv.Stats()
	if st.TokenRequests != 0 || st.TokensIssued != 0 || len(st.Rejections) != 0 || len(st.TokenRequestsByGrant) != 0 {
		t.Errorf("after reset: %+v", st)
	}
}

func TestTLSServer(t *testing.T) {
	srv := mcv1test.NewTLSServer()
	defer srv.Close()
	if !strings.HasPrefix(srv.URL, "https://") {
		t.Fatalf("URL = %s", srv.URL)
	}
	tok := fetchToken(t, srv, tokenBody()).AccessToken
	r := send(t, srv, http.MethodPost, "/Service.asmx", "text/xml", envelope11(fuelOAuth("at-never-issued")))
	if !strings.Contains(r.Body, "<faultactor>"+srv.URL+"/Service.asmx</faultactor>") {
		t.Errorf("fault actor is not the https endpoint:\n%s", r.Body)
	}
	if r := restCall(t, srv, "/platform/v1/endpoints", tok); r.Status != 200 {
		t.Errorf("REST over TLS: %d %s", r.Status, r.Body)
	}
}
