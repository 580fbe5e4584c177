package redisstore_test

import (
	"bufio"
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
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tokentrip/tokentrip/internal/manualclock"
	"github.com/tokentrip/tokentrip/provider/mcv2"
	redisstore "github.com/tokentrip/tokentrip/store/redis"
	"github.com/tokentrip/tokentrip/transport"
)

// The children of the fleet tests (fleet_test.go): the test binary run again as K
// processes (TestHelperProcess). A fleet child has its own Source, hammering one
// emulator, with or without one Redis, and talks to the parent in lines on its
// stdout:
//
//	READY              set up; waiting for "go" on stdin
//	FETCH              its Source is about to send a token request
//	TOKEN <hash>       its Source's token changed (a hash, never the token)
//	EVENT <kind>       store_down or store_up
//	DONE calls=N failures=N fetches=N
//
// and stops after TOKENTRIP_FLEET_TOKENS distinct tokens, or when stdin closes.
const (
	envHelper   = "TOKENTRIP_FLEET_HELPER"
	envEmulator = "TOKENTRIP_FLEET_EMULATOR"
	envRedis    = "TOKENTRIP_FLEET_REDIS"
	envTokens   = "TOKENTRIP_FLEET_TOKENS"
	envLead     = "TOKENTRIP_FLEET_LEAD"
	envLockTTL  = "TOKENTRIP_FLEET_LOCK_TTL"
	envMode     = "TOKENTRIP_FLEET_MODE" // "rotation": runRotationChild
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

// childSay returns how a child says a line to its parent, from any goroutine.
func childSay() func(format string, args ...any) {
	var mu sync.Mutex
	return func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(os.Stdout, format+"\n", args...)
	}
}

// childStore returns a child's Store, with the fleet's key and the settings of o,
// on a client of the Redis at addr; done closes both.
func childStore(addr string, o options) (st *redisstore.Store, done func(), err error) {
	client := redis.NewClient(fastClientOptions(addr))
	if st, err = redisstore.New(client, fleetOptions(o)); err != nil {
		client.Close()
		return nil, nil, err
	}
	return st, func() { st.Close(); client.Close() }, nil
}

func runFleetChild() int {
	say := childSay()
	emuURL := os.Getenv(envEmulator)
	want, _ := strconv.Atoi(os.Getenv(envTokens))
	lead, _ := time.ParseDuration(os.Getenv(envLead))

	set := transport.Settings{RefreshLead: lead, Hook: func(ev transport.Event) {
		if ev.Kind == transport.EventStoreDown || ev.Kind == transport.EventStoreUp {
			say("EVENT %s", ev.Kind)
		}
		if ev.Err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", ev.Kind, ev.Err)
		}
	}}
	if addr := os.Getenv(envRedis); addr != "" {
		lockTTL, _ := time.ParseDuration(os.Getenv(envLockTTL))
		st, done, err := childStore(addr, options{LockTTL: lockTTL, PollInterval: 20 * time.Millisecond})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		defer done()
		set.Store, set.StoreKey, set.StoreRetry = st, testKey.ID(), 500*time.Millisecond
	}
	src := transport.NewSource(&mcv1Provider{base: emuURL, onFetch: func() { say("FETCH") }}, set)
	client := &http.Client{Transport: transport.New(src, transport.Options{Hosts: []string{emuURL}})}

	start, quit := make(chan struct{}), make(chan struct{})
	go func() {
		sc := bufio.NewScanner(os.Stdin)
		for sc.Scan() {
			if sc.Text() == "go" {
				close(start)
			}
		}
		close(quit)
	}()
	say("READY")
	select {
	case <-start:
	case <-quit:
		return 0
	}

	calls, failures, seen, last := 0, 0, 0, ""
	tick := time.NewTicker(5 * time.Millisecond) // the pace of the load, not a synchronisation
	defer tick.Stop()
	for want == 0 || seen < want { // want < 0: stopped
		resp, err := client.Get(emuURL + "/hub/v1/campaigns")
		calls++
		if err != nil {
			failures++
			fmt.Fprintln(os.Stderr, "call failed:", err)
		} else {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				failures++
				fmt.Fprintln(os.Stderr, "call failed:", resp.Status)
			}
		}
		if tok, ok := src.Current(); ok && tok.AccessToken != last {
			last = tok.AccessToken
			seen++
			sum := sha256.Sum256([]byte(last))
			say("TOKEN %s", hex.EncodeToString(sum[:6]))
		}
		select {
		case <-quit:
			want = -1 // ends the loop
		case <-tick.C:
		}
	}
	say("DONE calls=%d failures=%d fetches=%d", calls, failures, src.Stats().Fetches)
	return 0
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
	cfg.Source.Hook = func(ev transport.Event) {
		switch ev.Kind {
		case transport.EventFetchFailed:
			fetchFailed.Add(1)
			fmt.Fprintln(os.Stderr, "fetch failed:", ev.Err)
		case transport.EventBreaker:
			breaker.Add(1)
		}
	}
	if os.Getenv(envShareTokens) == "1" {
		cfg.Source.Store = st
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
