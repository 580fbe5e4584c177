package transport_test

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/eventrec"
	"github.com/tokentrip/tokentrip/internal/manualclock"
	"github.com/tokentrip/tokentrip/transport"
)

// persistRig is a Source on a manual clock, a Transport scoped to a policyAPI, and
// the events they report.
type persistRig struct {
	clock  *fakeClock
	tokens *tokenServer
	api    *policyAPI
	tr     *transport.Transport
	client *http.Client
	events *eventrec.Recorder
	stream bool // bodies of unknown length without GetBody: replayable only when buffered
}

func newPersistRig(t *testing.T, refuse func(*http.Request) bool) *persistRig {
	clock := manualclock.New(time.Now())
	tokens := newTokenServer(t, clock)
	api := newPolicyAPI(t, tokens, refuse)
	events := &eventrec.Recorder{}
	src := transport.NewSource(tokens.provider(), transport.Settings{Clock: clock.Now, Hook: events.Hook})
	tr := transport.New(src, transport.Options{Hosts: []string{api.URL}, Base: ownBase(t, api.Client())})
	return &persistRig{clock: clock, tokens: tokens, api: api, tr: tr, client: &http.Client{Transport: tr}, events: events}
}

// call makes one POST to path and returns the status and body the caller got.
func (r *persistRig) call(t *testing.T, path string) (int, string, error) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, r.api.URL+path, strings.NewReader(`{"to":"a@example.com"}`))
	req.Header.Set("Content-Type", "application/json")
	if r.stream {
		req.Body, req.ContentLength, req.GetBody = io.NopCloser(plainReader{strings.NewReader(`{"to":"a@example.com"}`)}), -1, nil
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(body), nil
}

// mustCall is call for calls that must get an answer, which must be the very one
// the API sent last.
func (r *persistRig) mustCall(t *testing.T, path string) (int, string) {
	t.Helper()
	status, body, err := r.call(t, path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if last := r.api.last(); last.status != status || last.body != body {
		t.Fatalf("%s: the caller got %d %s, the API sent %d %s", path, status, body, last.status, last.body)
	}
	return status, body
}

// holdingAPI wraps a policyAPI's handler: a request with an X-Hold header reports
// the token it carries on arrived and waits for release before it is answered, so
// a test can make a rejection reach the Transport late, after other rounds.
type holdingAPI struct {
	arrived chan string
	release chan struct{}
}

func holdRequests(rig *persistRig) *holdingAPI {
	h := &holdingAPI{arrived: make(chan string), release: make(chan struct{})}
	serve := rig.api.Config.Handler
	rig.api.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Hold") != "" {
			tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			h.arrived <- tok
			<-h.release
		}
		serve.ServeHTTP(w, r)
	})
	return h
}

// TestRejectionOnOnePath: the API refuses one path, or one business unit, whatever
// the token. Fifty sequential calls there make at most three token requests (here:
// the first fetch and one round that finds a fresh token refused too), the caller
// gets each 401 as the server sent it, and the other calls keep working with the
// same token. The breaker stays closed.
func TestRejectionOnOnePath(t *testing.T) {
	tests := []struct {
		name       string
		refuse     func(*http.Request) bool
		bad, good  string
		interleave bool
	}{
		{
			name:   "path, with other calls between",
			refuse: func(r *http.Request) bool { return r.URL.Path == "/forbidden" },
			bad:    "/forbidden", good: "/allowed", interleave: true,
		},
		{
			name:   "path, called alone",
			refuse: func(r *http.Request) bool { return r.URL.Path == "/forbidden" },
			bad:    "/forbidden", good: "/allowed",
		},
		{
			name:   "another business unit",
			refuse: func(r *http.Request) bool { return r.URL.Query().Get("mid") == "999" },
			bad:    "/contacts?mid=999", good: "/contacts?mid=100", interleave: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rig := newPersistRig(t, tt.refuse)
			if status, _ := rig.mustCall(t, tt.good); status != http.StatusOK {
				t.Fatalf("first call: %d", status)
			}
			goodTokens := map[string]bool{}
			for i := range 50 {
				if status, _ := rig.mustCall(t, tt.bad); status != http.StatusUnauthorized {
					t.Fatalf("call %d to %s: %d, want 401", i, tt.bad, status)
				}
				if tt.interleave {
					if status, _ := rig.mustCall(t, tt.good); status != http.StatusOK {
						t.Fatalf("call %d to %s: %d, want 200", i, tt.good, status)
					}
					goodTokens[rig.api.last().token] = true
				}
			}
			requests := rig.tokens.requests.Load()
			st := rig.tr.Source().Stats()
			t.Logf("FIGURE persisting rejection, %s: 50 calls → %d token requests, %d replays, %d returned without a fetch",
				tt.name, requests, st.Replays, st.Persisted)
			if requests > 3 {
				t.Errorf("%d token requests for 50 calls, want at most 3", requests)
			}
			if requests != 2 || st.Replays != 1 || st.RejectedAgain != 1 || st.Persisted != 49 {
				t.Errorf("token requests %d, stats %+v; want 2 token requests, 1 replay rejected again, 49 rejections returned as they came", requests, st)
			}
			if len(goodTokens) > 1 {
				t.Errorf("the other calls used %d tokens, want one", len(goodTokens))
			}
			if got := rig.events.Count(transport.EventRejectedAgain); got != 1 {
				t.Errorf("%d rejected_again events, want 1", got)
			}
			if state := rig.tr.Source().Stats().Breaker; state != "closed" {
				t.Errorf("breaker %s, want closed", state)
			}
			// The other calls still work, with the same token and no fetch.
			if status, _ := rig.mustCall(t, tt.good); status != http.StatusOK || rig.tokens.requests.Load() != requests {
				t.Errorf("a call elsewhere afterwards: %d after %d token requests", status, rig.tokens.requests.Load())
			}
		})
	}
}

// TestRejectionEverywhere: the API rejects every token, fresh ones too, while the
// token endpoint still issues them. Within the backoff, calls get the 401 as it
// came without a fetch; each round after the backoff counts toward the breaker,
// which opens after three (WithBreaker's default); calls then fail fast without
// reaching the API or the token endpoint.
func TestRejectionEverywhere(t *testing.T) {
	rig := newPersistRig(t, nil)
	if status, _ := rig.mustCall(t, "/send"); status != http.StatusOK {
		t.Fatalf("first call: %d", status)
	}
	rig.api.rejectAll.Store(true)

	rounds := 0
	for rig.tr.Source().Stats().Breaker == "closed" {
		if rounds == 20 {
			t.Fatalf("the breaker is still closed after %d rounds", rounds)
		}
		before := rig.tokens.requests.Load()
		if status, _ := rig.mustCall(t, "/send"); status != http.StatusUnauthorized {
			t.Fatalf("status %d, want 401", status)
		}
		rounds++
		if got := rig.tokens.requests.Load() - before; got != 1 {
			t.Fatalf("round %d: %d token requests, want 1", rounds, got)
		}
		if rig.tr.Source().Stats().Breaker != "closed" {
			break
		}
		// Calls inside the backoff: the 401 as it came, no token request.
		for range 5 {
			if status, _ := rig.mustCall(t, "/send"); status != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", status)
			}
		}
		if got := rig.tokens.requests.Load() - before; got != 1 {
			t.Fatalf("round %d: %d token requests for 6 calls, want 1", rounds, got)
		}
		rig.clock.Advance(time.Minute) // past the backoff
	}
	requests := rig.tokens.requests.Load()
	calls := rig.api.count()
	var open *transport.RetryError
	for range 10 {
		_, _, err := rig.call(t, "/send")
		if !errors.As(err, &open) || !errors.Is(err, transport.ErrCircuitOpen) || !errors.Is(err, transport.ErrCredentialsRejected) {
			t.Fatalf("after the breaker opened: %v, want the open breaker's RetryError wrapping ErrCredentialsRejected", err)
		}
	}
	t.Logf("FIGURE rejection everywhere: breaker open after %d rounds, %d token requests in all; then calls fail fast: %v", rounds, requests, open)
	if rounds != 3 || requests != 4 {
		t.Errorf("breaker opened after %d rounds and %d token requests, want 3 and 4", rounds, requests)
	}
	if rig.api.count() != calls || rig.tokens.requests.Load() != requests {
		t.Errorf("calls after the breaker opened reached the API (%d) or the token endpoint (%d)", rig.api.count()-calls, rig.tokens.requests.Load()-requests)
	}
	if got := rig.events.Count(transport.EventRejectedAgain); got != 3 {
		t.Errorf("%d rejected_again events, want 3", got)
	}
}

// TestRevocationIsReplayedOnce: the token is revoked or expires (the old one gets
// 401, a new one is accepted): exactly one re-fetch and one replay, as before —
// also after a persisting rejection elsewhere, once its backoff has passed.
func TestRevocationIsReplayedOnce(t *testing.T) {
	t.Run("plain", func(t *testing.T) {
		rig := newPersistRig(t, nil)
		rig.mustCall(t, "/send")
		old := rig.api.last().token
		rig.tokens.revoke(old)
		if status, _ := rig.mustCall(t, "/send"); status != http.StatusOK {
			t.Fatalf("after revocation: %d", status)
		}
		st := rig.tr.Source().Stats()
		if n := rig.tokens.requests.Load(); n != 2 || st.Replays != 1 || st.RejectedAgain != 0 || rig.api.count() != 3 {
			t.Errorf("token requests %d, stats %+v, API calls %d; want 2, one replay, 3", n, st, rig.api.count())
		}
		if rig.events.Count(transport.EventReplayed) != 1 || rig.events.Count(transport.EventRejectedAgain) != 0 {
			t.Errorf("events %v", rig.events.Events())
		}
	})
	t.Run("after a persisting rejection", func(t *testing.T) {
		rig := newPersistRig(t, func(r *http.Request) bool { return r.URL.Path == "/forbidden" })
		rig.mustCall(t, "/allowed")
		rig.mustCall(t, "/forbidden") // one round: a fresh token refused there too
		rig.mustCall(t, "/allowed")
		doubted := rig.api.last().token
		rig.tokens.revoke(doubted)
		// Inside the backoff the revocation is not noticed: the 401 comes back as
		// it came. After it, one re-fetch and one replay heal it.
		if status, _ := rig.mustCall(t, "/allowed"); status != http.StatusUnauthorized {
			t.Fatalf("inside the backoff: %d, want the 401", status)
		}
		before, replays := rig.tokens.requests.Load(), rig.tr.Source().Stats().Replays
		rig.clock.Advance(time.Minute)
		if status, _ := rig.mustCall(t, "/allowed"); status != http.StatusOK {
			t.Fatalf("after the backoff: %d, want 200", status)
		}
		if n := rig.tokens.requests.Load() - before; n != 1 || rig.tr.Source().Stats().Replays != replays+1 {
			t.Errorf("%d re-fetches and %d replays, want 1 and 1", n, rig.tr.Source().Stats().Replays-replays)
		}
		// The rejection that persisted is forgotten: a revocation now heals at once.
		rig.tokens.revoke(rig.api.last().token)
		before = rig.tokens.requests.Load()
		if status, _ := rig.mustCall(t, "/allowed"); status != http.StatusOK || rig.tokens.requests.Load() != before+1 {
			t.Errorf("second revocation: %d after %d re-fetches, want 200 after 1", status, rig.tokens.requests.Load()-before)
		}
	})
}

// TestPersistingRejectionWithoutReplay: a body too large to replay cannot show
// that a fresh token is refused too, so the first request with the token fetched
// after the rejection tells instead: if it is rejected, the rejection persists.
func TestPersistingRejectionWithoutReplay(t *testing.T) {
	rig := newPersistRig(t, func(r *http.Request) bool { return r.URL.Path == "/upload" })
	rig.tr = transport.New(rig.tr.Source(), transport.Options{Hosts: []string{rig.api.URL}, ReplayLimit: 4})
	rig.client = &http.Client{Transport: rig.tr}
	rig.stream = true
	defer rig.client.CloseIdleConnections()
	rig.mustCall(t, "/allowed")
	for i := range 20 {
		if status, _ := rig.mustCall(t, "/upload"); status != http.StatusUnauthorized {
			t.Fatalf("upload %d: %d", i, status)
		}
	}
	st := rig.tr.Source().Stats()
	if n := rig.tokens.requests.Load(); n != 2 || st.Unreplayable != 1 || st.Persisted != 19 {
		t.Errorf("token requests %d, stats %+v; want 2, one rejection dropping the token, 19 returned as they came", n, st)
	}
	if status, _ := rig.mustCall(t, "/allowed"); status != http.StatusOK {
		t.Errorf("a call elsewhere: %d", status)
	}
}

// TestConcurrentPersistingRejection: many callers hit the refused path at once;
// the round is shared and counted once.
func TestConcurrentPersistingRejection(t *testing.T) {
	rig := newPersistRig(t, func(r *http.Request) bool { return r.URL.Path == "/forbidden" })
	rig.mustCall(t, "/allowed")
	const callers = 50
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			status, _, err := rig.call(t, "/forbidden")
			if err != nil || status != http.StatusUnauthorized {
				t.Errorf("status %d, err %v; want 401", status, err)
			}
		})
	}
	wg.Wait()
	if n := rig.tokens.requests.Load(); n > 3 {
		t.Errorf("%d token requests for %d concurrent calls, want at most 3", n, callers)
	}
	if got := rig.events.Count(transport.EventRejectedAgain); got > 2 {
		t.Errorf("%d rejected_again events, want a round counted once per token", got)
	}
	if status, _ := rig.mustCall(t, "/allowed"); status != http.StatusOK {
		t.Errorf("a call elsewhere: %d", status)
	}
}

// TestReplayEventsAreLogged: replayed is logged at Debug, rejected_again at Warn,
// and neither carries the token.
func TestReplayEventsAreLogged(t *testing.T) {
	var logged strings.Builder
	logger := slog.New(slog.NewJSONHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
	rig := newPersistRig(t, func(r *http.Request) bool { return r.URL.Path == "/forbidden" })
	src := transport.NewSource(rig.tokens.provider(), transport.Settings{Clock: rig.clock.Now, Logger: logger, Name: "logged"})
	rig.tr = transport.New(src, transport.Options{Hosts: []string{rig.api.URL}})
	rig.client = &http.Client{Transport: rig.tr}
	defer rig.client.CloseIdleConnections()

	rig.mustCall(t, "/allowed")
	rig.tokens.revoke(rig.api.last().token)
	rig.mustCall(t, "/allowed")   // replayed, accepted
	rig.mustCall(t, "/forbidden") // replayed, rejected again
	levels := map[string]string{}
	for line := range strings.SplitSeq(strings.TrimSpace(logged.String()), "\n") {
		var rec struct{ Level, Msg, Source string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if levels[rec.Msg] != "" && levels[rec.Msg] != rec.Level {
			t.Errorf("%s logged at %s and %s", rec.Msg, levels[rec.Msg], rec.Level)
		}
		levels[rec.Msg] = rec.Level
		if strings.Contains(line, "tok-") || rec.Source != "logged" {
			t.Errorf("log line %s", line)
		}
	}
	for msg, want := range map[string]string{"tokentrip: replayed": "DEBUG", "tokentrip: rejected_again": "WARN"} {
		if levels[msg] != want {
			t.Errorf("%s logged at %q, want %s", msg, levels[msg], want)
		}
	}
}

// TestChurningRejections: a server that refuses tokens which a replay has just
// shown to work — an API that answers 401 and 200 in turn whatever the token (a
// bad node behind a load balancer), one that accepts each token once and then
// refuses it (two processes on one legacy package invalidating each other's
// tokens, or a token not yet known to every node) — must not cost a token request
// per call: from the second fresh token refused within a minute of curing a
// rejection, the rejection persists and rounds are spaced by the backoff, as for
// a path the credential may not use. Real
// revocations still heal at once with one token request each, whether they are
// minutes apart or follow one another.
func TestChurningRejections(t *testing.T) {
	tests := []struct {
		name string
		// refuse says whether the API refuses a request, given the token it
		// carries and the tokens it has accepted before.
		refuse func(tok string, seen map[string]bool, n int) bool
		// revoke: before each call the test revokes the token in use, and moves
		// the clock on by gap.
		revoke bool
		gap    time.Duration
		calls  int
		// maxRequests bounds the token requests the calls may make; with
		// healed, every call must be accepted and make exactly one.
		maxRequests int64
		healed      bool
	}{
		{
			name:   "401 and 200 in turn, whatever the token",
			refuse: func(_ string, _ map[string]bool, n int) bool { return n%2 == 1 },
			calls:  50, maxRequests: 3,
		},
		{
			name:   "401 and 200 in turn, a call a second",
			refuse: func(_ string, _ map[string]bool, n int) bool { return n%2 == 1 },
			// The backoff grows to its cap of 30 s in 8 rounds, then a round
			// every 30 s: 8 + 300/30 at most, against 300 before.
			gap: time.Second, calls: 300, maxRequests: 20,
		},
		{
			name:   "each token accepted once, then refused",
			refuse: func(tok string, seen map[string]bool, _ int) bool { return seen[tok] },
			calls:  50, maxRequests: 3,
		},
		{
			name:   "each token accepted once, then refused, a call every ten seconds",
			refuse: func(tok string, seen map[string]bool, _ int) bool { return seen[tok] },
			// Two calls a round until the backoff passes 10 s, then a round a
			// little over every 30 s: 1000 s make about 30, against 100 before.
			gap: 10 * time.Second, calls: 100, maxRequests: 32,
		},
		{
			name:   "revocations minutes apart",
			revoke: true, gap: 2 * time.Minute, calls: 10, healed: true,
		},
		{
			name:   "revocations one after another",
			revoke: true, calls: 2, healed: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				mu   sync.Mutex
				seen = map[string]bool{}
				n    int
			)
			rig := newPersistRig(t, nil)
			rig.mustCall(t, "/send")
			seen[rig.api.last().token] = true
			if tt.refuse != nil {
				rig.api.refuse = func(r *http.Request) bool {
					tok, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
					mu.Lock()
					defer mu.Unlock()
					n++
					refused := tt.refuse(tok, seen, n)
					seen[tok] = seen[tok] || !refused
					return refused
				}
			}
			before := rig.tokens.requests.Load()
			for i := range tt.calls {
				if tt.revoke {
					rig.tokens.revoke(rig.api.last().token)
				}
				rig.clock.Advance(tt.gap)
				status, _ := rig.mustCall(t, "/send") // the caller gets what the API sent
				if tt.healed && status != http.StatusOK {
					t.Fatalf("call %d: %d, want 200", i, status)
				}
			}
			requests := rig.tokens.requests.Load() - before
			st := rig.tr.Source().Stats()
			t.Logf("FIGURE churning rejections, %s: %d calls → %d token requests, %d replays, %d returned as they came",
				tt.name, tt.calls, requests, st.Replays, st.Persisted)
			switch {
			case tt.healed && (requests != int64(tt.calls) || st.Replays != uint64(tt.calls)):
				t.Errorf("%d token requests and %d replays for %d revocations, want one of each per revocation", requests, st.Replays, tt.calls)
			case !tt.healed && requests > tt.maxRequests:
				t.Errorf("%d token requests for %d calls, want at most %d", requests, tt.calls, tt.maxRequests)
			}
			if state := rig.tr.Source().Stats().Breaker; state != "closed" {
				t.Errorf("breaker %s, want closed: the credentials work", state)
			}
		})
	}
}

// TestLateRejectionOfSupersededToken: a rejection of a token that a later round
// has already replaced (a slow replay, a slow first send) says nothing new. It must
// not make the persisting rejection forget the newer token it is spacing rounds
// for — which would cost a token request on the next call — nor count toward the
// breaker, which would open although other calls are accepted.
func TestLateRejectionOfSupersededToken(t *testing.T) {
	tests := []struct {
		name string
		// The held call's first send carries the first token; with holdReplay it
		// is refused after one round, and its replay, carrying the second token,
		// is held instead. Either is refused after the next round.
		holdReplay bool
	}{
		{name: "late first send", holdReplay: false},
		{name: "late replay", holdReplay: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rig := newPersistRig(t, func(r *http.Request) bool { return r.URL.Path == "/forbidden" })
			hold := holdRequests(rig)
			rig.mustCall(t, "/allowed") // tok-1

			// A slow call to the refused path: its first send carries tok-1.
			done := make(chan int)
			go func() {
				req, _ := http.NewRequest(http.MethodPost, rig.api.URL+"/forbidden", strings.NewReader(`{}`))
				req.Header.Set("X-Hold", "1")
				resp, err := rig.client.Do(req)
				if err != nil {
					t.Error(err)
					done <- 0
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				done <- resp.StatusCode
			}()
			if tok := <-hold.arrived; tok != "tok-1" {
				t.Fatalf("the held call carried %s", tok)
			}
			// A round: tok-2 is refused there too, and the rejection persists.
			if status, _ := rig.mustCall(t, "/forbidden"); status != http.StatusUnauthorized {
				t.Fatalf("status %d", status)
			}
			if tt.holdReplay {
				hold.release <- struct{}{} // the held call's first send is refused; its replay carries tok-2
				if tok := <-hold.arrived; tok != "tok-2" {
					t.Fatalf("the held call's replay carried %s", tok)
				}
			}
			// After the backoff, one more round: tok-3 is refused there too.
			rig.clock.Advance(time.Minute)
			rig.mustCall(t, "/forbidden")
			if n := rig.tokens.requests.Load(); n != 3 {
				t.Fatalf("%d token requests before the late rejection, want 3", n)
			}
			// The held request is refused now, with a token two rounds old; its
			// replay, if it makes one, is let through.
			hold.release <- struct{}{}
			go func() {
				for range hold.arrived {
					hold.release <- struct{}{}
				}
			}()
			defer close(hold.arrived)
			if status := <-done; status != http.StatusUnauthorized {
				t.Fatalf("the held call got %d", status)
			}

			// The refused path is still spaced: no token request.
			for range 5 {
				if status, _ := rig.mustCall(t, "/forbidden"); status != http.StatusUnauthorized {
					t.Fatalf("status %d", status)
				}
			}
			if n := rig.tokens.requests.Load(); n != 3 {
				t.Errorf("%d token requests after the late rejection, want still 3", n)
			}
			if state := rig.tr.Source().Stats().Breaker; state != "closed" {
				t.Errorf("breaker %s, want closed", state)
			}
			if status, _, err := rig.call(t, "/allowed"); err != nil || status != http.StatusOK {
				t.Errorf("a call elsewhere: %d, %v", status, err)
			}
		})
	}
}
