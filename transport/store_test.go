package transport_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/eventrec"
	"github.com/tokentrip/tokentrip/internal/providerfunc"
	"github.com/tokentrip/tokentrip/internal/storekey"
	"github.com/tokentrip/tokentrip/internal/storetest"
	"github.com/tokentrip/tokentrip/store"
	"github.com/tokentrip/tokentrip/transport"
)

var storeKey = storekey.Key{Provider: "mcv2", ClientID: "client-id-1234", AccountID: "5150", Scope: "email_read"}

// newFleet returns a tokenServer on a fake clock, and sources, which makes n
// Sources of one credential on that clock, sharing st; set gives their other
// settings.
func newFleet(t *testing.T, st transport.Store) (*tokenServer, *fakeClock, func(n int, set transport.Settings) []*transport.Source) {
	clock := newClock()
	ts := newTokenServer(t, clock)
	return ts, clock, func(n int, set transport.Settings) []*transport.Source {
		srcs := make([]*transport.Source, n)
		set.Clock, set.Store, set.StoreKey = clock.Now, st, storeKey.ID()
		for i := range srcs {
			srcs[i] = transport.NewSource(ts.provider(), set)
		}
		return srcs
	}
}

// sameToken reports whether a and b are one token: a token read back from a
// Store has its times in another location, and no monotonic reading.
func sameToken(a, b transport.Token) bool {
	return a.AccessToken == b.AccessToken && a.Expiry.Equal(b.Expiry) && a.RefreshAfter.Equal(b.RefreshAfter) &&
		a.RESTInstanceURL == b.RESTInstanceURL && a.SOAPInstanceURL == b.SOAPInstanceURL && a.Scope == b.Scope
}

func currentTokens(srcs []*transport.Source) map[string]int {
	got := map[string]int{}
	for _, src := range srcs {
		tok, _ := src.Current()
		got[tok.AccessToken]++
	}
	return got
}

func TestSourcesShareOneFetchThroughAStore(t *testing.T) {
	ts, clock, sources := newFleet(t, &store.MemoryTokens{})
	ts.latency = 20 * time.Millisecond
	srcs := sources(5, transport.Settings{})

	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			if _, err := srcs[i%len(srcs)].Token(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := ts.requests.Load(); n != 1 {
		t.Fatalf("cold start of 5 Sources: %d token requests, want 1", n)
	}

	clock.Advance(16 * time.Minute) // past the refresh point of a 20-minute token
	for _, src := range srcs {
		if _, err := src.Token(context.Background()); err != nil {
			t.Fatal(err)
		}
		src.Wait()
	}
	if got := currentTokens(srcs); ts.requests.Load() != 2 || len(got) != 1 || got["tok-2"] != 5 {
		t.Fatalf("after the refresh point: %d requests, tokens %v; want 2 and every Source on tok-2", ts.requests.Load(), got)
	}
	fetches := 0
	for _, src := range srcs {
		fetches += int(src.Stats().Fetches)
	}
	if fetches != 2 {
		t.Fatalf("fetches over the Sources %d, want 2", fetches)
	}
}

func TestSourceWithStoreAdoptsAndReportsIt(t *testing.T) {
	ts, clock, sources := newFleet(t, &store.MemoryTokens{})
	ts.lifetime = 4 * time.Minute // refresh lead: half the lifetime, 2 minutes
	a := sources(1, transport.Settings{})[0]
	rec := &eventrec.Recorder{}
	b := sources(1, transport.Settings{Hook: rec.Hook})[0]
	ta, err := a.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Minute)
	tb, err := b.Token(context.Background())
	if err != nil || !sameToken(tb, ta) {
		t.Fatalf("B got %v, %v; want A's token", tb, err)
	}
	if rec.Count(transport.EventAdopted) != 1 || rec.Count(transport.EventFetched) != 0 {
		t.Fatalf("B's events: %d adopted, %d fetched; want 1 and 0", rec.Count(transport.EventAdopted), rec.Count(transport.EventFetched))
	}
	// B adopted a minute late, yet refreshes when A would: the refresh point comes
	// from the fetch time saved with the token.
	clock.Advance(time.Minute - time.Millisecond)
	b.Token(context.Background())
	b.Wait()
	if n := ts.requests.Load(); n != 1 {
		t.Fatalf("B refreshed before the token's refresh point (%d requests)", n)
	}
	clock.Advance(2 * time.Millisecond)
	b.Token(context.Background())
	b.Wait()
	if n := ts.requests.Load(); n != 2 {
		t.Fatalf("B did not refresh at the token's refresh point (%d requests)", n)
	}
}

func TestInvalidatedTokenIsNotAdoptedAgain(t *testing.T) {
	ts, _, sources := newFleet(t, &store.MemoryTokens{})
	srcs := sources(2, transport.Settings{})
	a, b := srcs[0], srcs[1]
	t1, _ := a.Token(context.Background())
	if got, _ := b.Token(context.Background()); !sameToken(got, t1) {
		t.Fatal("B did not adopt A's token")
	}
	// The API rejects tok-1 for B: B must fetch anew, not take tok-1 from the Store.
	b.Invalidate(t1)
	t2, err := b.Token(context.Background())
	if err != nil || t2.AccessToken != "tok-2" {
		t.Fatalf("B after invalidating: %v, %v; want tok-2", t2, err)
	}
	// A meets the rejection later and adopts B's tok-2.
	a.Invalidate(t1)
	if got, _ := a.Token(context.Background()); !sameToken(got, t2) {
		t.Fatalf("A got %v, want B's %v", got, t2)
	}
	if n := ts.requests.Load(); n != 2 {
		t.Fatalf("token requests %d, want 2", n)
	}
}

func TestWaitingForAnotherSourceHonoursTheCallersContext(t *testing.T) {
	ts, _, sources := newFleet(t, &store.MemoryTokens{})
	ts.hold = make(chan struct{})
	ts.entered = make(chan struct{}, 1)
	srcs := sources(2, transport.Settings{})
	a, b := srcs[0], srcs[1]

	done := make(chan error, 1)
	go func() { _, err := a.Token(context.Background()); done <- err }()
	<-ts.entered // A holds the lock and its fetch is in flight

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := b.Token(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("B waiting on A's fetch: %v, want its own deadline", err)
	}
	close(ts.hold)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if tok, err := b.Token(context.Background()); err != nil || tok.AccessToken != "tok-1" {
		t.Fatalf("B after A's fetch: %v, %v; want tok-1", tok, err)
	}
	if n := ts.requests.Load(); n != 1 {
		t.Fatalf("token requests %d, want 1: B waited instead of fetching", n)
	}
}

func TestStoreOutageFallsBackToFetchingAlone(t *testing.T) {
	st := &flakyStore{}
	ts, clock, sources := newFleet(t, st)
	rec := &eventrec.Recorder{}
	var logs eventrec.Log
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	srcs := sources(2, transport.Settings{Hook: rec.Hook, Logger: logger, StoreTimeout: time.Second, StoreRetry: time.Minute})
	for _, src := range srcs {
		if _, err := src.Token(context.Background()); err != nil {
			t.Fatal(err)
		}
	}

	st.down.Store(true)
	clock.Advance(21 * time.Minute) // expired: blocking fetches
	for range 2 {
		for _, src := range srcs {
			if _, err := src.Token(context.Background()); err != nil {
				t.Fatalf("Token with the Store down: %v", err)
			}
		}
	}
	if n := ts.requests.Load(); n != 3 {
		t.Fatalf("token requests %d, want 3 (one shared, then one each alone)", n)
	}
	if n := rec.Count(transport.EventStoreDown); n != 2 {
		t.Fatalf("store_down events %d, want one per Source", n)
	}

	st.down.Store(false)
	clock.Advance(21 * time.Minute) // past the retry interval and the tokens' expiry
	for _, src := range srcs {
		if _, err := src.Token(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if got := currentTokens(srcs); ts.requests.Load() != 4 || len(got) != 1 {
		t.Fatalf("Store back: %d requests, tokens %v; want 4 and one token shared", ts.requests.Load(), got)
	}
	if n := rec.Count(transport.EventStoreUp); n != 2 {
		t.Fatalf("store_up events %d, want one per Source", n)
	}
	if out := logs.String(); strings.Count(out, "level=WARN msg=\"tokentrip: store_down\"") != 2 ||
		!strings.Contains(out, "connection refused") || strings.Count(out, "level=INFO msg=\"tokentrip: store_up\"") != 2 {
		t.Fatalf("log lacks the store_down warnings and store_up notices:\n%s", out)
	}
}

func TestLoserOfARaceAdoptsTheWinnersToken(t *testing.T) {
	clock := newClock()
	winner := &storetest.Stored{Token: transport.Token{AccessToken: "winner", Expiry: clock.Now().Add(20 * time.Minute)}, Fetched: clock.Now()}
	for _, c := range []struct {
		name     string
		fetchErr error // what this Source's own fetch ends with
		lockLost bool
	}{
		{"its refresh token was spent by the winner", &transport.FetchError{Kind: transport.ErrEndpoint, Provider: "test", Code: "invalid_grant", Message: "rotated elsewhere"}, false},
		{"its lock expired and the winner saved first", nil, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			st := &raceStore{}
			st.lockLost.Store(c.lockLost)
			src := transport.NewSource(providerfunc.Func(func(context.Context) (transport.Token, error) {
				st.winner.Store(winner) // the other process wins while this fetch runs
				if c.fetchErr != nil {
					return transport.Token{}, c.fetchErr
				}
				return transport.Token{AccessToken: "loser", Expiry: clock.Now().Add(20 * time.Minute)}, nil
			}), transport.Settings{Clock: clock.Now, Store: st, StoreKey: storeKey.ID()})
			tok, err := src.Token(context.Background())
			if err != nil || tok.AccessToken != "winner" {
				t.Fatalf("got %v, %v; want the winner's token", tok, err)
			}
		})
	}
}
