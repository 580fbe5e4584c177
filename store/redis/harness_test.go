package redisstore_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// The harness starts the processes the tests run against: a Redis of their own
// (redisServer), and the children of the fleet tests (fleet; the children's side
// is in children_test.go).

func TestMain(m *testing.M) {
	redis.SetLogger(quiet{}) // the tests stop Redis on purpose; go-redis would log every refused dial
	os.Exit(m.Run())
}

type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

// requireRedis names the variable that makes a missing redis-server a failure: CI
// sets it, so that the tests there always run against a real server.
const requireRedis = "TOKENTRIP_REQUIRE_REDIS"

// fleetTests is the prefix of the tests that run the fleet as separate processes
// of this test binary. They need a real redis-server: without one they skip,
// saying so, while every other test runs against an in-process Redis.
const fleetTests = "TestFleet"

// redisServer is a Redis of the test's own on a free loopback port, persisting
// nothing: a redis-server process in a temporary directory when one is installed,
// otherwise an in-process miniredis whose keys expire by the wall clock, as a real
// server's do. Stop and Start restart it on the same port, empty.
type redisServer struct {
	t    *testing.T
	bin  string // the redis-server binary; "" for miniredis
	dir  string
	port int

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	mini    *miniredis.Miniredis
	stopped bool // Stop has run: a start is a restart
}

// minRestart is how long a restart of the in-process Redis takes.
const minRestart = 10 * time.Millisecond

func (r *redisServer) restarted() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stopped
}

// startRedis starts a Redis for t and stops it at cleanup: redis-server if it is
// on PATH, otherwise miniredis, or a failure when TOKENTRIP_REQUIRE_REDIS=1. The
// multi-process fleet tests skip without redis-server, saying how to install it.
func startRedis(t *testing.T) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	switch {
	case err == nil:
	case os.Getenv(requireRedis) == "1":
		t.Fatal("redis-server is not on PATH, and " + requireRedis + "=1 requires it: apt-get install redis-server")
	case strings.HasPrefix(t.Name(), fleetTests):
		t.Skip("this fleet test runs several processes against a real Redis: redis-server is not on PATH " +
			"(sudo apt-get install redis-server); the other store/redis tests run against an in-process Redis")
	default:
		bin = ""
	}
	r := &redisServer{t: t, bin: bin, dir: t.TempDir()}
	t.Cleanup(r.Stop)
	var lastErr error
	for range 5 { // a free port can be taken between finding it and binding it
		if r.port, err = freePort(); err != nil {
			t.Fatal(err)
		}
		if lastErr = r.start(); lastErr == nil {
			if bin == "" {
				t.Log("redis-server is not on PATH: running against miniredis, an in-process Redis")
			}
			return r
		}
	}
	t.Fatalf("starting Redis: %v", lastErr)
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Addr is the server's host:port.
func (r *redisServer) Addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

func (r *redisServer) start() error {
	if r.bin == "" {
		// A redis-server takes ten milliseconds or more to come back; tests that
		// restart Redis count on their Store's retry interval having passed by
		// then, so an in-process restart takes no less.
		if r.restarted() {
			<-time.After(minRestart)
		}
		m := miniredis.NewMiniRedis()
		m.ClockTTL(true) // keys expire as time passes, not only when a test says so
		if err := m.StartAddr(r.Addr()); err != nil {
			return err
		}
		r.mu.Lock()
		r.mini = m
		r.mu.Unlock()
		return nil
	}
	cmd := exec.Command(r.bin, "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.dir, "--loglevel", "warning",
		"--enable-debug-command", "yes") // DEBUG SLEEP stalls it in the timeout tests
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	r.mu.Lock()
	r.cmd, r.exited = cmd, exited
	r.mu.Unlock()

	c := redis.NewClient(&redis.Options{Addr: r.Addr(), MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for { // bounded polling: the server is another process
		select {
		case <-exited:
			return fmt.Errorf("redis-server exited: %s", out.String())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			r.Stop()
			return fmt.Errorf("redis-server did not answer within 10s: %v", err)
		}
		time.Sleep(10 * time.Millisecond) // polling another process, with a deadline
	}
}

// Start restarts a stopped server on the same port.
func (r *redisServer) Start() {
	r.t.Helper()
	if err := r.start(); err != nil {
		r.t.Fatalf("restarting Redis: %v", err)
	}
}

// Stop kills the server and waits for it to be gone.
func (r *redisServer) Stop() {
	r.mu.Lock()
	cmd, exited, mini := r.cmd, r.exited, r.mini
	r.cmd, r.mini = nil, nil
	r.stopped = true
	r.mu.Unlock()
	if mini != nil {
		mini.Close()
	}
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-exited
}

// Client returns a client of the server that fails fast when it is down, closed at
// cleanup.
func (r *redisServer) Client() *redis.Client {
	opts := fastClientOptions(r.Addr())
	if r.bin == "" {
		// The in-process Redis shares this process's CPUs with a hundred
		// goroutines under the race detector, and a dial can wait that long for
		// one. A stopped server still refuses at once.
		opts.DialTimeout = 5 * time.Second
	}
	c := redis.NewClient(opts)
	r.t.Cleanup(func() { c.Close() })
	return c
}

// fastClientOptions are the client settings tokentrip recommends for a token
// cache: short timeouts and no retries, so a Redis outage costs milliseconds (a
// stopped server refuses a dial at once). The dial timeout is a second rather than
// the example's 300 ms because a loaded CI machine running eight fleet processes
// under the race detector can take that long to complete a loopback dial.
func fastClientOptions(addr string) *redis.Options {
	return &redis.Options{
		Addr:          addr,
		MaxRetries:    -1,
		DialTimeout:   time.Second,
		DialerRetries: 1,
		ReadTimeout:   2 * time.Second,
		WriteTimeout:  2 * time.Second,
	}
}

// fleet is the parent's view of its children: started processes of this test
// binary (TestHelperProcess), each telling its progress in lines on its stdout.
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
