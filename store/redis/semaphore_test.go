package redisstore_test

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tokentrip/tokentrip/internal/eventrec"
	redisstore "github.com/tokentrip/tokentrip/store/redis"
	"github.com/tokentrip/tokentrip/transport"
)

// limiter is the shape of acoustic.Limiter, which a Semaphore stands in for.
type limiter interface {
	Acquire(ctx context.Context) (release func(), err error)
}

var _ limiter = (*redisstore.Semaphore)(nil)

const org = "acoustic org 123"

func TestSemaphoreCapsTheFleet(t *testing.T) {
	r := startRedis(t)
	const limit, processes, perProcess = 10, 3, 20
	var sems []*redisstore.Semaphore
	for range processes {
		sems = append(sems, r.newStore(options{}).Semaphore(org, limit))
	}
	var inFlight, peak atomic.Int64
	held := make(chan func(), processes*perProcess)
	var wg sync.WaitGroup
	for i := range processes * perProcess {
		wg.Add(1)
		go func() {
			defer wg.Done()
			release, err := sems[i%processes].Acquire(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			n := inFlight.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			held <- func() { inFlight.Add(-1); release() }
		}()
	}
	// The first ten get slots; the fleet is full.
	var holders []func()
	for range limit {
		holders = append(holders, <-held)
	}
	if n, err := sems[0].InFlight(context.Background()); n != limit || err != nil {
		t.Fatalf("InFlight = %d, %v; want %d", n, err, limit)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	if _, err := r.newStore(options{}).Semaphore(org, limit).Acquire(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("an eleventh Acquire: %v, want to wait until its context ends", err)
	}
	cancel()
	// Each release lets exactly one more in, whichever process it is in.
	for done := 0; done < processes*perProcess; done++ {
		holders[0]()
		holders = holders[1:]
		if done+limit < processes*perProcess {
			holders = append(holders, <-held)
		}
	}
	wg.Wait()
	if p := peak.Load(); p != limit {
		t.Fatalf("peak in flight %d, want %d", p, limit)
	}
	if n, err := sems[1].InFlight(context.Background()); n != 0 || err != nil {
		t.Fatalf("InFlight after every release = %d, %v", n, err)
	}
}

func TestSemaphoreLeaseOfADeadProcessExpires(t *testing.T) {
	r := startRedis(t)
	const lease = 2 * time.Second
	deadClient := redis.NewClient(fastClientOptions(r.Addr()))
	dead, err := redisstore.New(deadClient, options{Unencrypted: true, LeaseTTL: lease}) // never closed: it dies
	if err != nil {
		t.Fatal(err)
	}
	var releases []func()
	for range 10 {
		rel, err := dead.Semaphore(org, 10).Acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, rel)
	}
	deadClient.Close() // the process dies: no renewal, no release
	defer func() {
		for _, rel := range releases {
			rel() // stops the renewal goroutines; Redis is out of their reach
		}
	}()

	live := r.newStore(options{PollInterval: 20 * time.Millisecond}).Semaphore(org, 10)
	ctx, cancel := context.WithTimeout(context.Background(), lease/8)
	_, err = live.Acquire(ctx)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Acquire while the dead process's leases live: %v, want to wait", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 10*lease)
	defer cancel()
	start := time.Now()
	rel, err := live.Acquire(ctx)
	if err != nil {
		t.Fatalf("Acquire after the leases expire: %v", err)
	}
	defer rel()
	// The dead process's leases expire one by one, as their last renewals did.
	if n, _ := live.InFlight(ctx); n < 1 || n > 10 {
		t.Fatalf("InFlight = %d after the first dead lease expired, want 1 to 10", n)
	}
	t.Logf("a dead process's slots came free after %v (lease %v)", time.Since(start).Round(time.Millisecond), lease)
}

func TestSemaphoreLeaseOutlivesItsTTLWhileHeld(t *testing.T) {
	r := startRedis(t)
	const lease = 900 * time.Millisecond
	sem := r.newStore(options{LeaseTTL: lease}).Semaphore(org, 1)
	rel, err := sem.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// Held for two lease TTLs: renewals keep the slot, so another process waits.
	other := r.newStore(options{}).Semaphore(org, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 2*lease)
	_, err = other.Acquire(ctx)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Acquire while the slot is held and renewed: %v, want to wait", err)
	}
	rel()
	rel() // a second call does nothing
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rel2, err := other.Acquire(ctx)
	if err != nil {
		t.Fatalf("Acquire after release: %v", err)
	}
	rel2()
}

func TestSemaphoreFallsBackWhileRedisIsDown(t *testing.T) {
	r := startRedis(t)
	ev := &eventrec.Recorder{}
	sem := r.newStore(options{Retry: 50 * time.Millisecond, Hook: ev.Hook}).Semaphore(org, 3)
	r.Stop()
	var rels []func()
	for range 3 {
		rel, err := sem.Acquire(context.Background())
		if err != nil {
			t.Fatalf("Acquire with Redis down: %v", err)
		}
		rels = append(rels, rel)
	}
	// The process keeps to the limit on its own.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	if _, err := sem.Acquire(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a fourth local Acquire: %v, want to wait", err)
	}
	cancel()
	if ev.Count(transport.EventStoreDown) != 1 {
		t.Fatalf("store_down events %d, want 1", ev.Count(transport.EventStoreDown))
	}
	for _, rel := range rels {
		rel()
	}

	r.Start()
	time.Sleep(60 * time.Millisecond) // past the 50ms retry interval, a time and not a synchronisation
	rel, err := sem.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer rel()
	if n, err := sem.InFlight(context.Background()); n != 1 || err != nil {
		t.Fatalf("InFlight in Redis after it came back = %d, %v; want 1", n, err)
	}
	if ev.Count(transport.EventStoreUp) != 1 {
		t.Fatalf("store_up events %d, want 1", ev.Count(transport.EventStoreUp))
	}
}

// Whoever can write to Redis can plant leases in a semaphore's set, or another type
// of value under its key. Leases that expire later than one lease TTL from now on
// the server's clock (no process writes those) and values of another type are
// dropped by the next Acquire and reported: the fleet keeps its cap and its slots.
// Before, leases scored far in the future held every slot forever (each Acquire
// waited until its context ended, with no event), and a value of another type sent
// every process to its own semaphore for good, reported as an outage.
func TestForgedSemaphoreLeasesAreDropped(t *testing.T) {
	r := startRedis(t)
	ctx := context.Background()
	const limit, lease = 2, 30 * time.Second
	raw := r.Client()
	key := func() string { // the semaphore's key, as a process holding a slot sees it
		rel, err := r.newStore(options{}).Semaphore(org, limit).Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer rel()
		keys := raw.Keys(ctx, "*sem*").Val()
		if len(keys) != 1 {
			t.Fatalf("keys %v", keys)
		}
		return keys[0]
	}()
	for _, tt := range []struct {
		name  string
		plant func(now time.Time)
	}{
		{"leases expiring in 9999", func(time.Time) {
			raw.ZAdd(ctx, key, redis.Z{Score: 253402300799000, Member: "f1"}, redis.Z{Score: 253402300799000, Member: "f2"})
		}},
		{"leases expiring at +inf", func(time.Time) {
			raw.ZAdd(ctx, key, redis.Z{Score: math.Inf(1), Member: "f1"}, redis.Z{Score: math.Inf(1), Member: "f2"})
		}},
		{"leases one lease TTL and a second from now", func(now time.Time) {
			s := float64(now.Add(lease + time.Second).UnixMilli())
			raw.ZAdd(ctx, key, redis.Z{Score: s, Member: "0123456789abcdef0123456789abcdef"}, redis.Z{Score: s, Member: "f2"})
		}},
		{"leases without an expiry on the key", func(now time.Time) {
			raw.ZAdd(ctx, key, redis.Z{Score: 1e15, Member: "f1"}, redis.Z{Score: 1e15, Member: "f2"})
			raw.Persist(ctx, key)
		}},
		{"a string under the key", func(time.Time) { raw.Set(ctx, key, "x", 0) }},
		{"a hash under the key", func(time.Time) { raw.HSet(ctx, key, "f1", "1") }},
		{"a list under the key", func(time.Time) { raw.RPush(ctx, key, "f1", "f2") }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			raw.Del(ctx, key)
			tt.plant(raw.Time(ctx).Val())
			ev := &eventrec.Recorder{}
			sem := r.newStore(options{Hook: ev.Hook, LeaseTTL: lease}).Semaphore(org, limit)
			actx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			began := time.Now()
			var rels []func()
			for range limit {
				rel, err := sem.Acquire(actx)
				if err != nil {
					t.Fatalf("Acquire after %v: %v; want a slot", time.Since(began).Round(time.Millisecond), err)
				}
				rels = append(rels, rel)
			}
			t.Logf("FIGURE forged semaphore %s: %d slots in %v, %d store_corrupt, %d store_down", tt.name, limit,
				time.Since(began).Round(time.Millisecond), ev.Count(transport.EventStoreCorrupt), ev.Count(transport.EventStoreDown))
			if ev.Count(transport.EventStoreCorrupt) < 1 || ev.Count(transport.EventStoreDown) != 0 {
				t.Errorf("%d store_corrupt, %d store_down; want the forgery reported as corrupt, not as an outage",
					ev.Count(transport.EventStoreCorrupt), ev.Count(transport.EventStoreDown))
			}
			// The fleet's cap holds in Redis: the slots are the process's, and a third
			// Acquire anywhere waits.
			if n, err := sem.InFlight(ctx); n != limit || err != nil {
				t.Errorf("InFlight = %d, %v; want %d", n, err, limit)
			}
			wctx, wcancel := context.WithTimeout(ctx, 100*time.Millisecond)
			if _, err := r.newStore(options{}).Semaphore(org, limit).Acquire(wctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("a third Acquire: %v; want it to wait", err)
			}
			wcancel()
			for _, rel := range rels {
				rel()
			}
		})
	}
}
