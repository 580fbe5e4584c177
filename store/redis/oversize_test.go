package redisstore_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/internal/eventrec"
	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/provider/mcv2"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
	redisstore "github.com/tokentrip/tokentrip/store/redis"
	"github.com/tokentrip/tokentrip/transport"
)

// countingConn counts the bytes a Redis client reads from the server.
type countingConn struct {
	net.Conn
	read *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

// countingStore returns a Store with the settings of o (and testTimeout) on a
// client of r that counts the bytes it reads into read.
func (r *redisServer) countingStore(read *atomic.Int64, o options) *redisstore.Store {
	r.t.Helper()
	co := fastClientOptions(r.Addr())
	co.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countingConn{Conn: c, read: read}, nil
	}
	c := redis.NewClient(co)
	r.t.Cleanup(func() { c.Close() })
	o.Timeout = testTimeout
	return r.storeOn(c, o)
}

// A value far larger than anything tokentrip writes — under the token's key, the
// breaker's, or in a field of a refresh token's entry — is corrupt without being
// read: the process reads no more than a bounded prefix of nothing (Redis answers
// with its length), fetches, reports store_corrupt and replaces it. Read whole, a
// 100 MB value cost every process 100–200 MB of memory and 2–4 s at every look;
// past the Store's timeout it passed for an outage, so the value was never
// replaced and the fleet stopped sharing for good.
func TestOversizedValuesAreNotRead(t *testing.T) {
	r := startRedis(t)
	ctx := context.Background()
	const maxRead = 64 << 10 // what a process may read: a few answers, never the value
	for _, tt := range []struct {
		name string
		size int    // bytes planted
		kind string // "token", "breaker", or a refresh token's field: "d", "v", "a"
	}{
		{"token entry of 100 MB", 100 << 20, "token"},
		{"token entry of 1 MB", 1 << 20, "token"},
		{"breaker state of 16 MB", 16 << 20, "breaker"},
		{"refresh token of 16 MB", 16 << 20, "v"},
		{"refresh token's digest of 16 MB", 16 << 20, "d"},
		{"access token kept with the refresh token, 16 MB", 16 << 20, "a"},
	} {
		for _, sealed := range []bool{true, false} {
			mode := map[bool]string{true: "with a key", false: "without a key"}[sealed]
			t.Run(mode+"/"+tt.name, func(t *testing.T) {
				raw := r.Client()
				raw.FlushAll(ctx)
				planter := redis.NewClient(&redis.Options{Addr: r.Addr(), ReadTimeout: time.Minute, WriteTimeout: time.Minute})
				defer planter.Close()
				huge := strings.Repeat("A", tt.size)
				ev := &eventrec.Recorder{}
				var read atomic.Int64
				st := r.countingStore(&read, options{Unencrypted: !sealed, Hook: ev.Hook})
				switch tt.kind {
				case "token", "breaker":
					if err := planter.Set(ctx, redisKey(mcv2Key.ID(), tt.kind), huge, time.Hour).Err(); err != nil {
						t.Fatal(err)
					}
					emu := mcv2test.NewServer()
					defer emu.Close()
					tr, err := mcv2.NewTransport(mcv2.Config{
						AuthURL:      emu.URL,
						ClientID:     emulator.MCv2ClientID,
						ClientSecret: emulator.MCv2ClientSecret,
						Common:       provider.Common{Source: transport.Settings{Store: st, Hook: ev.Hook}},
					})
					if err != nil {
						t.Fatal(err)
					}
					read.Store(0)
					began := time.Now()
					resp, err := (&http.Client{Transport: tr}).Get(emu.URL + "/platform/v1/endpoints")
					took := time.Since(began)
					if err != nil {
						t.Fatal(err)
					}
					resp.Body.Close()
					t.Logf("FIGURE oversized %s, %s: call %s in %v, %d bytes read from Redis, %d token request(s), %d store_corrupt, %d store_down",
						tt.name, mode, resp.Status, took.Round(time.Millisecond), read.Load(), emu.Stats().TokenRequests,
						ev.Count(transport.EventStoreCorrupt), ev.Count(transport.EventStoreDown))
					if resp.StatusCode != http.StatusOK || emu.Stats().TokenRequests != 1 {
						t.Errorf("call %s with %d token requests; want 200 OK and 1", resp.Status, emu.Stats().TokenRequests)
					}
					if n := raw.StrLen(ctx, redisKey(mcv2Key.ID(), tt.kind)).Val(); n >= int64(tt.size) {
						t.Errorf("the planted value is still there (%d bytes)", n)
					}
				default: // a field of a refresh token's entry
					rts := st.RefreshTokens()
					if err := rts.CompareAndSwap(ctx, userKey, "", "rt-1"); err != nil {
						t.Fatal(err)
					}
					keys := raw.Keys(ctx, "*").Val()
					if len(keys) != 1 {
						t.Fatalf("keys %v", keys)
					}
					if err := planter.HSet(ctx, keys[0], tt.kind, huge).Err(); err != nil {
						t.Fatal(err)
					}
					read.Store(0)
					v, err := rts.Load(ctx, userKey)
					t.Logf("FIGURE oversized %s, %s: Load %q, %v; %d bytes read from Redis, %d store_corrupt",
						tt.name, mode, v, err, read.Load(), ev.Count(transport.EventStoreCorrupt))
					if v != "rt-1" || err != nil {
						t.Errorf("Load: %q, %v; want the process's own rt-1", v, err)
					}
					if err := rts.CompareAndSwap(ctx, userKey, "rt-1", "rt-2"); err != nil {
						t.Fatalf("the next rotation over the planted value: %v", err)
					}
					fresh := r.newStore(options{Unencrypted: !sealed})
					if v, err := fresh.RefreshTokens().Load(ctx, userKey); v != "rt-2" || err != nil {
						t.Errorf("a fresh process loads %q, %v; want rt-2", v, err)
					}
				}
				if n := read.Load(); n > maxRead {
					t.Errorf("the process read %d bytes from Redis; want at most %d", n, maxRead)
				}
				if ev.Count(transport.EventStoreCorrupt) < 1 {
					t.Error("no store_corrupt event")
				}
			})
		}
	}
}
