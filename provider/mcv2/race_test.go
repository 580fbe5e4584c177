package mcv2_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/internal/eventrec"
	"github.com/tokentrip/tokentrip/provider/mcv2"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
	"github.com/tokentrip/tokentrip/store"
	"github.com/tokentrip/tokentrip/transport"
)

// Two Transports of one user's credential in one process, 50 callers each, their
// tokens expiring together round after round. Sharing one store.Memory (which keeps
// the access token with its refresh token), both refresh at once every round: one
// rotation wins, the other is refused and adopts the winner's token, and no call
// fails. With one store each, the second Transport's refresh token is spent by the
// first and never comes back: its calls fail with rejected credentials — a
// rotating refresh token cannot be shared without sharing its store.
func TestTransportsSharingARotatingRefreshToken(t *testing.T) {
	const callers = 50
	for _, tt := range []struct {
		name       string
		shared     bool
		rounds     int
		wantFailed bool
	}{
		{name: "one shared store", shared: true, rounds: 3},
		{name: "one store per Transport", rounds: 1, wantFailed: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			srv := start(t, mcv2test.WithClock(clk.Now))
			first := &store.Memory{}
			cfg := webConfig(srv, first)
			cfg.Source.Clock = clk.Now
			exchange(t, srv, newProvider(t, cfg))
			rt, _ := first.Load(context.Background(), newProvider(t, cfg).RefreshTokenKey())

			var clients []*http.Client
			var hooks []*eventrec.Recorder
			for i := range 2 {
				c := cfg
				if !tt.shared && i > 0 {
					own := &store.Memory{} // a copy of the same refresh token, in a store of its own
					own.CompareAndSwap(context.Background(), newProvider(t, cfg).RefreshTokenKey(), "", rt)
					c.RefreshTokens = own
				}
				h := &eventrec.Recorder{}
				c.Source.Hook = h.Hook
				tr, err := mcv2.NewTransport(c)
				if err != nil {
					t.Fatal(err)
				}
				clients, hooks = append(clients, &http.Client{Transport: tr}), append(hooks, h)
			}
			failed := 0
			for round := range tt.rounds {
				clk.Advance(21 * time.Minute) // every token expired: both refresh at once
				before := srv.Stats()
				var wg sync.WaitGroup
				var mu sync.Mutex
				roundFailed := 0
				for _, c := range clients {
					for range callers {
						wg.Add(1)
						go func() {
							defer wg.Done()
							resp, err := c.Get(srv.URL + "/platform/v1/endpoints")
							if err == nil {
								_, _ = io.Copy(io.Discard, resp.Body)
								resp.Body.Close()
							}
							if err != nil || resp.StatusCode != http.StatusOK {
								mu.Lock()
								roundFailed++
								mu.Unlock()
								if !tt.wantFailed {
									t.Errorf("round %d: call failed: %v", round, err)
								} else if err != nil && !errors.Is(err, transport.ErrCredentialsRejected) {
									t.Errorf("round %d: %v, want rejected credentials", round, err)
								}
							}
						}()
					}
				}
				wg.Wait()
				after := srv.Stats()
				issued := after.TokensIssued - before.TokensIssued
				requests := after.TokenRequestsByGrant["refresh_token"] - before.TokenRequestsByGrant["refresh_token"]
				t.Logf("round %d: %d of %d calls failed; %d refresh_token requests, %d access tokens issued", round+1, roundFailed, 2*callers, requests, issued)
				if tt.shared && (issued != 1 || requests > 2) {
					t.Errorf("round %d: %d tokens issued for %d refresh requests; want 1 grant (at most 2 requests: the winner's and the refused one)", round+1, issued, requests)
				}
				failed += roundFailed
			}
			if tt.wantFailed != (failed > 0) {
				t.Errorf("%d failed calls; want failures: %t", failed, tt.wantFailed)
			}
			if tt.shared {
				for i, h := range hooks {
					if n := h.Count(transport.EventBreaker); n != 0 {
						t.Errorf("Transport %d: %d breaker changes; a rotation race never counts toward the breaker", i, n)
					}
					if n := h.Count(transport.EventFetchFailed); n != 0 {
						t.Errorf("Transport %d: %d failed fetches", i, n)
					}
				}
				if rej := srv.Stats().Rejections; rej[emulator.ReasonInvalidGrant] != 0 || rej[emulator.ReasonReusedGrant] > tt.rounds {
					t.Errorf("rejections %v: want at most one refused rotation per round and no unknown refresh token", rej)
				}
			}
		})
	}
}
