package redisstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/eventrec"
	"github.com/tokentrip/tokentrip/provider/mcv1/mcv1test"
	redisstore "github.com/tokentrip/tokentrip/store/redis"
	"github.com/tokentrip/tokentrip/transport"
)

// A fleet whose processes disagree about the encryption key — another key, or no
// key at all, as during a careless rollout — never fails a call and never falls
// back to reading or writing plaintext: each process reads the other's values as
// corrupt, says why (the value does not open with its key, or is not sealed), and
// fetches its own token, one per process per token lifetime instead of one for the
// fleet; it does not fetch again and again.
func TestProcessesThatDisagreeAboutTheKey(t *testing.T) {
	r := startRedis(t)
	ctx := context.Background()
	const windows, perWindow = 5, 10
	for _, tt := range []struct {
		name     string
		second   func() *redisstore.Store
		requests int    // token requests for the fleet in all windows
		why      string // in the second process's store_corrupt events
	}{
		{"one key", func() *redisstore.Store { return r.newStore(options{}) }, windows, ""},
		{"another key", func() *redisstore.Store {
			return r.newStore(options{EncryptionKey: []byte("0123456789abcdef")})
		}, 2 * windows, "does not open with this Store's encryption key"},
		{"no key", func() *redisstore.Store { return r.newStore(options{Unencrypted: true}) }, 2 * windows, "encrypted, and this Store has no encryption key"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r.Client().FlushAll(ctx)
			clock := newClock()
			emu := mcv1test.NewServer(mcv1test.WithClock(clock.Now))
			defer emu.Close()
			evs := []*eventrec.Recorder{{}, {}}
			var srcs []*transport.Source
			for i, st := range []*redisstore.Store{r.newStore(options{}), tt.second()} {
				srcs = append(srcs, transport.NewSource(&mcv1Provider{base: emu.URL, now: clock.Now}, transport.Settings{Clock: clock.Now, Store: st, StoreKey: testKey.ID(), Hook: evs[i].Hook}))
			}
			failed := 0
			for w := range windows {
				if w > 0 {
					clock.Advance(time.Hour) // past the token's life
				}
				for range perWindow {
					for _, src := range srcs {
						if _, err := src.Token(ctx); err != nil {
							failed++
						}
					}
				}
			}
			corrupt := evs[0].Count(transport.EventStoreCorrupt) + evs[1].Count(transport.EventStoreCorrupt)
			t.Logf("FIGURE processes with %s: %d calls, %d failed, %d token requests in %d windows, %d store_corrupt",
				tt.name, windows*perWindow*len(srcs), failed, emu.Stats().TokenRequests, windows, corrupt)
			if failed != 0 || emu.Stats().TokenRequests != tt.requests {
				t.Errorf("%d failed calls, %d token requests; want 0 and %d", failed, emu.Stats().TokenRequests, tt.requests)
			}
			if tt.why == "" {
				if corrupt != 0 {
					t.Errorf("%d store_corrupt events with one key", corrupt)
				}
				return
			}
			if corrupt < windows || corrupt > 2*windows {
				t.Errorf("%d store_corrupt events; want one per process per window at most, and at least one per window", corrupt)
			}
			said := false
			for _, ev := range evs[1].Events() {
				if ev.Kind == transport.EventStoreCorrupt && errors.Is(ev.Err, transport.ErrCorruptValue) && strings.Contains(ev.Err.Error(), tt.why) {
					said = true
				}
			}
			if !said {
				t.Errorf("no store_corrupt event says %q", tt.why)
			}
		})
	}
}
