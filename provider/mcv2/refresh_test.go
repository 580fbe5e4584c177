package mcv2_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/internal/testkit"
	"github.com/tokentrip/tokentrip/provider/mcv2"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
	"github.com/tokentrip/tokentrip/store"
	"github.com/tokentrip/tokentrip/transport"
)

// After the exchange, the first Fetch hands over the exchanged token; later ones
// spend the refresh token and store its successor before returning.
func TestRefreshRotates(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	srv := start(t, mcv2test.WithClock(clk.Now))
	rts := &ledger{}
	rec := &testkit.Recorder{}
	cfg := webConfig(srv, rts)
	cfg.Source.Clock = clk.Now
	cfg.HTTPClient = rec.Client()
	cfg.AccountID = "5150"
	p := newProvider(t, cfg)

	exchanged := exchange(t, srv, p)
	first, err := p.Fetch(ctx)
	if err != nil || first != exchanged {
		t.Fatalf("first Fetch: %v, %v; want the exchanged token", first, err)
	}
	if n := len(rec.Sent()); n != 1 {
		t.Fatalf("%d token requests after the handover, want 1 (the exchange)", n)
	}

	clk.Advance(16 * time.Minute)
	rt1, _ := rts.Load(ctx, p.RefreshTokenKey())
	second, err := p.Fetch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if second.AccessToken == exchanged.AccessToken || !second.Expiry.Equal(clk.Now().Add(20*time.Minute)) {
		t.Errorf("renewed token %v, want a new one expiring in 20 minutes", second)
	}
	sent := rec.Sent()
	want := fmt.Sprintf(`{"grant_type":"refresh_token","refresh_token":%q,"client_id":%q,"client_secret":%q,"account_id":"5150"}`,
		rt1, srv.WebAppID, srv.WebAppSecret)
	if len(sent) != 2 || sent[1].Body != want {
		t.Fatalf("refresh request %+v\nwant body %s", sent[1:], want)
	}
	rt2, _ := rts.Load(ctx, p.RefreshTokenKey())
	if swaps := rts.Swaps(); len(swaps) != 2 || swaps[0] != [2]string{"", rt1} || swaps[1] != [2]string{rt1, rt2} || rt2 == rt1 {
		t.Errorf("store rotations %q, want \"\"→rt1→rt2", swaps)
	}
	if account, _ := srv.TokenAccount(second.AccessToken); account != "5150" {
		t.Errorf("renewed token bound to account %q, want 5150", account)
	}

	// The spent refresh token is dead: a credential still holding it must re-authorise.
	stale := &store.Memory{}
	holder := newProvider(t, webConfig(srv, stale))
	stale.CompareAndSwap(ctx, holder.RefreshTokenKey(), "", rt1)
	_, err = holder.Fetch(ctx)
	fe := fetchError(t, err, transport.ErrCredentialsRejected)
	if fe.Code != "invalid_grant" || !strings.Contains(fe.Hint, "AuthorizeURL") {
		t.Errorf("spent refresh token: %+v", fe)
	}
	testkit.WantAbsent(t, "error", err.Error(), rt1, rt2, emulator.MCv2WebAppSecret)
}

// 100 concurrent Fetches on one Provider spend 100 refresh tokens, each once, in
// one unbroken chain: no invalid_grant, no token lost.
func TestConcurrentRefreshesSpendEachTokenOnce(t *testing.T) {
	ctx := context.Background()
	srv := start(t)
	rts := &ledger{}
	p := newProvider(t, webConfig(srv, rts))
	exchange(t, srv, p)
	if _, err := p.Fetch(ctx); err != nil { // the handover
		t.Fatal(err)
	}

	const n = 100
	var wg sync.WaitGroup
	toks := make([]transport.Token, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			toks[i], errs[i] = p.Fetch(ctx)
		}()
	}
	wg.Wait()

	distinct := map[string]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Fetch %d: %v", i, errs[i])
		}
		distinct[toks[i].AccessToken] = true
	}
	if len(distinct) != n {
		t.Errorf("%d distinct access tokens, want %d", len(distinct), n)
	}
	st := srv.Stats()
	if st.TokenRequestsByGrant["refresh_token"] != n || len(st.Rejections) != 0 {
		t.Errorf("emulator: %d refresh requests, rejections %v; want %d and none", st.TokenRequestsByGrant["refresh_token"], st.Rejections, n)
	}
	swaps := rts.Swaps()
	if len(swaps) != n+1 {
		t.Fatalf("%d rotations stored, want %d", len(swaps), n+1)
	}
	seen := map[string]bool{}
	for i, s := range swaps {
		if i > 0 && s[0] != swaps[i-1][1] {
			t.Fatalf("rotation %d spent %.12s…, but the stored token was %.12s…", i, s[0], swaps[i-1][1])
		}
		if seen[s[1]] {
			t.Fatalf("refresh token %.12s… stored twice", s[1])
		}
		seen[s[1]] = true
	}
	if last, _ := rts.Load(ctx, p.RefreshTokenKey()); last != swaps[n][1] {
		t.Error("the store does not hold the last refresh token")
	}
	if _, err := p.Fetch(ctx); err != nil {
		t.Errorf("the last refresh token does not work: %v", err)
	}
}

// Once a refresh or a code is spent, its successor is saved even though the caller
// gave up meanwhile.
func TestSavingOutlivesTheCaller(t *testing.T) {
	for _, step := range []string{"exchange", "refresh"} {
		t.Run(step, func(t *testing.T) {
			_, srv, rts, cfg := ledgerUser(t)
			if step == "refresh" {
				exchange(t, srv, newProvider(t, cfg))
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			cfg.HTTPClient = &http.Client{Transport: cancelAfterAnswer{cancel}}
			p := newProvider(t, cfg)
			var err error
			if step == "refresh" {
				_, err = p.Fetch(ctx)
			} else {
				_, err = p.Exchange(ctx, authorize(t, srv, p))
			}
			if err != nil {
				t.Fatal(err)
			}
			if ctx.Err() == nil || rts.SwapContextErr() != nil {
				t.Fatalf("caller's context: %v; store's: %v; want the save to run unhindered", ctx.Err(), rts.SwapContextErr())
			}
			if n := len(rts.Swaps()); n != map[string]int{"exchange": 1, "refresh": 2}[step] {
				t.Errorf("%d refresh tokens saved", n)
			}
		})
	}
}

// When the store cannot save the new refresh token, Fetch fails rather than hand
// out a token whose successor could be lost; the next Fetch saves it and hands
// over the access token it came with, without asking again.
func TestStoreFailureKeepsTheNewRefreshToken(t *testing.T) {
	ctx := context.Background()
	clk, srv, rts, cfg := ledgerUser(t)
	p := newProvider(t, cfg)
	exchange(t, srv, p)
	clk.Advance(time.Hour) // the exchanged token has expired: no handover
	spent, _ := rts.Load(ctx, p.RefreshTokenKey())

	rts.FailSaves(1)
	_, err := p.Fetch(ctx)
	fetchError(t, err, transport.ErrEndpoint)
	if !errors.Is(err, errStoreDown) {
		t.Errorf("error %v does not carry the store's", err)
	}
	if now, _ := rts.Load(ctx, p.RefreshTokenKey()); now != spent {
		t.Fatal("the store changed although saving failed")
	}

	tok, err := p.Fetch(ctx)
	if err != nil {
		t.Fatalf("Fetch after the store recovered: %v", err)
	}
	if got := srv.Stats().TokenRequestsByGrant["refresh_token"]; got != 1 {
		t.Errorf("%d refresh requests, want 1: the held token is handed over", got)
	}
	if account, ok := srv.TokenAccount(tok.AccessToken); !ok {
		t.Errorf("handed-over token %v unknown to the emulator (%q)", tok, account)
	}
	saved, _ := rts.Load(ctx, p.RefreshTokenKey())
	if saved == spent || saved == "" {
		t.Fatal("the new refresh token was not saved")
	}
	clk.Advance(time.Hour)
	if _, err := p.Fetch(ctx); err != nil {
		t.Errorf("the saved refresh token does not work: %v", err)
	}
	if rej := srv.Stats().Rejections; len(rej) != 0 {
		t.Errorf("rejections %v, want none", rej)
	}
}

// Two processes sharing one store can both load a refresh token before either has
// spent it. Marketing Cloud grants the first and refuses the second (invalid_grant):
// the loser never fails. It waits for the winner's successor, even when its own
// refusal arrives before the winner has stored it, and adopts the winner's access
// token stored with it; from a store that keeps no access token it spends the
// successor once instead. Either way the refresh-token chain stays intact.
func TestRefreshRacedByAnotherProcess(t *testing.T) {
	for _, tt := range []struct {
		name        string
		noPairs     bool // the store keeps no access token with the refresh token
		winnerLate  bool // the winner stores its successor only after the loser's refusal
		wantAdopted bool
		wantGrants  int // refresh_token requests: winner, loser refused, loser's own
	}{
		{name: "winner stored first", wantAdopted: true, wantGrants: 2},
		{name: "winner stores after the refusal", winnerLate: true, wantAdopted: true, wantGrants: 2},
		{name: "store without access tokens", noPairs: true, wantGrants: 3},
		{name: "store without access tokens, winner late", noPairs: true, winnerLate: true, wantGrants: 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			srv := start(t)
			rts := &ledger{noPairs: tt.noPairs}
			exchange(t, srv, newProvider(t, webConfig(srv, rts)))
			loser := newProvider(t, webConfig(srv, rts))
			winner := newProvider(t, webConfig(srv, rts))
			srv.ResetStats()

			// The winner renews right after the loser has loaded the refresh token.
			var winnerTok transport.Token
			var winnerErr error
			winnerDone := make(chan struct{})
			rts.AfterLoad(func() {
				if !tt.winnerLate {
					winnerTok, winnerErr = winner.Fetch(ctx)
					close(winnerDone)
					return
				}
				// The winner's answer is in, its save held until the loser, refused,
				// looks at the store again.
				held, release := make(chan struct{}), make(chan struct{})
				rts.BeforeSwap(func() { close(held); <-release })
				go func() { winnerTok, winnerErr = winner.Fetch(ctx); close(winnerDone) }()
				<-held
				rts.AfterLoad(func() { close(release) })
			})
			tok, err := loser.Fetch(ctx)
			<-winnerDone
			if winnerErr != nil {
				t.Fatalf("winner: %v", winnerErr)
			}
			if err != nil {
				t.Fatalf("loser: %v; a rotation race must not fail", err)
			}
			if adopted := tok.AccessToken == winnerTok.AccessToken; adopted != tt.wantAdopted {
				t.Errorf("loser's token is the winner's: %t, want %t", adopted, tt.wantAdopted)
			}
			st := srv.Stats()
			if got := st.TokenRequestsByGrant["refresh_token"]; got != tt.wantGrants {
				t.Errorf("%d refresh_token requests, want %d", got, tt.wantGrants)
			}
			if got := st.Rejections["reused_grant"]; got != 1 || len(st.Rejections) != 1 {
				t.Errorf("rejections %v, want the one race", st.Rejections)
			}
			// The chain is intact: each stored token spent the one before it, and the
			// last works for either process.
			swaps := rts.Swaps()
			for i := 1; i < len(swaps); i++ {
				if swaps[i][0] != swaps[i-1][1] {
					t.Fatalf("rotation %d spent %.12s…, the stored token was %.12s…", i, swaps[i][0], swaps[i-1][1])
				}
			}
			for name, p := range map[string]*mcv2.Provider{"loser": loser, "winner": winner} {
				if _, err := p.Fetch(ctx); err != nil {
					t.Errorf("%s's next Fetch: %v", name, err)
				}
			}
		})
	}
}

// A refresh token refused for itself — spent long ago, revoked — is still rejected
// credentials, once no rotation explains the refusal within the wait.
func TestRefusedRefreshTokenWithoutARace(t *testing.T) {
	ctx := context.Background()
	clk, srv, rts, cfg := ledgerUser(t)
	p := newProvider(t, cfg)
	exchange(t, srv, p)
	clk.Advance(time.Hour) // no handover: the refresh token is spent
	spent, _ := rts.Load(ctx, p.RefreshTokenKey())
	srv.RevokeToken(spent)
	began := time.Now()
	_, err := p.Fetch(ctx)
	if waited := time.Since(began); waited > 5*time.Second {
		t.Errorf("the refusal took %v; the wait for a rotation is bounded", waited)
	}
	fe := fetchError(t, err, transport.ErrCredentialsRejected)
	if fe.Code != "invalid_grant" || errors.Is(err, mcv2.ErrRotatedElsewhere) || errors.Is(err, transport.ErrSuperseded) {
		t.Errorf("error %v, want invalid_grant as rejected credentials", err)
	}
}

// A user's credential without a stored refresh token asks for authorisation and
// sends nothing.
func TestNoRefreshToken(t *testing.T) {
	srv := start(t)
	_, err := newProvider(t, webConfig(srv, &store.Memory{})).Fetch(context.Background())
	fe := fetchError(t, err, transport.ErrCredentialsRejected)
	if !errors.Is(err, mcv2.ErrNoRefreshToken) || !strings.Contains(fe.Hint, "Exchange") {
		t.Errorf("error %v, want ErrNoRefreshToken and a hint to authorise", err)
	}
	if got := srv.Stats().TokenRequests; got != 0 {
		t.Errorf("%d token requests, want none", got)
	}
}

// An app with several users keeps one refresh token per user, under each user's
// key, in one store; renewing one user's token leaves the others' alone.
func TestUsersKeepTheirOwnRefreshTokens(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	srv := start(t, mcv2test.WithClock(clk.Now))
	rts := &store.Memory{}
	users := map[string]*mcv2.Provider{}
	for _, user := range []string{"alice", "bob"} {
		cfg := webConfig(srv, rts)
		cfg.RefreshTokenKey = "mcv2/users/" + user
		cfg.Source.Clock = clk.Now
		users[user] = newProvider(t, cfg)
		exchange(t, srv, users[user])
	}
	bob, _ := rts.Load(ctx, "mcv2/users/bob")
	clk.Advance(time.Hour)
	if _, err := users["alice"].Fetch(ctx); err != nil {
		t.Fatal(err)
	}
	if now, _ := rts.Load(ctx, "mcv2/users/bob"); now != bob || bob == "" {
		t.Error("renewing alice's token changed bob's refresh token")
	}
	if _, err := users["bob"].Fetch(ctx); err != nil {
		t.Errorf("bob's renewal: %v", err)
	}
}

// A holder of the credential that renews just after another did adopts the access
// token stored with the refresh token instead of spending it: one grant serves
// both. Asked again — its Source replacing that token, perhaps because the API
// refused it — it does spend the refresh token.
func TestFreshAccessTokenInTheStoreIsAdopted(t *testing.T) {
	ctx := context.Background()
	clk, srv, _, cfg := ledgerUser(t)
	exchange(t, srv, newProvider(t, cfg))
	a, b := newProvider(t, cfg), newProvider(t, cfg)
	clk.Advance(time.Hour)
	srv.ResetStats()

	ta, err := a.Fetch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := b.Fetch(ctx)
	if err != nil || tb != ta {
		t.Fatalf("B: %v, %v; want A's token, adopted", tb, err)
	}
	if n := srv.Stats().TokenRequestsByGrant["refresh_token"]; n != 1 {
		t.Fatalf("%d refresh requests, want 1 for both", n)
	}
	again, err := b.Fetch(ctx)
	if err != nil || again.AccessToken == ta.AccessToken {
		t.Fatalf("B again: %v, %v; want a new token, not the one it handed out", again, err)
	}
	if st := srv.Stats(); st.TokenRequestsByGrant["refresh_token"] != 2 || len(st.Rejections) != 0 {
		t.Fatalf("stats %+v; want 2 refresh requests and no rejection", st)
	}
}
