package redisstore_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/provider/mcv1/mcv1test"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
)

// TestHelperProcess is one process of the fleet; the fleet tests start it.
func TestHelperProcess(t *testing.T) {
	if os.Getenv(envHelper) != "1" {
		t.Skip("a child process of the fleet tests")
	}
	if os.Getenv(envMode) == "rotation" {
		os.Exit(runRotationChild())
	}
	os.Exit(runFleetChild())
}

// fleetK is the fleet size the tests use; TOKENTRIP_FLEET_K="1,2,4,8" measures
// several for the report in benchmarks/README.md.
func fleetSizes(t *testing.T) []int {
	spec := os.Getenv("TOKENTRIP_FLEET_K")
	if spec == "" {
		return []int{8}
	}
	var ks []int
	for _, f := range strings.Split(spec, ",") {
		k, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || k < 1 {
			t.Fatalf("TOKENTRIP_FLEET_K=%q: want sizes like 1,2,4,8", spec)
		}
		ks = append(ks, k)
	}
	return ks
}

// TestFleetFetchesOncePerWindow runs K processes for three token windows (2-second
// tokens refreshed one second before expiry) without and with Redis, and counts
// the token requests the emulator received.
func TestFleetFetchesOncePerWindow(t *testing.T) {
	r := startRedis(t)
	const windows = 3
	for _, k := range fleetSizes(t) {
		perWindow := map[bool]float64{}
		for _, shared := range []bool{false, true} {
			emu := mcv1test.NewServer(mcv1test.WithTokenLifetime(2 * time.Second))
			cfg := fleetConfig{k: k, emu: emu.URL, tokens: windows, lead: time.Second, lockTTL: 2 * time.Second}
			if shared {
				cfg.redis = r.Addr()
			}
			f := startFleet(t, cfg)
			f.waitFor("every child through its windows", 60*time.Second, func() bool { return f.all(func(c *child) bool { return c.exited }) })
			calls := f.checkDone()
			st := emu.Stats()
			emu.Close()
			want := k * windows
			if shared {
				want = windows
			}
			perWindow[shared] = float64(st.TokenRequests) / windows
			t.Logf("K=%d, Redis=%t: %d token requests over %d windows (%.1f per window), %d API calls",
				k, shared, st.TokenRequests, windows, perWindow[shared], calls)
			if st.TokenRequests != want {
				t.Errorf("K=%d, Redis=%t: %d token requests, want %d\n%s", k, shared, st.TokenRequests, want, f.describe())
			}
			if n := len(st.Rejections); n != 0 {
				t.Errorf("K=%d, Redis=%t: the emulator rejected calls: %v", k, shared, st.Rejections)
			}
		}
		t.Logf("FLEET K=%d token requests per window: without Redis %.1f, with Redis %.1f", k, perWindow[false], perWindow[true])
	}
}

// TestFleetSurvivesAKilledLockHolder holds the emulator's token requests, kills
// (SIGKILL) the process whose fetch is held — the lock holder — and checks that
// another process takes the lock over once it expires and completes the fetch for
// every survivor.
func TestFleetSurvivesAKilledLockHolder(t *testing.T) {
	r := startRedis(t)
	emu := mcv1test.NewServer(mcv1test.WithTokenLifetime(time.Minute))
	defer emu.Close()
	emu.HoldTokenRequests()
	const k = 8
	f := startFleet(t, fleetConfig{k: k, emu: emu.URL, redis: r.Addr(), lead: 5 * time.Second, lockTTL: time.Second})

	fetchers := func() []int { return f.fetchers }
	f.waitFor("the lock holder's request", 30*time.Second, func() bool { return len(fetchers()) > 0 })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := emu.WaitTokenRequestsHeld(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if ids := fetchers(); len(ids) != 1 {
		t.Fatalf("children %v sent token requests; want only the lock holder\n%s", ids, f.describe())
	}
	holder := fetchers()[0]
	killedAt := time.Now()
	f.kill9(holder)

	f.waitFor("a survivor taking the lock over", 30*time.Second, func() bool { return len(fetchers()) == 2 })
	t.Logf("child %d killed mid-fetch; child %d took over after %v (lock TTL 1s)", holder, fetchers()[1], time.Since(killedAt).Round(time.Millisecond))
	emu.ReleaseTokenRequests()

	f.waitFor("every survivor on one token", 30*time.Second, func() bool { return f.converged() != "" })
	st := emu.Stats()
	f.stop()
	f.checkDone()
	if st.TokenRequests != 2 || st.TokensIssued != 1 {
		t.Fatalf("token requests %d, tokens issued %d; want 2 (the killed holder's, the take-over) and 1\n%s", st.TokenRequests, st.TokensIssued, f.describe())
	}
	if ids := fetchers(); len(ids) != 2 {
		t.Fatalf("children %v fetched; want the holder and one successor\n%s", ids, f.describe())
	}
}

// TestFleetKeepsWorkingWhileRedisIsDown stops Redis under a running fleet: calls
// keep succeeding (each process fetches alone, with a store_down warning), and once
// Redis is back the fleet returns to one token request per window.
func TestFleetKeepsWorkingWhileRedisIsDown(t *testing.T) {
	r := startRedis(t)
	emu := mcv1test.NewServer(mcv1test.WithTokenLifetime(2 * time.Second))
	defer emu.Close()
	const k = 8
	f := startFleet(t, fleetConfig{k: k, emu: emu.URL, redis: r.Addr(), lead: time.Second, lockTTL: 2 * time.Second})

	// Shared mode: the fleet moves from token to token together.
	f.waitFor("the fleet on one token", 30*time.Second, func() bool { return f.converged() != "" })
	first := f.converged()
	f.waitFor("the fleet on the next token", 30*time.Second, func() bool { c := f.converged(); return c != "" && c != first })

	r.Stop()
	stoppedAt := emu.Stats().TokenRequests
	seenAtStop := map[int]int{}
	for _, c := range f.children {
		seenAtStop[c.id] = len(c.tokens)
	}
	f.waitFor("two windows without Redis", 30*time.Second, func() bool {
		return f.all(func(c *child) bool { return len(c.tokens) >= seenAtStop[c.id]+2 && c.events["store_down"] > 0 })
	})
	alone := emu.Stats().TokenRequests - stoppedAt
	t.Logf("Redis down: %d token requests while each of %d processes went through 2+ windows alone", alone, k)

	r.Start()
	seenAtStart := map[int]int{}
	for _, c := range f.children {
		seenAtStart[c.id] = len(c.tokens)
	}
	f.waitFor("the fleet sharing again", 30*time.Second, func() bool {
		return f.converged() != "" && f.all(func(c *child) bool { return len(c.tokens) > seenAtStart[c.id] && c.events["store_up"] > 0 })
	})
	// From the next token on the fleet is in step: count two windows.
	again := f.converged()
	f.waitFor("the next shared token", 30*time.Second, func() bool { c := f.converged(); return c != "" && c != again })
	w0, from := f.converged(), emu.Stats().TokenRequests
	f.waitFor("two more shared windows", 30*time.Second, func() bool {
		c := f.converged()
		if c == "" || c == w0 {
			return false
		}
		return f.all(func(ch *child) bool { return len(ch.tokens) >= 2 && ch.tokens[len(ch.tokens)-2] != w0 })
	})
	shared := emu.Stats().TokenRequests - from
	f.stop()
	f.checkDone()
	t.Logf("Redis back: %d token requests over the next 2 windows", shared)
	if shared != 2 {
		t.Fatalf("after Redis came back: %d token requests over 2 windows, want 2\n%s", shared, f.describe())
	}
	if alone < k {
		t.Fatalf("while Redis was down: %d token requests; each of %d processes should have fetched alone", alone, k)
	}
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
				user := authorise(t, emu, rotationConfig(emu.URL, r.newStore(options{}), clock.Now))
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
