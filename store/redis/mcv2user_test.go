package redisstore_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/provider/mcv2"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
	redisstore "github.com/tokentrip/tokentrip/store/redis"
	"github.com/tokentrip/tokentrip/transport"
)

// One user's mcv2 credential, with a rotating refresh token, shared by the
// processes of a fleet.
const (
	rotationRedirect = "https://app.example/callback"
	rotationStep     = 21 * time.Minute // past a Marketing Cloud token's 20 minutes
	userKey          = "mcv2/user-1"    // the user's refresh token in RefreshTokens
)

// rotationConfig is the user's credential, the same in every process.
func rotationConfig(emuURL string, st *redisstore.Store, now func() time.Time) mcv2.Config {
	return mcv2.Config{
		AuthURL:       emuURL,
		ClientID:      emulator.MCv2WebAppID,
		ClientSecret:  emulator.MCv2WebAppSecret,
		RedirectURI:   rotationRedirect,
		RefreshTokens: st.RefreshTokens(),
		Common:        provider.Common{Retry: provider.Retry{MaxRetries: -1}, Source: transport.Settings{Clock: now}},
	}
}

// authorise makes the user authorise the app once, through a Provider of cfg,
// which it returns.
func authorise(t *testing.T, emu *mcv2test.Server, cfg mcv2.Config) *mcv2.Provider {
	t.Helper()
	p, err := mcv2.NewProvider(cfg)
	if err != nil {
		t.Fatal(err)
	}
	code := emu.IssueCode(mcv2test.CodeGrant{RedirectURI: cfg.RedirectURI})
	if _, err := p.Exchange(context.Background(), mcv2.Callback{Code: code}); err != nil {
		t.Fatal(err)
	}
	return p
}

// userProcesses returns the API clients of n mcv2 processes of one user, each with
// a Store of its own on r through which they share the user's rotating refresh
// token, once the user has authorised the app.
func userProcesses(t *testing.T, r *redisServer, emu *mcv2test.Server, clock *fakeClock, n int) []*http.Client {
	t.Helper()
	var clients []*http.Client
	for i := range n {
		cfg := rotationConfig(emu.URL, r.newStore(options{}), clock.Now)
		tr, err := mcv2.NewTransport(cfg)
		if err != nil {
			t.Fatal(err)
		}
		clients = append(clients, &http.Client{Transport: tr})
		if i == 0 {
			authorise(t, emu, cfg)
		}
	}
	return clients
}

// callRound moves past a token's life and makes one API call through each client,
// as the processes' next round of work; it returns how many failed.
func callRound(t *testing.T, emu *mcv2test.Server, clock *fakeClock, clients []*http.Client) (failed int) {
	t.Helper()
	clock.Advance(rotationStep)
	return failedCalls(t, clients, emu.URL+"/platform/v1/endpoints")
}

// failedCalls gets url through each client and returns how many calls failed.
func failedCalls(t *testing.T, clients []*http.Client, url string) (failed int) {
	t.Helper()
	for _, c := range clients {
		resp, err := c.Get(url)
		if err != nil {
			failed++
			t.Log(err)
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			failed++
			t.Logf("GET %s: %s", url, resp.Status)
		}
	}
	return failed
}

// spentTwiceOrLost counts the refresh-token grants an emulator refused as reused
// or unknown: refresh tokens a fleet spent twice, or lost.
func spentTwiceOrLost(rejections map[string]int) int {
	return rejections[emulator.ReasonReusedGrant] + rejections[emulator.ReasonInvalidGrant]
}
