package redisstore_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tokentrip/tokentrip/provider/mcv1/mcv1test"
	redisstore "github.com/tokentrip/tokentrip/store/redis"
	"github.com/tokentrip/tokentrip/transport"
)

// The fleet tests run the test binary again as K processes (TestHelperProcess),
// each with its own Source, hammering one emulator, with or without one Redis. A
// child talks to the parent in lines on its stdout:
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
	envMode     = "TOKENTRIP_FLEET_MODE" // "rotation": runRotationChild (rotation_test.go)
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

// fleet is the parent's view of its children.
type fleet struct {
	t        *testing.T
	children []*child
	lines    chan fleetLine
	fetchers []int // the children that sent token requests, in order
}

type child struct {
	id     int
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr bytes.Buffer

	ready, exited, killed bool
	tokens                []string // distinct tokens in the order seen
	fetches               int
	events                map[string]int
	rounds                []string // the ROUND lines of a rotation child, without the word
	done                  string   // the DONE line
}

func (c *child) current() string {
	if len(c.tokens) == 0 {
		return ""
	}
	return c.tokens[len(c.tokens)-1]
}

type fleetLine struct {
	child int
	text  string // "" when the child's stdout closed
}

type fleetConfig struct {
	k       int
	emu     string
	redis   string // "" for none
	tokens  int    // 0: until stopped
	lead    time.Duration
	lockTTL time.Duration
	env     []string // more of the child's environment (envMode and its settings)
}

// startFleet starts k children, waits until every one is ready, and lets them go
// at once.
func startFleet(t *testing.T, cfg fleetConfig) *fleet {
	t.Helper()
	f := &fleet{t: t, lines: make(chan fleetLine, 1024)}
	for i := range cfg.k {
		c := &child{id: i, events: map[string]int{}}
		c.cmd = exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
		c.cmd.Env = append(os.Environ(),
			envHelper+"=1",
			envEmulator+"="+cfg.emu,
			envRedis+"="+cfg.redis,
			envTokens+"="+strconv.Itoa(cfg.tokens),
			envLead+"="+cfg.lead.String(),
			envLockTTL+"="+cfg.lockTTL.String(),
		)
		c.cmd.Env = append(c.cmd.Env, cfg.env...)
		c.cmd.Stderr = &c.stderr
		out, err := c.cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if c.stdin, err = c.cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
		if err := c.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				f.lines <- fleetLine{child: i, text: sc.Text()}
			}
			f.lines <- fleetLine{child: i}
		}()
		f.children = append(f.children, c)
	}
	t.Cleanup(f.kill)
	f.waitFor("every child ready", 60*time.Second, func() bool { return f.all(func(c *child) bool { return c.ready }) })
	for _, c := range f.children {
		fmt.Fprintln(c.stdin, "go")
	}
	return f
}

// kill ends every child still running.
func (f *fleet) kill() {
	for _, c := range f.children {
		if !c.exited {
			_ = c.cmd.Process.Kill()
			_ = c.cmd.Wait()
			c.exited = true
		}
	}
}

// kill9 kills child i with SIGKILL, mid-whatever-it-does.
func (f *fleet) kill9(i int) {
	c := f.children[i]
	if err := c.cmd.Process.Kill(); err != nil {
		f.t.Fatal(err)
	}
	c.killed = true
}

// stop closes every living child's stdin and waits for all to finish.
func (f *fleet) stop() {
	for _, c := range f.children {
		if !c.killed {
			c.stdin.Close()
		}
	}
	f.waitFor("every child finished", 30*time.Second, func() bool { return f.all(func(c *child) bool { return c.exited }) })
}

// all reports whether every child that was not killed satisfies cond.
func (f *fleet) all(cond func(*child) bool) bool {
	for _, c := range f.children {
		if !c.killed && !cond(c) {
			return false
		}
	}
	return true
}

// converged returns the token every living child is using, or "".
func (f *fleet) converged() string {
	tok := ""
	for _, c := range f.children {
		if c.killed {
			continue
		}
		if c.current() == "" || (tok != "" && c.current() != tok) {
			return ""
		}
		tok = c.current()
	}
	return tok
}

// waitFor consumes the children's lines until cond holds; the deadline only bounds
// a broken run.
func (f *fleet) waitFor(what string, limit time.Duration, cond func() bool) {
	f.t.Helper()
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	for !cond() {
		select {
		case l := <-f.lines:
			f.apply(l)
		case <-deadline.C:
			f.t.Fatalf("waiting for %s: not done after %v\n%s", what, limit, f.describe())
		}
	}
}

func (f *fleet) apply(l fleetLine) {
	c := f.children[l.child]
	word, rest, _ := strings.Cut(l.text, " ")
	switch word {
	case "":
		_ = c.cmd.Wait()
		c.exited = true
	case "READY":
		c.ready = true
	case "FETCH":
		c.fetches++
		f.fetchers = append(f.fetchers, c.id)
	case "TOKEN":
		c.tokens = append(c.tokens, rest)
	case "EVENT":
		c.events[rest]++
	case "ROUND":
		c.rounds = append(c.rounds, rest)
	case "DONE":
		c.done = rest
	}
}

func (f *fleet) describe() string {
	var b strings.Builder
	for _, c := range f.children {
		fmt.Fprintf(&b, "child %d: killed=%t exited=%t fetches=%d tokens=%v events=%v rounds=%q done=%q stderr=%q\n",
			c.id, c.killed, c.exited, c.fetches, c.tokens, c.events, c.rounds, c.done, lastLines(c.stderr.String(), 5))
	}
	return b.String()
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(len(lines)-n, 0):], " | ")
}

// checkDone fails the test unless every child that finished made calls and had no
// failures; it returns the total of calls.
func (f *fleet) checkDone() int {
	f.t.Helper()
	total := 0
	for _, c := range f.children {
		if c.killed {
			continue
		}
		var calls, failures, fetches int
		if _, err := fmt.Sscanf(c.done, "calls=%d failures=%d fetches=%d", &calls, &failures, &fetches); err != nil {
			f.t.Fatalf("child %d: DONE line %q: %v\n%s", c.id, c.done, err, f.describe())
		}
		if calls == 0 || failures != 0 {
			f.t.Errorf("child %d: %d calls, %d failed; want calls and no failures\n%s", c.id, calls, failures, f.describe())
		}
		total += calls
	}
	return total
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
