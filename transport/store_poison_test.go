package transport_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/eventrec"
	"github.com/tokentrip/tokentrip/internal/providerfunc"
	"github.com/tokentrip/tokentrip/internal/storetest"
	"github.com/tokentrip/tokentrip/transport"
)

// checkedProvider is a Provider with a vendor's check: its tokens never name an
// instance URL outside example.com.
type checkedProvider struct{ transport.Provider }

func (checkedProvider) CheckToken(tok transport.Token) error {
	if tok.RESTInstanceURL != "" && !strings.HasSuffix(tok.RESTInstanceURL, ".example.com/") {
		return errors.New("test: instance URL off the vendor's hosts")
	}
	return nil
}

func TestPoisonedStoreValueCountsAsAbsent(t *testing.T) {
	clock := newClock()
	now := clock.Now()
	token := func(edit func(*storetest.Stored)) *storetest.Stored {
		st := &storetest.Stored{Token: transport.Token{AccessToken: "poisoned-value", Expiry: now.Add(10 * time.Minute)}, Fetched: now}
		edit(st)
		return st
	}
	tests := []struct {
		name   string
		poison *storetest.Stored
		raw    []byte
		err    error
	}{
		{name: "refused by the Store (ErrCorruptValue)", err: fmt.Errorf("test store: %w: sealed under another key", transport.ErrCorruptValue)},
		{name: "not JSON", raw: []byte("poisoned-value")},
		{name: "JSON null", raw: []byte("null")},
		{name: "an empty object", raw: []byte("{}")},
		{name: "a JSON array", raw: []byte(`["poisoned-value"]`)},
		{name: "no expiry field", raw: []byte(`{"a":"poisoned-value","f":1}`)},
		{name: "no access token", poison: token(func(s *storetest.Stored) { s.Token.AccessToken = "" })},
		{name: "CR LF in the token", poison: token(func(s *storetest.Stored) { s.Token.AccessToken = "poisoned-value\r\nX-Evil: 1" })},
		{name: "non-ASCII token", poison: token(func(s *storetest.Stored) { s.Token.AccessToken = "forgéd" })},
		{name: "a megabyte of token", poison: token(func(s *storetest.Stored) { s.Token.AccessToken = strings.Repeat("a", 1<<20) })},
		{name: "no fetch time", poison: token(func(s *storetest.Stored) { s.Fetched = time.Time{} })},
		{name: "no expiry", poison: token(func(s *storetest.Stored) { s.Token.Expiry = time.Time{} })},
		{name: "fetched in the future", poison: token(func(s *storetest.Stored) {
			s.Fetched = now.Add(time.Hour)
			s.Token.Expiry = now.Add(2 * time.Hour)
		})},
		{name: "expiry before the fetch", poison: token(func(s *storetest.Stored) { s.Token.Expiry = now.Add(-time.Minute) })},
		{name: "expiry in 9999", poison: token(func(s *storetest.Stored) {
			s.Token.Expiry = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
		})},
		{name: "refresh point after expiry", poison: token(func(s *storetest.Stored) { s.Token.RefreshAfter = now.Add(time.Hour) })},
		{name: "http:// instance URL", poison: token(func(s *storetest.Stored) { s.Token.RESTInstanceURL = "http://api.example.com/" })},
		{name: "instance URL with user info", poison: token(func(s *storetest.Stored) { s.Token.SOAPInstanceURL = "https://u:p@api.example.com/" })},
		{name: "instance URL of another scheme", poison: token(func(s *storetest.Stored) { s.Token.RESTInstanceURL = "ftp://api.example.com/" })},
		{name: "control characters in the scope", poison: token(func(s *storetest.Stored) { s.Token.Scope = "read\nwrite" })},
		{name: "refused by the provider's check", poison: token(func(s *storetest.Stored) { s.Token.RESTInstanceURL = "https://evil.example/" })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTokenServer(t, clock)
			st := &poisonedStore{poison: tt.poison, raw: tt.raw, err: tt.err}
			rec := &eventrec.Recorder{}
			var logs eventrec.Log
			logger := slog.New(slog.NewTextHandler(&logs, nil))
			src := transport.NewSource(checkedProvider{ts.provider()}, transport.Settings{Clock: clock.Now, Store: st, StoreKey: storeKey.ID(), Hook: rec.Hook, Logger: logger})
			tok, err := src.Token(context.Background())
			if err != nil || tok.AccessToken != "tok-1" {
				t.Fatalf("Token: %v, %v; want its own tok-1", tok, err)
			}
			if n := ts.requests.Load(); n != 1 {
				t.Errorf("%d token requests, want 1", n)
			}
			if n := rec.Count(transport.EventStoreCorrupt); n != 1 {
				t.Errorf("%d store_corrupt events, want 1", n)
			}
			if n := rec.Count(transport.EventStoreDown); n != 0 {
				t.Errorf("%d store_down events: a poisoned value is not an outage", n)
			}
			if !strings.Contains(logs.String(), `level=WARN msg="tokentrip: store_corrupt"`) || strings.Contains(logs.String(), "poisoned-value") {
				t.Errorf("log: %s\nwant a store_corrupt warning that does not quote the value", logs.String())
			}
			// The next good value replaced the poison: another Source adopts it.
			other := transport.NewSource(checkedProvider{ts.provider()}, transport.Settings{Clock: clock.Now, Store: st, StoreKey: storeKey.ID()})
			if got, err := other.Token(context.Background()); err != nil || got.AccessToken != "tok-1" || ts.requests.Load() != 1 {
				t.Errorf("a second Source: %v, %v after %d requests; want tok-1 adopted", got, err, ts.requests.Load())
			}
		})
	}
}

// The fleet's breaker state is checked before it is believed, and nothing a Store
// does with it — a value that does not decode, a forged "open until 9999", a
// panic — reaches a caller: the fetch goes on through the Source's own breaker.
func TestSharedBreakerStateIsCheckedAndNeverPanics(t *testing.T) {
	clock := newClock()
	far := time.Unix(0, math.MaxInt64) // the latest a stored state can say: 2262
	tests := []struct {
		name        string
		breakers    *memoryBreakers
		wantCorrupt int
		wantDown    int
	}{
		{name: "refused by the Store", breakers: &memoryBreakers{loadErr: fmt.Errorf("test: %w", transport.ErrCorruptValue)}, wantCorrupt: 1},
		{name: "not JSON", breakers: &memoryBreakers{raw: []byte("open")}, wantCorrupt: 1},
		{name: "an empty object", breakers: &memoryBreakers{raw: []byte("{}")}, wantCorrupt: 1},
		{name: "gobreaker's format", breakers: &memoryBreakers{raw: []byte(`{"state":2,"expiry":"9999-12-31T00:00:00Z"}`)}, wantCorrupt: 1},
		{name: "open until 2262", breakers: &memoryBreakers{rec: &transport.BreakerRecord{OpenUntil: far, Failures: 3}}, wantCorrupt: 1},
		{name: "open until 9999", breakers: &memoryBreakers{raw: []byte(`{"o":253402214400000000000,"f":3}`)}, wantCorrupt: 1},
		{name: "negative failure count", breakers: &memoryBreakers{rec: &transport.BreakerRecord{Failures: -1}}, wantCorrupt: 1},
		{name: "Load panics", breakers: &memoryBreakers{loadPanic: true}, wantDown: 1},
		{name: "Save panics", breakers: &memoryBreakers{savePanic: true}, wantDown: 1},
		{name: "unreachable", breakers: &memoryBreakers{loadErr: errUnreachable}, wantDown: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTokenServer(t, clock)
			rec := &eventrec.Recorder{}
			st := &breakerStore{memoryBreakers: tt.breakers}
			src := transport.NewSource(ts.provider(), transport.Settings{Clock: clock.Now, Store: st, StoreKey: storeKey.ID(), Hook: rec.Hook})
			tok, err := src.Token(context.Background())
			if err != nil || tok.AccessToken != "tok-1" {
				t.Fatalf("Token: %v, %v", tok, err)
			}
			if got := src.Stats().Breaker; got != "closed" {
				t.Errorf("breaker %s, want closed", got)
			}
			if n := rec.Count(transport.EventStoreCorrupt); n != tt.wantCorrupt {
				t.Errorf("%d store_corrupt events, want %d", n, tt.wantCorrupt)
			}
			if n := rec.Count(transport.EventStoreDown); n != tt.wantDown {
				t.Errorf("%d store_down events, want %d", n, tt.wantDown)
			}
			if tt.wantCorrupt > 0 && (tt.breakers.rec == nil || *tt.breakers.rec != (transport.BreakerRecord{})) {
				t.Errorf("breaker state after the fetch %+v, want a closed state over the poison", tt.breakers.rec)
			}
		})
	}
}

// Sources that share breaker state open together: the failures of one count for
// the fleet, and a Source that never failed refuses while the fleet's breaker is
// open, without a request.
func TestSharedBreakerOpensForEverySource(t *testing.T) {
	ts, _, sources := newFleet(t, &breakerStore{memoryBreakers: &memoryBreakers{}})
	ts.status.Store(401)
	srcs := sources(3, transport.Settings{
		Breaker: transport.BreakerSettings{Rejections: 3, Outages: 5, Cooldown: time.Minute},
		Backoff: func(int) time.Duration { return 0 },
	})
	for i, src := range srcs { // one rejection each: three for the fleet
		if _, err := src.Token(context.Background()); !errors.Is(err, transport.ErrCredentialsRejected) {
			t.Fatalf("Source %d: %v", i, err)
		}
	}
	if got := srcs[2].Stats().Breaker; got != "open" {
		t.Fatalf("the Source that saw the third rejection: breaker %s, want open", got)
	}
	fresh := sources(1, transport.Settings{Breaker: transport.BreakerSettings{Rejections: 3, Outages: 5, Cooldown: time.Minute}})[0]
	_, err := fresh.Token(context.Background())
	var open *transport.RetryError
	if !errors.As(err, &open) || !errors.Is(err, transport.ErrCircuitOpen) {
		t.Fatalf("a Source that never failed: %v, want the open breaker's RetryError", err)
	}
	if n := ts.requests.Load(); n != 3 {
		t.Fatalf("%d token requests, want 3", n)
	}
}

// A fetch that lost a race to another holder of the credential (ErrSuperseded)
// never opens the breaker, however often it happens.
func TestSupersededFetchesNeverOpenTheBreaker(t *testing.T) {
	clock := newClock()
	lost := &transport.FetchError{Kind: transport.ErrEndpoint, Provider: "test", Code: "invalid_grant", Err: transport.ErrSuperseded}
	src := transport.NewSource(providerfunc.Func(func(context.Context) (transport.Token, error) { return transport.Token{}, lost }), transport.Settings{Clock: clock.Now, Breaker: transport.BreakerSettings{Rejections: 1, Outages: 1, Cooldown: time.Minute}, Backoff: func(int) time.Duration { return 0 }})
	for range 10 {
		if _, err := src.Token(context.Background()); !errors.Is(err, transport.ErrSuperseded) {
			t.Fatalf("Token: %v", err)
		}
	}
	if got, changes := src.Stats().Breaker, src.Stats().BreakerChanges; got != "closed" || changes != 0 {
		t.Fatalf("breaker %s after %d changes, want closed and none", got, changes)
	}
}

// A Source waits for another process's fetch at most half its fetch timeout, then
// fetches alone: a lock that is never let go delays callers, never fails them.
func TestLockNeverReleasedDelaysButNeverFails(t *testing.T) {
	clock := newClock()
	ts := newTokenServer(t, clock)
	const fetchTimeout = 400 * time.Millisecond
	src := transport.NewSource(ts.provider(), transport.Settings{Clock: clock.Now, Store: &heldStore{}, StoreKey: storeKey.ID(), FetchTimeout: fetchTimeout})
	began := time.Now()
	tok, err := src.Token(context.Background())
	took := time.Since(began)
	if err != nil || tok.AccessToken != "tok-1" {
		t.Fatalf("Token after %v: %v, %v; want its own token", took, tok, err)
	}
	if took < fetchTimeout/2 || took > fetchTimeout {
		t.Errorf("fetched alone after %v, want after half the fetch timeout (%v)", took, fetchTimeout/2)
	}
}

// The fleet's breaker state says until when it is open on the clock of the process
// that opened it. A process whose clock runs behind by a few seconds — up to a
// minute — still believes it, for one cooldown from its own now at most; a state
// open for longer than one cooldown and a minute is forged and ignored. Before, a
// process lagging by more than 5 s took a genuine state for a forgery, fetched
// against the failing endpoint and wrote a closed state over the fleet's.
func TestSharedBreakerToleratesClockSkew(t *testing.T) {
	clock := newClock()
	const cooldown = 30 * time.Second
	for _, tt := range []struct {
		name    string
		ahead   time.Duration // how far the opener's clock ran ahead of this process's
		refused bool
	}{
		{"opener's clock 1 s ahead", time.Second, true},
		{"opener's clock 6 s ahead", 6 * time.Second, true},
		{"opener's clock 50 s ahead", 50 * time.Second, true},
		{"open for a cooldown and 2 minutes: forged", 2 * time.Minute, false},
		{"open for 200 years: forged", 200 * 365 * 24 * time.Hour, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTokenServer(t, clock)
			rec := &eventrec.Recorder{}
			opened := transport.BreakerRecord{OpenUntil: time.Now().Add(tt.ahead + cooldown), Failures: 3}
			st := &breakerStore{memoryBreakers: &memoryBreakers{rec: &opened}}
			src := transport.NewSource(ts.provider(), transport.Settings{Clock: clock.Now, Store: st, StoreKey: storeKey.ID(), Hook: rec.Hook, Breaker: transport.BreakerSettings{Rejections: 3, Outages: 5, Cooldown: cooldown}})
			began := time.Now()
			_, err := src.Token(context.Background())
			var open *transport.RetryError
			refused := errors.As(err, &open) && errors.Is(err, transport.ErrCircuitOpen)
			if refused != tt.refused {
				t.Fatalf("Token: %v; refused %t, want %t", err, refused, tt.refused)
			}
			if refused {
				if ts.requests.Load() != 0 || rec.Count(transport.EventStoreCorrupt) != 0 {
					t.Errorf("%d token requests, %d store_corrupt; want the fleet's state believed", ts.requests.Load(), rec.Count(transport.EventStoreCorrupt))
				}
				// Believed for one cooldown from this process's now at most.
				if wait := open.Retry.Sub(clock.Now()); wait > cooldown+time.Since(began) {
					t.Errorf("refused until %v from now; want at most one cooldown (%v)", wait, cooldown)
				}
				if *st.rec != opened {
					t.Errorf("the fleet's state was overwritten: %+v", *st.rec)
				}
			} else if ts.requests.Load() != 1 || rec.Count(transport.EventStoreCorrupt) != 1 {
				t.Errorf("%d token requests, %d store_corrupt; want the forgery ignored, reported and one fetch", ts.requests.Load(), rec.Count(transport.EventStoreCorrupt))
			}
		})
	}
}

// A writer to the Store who recorded genuine sealed tokens of the credential can
// put them back after the API stopped accepting them (revoked, or rejected for
// any reason). A Source that found one rejected adopts from the Store only tokens
// issued after it — that expire later — so replays cost a process at most a
// rejection per newer recorded token, never every call. Before, with the last
// rejected token alone refused, two recorded tokens put back in turn failed every
// call.
func TestReplayedRejectedTokensAreNotAdoptedAgain(t *testing.T) {
	for _, tt := range []struct {
		name      string
		order     []int // the recorded tokens (0 the oldest), in the order the writer puts them back
		maxFailed int
	}{
		{"two tokens in turn, older first", []int{0, 1}, 1},
		{"two tokens in turn, newer first", []int{1, 0}, 0},
		{"four tokens, oldest to newest, again and again", []int{0, 1, 2, 3}, 3},
		{"four tokens, newest to oldest, again and again", []int{3, 2, 1, 0}, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clock := newClock()
			ts := newTokenServer(t, clock)
			api := newAPIServer(t, ts)
			var recorded []storetest.Stored
			p := ts.provider()
			for range 4 {
				fetched := clock.Now()
				tok, err := p.Fetch(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				recorded = append(recorded, storetest.Stored{Token: tok, Fetched: fetched})
				ts.revoke(tok.AccessToken)
				clock.Advance(time.Minute)
			}
			st := &replayStore{}
			for _, i := range tt.order {
				st.replays = append(st.replays, recorded[i])
			}
			// No backoff between rounds and a breaker that does not open: every call
			// may drop a rejected token and fetch, so that what is measured is which
			// tokens the Source adopts.
			src := transport.NewSource(ts.provider(), transport.Settings{
				Clock:    clock.Now,
				Store:    st,
				StoreKey: storeKey.ID(),
				Backoff:  func(int) time.Duration { return 0 },
				Breaker:  transport.BreakerSettings{Rejections: 1000, Outages: 1000, Cooldown: time.Minute},
			})
			base := api.Client().Transport.(*http.Transport).Clone()
			t.Cleanup(base.CloseIdleConnections)
			client := &http.Client{Transport: transport.New(src, transport.Options{Hosts: []string{api.URL}, Base: base})}
			const calls = 20
			failed := 0
			for range calls {
				resp, err := client.Get(api.URL + "/rest/v1/thing")
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					failed++
				}
			}
			t.Logf("%s: %d of %d calls failed, %d token requests, %d API rejections", tt.name, failed, calls, ts.requests.Load()-4, api.rejected.Load())
			if failed > tt.maxFailed {
				t.Errorf("%d of %d calls failed; want at most %d", failed, calls, tt.maxFailed)
			}
		})
	}
}
