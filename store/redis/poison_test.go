package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/internal/eventrec"
	"github.com/tokentrip/tokentrip/internal/storekey"
	"github.com/tokentrip/tokentrip/internal/storetest"
	"github.com/tokentrip/tokentrip/internal/tokenwire"
	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/provider/mcv1/mcv1test"
	"github.com/tokentrip/tokentrip/provider/mcv2"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
	redisstore "github.com/tokentrip/tokentrip/store/redis"
	"github.com/tokentrip/tokentrip/transport"
)

// mcv2Key is the StoreKey an mcv2 Transport for the emulator's default
// server-to-server client keeps its token and breaker under.
var mcv2Key = storekey.Key{Provider: "mcv2", ClientID: emulator.MCv2ClientID}

// anotherKey is the encryption key of another fleet.
var anotherKey = []byte("another fleet's key, 32 bytes!!!")

// plainToken is a token entry as the Store writes it without a key.
func plainToken(tok, rest string, fetched time.Time, life time.Duration) string {
	return fmt.Sprintf(`{"a":%q,"e":%d,"r":%q,"s":%q,"f":%d}`, tok, fetched.Add(life).UnixNano(), rest, rest, fetched.UnixNano())
}

// written returns what a Store with the settings of o writes under the credential
// id for tok (or, with breaker, for a breaker state): the bytes an attacker could
// copy, or a process with another key would write. It leaves Redis as it was.
func written(t *testing.T, r *redisServer, o options, id string, breaker bool, tok storetest.Stored) string {
	t.Helper()
	ctx := context.Background()
	st := r.newStore(o)
	kind := "token"
	if breaker {
		kind = "breaker"
		if err := st.Put(ctx, id+":breaker", tokenwire.Breaker{Failures: 1}.Encode(), time.Hour); err != nil {
			t.Fatal(err)
		}
	} else {
		l, err := st.Lock(ctx, id)
		if err != nil || l == nil {
			t.Fatalf("lock: %v, %v", l, err)
		}
		if err := l.Save(ctx, tok.Value(), time.Hour); err != nil {
			t.Fatal(err)
		}
		l.Unlock(ctx)
	}
	raw := r.Client()
	v, err := raw.Get(ctx, redisKey(id, kind)).Result()
	if err != nil {
		t.Fatal(err)
	}
	raw.Del(ctx, redisKey(id, kind))
	return v
}

// TestPoisonedStoreValues writes what an attacker with write access to Redis, a
// broken release or a misconfigured process would write under a credential's keys,
// then makes a fresh process call the API: the call succeeds with a token it
// fetched itself, the value is reported (store_corrupt) and replaced by a good one,
// and a forged token goes nowhere — with a key and without.
func TestPoisonedStoreValues(t *testing.T) {
	r := startRedis(t)
	ctx := context.Background()
	now := time.Now()
	good := storetest.Stored{Token: transport.Token{AccessToken: "genuine-looking", Expiry: now.Add(20 * time.Minute)}, Fetched: now}
	evil := good
	evil.Token.RESTInstanceURL, evil.Token.SOAPInstanceURL = "https://evil.example/", "https://evil.example/"

	type poison struct {
		name string
		kind string // the key written: "token", "breaker", "lock", "token-hash"
		// value is what is written, for the emulator at emu, with a key or without.
		value func(t *testing.T, emu string, sealed bool) string
		// forgeable: a well-formed value with a plausible token, which only a key
		// stops: without one it is adopted, rejected by the API and replaced.
		forgeable bool
		// stale: a genuine value that is no longer usable (expired): not corrupt,
		// only replaced.
		stale bool
		// keyOnly: without a key the value is what the threat model concedes (a
		// genuine token of another credential is used); tried with a key only.
		keyOnly bool
	}
	type valueFunc = func(t *testing.T, emu string, sealed bool) string
	const nineNines = `"9999-12-31T23:59:59Z"`
	literal := func(v string) valueFunc { return func(*testing.T, string, bool) string { return v } }
	forged := func(tok, rest string) valueFunc {
		return func(*testing.T, string, bool) string { return plainToken(tok, rest, now, 20*time.Minute) }
	}
	// writtenBy is what a Store with the settings of o writes for tok, under the
	// credential's keys unless id names another's.
	writtenBy := func(o options, id string, breaker bool, tok storetest.Stored) valueFunc {
		return func(t *testing.T, _ string, _ bool) string { return written(t, r, o, id, breaker, tok) }
	}
	// genuine is what a Store of the fleet writes for tok, with a key or without.
	genuine := func(breaker bool, tok storetest.Stored) valueFunc {
		return func(t *testing.T, _ string, sealed bool) string {
			return written(t, r, options{Unencrypted: !sealed}, mcv2Key.ID(), breaker, tok)
		}
	}
	old := storetest.Stored{Token: transport.Token{AccessToken: "genuine-but-old", Expiry: now.Add(-time.Hour)}, Fetched: now.Add(-80 * time.Minute)}
	poisons := []poison{
		{name: "token: {}", kind: "token", value: literal(`{}`)},
		{name: "token: null", kind: "token", value: literal(`null`)},
		{name: "token: not JSON", kind: "token", value: literal(`<html>gateway timeout</html>`)},
		{name: "token: the old gobreaker format", kind: "token", value: literal(`{"state":2,"generation":7,"counts":{"requests":0},"expiry":` + nineNines + `}`)},
		{name: "token: forged instance URL https://evil.example/", kind: "token", value: forged("forged-token", "https://evil.example/")},
		{name: "token: http:// instance URL", kind: "token", value: forged("forged-token", "http://mc563885gzs27c5t9-63k636tzgm.rest.marketingcloudapis.com/")},
		{name: "token: expiry in 9999", kind: "token", value: literal(fmt.Sprintf(`{"a":"forged-token","e":%d,"f":%d}`, int64(1<<63-1), now.UnixNano()))},
		{name: "token: CR LF in the token", kind: "token", value: forged("forged\r\nX-Evil: 1", "")},
		{name: "token: sealed with the fleet's key, instance URL https://evil.example/", kind: "token", value: writtenBy(options{}, mcv2Key.ID(), false, evil)},
		{name: "token: a hash under the token's key", kind: "token-hash", value: literal("x")},
		{name: "token: sealed with the fleet's key, expired an hour ago", kind: "token", stale: true, value: genuine(false, old)},
		{name: "token: sealed with the fleet's key for another credential, copied", kind: "token", keyOnly: true,
			value: writtenBy(options{}, storekey.Key{Provider: "mcv2", ClientID: "another-client"}.ID(), false, good)},
		{name: "token: plausible forgery (emulator instance URL)", kind: "token", forgeable: true, value: func(_ *testing.T, emu string, _ bool) string {
			return plainToken("forged-token", emu+"/", now, 20*time.Minute)
		}},
		{name: "breaker: {}", kind: "breaker", value: literal(`{}`)},
		{name: "breaker: null", kind: "breaker", value: literal(`null`)},
		{name: "breaker: not JSON", kind: "breaker", value: literal(`not json`)},
		{name: "breaker: the old gobreaker format, open until 9999", kind: "breaker", value: literal(`{"state":2,"generation":1,"counts":{"requests":0,"total_successes":0,"total_failures":3,"consecutive_successes":0,"consecutive_failures":3},"expiry":` + nineNines + `}`)},
		{name: "breaker: forged open until 2262", kind: "breaker", value: literal(fmt.Sprintf(`{"o":%d,"f":3}`, int64(1<<63-1)))},
		{name: "breaker: a failure count no fleet reaches", kind: "breaker", value: literal(`{"o":0,"f":-4}`)},
		{name: "lock: held forever", kind: "lock", value: literal("not-a-fence")},
	}
	// What the fleet's key protects, for both values: a sealed one cut short, one
	// sealed with another key, and a genuine value of the other kind copied over.
	for _, k := range []struct {
		kind, other string
		breaker     bool
		cut         int // bytes cut off the sealed value
	}{
		{"token", "a sealed breaker state copied to the token's key", false, 5},
		{"breaker", "a sealed token entry copied to the breaker's key", true, 1},
	} {
		poisons = append(poisons,
			poison{name: k.kind + ": truncated sealed value", kind: k.kind, value: func(t *testing.T, emu string, sealed bool) string {
				v := writtenBy(options{}, mcv2Key.ID(), k.breaker, good)(t, emu, sealed)
				return v[:len(v)-k.cut]
			}},
			poison{name: k.kind + ": sealed with another key", kind: k.kind, value: writtenBy(options{EncryptionKey: anotherKey}, mcv2Key.ID(), k.breaker, good)},
			poison{name: k.kind + ": " + k.other, kind: k.kind, value: genuine(!k.breaker, good)},
		)
	}
	for _, sealed := range []bool{true, false} {
		for _, p := range poisons {
			mode := map[bool]string{true: "with a key", false: "without a key"}[sealed]
			if p.keyOnly && !sealed {
				continue
			}
			t.Run(mode+"/"+p.name, func(t *testing.T) {
				raw := r.Client()
				raw.FlushAll(ctx)
				emu := mcv2test.NewServer()
				defer emu.Close()
				value := p.value(t, emu.URL, sealed)
				switch p.kind {
				case "token-hash":
					raw.HSet(ctx, redisKey(mcv2Key.ID(), "token"), "a", value)
				case "lock":
					raw.Set(ctx, redisKey(mcv2Key.ID(), "lock"), value, 0) // no expiry
				default:
					raw.Set(ctx, redisKey(mcv2Key.ID(), p.kind), value, time.Hour)
				}

				ev := &eventrec.Recorder{}
				st := r.newStore(options{Unencrypted: !sealed, Hook: ev.Hook})
				base := &recordingBase{}
				tr, err := mcv2.NewTransport(mcv2.Config{
					AuthURL:      emu.URL,
					ClientID:     emulator.MCv2ClientID,
					ClientSecret: emulator.MCv2ClientSecret,
					Common: provider.Common{
						Source:    transport.Settings{Store: st, Hook: ev.Hook},
						Transport: transport.Options{Base: base},
					},
				})
				if err != nil {
					t.Fatal(err)
				}
				client := &http.Client{Transport: tr}
				began := time.Now()
				resp, err := client.Get(emu.URL + "/platform/v1/endpoints")
				took := time.Since(began)
				if err != nil {
					t.Fatalf("call: %v", err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("call: %s", resp.Status)
				}
				// A request to the forged host carries nothing, whatever the poison.
				if resp, err := client.Get("https://evil.example/steal"); err == nil {
					resp.Body.Close()
				}
				if got := base.authorizations("evil.example"); len(got) != 1 || got[0] != "" {
					t.Errorf("evil.example was sent %q; want one request without a credential", got)
				}

				stats := emu.Stats()
				adopted := p.forgeable && !sealed
				corrupt := ev.Count(transport.EventStoreCorrupt)
				t.Logf("FIGURE poison %s, %s: call OK in %v; %d token request(s), %d store_corrupt event(s), API rejections %v",
					p.name, mode, took.Round(time.Millisecond), stats.TokenRequests, corrupt, stats.Rejections)
				if stats.TokenRequests != 1 {
					t.Errorf("%d token requests, want 1: the process fetches its own", stats.TokenRequests)
				}
				if adopted {
					// Without a key a well-formed forgery is adopted once: the API
					// refuses it, and the Transport replaces it and replays.
					if corrupt != 0 || stats.Rejections[emulator.ReasonInvalidToken] != 1 {
						t.Errorf("forgery without a key: %d store_corrupt, rejections %v; want 0 and one invalid_token", corrupt, stats.Rejections)
					}
				} else {
					if corrupt < 1 && !p.stale {
						t.Error("no store_corrupt event")
					}
					if corrupt != 0 && p.stale {
						t.Errorf("%d store_corrupt events for a genuine expired token", corrupt)
					}
					if len(stats.Rejections) != 0 {
						t.Errorf("the API refused %v: a poisoned token was sent", stats.Rejections)
					}
				}
				if took > 5*time.Second {
					t.Errorf("the call took %v", took)
				}

				// The poison is gone: a process that starts now adopts the good token.
				cur, _ := tr.Source().Current()
				next := r.newStore(options{Unencrypted: !sealed})
				switch p.kind {
				case "breaker":
					v, ok, err := next.Load(ctx, mcv2Key.ID()+":breaker")
					rec, derr := tokenwire.DecodeBreaker(v)
					if err != nil || !ok || derr != nil || rec != (tokenwire.Breaker{}) {
						t.Errorf("breaker state after the fetch: %+v, %t, %v; want a closed state written over the poison", rec, ok, err)
					}
				case "lock":
					if n, _ := raw.Exists(ctx, redisKey(mcv2Key.ID(), "lock")).Result(); n != 0 {
						t.Error("the forged lock is still there")
					}
					fallthrough
				default:
					got, ok, err := storetest.Load(ctx, next, mcv2Key.ID())
					if err != nil || !ok || got.Token.AccessToken != cur.AccessToken {
						t.Errorf("token after the fetch: %v, %t, %v; want the fetched token written over the poison", got.Token, ok, err)
					}
				}
			})
		}
	}
}

// A breaker state that says "open" for no longer than one cooldown is believable:
// without a key anyone who can write to Redis can hold the fleet's fetches off for
// that long; with a key such a state does not open, so it is ignored and replaced.
func TestForgedOpenBreaker(t *testing.T) {
	r := startRedis(t)
	ctx := context.Background()
	const cooldown = 30 * time.Second
	for _, sealed := range []bool{true, false} {
		t.Run(map[bool]string{true: "with a key", false: "without a key"}[sealed], func(t *testing.T) {
			raw := r.Client()
			raw.FlushAll(ctx)
			emu := mcv2test.NewServer()
			defer emu.Close()
			raw.Set(ctx, redisKey(mcv2Key.ID(), "breaker"), fmt.Sprintf(`{"o":%d,"f":3}`, time.Now().Add(cooldown).UnixNano()), time.Hour)
			st := r.newStore(options{Unencrypted: !sealed})
			tr, err := mcv2.NewTransport(mcv2.Config{
				AuthURL:      emu.URL,
				ClientID:     emulator.MCv2ClientID,
				ClientSecret: emulator.MCv2ClientSecret,
				Common: provider.Common{
					Source: transport.Settings{Store: st, Breaker: transport.BreakerSettings{Rejections: 3, Outages: 5, Cooldown: cooldown}},
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			_, err = tr.Source().Token(ctx)
			var open *transport.RetryError
			refused := errors.As(err, &open) && errors.Is(err, transport.ErrCircuitOpen)
			t.Logf("FIGURE forged breaker open for one cooldown (%v), %s: refused %t (%v), token requests %d",
				cooldown, map[bool]string{true: "with a key", false: "without a key"}[sealed], refused, err, emu.Stats().TokenRequests)
			if sealed && (err != nil || emu.Stats().TokenRequests != 1) {
				t.Errorf("with a key: %v, %d token requests; want the forgery ignored and one fetch", err, emu.Stats().TokenRequests)
			}
			if !sealed && (!refused || open.Retry.After(time.Now().Add(cooldown)) || emu.Stats().TokenRequests != 0) {
				t.Errorf("without a key: %v; want a refusal until at most one cooldown from now, and no request", err)
			}
		})
	}
}

// A refresh token in Redis that does not open, is not a token, or does not match
// its digest counts as absent (reported once), the process's own copy stands in for
// it when it has one, and the next rotation replaces it.
func TestPoisonedRefreshToken(t *testing.T) {
	r := startRedis(t)
	ctx := context.Background()
	for _, tt := range []struct {
		name  string
		plain bool // a Store without a key
		write func(t *testing.T, rk string)
	}{
		{name: "sealed with another key", write: func(t *testing.T, _ string) {
			if err := r.newStore(options{EncryptionKey: anotherKey}).RefreshTokens().CompareAndSwap(ctx, userKey, "", "rt-other"); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "truncated sealed value", write: func(t *testing.T, rk string) {
			if err := r.newStore(options{}).RefreshTokens().CompareAndSwap(ctx, userKey, "", "rt-good"); err != nil {
				t.Fatal(err)
			}
			v := r.Client().HGet(ctx, rk, "v").Val()
			r.Client().HSet(ctx, rk, "v", v[:len(v)-3])
		}},
		{name: "plain value where a key is required", write: func(_ *testing.T, rk string) {
			r.Client().HSet(ctx, rk, "d", "", "v", "rt-forged")
		}},
		{name: "a string under the refresh token's key", write: func(_ *testing.T, rk string) {
			r.Client().Set(ctx, rk, "rt-forged", 0)
		}},
		{name: "a refresh token without its digest", plain: true, write: func(_ *testing.T, rk string) {
			r.Client().HSet(ctx, rk, "v", "rt-forged")
		}},
		{name: "an access token without a refresh token", write: func(_ *testing.T, rk string) {
			r.Client().HSet(ctx, rk, "a", "at-forged")
		}},
		{name: "digest that does not match", plain: true, write: func(_ *testing.T, rk string) {
			r.Client().HSet(ctx, rk, "d", "0000", "v", "rt-forged")
		}},
		{name: "CR LF in the token", plain: true, write: func(t *testing.T, rk string) {
			if err := r.newStore(options{Unencrypted: true}).RefreshTokens().CompareAndSwap(ctx, userKey, "", "rt\r\nforged"); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			raw := r.Client()
			raw.FlushAll(ctx)
			ev := &eventrec.Recorder{}
			newStore := func(o options) *redisstore.Store { o.Unencrypted = tt.plain; return r.newStore(o) }
			known := newStore(options{Hook: ev.Hook}).RefreshTokens() // a process that saw rt-1
			fresh := newStore(options{Hook: ev.Hook}).RefreshTokens() // a process that never did
			if err := known.CompareAndSwap(ctx, userKey, "", "rt-1"); err != nil {
				t.Fatal(err)
			}
			raw.FlushAll(ctx)
			rk := ""
			if keys := func() []string {
				_ = newStore(options{}).RefreshTokens().CompareAndSwap(ctx, userKey, "", "probe")
				k, _ := raw.Keys(ctx, "*").Result()
				return k
			}(); len(keys) == 1 {
				rk = keys[0]
			} else {
				t.Fatalf("keys %v", keys)
			}
			raw.FlushAll(ctx)
			tt.write(t, rk)

			if v, err := fresh.Load(ctx, userKey); v != "" || err != nil {
				t.Errorf("a process without a copy loads %q, %v; want nothing", v, err)
			}
			if v, err := known.Load(ctx, userKey); v != "rt-1" || err != nil {
				t.Errorf("a process with a copy loads %q, %v; want its copy", v, err)
			}
			if n := ev.Count(transport.EventStoreCorrupt); n < 1 {
				t.Error("no store_corrupt event")
			}
			// The next rotation replaces the poison, from the process's copy or, in a
			// process without one, from nothing (a user authorising again); every
			// process then reads it.
			rotator, prev := known, "rt-1"
			if tt.plain {
				rotator, prev = fresh, ""
			}
			if err := rotator.CompareAndSwap(ctx, userKey, prev, "rt-2"); err != nil {
				t.Fatalf("rotation over the poison: %v", err)
			}
			if v, err := newStore(options{}).RefreshTokens().Load(ctx, userKey); v != "rt-2" || err != nil {
				t.Errorf("after the rotation: %q, %v; want rt-2", v, err)
			}
		})
	}
}

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

// The access token kept with a refresh token comes back from LoadPair only when it
// opens, decodes and was stored with that very refresh token. Whatever else
// someone who can write to Redis puts in its place — a value replayed from an
// earlier rotation, copied from another user's entry or from a Source's token key,
// sealed with another key, cut short, or no token at all — comes back as no access
// token (the provider then refreshes), is reported, and the next rotation replaces
// it; the refresh token stored with it still loads.
func TestPoisonedAccessTokenKeptWithARefreshToken(t *testing.T) {
	r := startRedis(t)
	ctx := context.Background()
	raw := r.Client()
	now := time.Now()
	access := func(tok string) transport.Token {
		return transport.Token{AccessToken: tok, Expiry: now.Add(20 * time.Minute), RESTInstanceURL: "https://rest.example/"}
	}
	// kept returns the access-token field a Store with the settings of o writes
	// for key when it stores refresh with tok, in an otherwise empty Redis.
	kept := func(t *testing.T, o options, key, refresh string, tok transport.Token) string {
		t.Helper()
		raw.FlushAll(ctx)
		if err := r.newStore(o).RefreshTokens().CompareAndSwapPair(ctx, key, "", refresh, tok); err != nil {
			t.Fatal(err)
		}
		keys := raw.Keys(ctx, "*").Val()
		if len(keys) != 1 {
			t.Fatalf("keys %v", keys)
		}
		return raw.HGet(ctx, keys[0], "a").Val()
	}
	mode := func(sealed bool) options { return options{Unencrypted: !sealed} }
	for _, tt := range []struct {
		name string
		// plant returns the value written over the access token kept with rt-1, or
		// "" to leave the one the fleet wrote.
		plant func(t *testing.T, sealed bool) string
		// forgeable: without a key the value is what the threat model concedes (a
		// token anyone who can write to Redis makes the fleet adopt, which the
		// provider checks as if it came from the network).
		forgeable bool
	}{
		{name: "as the fleet wrote it", plant: func(*testing.T, bool) string { return "" }},
		{name: "kept with an earlier refresh token of this user, written back", plant: func(t *testing.T, sealed bool) string {
			return kept(t, mode(sealed), userKey, "rt-0", access("at-0"))
		}},
		{name: "kept with another user's refresh token, copied", plant: func(t *testing.T, sealed bool) string {
			return kept(t, mode(sealed), "mcv2/user-2", "rt-9", access("at-9"))
		}},
		{name: "sealed with another key", plant: func(t *testing.T, _ bool) string {
			return kept(t, options{EncryptionKey: anotherKey}, userKey, "rt-1", access("at-1"))
		}},
		{name: "a Source's token entry, copied from its token key", plant: func(t *testing.T, sealed bool) string {
			return written(t, r, mode(sealed), mcv2Key.ID(), false, storetest.Stored{Token: access("at-source"), Fetched: now})
		}},
		{name: "truncated", plant: func(t *testing.T, sealed bool) string {
			v := kept(t, mode(sealed), userKey, "rt-1", access("at-1"))
			return v[:len(v)-5]
		}},
		{name: "{}", plant: func(*testing.T, bool) string { return "{}" }},
		{name: "null", plant: func(*testing.T, bool) string { return "null" }},
		{name: "not JSON", plant: func(*testing.T, bool) string { return "<html>gateway timeout</html>" }},
		{name: "a plain token naming the stored refresh token's digest", forgeable: true, plant: func(t *testing.T, sealed bool) string {
			kept(t, mode(sealed), userKey, "rt-1", access("at-1"))
			keys := raw.Keys(ctx, "*").Val()
			w := tokenwire.New(tokenwire.Fields(access("at-forged")), time.Time{})
			w.Refresh = raw.HGet(ctx, keys[0], "d").Val() // the digest is not secret
			return string(w.Encode())
		}},
	} {
		for _, sealed := range []bool{true, false} {
			t.Run(map[bool]string{true: "with a key", false: "without a key"}[sealed]+"/"+tt.name, func(t *testing.T) {
				value := tt.plant(t, sealed)
				raw.FlushAll(ctx)
				if err := r.newStore(mode(sealed)).RefreshTokens().CompareAndSwapPair(ctx, userKey, "", "rt-1", access("at-1")); err != nil {
					t.Fatal(err)
				}
				if value != "" {
					keys := raw.Keys(ctx, "*").Val()
					if len(keys) != 1 {
						t.Fatalf("keys %v", keys)
					}
					raw.HSet(ctx, keys[0], "a", value)
				}
				ev := &eventrec.Recorder{}
				reader := r.newStore(options{Unencrypted: !sealed, Hook: ev.Hook}).RefreshTokens() // a process that never saw rt-1
				refresh, got, err := reader.LoadPair(ctx, userKey)
				if refresh != "rt-1" || err != nil {
					t.Fatalf("LoadPair: %q, %v; want rt-1", refresh, err)
				}
				corrupt := ev.Count(transport.EventStoreCorrupt)
				want := "" // what comes back as the access token
				switch {
				case value == "":
					want = "at-1"
				case tt.forgeable && !sealed:
					want = "at-forged"
				}
				if want != "" {
					if got.AccessToken != want || corrupt != 0 {
						t.Errorf("access token %q, %d store_corrupt; want %q and none", got.AccessToken, corrupt, want)
					}
					return
				}
				if got != (transport.Token{}) {
					t.Errorf("access token %q adopted; want none", got.AccessToken)
				}
				if corrupt != 1 {
					t.Errorf("%d store_corrupt events, want 1", corrupt)
				}
				for _, e := range ev.Events() {
					if e.Kind == transport.EventStoreCorrupt && !errors.Is(e.Err, transport.ErrCorruptValue) {
						t.Errorf("store_corrupt with %v, want an error wrapping ErrCorruptValue", e.Err)
					}
				}
				// The provider refreshes, and its rotation replaces the poison.
				if err := reader.CompareAndSwapPair(ctx, userKey, "rt-1", "rt-2", access("at-2")); err != nil {
					t.Fatalf("the rotation over the poison: %v", err)
				}
				if refresh, got, err := r.newStore(mode(sealed)).RefreshTokens().LoadPair(ctx, userKey); refresh != "rt-2" || got.AccessToken != "at-2" || err != nil {
					t.Errorf("after the rotation: %q, %q, %v; want rt-2 and at-2", refresh, got.AccessToken, err)
				}
			})
		}
	}
}
