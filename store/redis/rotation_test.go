package redisstore_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/internal/manualclock"
	"github.com/tokentrip/tokentrip/provider/mcv2"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
	redisstore "github.com/tokentrip/tokentrip/store/redis"
	"github.com/tokentrip/tokentrip/transport"
)

// The rotation children are mcv2 processes serving one user, whose rotating
// refresh token they share through Redis (and, with envShareTokens, the access
// token too). Each keeps a clock of its own that the parent moves: on "round N"
// on stdin it advances an expiry's worth and sends envCallers calls at once, then
// reports
//
//	ROUND N failed=F token=<hash>   F failed calls; the hash of the token in use
//	DONE fetch_failed=N breaker=N   at the end: its Source's failed fetches and breaker changes
const (
	envClockStart  = "TOKENTRIP_ROTATION_CLOCK" // Unix nanoseconds
	envShareTokens = "TOKENTRIP_ROTATION_SHARE_TOKENS"
	envCallers     = "TOKENTRIP_ROTATION_CALLERS"
)

const (
	rotationRedirect = "https://app.example/callback"
	rotationStep     = 21 * time.Minute // past a Marketing Cloud token's 20 minutes
)

// rotationConfig is the user's credential, the same in every process.
func rotationConfig(emuURL string, st *redisstore.Store, now func() time.Time) mcv2.Config {
	return mcv2.Config{
		AuthURL:       emuURL,
		ClientID:      emulator.MCv2WebAppID,
		ClientSecret:  emulator.MCv2WebAppSecret,
		RedirectURI:   rotationRedirect,
		RefreshTokens: st.RefreshTokens(),
		Clock:         now,
		Retry:         transport.RetryPolicy{MaxRetries: -1},
	}
}

func runRotationChild() int {
	say := childSay()
	emuURL := os.Getenv(envEmulator)
	start, _ := strconv.ParseInt(os.Getenv(envClockStart), 10, 64)
	callers, _ := strconv.Atoi(os.Getenv(envCallers))
	clock := manualclock.New(time.Unix(0, start))

	st, done, err := childStore(os.Getenv(envRedis), options{PollInterval: 20 * time.Millisecond})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	defer done()
	var fetchFailed, breaker atomic.Int64
	cfg := rotationConfig(emuURL, st, clock.Now)
	cfg.Hook = func(ev transport.Event) {
		switch ev.Kind {
		case transport.EventFetchFailed:
			fetchFailed.Add(1)
			fmt.Fprintln(os.Stderr, "fetch failed:", ev.Err)
		case transport.EventBreaker:
			breaker.Add(1)
		}
	}
	if os.Getenv(envShareTokens) == "1" {
		cfg.Store = st
	}
	tr, err := mcv2.NewTransport(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	api := &http.Client{Transport: tr}

	say("READY")
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		word, n, _ := strings.Cut(sc.Text(), " ")
		if word != "round" {
			continue // "go"
		}
		clock.Advance(rotationStep)
		var wg sync.WaitGroup
		var failed atomic.Int64
		for range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := api.Get(emuURL + "/platform/v1/endpoints")
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if err != nil || resp.StatusCode != http.StatusOK {
					failed.Add(1)
					fmt.Fprintln(os.Stderr, "call failed:", err, resp)
				}
			}()
		}
		wg.Wait()
		tok, _ := tr.Source().Current()
		sum := sha256.Sum256([]byte(tok.AccessToken))
		say("ROUND %s failed=%d token=%s", n, failed.Load(), hex.EncodeToString(sum[:6]))
	}
	say("DONE fetch_failed=%d breaker=%d", fetchFailed.Load(), breaker.Load())
	return 0
}

// TestFleetRotationRace runs K processes of one user's mcv2 credential, each with
// 50 callers, their tokens expiring together round after round, sharing the
// rotating refresh token through one real Redis. With the refresh token alone
// shared, every round is a race: every process refreshes at once, Marketing Cloud
// grants one and refuses the others, and the losers adopt the winner's access and
// refresh tokens. With the access token shared too, the fetch lock makes it one
// refresh per round. Either way: no failed call, no failed fetch, no breaker
// change, one grant per round, and an unbroken chain of refresh tokens.
func TestFleetRotationRace(t *testing.T) {
	r := startRedis(t)
	const (
		callers = 50
		rounds  = 4
	)
	for _, shareTokens := range []bool{false, true} {
		for _, k := range []int{2, 4} {
			name := fmt.Sprintf("K=%d, refresh token shared", k)
			if shareTokens {
				name += ", access token shared"
			}
			t.Run(name, func(t *testing.T) {
				ctx := context.Background()
				r.Client().FlushAll(ctx)
				clock := newClock()
				emu := mcv2test.NewServer(mcv2test.WithClock(clock.Now))
				defer emu.Close()

				// The user authorises the app once.
				user, err := mcv2.NewProvider(rotationConfig(emu.URL, r.newStore(options{}), clock.Now))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := user.Exchange(ctx, mcv2.Callback{Code: emu.IssueCode(mcv2test.CodeGrant{RedirectURI: rotationRedirect})}); err != nil {
					t.Fatal(err)
				}
				emu.ResetStats()

				env := []string{envMode + "=rotation", envClockStart + "=" + strconv.FormatInt(clock.Now().UnixNano(), 10),
					envCallers + "=" + strconv.Itoa(callers), envShareTokens + "=0"}
				if shareTokens {
					env[3] = envShareTokens + "=1"
				}
				f := startFleet(t, fleetConfig{k: k, emu: emu.URL, redis: r.Addr(), env: env})
				totalFailed, totalRequests, totalGrants := 0, 0, 0
				for round := 1; round <= rounds; round++ {
					before := emu.Stats()
					clock.Advance(rotationStep)
					for _, c := range f.children {
						fmt.Fprintf(c.stdin, "round %d\n", round)
					}
					f.waitFor(fmt.Sprintf("round %d in every process", round), 60*time.Second, func() bool {
						return f.all(func(c *child) bool { return len(c.rounds) >= round })
					})
					after := emu.Stats()
					grants := after.TokensIssued - before.TokensIssued
					requests := after.TokenRequestsByGrant[emulator.GrantRefreshToken] - before.TokenRequestsByGrant[emulator.GrantRefreshToken]
					failed, tokens := 0, map[string]bool{}
					for _, c := range f.children {
						var n int
						var tok string
						if _, err := fmt.Sscanf(c.rounds[round-1], strconv.Itoa(round)+" failed=%d token=%s", &n, &tok); err != nil {
							t.Fatalf("child %d: ROUND line %q: %v", c.id, c.rounds[round-1], err)
						}
						failed += n
						tokens[tok] = true
					}
					t.Logf("round %d: %d of %d calls failed; %d refresh_token requests, %d granted; %d token(s) in use",
						round, failed, k*callers, requests, grants, len(tokens))
					if failed != 0 || grants != 1 || len(tokens) != 1 {
						t.Errorf("round %d: %d failed calls, %d grants, %d tokens in use; want 0, 1 and 1\n%s", round, failed, grants, len(tokens), f.describe())
					}
					if shareTokens && requests != 1 {
						t.Errorf("round %d: %d refresh requests with the access token shared, want 1", round, requests)
					}
					totalFailed, totalRequests, totalGrants = totalFailed+failed, totalRequests+requests, totalGrants+grants
				}
				f.stop()
				for _, c := range f.children {
					if c.done != "fetch_failed=0 breaker=0" {
						t.Errorf("child %d: %s; want no failed fetch and no breaker change\n%s", c.id, c.done, f.describe())
					}
				}
				st := emu.Stats()
				t.Logf("FIGURE rotation race: K=%d × %d callers × %d rounds, access token shared %t: %d failed calls of %d; %d refresh_token requests, %d granted (%.1f per round), refused as reused %d, unknown %d",
					k, callers, rounds, shareTokens, totalFailed, k*callers*rounds, totalRequests, totalGrants, float64(totalGrants)/rounds,
					st.Rejections[emulator.ReasonReusedGrant], st.Rejections[emulator.ReasonInvalidGrant])
				if st.Rejections[emulator.ReasonInvalidGrant] != 0 || st.Rejections[emulator.ReasonReusedGrant] != totalRequests-totalGrants {
					t.Errorf("rejections %v: every refused request must be a lost race, never an unknown token", st.Rejections)
				}
				// The chain is intact: the refresh token in Redis works.
				clock.Advance(rotationStep)
				if _, err := user.Fetch(ctx); err != nil {
					t.Errorf("the stored refresh token after %d rounds: %v", rounds, err)
				}
			})
		}
	}
}
