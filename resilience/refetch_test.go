package resilience_test

import (
	"testing"

	"github.com/tokentrip/tokentrip/internal/emulator"
)

// TestRejectedTokenIsRefetchedOnce: calls are in flight — fifty, or Acoustic's ten —
// with a token the vendor then stops accepting: revoked (REST 401, SOAP "Login
// Failed", XML API fault 145) or expired early (REST 401, SOAP "Token Expired", XML
// API fault 145). Every call is replayed with one new token, fetched once for all of
// them, and succeeds.
func TestRejectedTokenIsRefetchedOnce(t *testing.T) {
	rejections := []struct {
		name   string
		reject func(srv vendorEmulator, token string) bool
		reason string
	}{
		{"revoked", vendorEmulator.RevokeToken, emulator.ReasonRevokedToken},
		{"expired", vendorEmulator.ExpireToken, emulator.ReasonExpiredToken},
	}
	for _, v := range vendors {
		for _, a := range []api{v.rest, v.soap} {
			for _, rj := range rejections {
				t.Run(v.name+" "+a.name+" "+rj.name, func(t *testing.T) {
					t.Parallel()
					inFlight := v.inFlight
					h := newHarness(t, v, setup{})
					mustSucceed(t, "first call", a.call(t.Context(), h))
					used, _ := h.tr.Source().Current()
					before := h.stats()

					// Hold the calls at the API until the token is rejected, so that
					// all of them carry it.
					h.srv.HoldAPICalls()
					done := make(chan []outcome)
					go func() { done <- concurrently(inFlight, func() outcome { return a.call(t.Context(), h) }) }()
					waitFor(t, inFlight, h.srv.WaitAPICallsHeld)
					if !rj.reject(h.srv, used.AccessToken) {
						t.Fatal("the emulator does not know the token")
					}
					h.srv.ReleaseAPICalls()
					outs := <-done

					st := h.stats()
					fresh, _ := h.tr.Source().Current()
					refetches := st.TokenRequests - before.TokenRequests
					t.Logf("FIGURE %s %s %s: %d calls in flight, %d failed, %d re-fetch, %d replays, rejections %v",
						v.name, a.name, rj.name, inFlight, len(failures(outs)), refetches, h.tr.Source().Stats().Replays, st.Rejections)
					mustSucceed(t, "calls with the rejected token", outs...)
					if refetches != 1 || h.tr.Source().Stats().Replays != uint64(inFlight) || st.Rejections[rj.reason] != inFlight || len(st.Rejections) != 1 {
						t.Errorf("re-fetches %d, replays %d, rejections %v; want 1, %d and %d %s", refetches, h.tr.Source().Stats().Replays, st.Rejections, inFlight, inFlight, rj.reason)
					}
					if fresh.AccessToken == used.AccessToken {
						t.Error("the rejected token is still cached")
					}
				})
			}
		}
	}
}
