package resilience_test

import (
	"strings"
	"testing"

	"github.com/tokentrip/tokentrip/provider/mcv1/mcv1test"
)

// TestRejectedTokenIsRefetchedOnce: fifty calls are in flight with a token that
// Marketing Cloud then stops accepting — revoked (REST 401, SOAP "Login Failed") or
// expired early (REST 401, SOAP "Token Expired"). Every call is replayed with one
// new token, fetched once for all of them, and succeeds.
func TestRejectedTokenIsRefetchedOnce(t *testing.T) {
	const inFlight = 50
	rejections := []struct {
		name   string
		reject func(srv *mcv1test.Server, token string) bool
		reason string
	}{
		{"revoked", (*mcv1test.Server).RevokeToken, mcv1test.ReasonRevokedToken},
		{"expired", (*mcv1test.Server).ExpireToken, mcv1test.ReasonExpiredToken},
	}
	for _, a := range []api{restAPI, soapAPI} {
		for _, rj := range rejections {
			t.Run(a.name+" "+rj.name, func(t *testing.T) {
				t.Parallel()
				h := newHarness(t, setup{})
				mustSucceed(t, "first call", a.call(t.Context(), h))
				used, _ := h.tr.Source().Current()

				// Hold the calls at the API until the token is rejected, so that all
				// of them carry it.
				h.srv.HoldAPICalls()
				done := make(chan []outcome)
				go func() { done <- concurrently(inFlight, func() outcome { return a.call(t.Context(), h) }) }()
				waitFor(t, inFlight, h.srv.WaitAPICallsHeld)
				if !rj.reject(h.srv, used.AccessToken) {
					t.Fatal("the emulator does not know the token")
				}
				h.srv.ReleaseAPICalls()
				outs := <-done

				st := h.srv.Stats()
				fresh, _ := h.tr.Source().Current()
				t.Logf("FIGURE %s %s: %d calls in flight, %d failed, %d token requests (1 re-fetch), %d replays, rejections %v",
					a.name, rj.name, inFlight, len(failures(outs)), st.TokenRequests, h.tr.Stats().Replays, st.Rejections)
				mustSucceed(t, "calls with the rejected token", outs...)
				if st.TokenRequests != 2 || h.tr.Stats().Replays != inFlight || st.Rejections[rj.reason] != inFlight || len(st.Rejections) != 1 {
					t.Errorf("token requests %d, replays %d, rejections %v; want 2, %d and %d %s", st.TokenRequests, h.tr.Stats().Replays, st.Rejections, inFlight, inFlight, rj.reason)
				}
				if fresh.AccessToken == used.AccessToken {
					t.Error("the rejected token is still cached")
				}
				if a.name == soapAPI.name && !strings.Contains(string(h.srv.LastEnvelope()), ">"+fresh.AccessToken+"</fueloauth>") {
					t.Errorf("the last envelope does not carry the new token: %s", h.srv.LastEnvelope())
				}
			})
		}
	}
}
