package redisstore_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/eventrec"
	"github.com/tokentrip/tokentrip/provider/mcv2"
	redisstore "github.com/tokentrip/tokentrip/store/redis"
	"github.com/tokentrip/tokentrip/transport"
)

// A refresh token is single use, so an older copy of its entry written back into
// Redis — a Redis restarted from a snapshot taken before the last rotations, a
// replica promoted behind its primary, or a writer replaying a sealed value it
// copied earlier — holds a token the vendor has already refused to honour again.
// The sealed value opens (it is genuine), but a process that saw it replaced
// knows it is spent: it counts as corrupt (reported), the process keeps using
// the newer token it holds, and its next rotation writes over the old copy.
// Before, every process loaded the spent token: the user's credential was lost.
func TestOlderRefreshTokenWrittenBackIsRefused(t *testing.T) {
	r := startRedis(t)
	ctx := context.Background()
	for _, tt := range []struct {
		name        string
		chain       []string // rotations, in order, made by the rotating process
		copyAt      int      // the entry is copied after chain[copyAt] is stored
		observeFrom int      // the observer loads after each rotation from chain[observeFrom] on
	}{
		{"the copy before the last rotation", []string{"rt-1", "rt-2"}, 0, 0},
		{"a copy three rotations old", []string{"rt-1", "rt-2", "rt-3", "rt-4"}, 0, 0},
		{"a copy of a token the observer saw replaced, though not the first", []string{"rt-1", "rt-2", "rt-3"}, 1, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			raw := r.Client()
			raw.FlushAll(ctx)
			ev := &eventrec.Recorder{}
			rotator := r.newStore(options{Hook: ev.Hook}).RefreshTokens()
			observer := r.newStore(options{Hook: ev.Hook}).RefreshTokens()
			var dump, rk string
			prev := ""
			for i, next := range tt.chain {
				if err := rotator.CompareAndSwap(ctx, userKey, prev, next); err != nil {
					t.Fatal(err)
				}
				prev = next
				if i == tt.copyAt {
					rk = raw.Keys(ctx, "*").Val()[0]
					dump = raw.Dump(ctx, rk).Val()
				}
				if i < tt.observeFrom {
					continue
				}
				if v, err := observer.Load(ctx, userKey); v != next || err != nil {
					t.Fatalf("observer loads %q, %v; want %q", v, err, next)
				}
			}
			if dump == "" {
				t.Fatal("no copy taken")
			}
			if err := raw.RestoreReplace(ctx, rk, 0, dump).Err(); err != nil {
				t.Fatal(err)
			}
			last := tt.chain[len(tt.chain)-1]
			for name, p := range map[string]*redisstore.RefreshTokens{"the rotating process": rotator, "a process that loaded it": observer} {
				if v, err := p.Load(ctx, userKey); v != last || err != nil {
					t.Errorf("%s loads %q, %v; want its own %q, not the spent copy", name, v, err, last)
				}
			}
			if ev.Count(transport.EventStoreCorrupt) < 1 {
				t.Error("no store_corrupt event")
			}
			if err := observer.CompareAndSwap(ctx, userKey, last, "rt-next"); err != nil {
				t.Fatalf("the next rotation over the old copy: %v", err)
			}
			if v, err := r.newStore(options{}).RefreshTokens().Load(ctx, userKey); v != "rt-next" || err != nil {
				t.Errorf("a fresh process loads %q, %v; want rt-next", v, err)
			}
		})
	}
}

// Two mcv2 processes of one user share its rotating refresh token through Redis;
// Redis restarts from a snapshot taken one rotation ago. The next round of calls
// succeeds with one grant, and nothing is spent twice: the processes use the
// token they hold, not the spent one Redis came back with.
func TestRedisRestoredFromAnOlderSnapshotKeepsTheUsersCredential(t *testing.T) {
	r := startRedis(t)
	ctx := context.Background()
	clock, emu := mcv2Emulator(t)
	clients := userProcesses(t, r, emu, clock, 2)
	raw := r.Client()
	round := func() int { return callRound(t, emu, clock, clients) }
	if n := round(); n != 0 {
		t.Fatalf("round 1: %d failed calls", n)
	}
	rk := raw.Keys(ctx, "*{rt:*").Val()
	if len(rk) != 1 {
		t.Fatalf("refresh-token keys %v", rk)
	}
	snapshot := raw.Dump(ctx, rk[0]).Val()
	if n := round(); n != 0 {
		t.Fatalf("round 2: %d failed calls", n)
	}
	grants := emu.Stats().TokenRequestsByGrant["refresh_token"]
	// Redis restarts from the snapshot.
	if err := raw.RestoreReplace(ctx, rk[0], 0, snapshot).Err(); err != nil {
		t.Fatal(err)
	}
	failed := round()
	st := emu.Stats()
	t.Logf("FIGURE Redis restored from a snapshot one rotation old: round 3 %d failed calls of %d, %d refresh grant(s), rejections %v",
		failed, len(clients), st.TokenRequestsByGrant["refresh_token"]-grants, st.Rejections)
	if failed != 0 {
		t.Errorf("%d calls failed after the restore", failed)
	}
	if n := spentTwiceOrLost(st.Rejections); n != 0 {
		t.Errorf("%d refresh tokens spent twice or lost: %v", n, st.Rejections)
	}
	// The chain is whole: a process that starts now refreshes with what Redis holds.
	clock.Advance(rotationStep)
	p, err := mcv2.NewProvider(rotationConfig(emu.URL, r.newStore(options{}), clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Fetch(ctx); err != nil {
		t.Errorf("a new process's refresh: %v", err)
	}
}

// While Redis stalls, a rotation the Store sent is abandoned at the Store's
// timeout and kept in the process; Redis does it when it wakes. A second rotation
// made in the process meanwhile must still reach Redis: Redis then holds the
// token of the first rotation, which the process spent in the second. Before, the
// write-back took that token for another process's and dropped the process's own,
// leaving Redis with a spent token: the user's credential was lost.
func TestRotationDoneLateByAStalledRedisIsNotLost(t *testing.T) {
	r := startRedis(t)
	ctx := context.Background()
	// The rotations made in the process while Redis stalls: one, two, three.
	for _, chain := range [][]string{{"rt-2"}, {"rt-2", "rt-3"}, {"rt-2", "rt-3", "rt-4"}} {
		t.Run("rt-1→"+strings.Join(chain, "→"), func(t *testing.T) {
			r.Client().FlushAll(ctx)
			// Retry at once, so that every rotation tries Redis first and is
			// abandoned at the timeout.
			rts := r.newStore(options{Timeout: 150 * time.Millisecond, Retry: time.Nanosecond}).RefreshTokens()
			if err := rts.CompareAndSwap(ctx, userKey, "", "rt-1"); err != nil {
				t.Fatal(err)
			}
			// Long enough for every rotation's timeout to pass inside the stall, even
			// on a loaded machine.
			wake := r.stall(2 * time.Second)
			prev := "rt-1"
			for _, next := range chain {
				if err := rts.CompareAndSwap(ctx, userKey, prev, next); err != nil {
					t.Fatalf("rotation %s→%s while Redis stalls: %v", prev, next, err)
				}
				prev = next
			}
			wake() // Redis does what it was sent, in order
			last := chain[len(chain)-1]
			if v, err := rts.Load(ctx, userKey); v != last || err != nil {
				t.Errorf("the process loads %q, %v; want %q", v, err, last)
			}
			if v, err := r.newStore(options{}).RefreshTokens().Load(ctx, userKey); v != last || err != nil {
				t.Errorf("a fresh process loads %q, %v; want %q, the only one not spent", v, err, last)
			}
		})
	}
}

// Redis may lose a refresh token without anyone deleting it: it restarts without
// persistence, or evicts the key under memory pressure. A process holding a copy
// stores it again, the only token that still works, and every process reads it.
// Before, every process then found no token and asked the user to authorise the
// app again. A token deleted through CompareAndSwap stays deleted.
func TestRefreshTokenLostByRedisIsRestored(t *testing.T) {
	r := startRedis(t)
	ctx := context.Background()
	for _, tt := range []struct {
		name     string
		lose     func(t *testing.T, holder *redisstore.RefreshTokens, rk string)
		restored bool
	}{
		{"Redis restarted empty", func(*testing.T, *redisstore.RefreshTokens, string) { r.Stop(); r.Start() }, true},
		{"the key evicted", func(_ *testing.T, _ *redisstore.RefreshTokens, rk string) { r.Client().Del(ctx, rk) }, true},
		{"the key's TTL set to 0", func(_ *testing.T, _ *redisstore.RefreshTokens, rk string) { r.Client().PExpire(ctx, rk, 0) }, true},
		{"the token deleted through CompareAndSwap", func(t *testing.T, _ *redisstore.RefreshTokens, _ string) {
			if err := r.newStore(options{}).RefreshTokens().CompareAndSwap(ctx, userKey, "rt-1", ""); err != nil {
				t.Fatal(err)
			}
		}, false},
		{"the token deleted by the process holding it", func(t *testing.T, holder *redisstore.RefreshTokens, _ string) {
			if err := holder.CompareAndSwap(ctx, userKey, "rt-1", ""); err != nil {
				t.Fatal(err)
			}
		}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r.Client().FlushAll(ctx)
			holder := r.newStore(options{}).RefreshTokens()
			if err := holder.CompareAndSwap(ctx, userKey, "", "rt-1"); err != nil {
				t.Fatal(err)
			}
			other := r.newStore(options{}).RefreshTokens() // a process that never held it
			tt.lose(t, holder, r.Client().Keys(ctx, "*").Val()[0])
			want := map[bool]string{true: "rt-1", false: ""}[tt.restored]
			if v, err := holder.Load(ctx, userKey); v != want || err != nil {
				t.Errorf("the holder loads %q, %v; want %q", v, err, want)
			}
			if v, err := other.Load(ctx, userKey); v != want || err != nil {
				t.Errorf("another process loads %q, %v; want %q", v, err, want)
			}
			if tt.restored {
				if err := other.CompareAndSwap(ctx, userKey, "rt-1", "rt-2"); err != nil {
					t.Errorf("rotating the restored token: %v", err)
				}
			} else if err := other.CompareAndSwap(ctx, userKey, "", "rt-new"); err != nil {
				t.Errorf("a new authorisation after the deletion: %v", err)
			}
		})
	}
}

// Two mcv2 processes of one user; Redis restarts empty between two rounds of
// calls. The next round succeeds: the processes store the refresh token they
// hold again, and nothing is spent twice.
func TestRedisRestartedEmptyKeepsTheUsersCredential(t *testing.T) {
	r := startRedis(t)
	clock, emu := mcv2Emulator(t)
	clients := userProcesses(t, r, emu, clock, 2)
	round := func() int { return callRound(t, emu, clock, clients) }
	if n := round(); n != 0 {
		t.Fatalf("round 1: %d failed calls", n)
	}
	r.Stop()
	r.Start()
	failed := round() + round()
	st := emu.Stats()
	t.Logf("FIGURE Redis restarted empty: the next 2 rounds %d failed calls of %d, rejections %v", failed, 2*len(clients), st.Rejections)
	if failed != 0 {
		t.Errorf("%d calls failed after the restart", failed)
	}
	if n := spentTwiceOrLost(st.Rejections); n != 0 {
		t.Errorf("%d refresh tokens spent twice or lost: %v", n, st.Rejections)
	}
}
