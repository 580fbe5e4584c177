package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tokentrip/tokentrip/internal/eventrec"
	"github.com/tokentrip/tokentrip/internal/storetest"
	"github.com/tokentrip/tokentrip/internal/tokenwire"
	"github.com/tokentrip/tokentrip/provider/mcv1/mcv1test"
	redisstore "github.com/tokentrip/tokentrip/store/redis"
	"github.com/tokentrip/tokentrip/transport"
)

// stall makes the server sleep for d (DEBUG SLEEP), as a Redis stuck in a long
// command, a fork or a swap storm does, and returns once it no longer answers. The
// returned function waits for it to wake. miniredis, which has no DEBUG command,
// stalls the same way while the test holds its lock: every command waits for it.
// defaultStoreTimeout is transport.Settings.StoreTimeout's default, as its comment
// states it.
const defaultStoreTimeout = 2 * time.Second

func (r *redisServer) stall(d time.Duration) (wait func()) {
	r.t.Helper()
	r.mu.Lock()
	mini := r.mini
	r.mu.Unlock()
	if mini != nil {
		mini.Lock()
		woke := make(chan struct{})
		go func() {
			<-time.After(d) // the stall's length, not synchronisation
			mini.Unlock()
			close(woke)
		}()
		return func() { <-woke }
	}
	sleeper := redis.NewClient(&redis.Options{Addr: r.Addr(), MaxRetries: -1, ReadTimeout: d + 10*time.Second})
	if err := sleeper.Ping(context.Background()).Err(); err != nil {
		r.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- sleeper.Do(context.Background(), "DEBUG", "SLEEP", strconv.FormatFloat(d.Seconds(), 'f', 3, 64)).Err()
		sleeper.Close()
	}()
	probe := redis.NewClient(&redis.Options{Addr: r.Addr(), MaxRetries: -1, ReadTimeout: 50 * time.Millisecond, PoolSize: 1})
	defer probe.Close()
	deadline := time.Now().Add(10 * time.Second)
	for { // bounded polling: the server is another process
		if err := probe.Ping(context.Background()).Err(); err != nil {
			break // it no longer answers: asleep
		}
		select {
		case err := <-done:
			r.t.Fatalf("DEBUG SLEEP ended before the server was seen asleep: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			r.t.Fatal("the server never went to sleep")
		}
	}
	return func() {
		if err := <-done; err != nil {
			r.t.Errorf("DEBUG SLEEP: %v", err)
		}
	}
}

// defaultClient is a go-redis client with its default options: 3-second read
// timeouts, three retries, no ContextTimeoutEnabled. go-redis then ignores a
// context's deadline; the Store must not.
func (r *redisServer) defaultClient() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: r.Addr()})
	r.t.Cleanup(func() { c.Close() })
	return c
}

// Every Store operation ends within the Store's timeout (or the caller's deadline,
// when sooner) while Redis sleeps, on a client whose own options would wait
// seconds.
func TestStoreOperationsAreBoundedWhileRedisStalls(t *testing.T) {
	r := startRedis(t)
	ctx := context.Background()
	const timeout = 300 * time.Millisecond
	st := r.storeOn(r.defaultClient(), options{Timeout: timeout, Retry: time.Minute})
	id := testKey.ID()
	tok := storetest.Stored{Token: transport.Token{AccessToken: "t-1", Expiry: time.Now().Add(time.Hour)}, Fetched: time.Now()}.Value()
	held, err := st.Lock(ctx, id)
	if err != nil || held == nil {
		t.Fatalf("lock: %v, %v", held, err)
	}
	held2, err := st.Lock(ctx, "second key")
	if err != nil || held2 == nil {
		t.Fatalf("lock: %v, %v", held2, err)
	}
	rts := st.RefreshTokens()
	for _, k := range []string{"k", "k2"} {
		if err := rts.CompareAndSwap(ctx, k, "", "rt-1"); err != nil {
			t.Fatal(err)
		}
	}
	other := r.storeOn(r.defaultClient(), options{Timeout: timeout}) // another process: its Wait meets the stall
	sem := st.Semaphore("org", 10)

	const sleep = 5 * time.Second
	wake := r.stall(sleep)
	defer wake()
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	ops := []struct {
		name  string
		bound time.Duration
		run   func() error
		// ok: the operation falls back inside the process instead of failing.
		ok bool
	}{
		{name: "Load", bound: timeout, run: func() error { _, _, err := st.Load(ctx, id); return err }},
		{name: "Load, 100ms deadline", bound: 100 * time.Millisecond, run: func() error { _, _, err := st.Load(short, id); return err }},
		{name: "Lock", bound: timeout, run: func() error { _, err := st.Lock(ctx, "other key"); return err }},
		{name: "Wait", bound: timeout, run: func() error { return other.Wait(ctx, id) }},
		{name: "FetchLock.Save", bound: timeout, run: func() error { return held.Save(ctx, tok, time.Hour) }},
		{name: "FetchLock.Unlock", bound: timeout, run: func() error { return held2.Unlock(ctx) }},
		{name: "Load of the breaker state", bound: timeout, run: func() error { _, _, err := st.Load(ctx, id+":breaker"); return err }},
		{name: "Put of the breaker state", bound: timeout, run: func() error {
			return st.Put(ctx, id+":breaker", tokenwire.Breaker{}.Encode(), time.Hour)
		}},
		{name: "RefreshTokens.Load (falls back to its copy)", bound: timeout, ok: true, run: func() error {
			v, err := rts.Load(ctx, "k")
			if err == nil && v != "rt-1" {
				return fmt.Errorf("loaded %q", v)
			}
			return err
		}},
		{name: "RefreshTokens.CompareAndSwap (rotates its copy, written back later)", bound: timeout, ok: true, run: func() error {
			return rts.CompareAndSwap(ctx, "k2", "rt-1", "rt-2")
		}},
		{name: "Semaphore.Acquire (falls back to the process's)", bound: timeout, ok: true, run: func() error {
			release, err := sem.Acquire(ctx)
			if err == nil {
				release()
			}
			return err
		}},
		{name: "Semaphore.InFlight", bound: timeout, run: func() error { _, err := sem.InFlight(ctx); return err }},
	}
	var wg sync.WaitGroup
	took := make([]time.Duration, len(ops))
	errs := make([]error, len(ops))
	for i, op := range ops {
		wg.Add(1)
		go func() {
			defer wg.Done()
			began := time.Now()
			errs[i] = op.run()
			took[i] = time.Since(began)
		}()
	}
	wg.Wait()
	for i, op := range ops {
		t.Logf("FIGURE stalled Redis (DEBUG SLEEP %v), Store timeout %v, default go-redis options: %s returned in %v: %v",
			sleep, timeout, op.name, took[i].Round(time.Millisecond), errs[i])
		if op.ok != (errs[i] == nil) {
			t.Errorf("%s: %v; want an error: %t", op.name, errs[i], !op.ok)
		}
		if !op.ok && !errors.Is(errs[i], redisstore.ErrTimeout) && !errors.Is(errs[i], context.DeadlineExceeded) {
			t.Errorf("%s: %v, want a timeout", op.name, errs[i])
		}
		// Generous for a loaded machine, and far below the stall and the client's
		// own 3-second read timeout.
		if took[i] > op.bound+time.Second {
			t.Errorf("%s took %v, want about %v", op.name, took[i], op.bound)
		}
	}
}

// A cold fetch while Redis stalls costs one Store timeout more than a fetch without
// a Store: the Source gives up on the Store, fetches alone and says so once.
func TestColdFetchWhileRedisStalls(t *testing.T) {
	r := startRedis(t)
	for _, timeout := range []time.Duration{300 * time.Millisecond, defaultStoreTimeout} {
		t.Run(timeout.String(), func(t *testing.T) {
			emu := mcv1test.NewServer()
			defer emu.Close()
			st := r.storeOn(r.defaultClient(), options{Timeout: timeout})
			ev := &eventrec.Recorder{}
			src := transport.NewSource(&mcv1Provider{base: emu.URL}, transport.Settings{Store: st, StoreKey: testKey.ID(), StoreTimeout: timeout, StoreRetry: time.Minute, Hook: ev.Hook})
			sleep := timeout + 3*time.Second
			wake := r.stall(sleep)
			defer wake()
			began := time.Now()
			tok, err := src.Token(context.Background())
			took := time.Since(began)
			t.Logf("FIGURE cold fetch while Redis sleeps %v, Store timeout %v: token in %v (%d token request, %d store_down)",
				sleep, timeout, took.Round(time.Millisecond), emu.Stats().TokenRequests, ev.Count(transport.EventStoreDown))
			if err != nil || tok.AccessToken == "" {
				t.Fatalf("Token: %v", err)
			}
			if took > timeout+time.Second {
				t.Errorf("the cold fetch took %v; the bound is the Store timeout %v plus the fetch", took, timeout)
			}
			if n := emu.Stats().TokenRequests; n != 1 {
				t.Errorf("%d token requests, want 1", n)
			}
			if n := ev.Count(transport.EventStoreDown); n != 1 {
				t.Errorf("%d store_down events, want 1", n)
			}
		})
	}
}
