package mcv2_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/internal/manualclock"
	"github.com/tokentrip/tokentrip/internal/testkit"
	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/provider/mcv2"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
	"github.com/tokentrip/tokentrip/store"
	"github.com/tokentrip/tokentrip/transport"
)

// Test values. The subdomain has the shape of a real one (28 characters).
const (
	subdomain   = "mc563885gzs27c5t9-63k636tzgm"
	redirectURI = "https://app.example.com/mc/callback"
)

// start runs an emulator for the test.
func start(t *testing.T, opts ...mcv2test.Option) *mcv2test.Server {
	return testkit.Started(t, mcv2test.NewServer(opts...))
}

// serverConfig is a server-to-server credential for srv's default client.
func serverConfig(srv *mcv2test.Server) mcv2.Config {
	cfg := mcv2.Config{AuthURL: srv.URL, ClientID: emulator.MCv2ClientID, ClientSecret: emulator.MCv2ClientSecret}
	cfg.Retry.MaxRetries = -1 // the tests count every token request
	return cfg
}

// webConfig is a user's credential for srv's default web app.
func webConfig(srv *mcv2test.Server, rts store.RefreshTokens) mcv2.Config {
	return mcv2.Config{
		AuthURL:       srv.URL,
		ClientID:      emulator.MCv2WebAppID,
		ClientSecret:  emulator.MCv2WebAppSecret,
		RedirectURI:   redirectURI,
		RefreshTokens: rts,
		Common:        provider.Common{Retry: provider.Retry{MaxRetries: -1}},
	}
}

// ledgerUser starts an emulator on a manual clock and returns it with a user's
// credential on that clock, whose refresh tokens a ledger keeps.
func ledgerUser(t *testing.T) (*clock, *mcv2test.Server, *ledger, mcv2.Config) {
	clk := newClock()
	srv := start(t, mcv2test.WithClock(clk.Now))
	rts := &ledger{}
	cfg := webConfig(srv, rts)
	cfg.Source.Clock = clk.Now
	return clk, srv, rts, cfg
}

func newProvider(t *testing.T, cfg mcv2.Config) *mcv2.Provider {
	t.Helper()
	p, err := mcv2.NewProvider(cfg)
	if err != nil {
		t.Fatalf("NewProvider: %v", err)
	}
	return p
}

// authorize runs the browser's part of an authorisation against srv: it follows
// AuthorizeURL to the redirect and parses the callback.
func authorize(t *testing.T, srv *mcv2test.Server, p *mcv2.Provider, opts ...mcv2.AuthOption) mcv2.Callback {
	t.Helper()
	state := rand.Text()
	resp, err := srv.Client().Get(p.AuthorizeURL(state, opts...))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %s", resp.Status)
	}
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	cb, err := mcv2.ParseCallback(back.Query(), state)
	if err != nil {
		t.Fatalf("ParseCallback: %v", err)
	}
	return cb
}

// exchange authorises p's user and redeems the code.
func exchange(t *testing.T, srv *mcv2test.Server, p *mcv2.Provider) transport.Token {
	t.Helper()
	tok, err := p.Exchange(context.Background(), authorize(t, srv, p))
	if err != nil {
		t.Fatalf("Exchange: %v", err)
	}
	return tok
}

// clock is the tests' clock, which moves only when told to.
type clock = manualclock.Clock

func newClock() *clock { return manualclock.New(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)) }

// cancelAfterAnswer is a RoundTripper that cancels a context once a token answer
// has been read: the moment a caller giving up would hurt most.
type cancelAfterAnswer struct {
	cancel context.CancelFunc
}

func (c cancelAfterAnswer) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	c.cancel()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, err
}

// ledger is a RefreshTokens that records every successful rotation and can be
// made to fail.
type ledger struct {
	store.Memory

	mu         sync.Mutex
	swaps      [][2]string // prev, next
	failSaves  int         // the next CompareAndSwap calls that fail
	afterLoad  func()      // runs once, after the next Load
	beforeSwap func()      // runs once, before the next CompareAndSwap
	swapErr    error       // the context's error at the last CompareAndSwap
	noPairs    bool        // behave as a store that keeps no access token (not a tokenpairs.Store)
}

func (l *ledger) Load(ctx context.Context, key string) (string, error) {
	v, err := l.Memory.Load(ctx, key)
	l.loaded()
	return v, err
}

// loaded runs the AfterLoad function, once.
func (l *ledger) loaded() { l.runOnce(&l.afterLoad) }

// runOnce runs the one-shot hook *hook holds, if any, and clears it, so that it
// runs once however many calls race for it.
func (l *ledger) runOnce(hook *func()) {
	l.mu.Lock()
	f := *hook
	*hook = nil
	l.mu.Unlock()
	if f != nil {
		f()
	}
}

// AfterLoad makes f run once, after the next Load has read the stored token.
func (l *ledger) AfterLoad(f func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.afterLoad = f
}

var errStoreDown = errors.New("test store is down")

func (l *ledger) CompareAndSwap(ctx context.Context, key, prev, next string) error {
	return l.CompareAndSwapPair(ctx, key, prev, next, transport.Token{})
}

// LoadPair is Load for the providers that keep the access token with the refresh
// token (tokenpairs.Store).
func (l *ledger) LoadPair(ctx context.Context, key string) (string, transport.Token, error) {
	v, access, err := l.Memory.LoadPair(ctx, key)
	l.loaded()
	if l.noPairs {
		access = transport.Token{}
	}
	return v, access, err
}

// BeforeSwap makes f run once, before the next CompareAndSwap stores anything.
func (l *ledger) BeforeSwap(f func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.beforeSwap = f
}

func (l *ledger) CompareAndSwapPair(ctx context.Context, key, prev, next string, access transport.Token) error {
	l.runOnce(&l.beforeSwap)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.noPairs {
		access = transport.Token{}
	}
	l.swapErr = ctx.Err()
	if l.failSaves > 0 {
		l.failSaves--
		return errStoreDown
	}
	if err := l.Memory.CompareAndSwapPair(ctx, key, prev, next, access); err != nil {
		return err
	}
	l.swaps = append(l.swaps, [2]string{prev, next})
	return nil
}

func (l *ledger) Swaps() [][2]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([][2]string(nil), l.swaps...)
}

// SwapContextErr returns the context's error at the last CompareAndSwap.
func (l *ledger) SwapContextErr() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.swapErr
}

func (l *ledger) FailSaves(n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failSaves = n
}

// fetchError asserts that err is a *transport.FetchError of kind and returns it.
func fetchError(t *testing.T, err error, kind error) *transport.FetchError {
	t.Helper()
	var fe *transport.FetchError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T), want a *transport.FetchError", err, err)
	}
	if !errors.Is(err, kind) {
		t.Fatalf("error %v, want kind %v", err, kind)
	}
	if fe.Hint == "" {
		t.Errorf("error %v has no hint", err)
	}
	return fe
}
