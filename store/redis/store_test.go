package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/internal/eventrec"
	"github.com/tokentrip/tokentrip/internal/storetest"
	"github.com/tokentrip/tokentrip/provider/mcv1/mcv1test"
	"github.com/tokentrip/tokentrip/store"
	redisstore "github.com/tokentrip/tokentrip/store/redis"
	"github.com/tokentrip/tokentrip/transport"
)

// newFleet returns k Sources for the emulator's default client, each with a Store
// on its own Redis client, as k processes would have.
func newFleet(t *testing.T, r *redisServer, emu *mcv1test.Server, clock *fakeClock, k int, set transport.Settings) []*transport.Source {
	t.Helper()
	srcs := make([]*transport.Source, k)
	for i := range srcs {
		set.Clock, set.Store, set.StoreKey = clock.Now, r.newStore(options{}), testKey.ID()
		srcs[i] = transport.NewSource(&mcv1Provider{base: emu.URL, now: clock.Now}, set)
	}
	return srcs
}

// tokensOf calls Token on every Source from many goroutines at once and returns
// the distinct tokens they got.
func tokensOf(t *testing.T, srcs []*transport.Source, perSource int) map[string]int {
	t.Helper()
	var mu sync.Mutex
	got := map[string]int{}
	var wg sync.WaitGroup
	for _, src := range srcs {
		for range perSource {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tok, err := src.Token(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				got[tok.AccessToken]++
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	return got
}

func TestSourcesShareOneFetchPerWindow(t *testing.T) {
	r := startRedis(t)
	clock, emu := mcv1Emulator(t)
	emu.SetTokenLatency(20 * time.Millisecond)
	srcs := newFleet(t, r, emu, clock, 8, transport.Settings{})

	// A cold stampede of 8 processes × 50 goroutines: one fetch.
	cold := tokensOf(t, srcs, 50)
	if len(cold) != 1 || emu.Stats().TokenRequests != 1 {
		t.Fatalf("cold start: tokens %d, token requests %d; want 1 and 1", len(cold), emu.Stats().TokenRequests)
	}

	// Past the refresh point (55 minutes into an hour): every process refreshes in
	// the background, and the fleet makes one request.
	clock.Advance(56 * time.Minute)
	for _, src := range srcs {
		if _, err := src.Token(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	for _, src := range srcs {
		src.Wait()
	}
	refreshed := map[string]bool{}
	for _, src := range srcs {
		tok, ok := src.Current()
		if !ok || cold[tok.AccessToken] > 0 {
			t.Fatalf("after the refresh: current %v, %v; want a new token", tok, ok)
		}
		refreshed[tok.AccessToken] = true
	}
	if len(refreshed) != 1 || emu.Stats().TokenRequests != 2 {
		t.Fatalf("refresh: %d distinct tokens, token requests %d; want 1 and 2", len(refreshed), emu.Stats().TokenRequests)
	}

	// Past expiry nobody has a usable token: blocking fetches, still one request.
	clock.Advance(2 * time.Hour)
	if got := tokensOf(t, srcs, 20); len(got) != 1 || emu.Stats().TokenRequests != 3 {
		t.Fatalf("after expiry: tokens %d, token requests %d; want 1 and 3", len(got), emu.Stats().TokenRequests)
	}
	fetches, adoptions := 0, 0
	for _, src := range srcs {
		fetches += int(src.Stats().Fetches)
	}
	if fetches != 3 {
		t.Fatalf("Stats().Fetches over the fleet = %d, want 3 (adoptions %d)", fetches, adoptions)
	}
}

func TestInvalidatedTokenIsReplacedOnceForTheFleet(t *testing.T) {
	r := startRedis(t)
	clock, emu := mcv1Emulator(t)
	srcs := newFleet(t, r, emu, clock, 3, transport.Settings{})
	clients := make([]*http.Client, len(srcs))
	for i, src := range srcs {
		clients[i] = &http.Client{Transport: transport.New(src, transport.Options{Hosts: []string{emu.URL}})}
	}
	if n := failedCalls(t, clients, emu.URL+"/hub/v1/campaigns"); n != 0 {
		t.Fatalf("%d REST calls failed", n)
	}
	first, _ := srcs[0].Current()
	emu.RevokeToken(first.AccessToken)
	// Each process meets the 401 in turn: the first fetches, the others adopt.
	if n := failedCalls(t, clients, emu.URL+"/hub/v1/campaigns"); n != 0 {
		t.Fatalf("%d REST calls failed after the revocation", n)
	}
	st := emu.Stats()
	if st.TokenRequests != 2 {
		t.Fatalf("token requests = %d, want 2 (one per token, not per process)", st.TokenRequests)
	}
	if st.Rejections[emulator.ReasonRevokedToken] != 3 {
		t.Fatalf("revoked-token rejections = %d, want 3 (one per process)", st.Rejections[emulator.ReasonRevokedToken])
	}
}

func TestDeadLockHolderIsTakenOver(t *testing.T) {
	r := startRedis(t)
	clock, emu := mcv1Emulator(t)

	// A process takes the fetch lock and dies: its client goes away, so the lock
	// is neither renewed nor released.
	deadClient := redis.NewClient(fastClientOptions(r.Addr()))
	dead, err := redisstore.New(deadClient, fleetOptions(options{LockTTL: 300 * time.Millisecond})) // never closed: it dies
	if err != nil {
		t.Fatal(err)
	}
	l, err := dead.Lock(context.Background(), testKey.ID())
	if err != nil || l == nil {
		t.Fatalf("taking the lock: %v, %v", l, err)
	}
	lockedAt := time.Now()
	deadClient.Close()
	defer l.Unlock(context.Background()) // stops its renewal goroutine; Redis is out of its reach

	ev := &eventrec.Recorder{}
	src := transport.NewSource(&mcv1Provider{base: emu.URL, now: clock.Now}, transport.Settings{Clock: clock.Now, Store: r.newStore(options{PollInterval: 20 * time.Millisecond}), StoreKey: testKey.ID(), Hook: ev.Hook})
	if _, err := src.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(lockedAt); waited < 250*time.Millisecond {
		t.Fatalf("fetched %v after the lock was taken: the dead holder's lock (300ms) was not respected", waited)
	}
	if n := emu.Stats().TokenRequests; n != 1 {
		t.Fatalf("token requests = %d, want 1", n)
	}
	if n := ev.Count(transport.EventStoreDown); n != 0 {
		t.Fatalf("%d store_down events; the Store was up", n)
	}
}

func TestFetchLockIsFenced(t *testing.T) {
	r := startRedis(t)
	ctx := context.Background()
	a, b := r.newStore(options{}), r.newStore(options{})
	id := testKey.ID()
	la, err := a.Lock(ctx, id)
	if err != nil || la == nil {
		t.Fatalf("first lock: %v, %v", la, err)
	}
	if lb, err := b.Lock(ctx, id); lb != nil || err != nil {
		t.Fatalf("second lock while held: %v, %v; want nil, nil", lb, err)
	}
	// The lock expires under A (as if A stalled): B takes it.
	raw := r.Client()
	keys, _ := raw.Keys(ctx, "*:lock").Result()
	if len(keys) != 1 {
		t.Fatalf("lock keys %v", keys)
	}
	raw.Del(ctx, keys[0])
	lb, err := b.Lock(ctx, id)
	if err != nil || lb == nil {
		t.Fatalf("lock after expiry: %v, %v", lb, err)
	}
	tok := storetest.Stored{Token: transport.Token{AccessToken: "from-a", Expiry: time.Now().Add(time.Hour)}, Fetched: time.Now()}
	if err := la.Save(ctx, tok.Value(), time.Hour); !errors.Is(err, transport.ErrLockLost) {
		t.Fatalf("save by the stale holder: %v, want ErrLockLost", err)
	}
	if err := la.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := raw.Exists(ctx, keys[0]).Result(); n != 1 {
		t.Fatal("the stale holder's Unlock removed the new holder's lock")
	}
	tok.Token.AccessToken = "from-b"
	if err := lb.Save(ctx, tok.Value(), time.Hour); err != nil {
		t.Fatal(err)
	}
	got, ok, err := storetest.Load(ctx, a, id)
	if err != nil || !ok || got.Token.AccessToken != "from-b" || !got.Fetched.Equal(tok.Fetched) || !got.Token.Expiry.Equal(tok.Token.Expiry) {
		t.Fatalf("load: %v, %v, %v", got, ok, err)
	}
	if err := lb.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := raw.Exists(ctx, keys[0]).Result(); n != 0 {
		t.Fatal("Unlock left the lock")
	}
}

func TestKeysAndValuesRevealNothing(t *testing.T) {
	r := startRedis(t)
	clock, emu := mcv1Emulator(t)
	key := []byte("0123456789abcdef0123456789abcdef")
	st := r.newStore(options{EncryptionKey: key})
	rts := st.RefreshTokens()
	src := transport.NewSource(&mcv1Provider{base: emu.URL, now: clock.Now, rts: rts}, transport.Settings{Clock: clock.Now, Store: st, StoreKey: testKey.ID()})
	tok, err := src.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	refresh, err := rts.Load(context.Background(), rtKey)
	if err != nil || refresh == "" {
		t.Fatalf("refresh token: %q, %v", refresh, err)
	}
	release, err := st.Semaphore("acoustic org 42", 10).Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer release()

	ctx := context.Background()
	raw := r.Client()
	keys, err := raw.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{emulator.MCv1ClientID, emulator.MCv1ClientSecret, testKey.AccountID, testKey.Scope, tok.AccessToken, refresh, rtKey, "acoustic org 42"}
	kinds := map[string]bool{}
	for _, k := range keys {
		if !strings.HasPrefix(k, defaultPrefix) {
			t.Errorf("key %q lacks the prefix", k)
		}
		var values []string
		switch typ, _ := raw.Type(ctx, k).Result(); typ {
		case "string":
			v, _ := raw.Get(ctx, k).Result()
			values = append(values, v)
		case "hash":
			m, _ := raw.HGetAll(ctx, k).Result()
			for _, v := range m {
				values = append(values, v)
			}
		case "zset":
			values, _ = raw.ZRange(ctx, k, 0, -1).Result()
		}
		kinds[k[strings.LastIndexByte(k, '}')+1:]] = true
		for _, s := range secrets {
			if strings.Contains(k, s) {
				t.Errorf("key %q contains %q", k, s)
			}
			for _, v := range values {
				if strings.Contains(v, s) {
					t.Errorf("value of %q contains a secret", k)
				}
			}
		}
		if strings.HasSuffix(k, ":token") {
			ttl, _ := raw.PTTL(ctx, k).Result()
			if life := tok.Expiry.Sub(clock.Now()); ttl <= life-time.Minute || ttl > life {
				t.Errorf("token TTL %v, want just under the token's life %v", ttl, life)
			}
		}
	}
	for _, want := range []string{":token", ":breaker", ""} {
		if !kinds[want] {
			t.Errorf("no %q key among %v", want, keys)
		}
	}

	// Processes that disagree about the key fail to read, and say why.
	for name, other := range map[string]*redisstore.Store{
		"no key":    r.newStore(options{Unencrypted: true}),
		"other key": r.newStore(options{EncryptionKey: []byte("fedcba9876543210")}),
	} {
		if _, _, err := other.Load(ctx, testKey.ID()); !errors.Is(err, transport.ErrCorruptValue) || !strings.Contains(err.Error(), "encrypt") {
			t.Errorf("%s: Load = %v, want an encryption error that marks the value corrupt", name, err)
		}
	}
	for _, tt := range []struct {
		name  string
		o     options
		noKey bool // the error is ErrNoEncryptionKey
	}{
		{"a 5-byte key", options{EncryptionKey: []byte("short")}, false},
		{"an empty key", options{EncryptionKey: []byte{}}, true},
		{"no key, no opt-out", options{}, true},
		{"no key, other options", options{Prefix: "app:", Timeout: time.Second}, true},
		{"a key and plaintext", options{EncryptionKey: key, Unencrypted: true}, false},
	} {
		_, err := redisstore.New(raw, tt.o)
		if err == nil || errors.Is(err, redisstore.ErrNoEncryptionKey) != tt.noKey {
			t.Errorf("%s: New = %v; want an error, ErrNoEncryptionKey: %t", tt.name, err, tt.noKey)
		}
	}
	if s := fmt.Sprint(st, rts); strings.Contains(s, string(key)) {
		t.Errorf("a rendering reveals the key: %s", s)
	}
}

func TestSharedBreakerOpensForTheFleet(t *testing.T) {
	r := startRedis(t)
	clock, emu := mcv1Emulator(t)
	emu.RevokeClient(emulator.MCv1ClientID)
	const cooldown = time.Second // gobreaker keeps real time
	srcs := newFleet(t, r, emu, clock, 2, transport.Settings{
		Breaker: transport.BreakerSettings{Rejections: 3, Outages: 5, Cooldown: cooldown},
		Backoff: func(int) time.Duration { return 0 },
	})
	a, b := srcs[0], srcs[1]

	for i := range 3 {
		if _, err := a.Token(context.Background()); !errors.Is(err, transport.ErrCredentialsRejected) {
			t.Fatalf("fetch %d: %v, want ErrCredentialsRejected", i+1, err)
		}
	}
	if got := a.Stats().Breaker; got != "open" {
		t.Fatalf("A's breaker %s after 3 rejections, want open", got)
	}
	// B has never failed, yet the fleet's breaker refuses it without a request.
	_, err := b.Token(context.Background())
	var open *transport.RetryError
	if !errors.As(err, &open) || !errors.Is(err, transport.ErrCircuitOpen) {
		t.Fatalf("B: %v, want the open breaker's RetryError", err)
	}
	if until := open.Retry.Sub(clock.Now()); until <= 0 || until > cooldown {
		t.Fatalf("B's error says retry in %v, want within the %v cooldown", until, cooldown)
	}
	if n := emu.Stats().TokenRequests; n != 3 {
		t.Fatalf("token requests = %d, want 3", n)
	}

	// At the retry time one probe goes out for the fleet, and it closes the breaker.
	emu.RestoreClient(emulator.MCv1ClientID)
	// The cooldown runs in real time; Retry reads the Source's clock, which stands still.
	time.Sleep(open.Retry.Sub(clock.Now())) // the time the error names, not a synchronisation
	if _, err := b.Token(context.Background()); err != nil {
		t.Fatalf("probe: %v", err)
	}
	if _, err := a.Token(context.Background()); err != nil {
		t.Fatalf("A after the probe: %v", err)
	}
	if n := emu.Stats().TokenRequests; n != 4 {
		t.Fatalf("token requests = %d, want 4 (one probe, then adopted)", n)
	}
	if a.Stats().Breaker == "open" || b.Stats().Breaker != "closed" {
		t.Fatalf("breakers after the probe: A %s, B %s", a.Stats().Breaker, b.Stats().Breaker)
	}
}

func TestRefreshTokensCompareAndSwapAcrossProcesses(t *testing.T) {
	r := startRedis(t)
	ctx := context.Background()
	var rts []*redisstore.RefreshTokens
	for range 4 {
		rts = append(rts, r.newStore(options{EncryptionKey: []byte("0123456789abcdef")}).RefreshTokens())
	}
	if v, err := rts[0].Load(ctx, "k"); v != "" || err != nil {
		t.Fatalf("empty: %q, %v", v, err)
	}
	if err := rts[0].CompareAndSwap(ctx, "k", "", "rt-1"); err != nil {
		t.Fatal(err)
	}
	if err := rts[1].CompareAndSwap(ctx, "k", "", "rt-x"); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("CAS from none over rt-1: %v, want ErrConflict", err)
	}
	// 100 rotations of rt-1 from four processes: one wins, the others adopt its token.
	var wg sync.WaitGroup
	var mu sync.Mutex
	var winners []string
	conflicts := 0
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := "rt-2-" + string(rune('a'+i%26)) + string(rune('a'+i/26))
			err := rts[i%4].CompareAndSwap(ctx, "k", "rt-1", next)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				winners = append(winners, next)
			case errors.Is(err, store.ErrConflict):
				conflicts++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if len(winners) != 1 || conflicts != 99 {
		t.Fatalf("%d winners, %d conflicts; want 1 and 99", len(winners), conflicts)
	}
	for i, s := range rts {
		if v, err := s.Load(ctx, "k"); v != winners[0] || err != nil {
			t.Fatalf("process %d loads %q, %v; want the winner's %q", i, v, err, winners[0])
		}
	}
}

func TestRefreshTokensRotateOncePerWindowAcrossTheFleet(t *testing.T) {
	r := startRedis(t)
	clock, emu := mcv1Emulator(t)
	emu.SetTokenLatency(10 * time.Millisecond)
	var srcs []*transport.Source
	for range 6 {
		st := r.newStore(options{})
		srcs = append(srcs, transport.NewSource(&mcv1Provider{base: emu.URL, now: clock.Now, rts: st.RefreshTokens()}, transport.Settings{Clock: clock.Now, Store: st, StoreKey: testKey.ID()}))
	}
	const windows = 4
	for w := range windows {
		if w > 0 {
			clock.Advance(time.Hour) // every token has expired: a blocking fetch everywhere
		}
		if got := tokensOf(t, srcs, 10); len(got) != 1 {
			t.Fatalf("window %d: %d distinct tokens", w, len(got))
		}
	}
	st := emu.Stats()
	if st.TokenRequests != windows || st.TokenRequestsByGrant[emulator.GrantRefreshToken] != windows-1 {
		t.Fatalf("token requests %d (%v), want %d with %d refresh-token grants", st.TokenRequests, st.TokenRequestsByGrant, windows, windows-1)
	}
	if n := spentTwiceOrLost(st.Rejections); n != 0 {
		t.Fatalf("%d refresh tokens spent twice or lost", n)
	}
}

func TestRefreshTokensSurviveARedisOutage(t *testing.T) {
	r := startRedis(t)
	ctx := context.Background()
	ev := &eventrec.Recorder{}
	rts := r.newStore(options{Retry: time.Millisecond, Hook: ev.Hook}).RefreshTokens()
	if err := rts.CompareAndSwap(ctx, "k", "", "rt-1"); err != nil {
		t.Fatal(err)
	}
	r.Stop()
	if v, err := rts.Load(ctx, "k"); v != "rt-1" || err != nil {
		t.Fatalf("Load while Redis is down: %q, %v; want the process's copy", v, err)
	}
	if err := rts.CompareAndSwap(ctx, "k", "rt-1", "rt-2"); err != nil {
		t.Fatalf("rotation while Redis is down: %v", err)
	}
	if err := rts.CompareAndSwap(ctx, "k", "rt-1", "rt-3"); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second rotation of rt-1 while down: %v, want ErrConflict", err)
	}
	if ev.Count(transport.EventStoreDown) != 1 {
		t.Fatalf("store_down events: %d, want 1", ev.Count(transport.EventStoreDown))
	}
	r.Start() // empty: it persisted nothing
	if v, err := rts.Load(ctx, "k"); v != "rt-2" || err != nil {
		t.Fatalf("Load after the outage: %q, %v; want rt-2", v, err)
	}
	if v, err := r.newStore(options{}).RefreshTokens().Load(ctx, "k"); v != "rt-2" || err != nil {
		t.Fatalf("another process after the outage: %q, %v; want rt-2 written back", v, err)
	}
	if ev.Count(transport.EventStoreUp) != 1 {
		t.Fatalf("store_up events: %d, want 1", ev.Count(transport.EventStoreUp))
	}
}

func TestSourcesWorkAloneWhileRedisIsDown(t *testing.T) {
	r := startRedis(t)
	clock, emu := mcv1Emulator(t)
	ev := &eventrec.Recorder{}
	srcs := newFleet(t, r, emu, clock, 2, transport.Settings{Hook: ev.Hook, StoreTimeout: time.Second, StoreRetry: time.Minute})
	a, b := srcs[0], srcs[1]
	if got := tokensOf(t, srcs, 5); len(got) != 1 {
		t.Fatalf("%d tokens", len(got))
	}

	r.Stop()
	clock.Advance(56 * time.Minute) // refresh point
	for _, src := range srcs {
		if _, err := src.Token(context.Background()); err != nil {
			t.Fatalf("Token with Redis down, at the refresh point: %v", err)
		}
		src.Wait()
	}
	clock.Advance(2 * time.Hour) // everything expired: blocking fetches, alone
	for _, src := range srcs {
		if _, err := src.Token(context.Background()); err != nil {
			t.Fatalf("Token with Redis down, after expiry: %v", err)
		}
	}
	if n := emu.Stats().TokenRequests; n != 5 {
		t.Fatalf("token requests %d, want 5 (1 shared, then 2 each alone)", n)
	}
	if n := ev.Count(transport.EventStoreDown); n != 2 {
		t.Fatalf("store_down events %d, want 2 (one per process)", n)
	}

	// Redis returns; after the retry interval the fleet shares again.
	r.Start()
	clock.Advance(2 * time.Hour)
	for _, src := range []*transport.Source{a, b} {
		if _, err := src.Token(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if n := emu.Stats().TokenRequests; n != 6 {
		t.Fatalf("token requests %d, want 6 (one more, shared)", n)
	}
	ta, _ := a.Current()
	tb, _ := b.Current()
	if ta.AccessToken != tb.AccessToken {
		t.Fatal("the processes did not share the token after Redis came back")
	}
	if n := ev.Count(transport.EventStoreUp); n != 2 {
		t.Fatalf("store_up events %d, want 2", n)
	}
}

// Anyone who can publish on the fleet's Redis can flood the notification channels.
// A process waiting for another's fetch (here a plausible lock that nobody
// releases) then looks at Redis at most a few times per poll interval, not once
// per notification: before, a flood made it loop through GET, the lock script and
// EXISTS about 3,300 times a second for as long as it waited.
func TestNotificationFloodCostsBoundedLooks(t *testing.T) {
	r := startRedis(t)
	ctx := context.Background()
	emu := mcv1test.NewServer()
	defer emu.Close()
	const poll, fetchTimeout = 100 * time.Millisecond, time.Second // the wait ends after fetchTimeout/2
	raw := r.Client()
	raw.Set(ctx, redisKey(testKey.ID(), "lock"), "0123456789abcdef0123456789abcdef", 10*time.Second)
	stop, flooded := make(chan struct{}), make(chan int)
	go func() {
		c := r.Client()
		n := 0
		for {
			select {
			case <-stop:
				flooded <- n
				return
			default:
			}
			c.Publish(ctx, defaultPrefix+"events:"+testKey.ID(), "saved")
			n++
		}
	}()
	raw.ConfigResetStat(ctx)
	src := transport.NewSource(&mcv1Provider{base: emu.URL}, transport.Settings{Store: r.newStore(options{PollInterval: poll}), StoreKey: testKey.ID(), FetchTimeout: fetchTimeout})
	began := time.Now()
	_, err := src.Token(ctx)
	waited := time.Since(began)
	close(stop)
	n := <-flooded
	var looks int
	for _, l := range strings.Split(raw.Info(ctx, "commandstats").Val(), "\n") {
		if strings.HasPrefix(l, "cmdstat_exists:calls=") { // one per wait
			looks, _ = strconv.Atoi(strings.TrimPrefix(strings.SplitN(l, ",", 2)[0], "cmdstat_exists:calls="))
		}
	}
	limit := 2*int(waited/(poll/10)) + 5
	t.Logf("FIGURE notification flood: %d notifications while waiting %v; %d waits (at most %d allowed); token %v, %d token request(s)",
		n, waited.Round(time.Millisecond), looks, limit, err, emu.Stats().TokenRequests)
	if err != nil || emu.Stats().TokenRequests != 1 {
		t.Errorf("token: %v with %d token requests; want one, fetched alone after the wait", err, emu.Stats().TokenRequests)
	}
	if looks > limit {
		t.Errorf("%d waits in %v; want at most %d", looks, waited, limit)
	}
}
