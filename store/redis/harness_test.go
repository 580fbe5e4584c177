package redisstore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/internal/manualclock"
	"github.com/tokentrip/tokentrip/internal/storekey"
	"github.com/tokentrip/tokentrip/provider/mcv1/mcv1test"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
	"github.com/tokentrip/tokentrip/store"
	redisstore "github.com/tokentrip/tokentrip/store/redis"
	"github.com/tokentrip/tokentrip/transport"
)

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

// fleetKey is the encryption key the test fleets share.
var fleetKey = []byte("tokentrip test fleet key 32 byte")

// options are a Store's settings; newStore and storeOn fill in the fleet's.
type options = redisstore.Options

// defaultPrefix is Options.Prefix's default, as its comment states it: the tests
// find the Store's keys under it.
const defaultPrefix = "tokentrip:"

// redisKey is the Redis key of a Store key's kind of value: "token", "breaker",
// "lock".
func redisKey(id, kind string) string { return defaultPrefix + "{" + id + "}:" + kind }

// testTimeout is the Store timeout of the tests' Stores, unless a test sets its own:
// longer than the default, for a machine that runs the race detector on a few shared
// cores; the tests of the bound set short ones.
const testTimeout = 10 * time.Second

// newStore returns a Store on a new client of r (a process of the fleet, as far
// as Redis can tell), closed at cleanup, with the settings of o: sealed under
// fleetKey unless o gives another key or Unencrypted, with testTimeout unless o
// gives a Timeout.
func (r *redisServer) newStore(o options) *redisstore.Store {
	r.t.Helper()
	if o.Timeout == 0 {
		o.Timeout = testTimeout
	}
	return r.storeOn(r.Client(), o)
}

// storeOn returns a Store on client, closed at cleanup, sealed under fleetKey
// unless o gives another key or Unencrypted.
func (r *redisServer) storeOn(client redis.UniversalClient, o options) *redisstore.Store {
	r.t.Helper()
	st, err := redisstore.New(client, fleetOptions(o))
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { st.Close() })
	return st
}

// fleetOptions are o with the fleet's key, unless o gives another or Unencrypted.
func fleetOptions(o options) options {
	if o.EncryptionKey == nil && !o.Unencrypted {
		o.EncryptionKey = fleetKey
	}
	return o
}

// mcv1Emulator starts a Marketing Cloud legacy emulator on a clock the test moves,
// closed at cleanup.
func mcv1Emulator(t *testing.T) (*fakeClock, *mcv1test.Server) {
	clock := newClock()
	emu := mcv1test.NewServer(mcv1test.WithClock(clock.Now))
	t.Cleanup(emu.Close)
	return clock, emu
}

// mcv2Emulator is mcv1Emulator for Marketing Cloud's enhanced packages.
func mcv2Emulator(t *testing.T) (*fakeClock, *mcv2test.Server) {
	clock := newClock()
	emu := mcv2test.NewServer(mcv2test.WithClock(clock.Now))
	t.Cleanup(emu.Close)
	return clock, emu
}

// mcv1Provider is a minimal Marketing Cloud legacy provider for these tests: it
// asks the emulator at base for a token with the default client, and, with rts,
// redeems and rotates an offline refresh token kept under rtKey. onFetch, if set,
// runs before each request is sent.
type mcv1Provider struct {
	base    string
	now     func() time.Time
	rts     store.RefreshTokens
	onFetch func()
	client  *http.Client
}

const rtKey = "mcv1 offline refresh token"

func (p *mcv1Provider) Fetch(ctx context.Context) (transport.Token, error) {
	body := map[string]string{"clientId": emulator.MCv1ClientID, "clientSecret": emulator.MCv1ClientSecret}
	var spent string
	if p.rts != nil {
		var err error
		if spent, err = p.rts.Load(ctx, rtKey); err != nil {
			return transport.Token{}, &transport.FetchError{Kind: transport.ErrEndpoint, Provider: "test", Err: err}
		}
		if spent != "" {
			body["refreshToken"] = spent
		} else {
			body["accessType"] = "offline"
		}
	}
	if p.onFetch != nil {
		p.onFetch()
	}
	data, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base+emulator.MCv1TokenPath, bytes.NewReader(data))
	if err != nil {
		return transport.Token{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	client := p.client
	if client == nil {
		client = http.DefaultClient
	}
	sent := time.Now()
	if p.now != nil {
		sent = p.now()
	}
	resp, err := client.Do(req)
	if err != nil {
		return transport.Token{}, &transport.FetchError{Kind: transport.ErrEndpoint, Provider: "test", Err: err}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return transport.Token{}, &transport.FetchError{Kind: transport.ErrCredentialsRejected, Provider: "test", StatusCode: resp.StatusCode, Message: string(raw)}
	}
	var ans struct {
		AccessToken  string `json:"accessToken"`
		ExpiresIn    int    `json:"expiresIn"`
		RefreshToken string `json:"refreshToken"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil {
		return transport.Token{}, &transport.FetchError{Kind: transport.ErrEndpoint, Provider: "test", Err: err}
	}
	if p.rts != nil && ans.RefreshToken != "" {
		// Store the successor before the access token is used; a lost race keeps
		// the winner's, which is valid too.
		if err := p.rts.CompareAndSwap(context.WithoutCancel(ctx), rtKey, spent, ans.RefreshToken); err != nil && err != store.ErrConflict {
			return transport.Token{}, &transport.FetchError{Kind: transport.ErrEndpoint, Provider: "test", Err: err}
		}
	}
	return transport.Token{AccessToken: ans.AccessToken, Expiry: sent.Add(time.Duration(ans.ExpiresIn) * time.Second)}, nil
}

// testKey is the StoreKey of the emulator's default client.
var testKey = storekey.Key{Provider: "mcv1", ClientID: emulator.MCv1ClientID, AccountID: "518000123", Scope: "email_read"}

// fakeClock is a clock the test moves by hand, shared by Sources and the emulator.
type fakeClock = manualclock.Clock

func newClock() *fakeClock { return manualclock.New(time.Now()) }
