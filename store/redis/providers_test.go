package redisstore_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/internal/storekey"
	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/provider/acoustic"
	"github.com/tokentrip/tokentrip/provider/acoustic/acoustictest"
	"github.com/tokentrip/tokentrip/provider/mcv2"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
	"github.com/tokentrip/tokentrip/transport"
)

// A user's rotating refresh token (mcv2 authorization-code flow) shared by six
// processes: each token window spends the current refresh token once, for the
// whole fleet, and every process adopts the result.
func TestMCV2RefreshTokenRotatesOncePerWindowAcrossTheFleet(t *testing.T) {
	r := startRedis(t)
	clock, emu := mcv2Emulator(t)
	emu.SetTokenLatency(10 * time.Millisecond)
	const redirect = "https://app.example/callback"
	newProvider := func() (*mcv2.Provider, transport.Settings) {
		st := r.newStore(options{EncryptionKey: []byte("an AES-128 key!!")})
		p, err := mcv2.NewProvider(mcv2.Config{
			AuthURL:       emu.URL,
			ClientID:      emulator.MCv2WebAppID,
			ClientSecret:  emulator.MCv2WebAppSecret,
			RedirectURI:   redirect,
			RefreshTokens: st.RefreshTokens(),
			Common:        provider.Common{Source: transport.Settings{Clock: clock.Now}},
		})
		if err != nil {
			t.Fatal(err)
		}
		key := storekey.Key{Provider: "mcv2", ClientID: emulator.MCv2WebAppID, Subject: p.RefreshTokenKey()}
		return p, transport.Settings{Clock: clock.Now, Store: st, StoreKey: key.ID()}
	}

	// The user authorises the app once, in one process.
	first, _ := newProvider()
	code := emu.IssueCode(mcv2test.CodeGrant{RedirectURI: redirect})
	if _, err := first.Exchange(context.Background(), mcv2.Callback{Code: code}); err != nil {
		t.Fatal(err)
	}

	var srcs []*transport.Source
	for range 6 {
		p, set := newProvider()
		srcs = append(srcs, transport.NewSource(p, set))
	}
	const windows = 4
	for w := range windows {
		clock.Advance(21 * time.Minute) // past the 20-minute lifetime: everyone needs a token
		if got := tokensOf(t, srcs, 10); len(got) != 1 {
			t.Fatalf("window %d: %d distinct tokens", w, len(got))
		}
	}
	st := emu.Stats()
	if n := st.TokenRequestsByGrant["refresh_token"]; n != windows {
		t.Fatalf("refresh_token grants %d (%v), want %d: one per window for the fleet", n, st.TokenRequestsByGrant, windows)
	}
	if n := spentTwiceOrLost(st.Rejections); n != 0 {
		t.Fatalf("%d refresh tokens spent twice or lost: %v", n, st.Rejections)
	}
}

// Three processes of one Acoustic org, each with an http.Client whose Limiter is
// the fleet's Redis semaphore: together they never exceed the org's ten calls in
// flight, where three per-process limiters of ten each let the emulator reject
// calls; and they share one access token.
func TestAcousticCapHoldsAcrossTheFleet(t *testing.T) {
	r := startRedis(t)
	for _, shared := range []bool{false, true} {
		emu := acoustictest.NewServer(acoustictest.WithConcurrencyLimit(acoustic.DefaultMaxInFlight))
		emu.SetAPILatency(20 * time.Millisecond)
		var clients []*http.Client
		for range 3 {
			cfg := acoustic.Config{
				BaseURL:      emu.URL,
				ClientID:     emulator.AcousticClientID,
				ClientSecret: emulator.AcousticClientSecret,
				RefreshToken: emulator.AcousticRefreshToken,
			}
			if shared {
				st := r.newStore(options{PollInterval: 10 * time.Millisecond})
				cfg.Limiter = st.Semaphore("acoustic org "+emu.URL, acoustic.DefaultMaxInFlight)
				cfg.Source = transport.Settings{Store: st, StoreKey: storekey.Key{Provider: "acoustic", ClientID: emulator.AcousticClientID}.ID()}
			}
			c, err := acoustic.NewClient(cfg)
			if err != nil {
				t.Fatal(err)
			}
			clients = append(clients, c)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		statuses := map[int]int{}
		for i := range 90 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := clients[i%3].Post(emu.URL+"/XMLAPI", "text/xml;charset=UTF-8",
					strings.NewReader(`<Envelope><Body><GetLists><VISIBILITY>1</VISIBILITY><LIST_TYPE>2</LIST_TYPE></GetLists></Body></Envelope>`))
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				statuses[resp.StatusCode]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		st := emu.Stats()
		emu.Close()
		t.Logf("shared limiter %t: statuses %v, most in flight %d, rejected by the cap %d, token requests %d",
			shared, statuses, st.MaxConcurrent, st.ConcurrencyRejections, st.TokenRequests)
		if !shared {
			if st.ConcurrencyRejections == 0 {
				t.Fatal("three per-process limiters stayed under the org's cap: the test shows nothing")
			}
			continue
		}
		if st.ConcurrencyRejections != 0 || statuses[http.StatusOK] != 90 || st.MaxConcurrent > acoustic.DefaultMaxInFlight {
			t.Fatalf("with the fleet's semaphore: %d rejected by the cap, statuses %v, most in flight %d; want 0, 90×200, at most %d",
				st.ConcurrencyRejections, statuses, st.MaxConcurrent, acoustic.DefaultMaxInFlight)
		}
		if st.TokenRequests != 1 {
			t.Fatalf("token requests %d, want 1 for the fleet", st.TokenRequests)
		}
	}
}
