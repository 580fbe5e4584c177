package store_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/provider/mcv2"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
	"github.com/tokentrip/tokentrip/store"
	"github.com/tokentrip/tokentrip/transport"
)

func newCache(t *testing.T) (*store.TokenCache, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "cache")
	c, err := store.NewTokenCache(dir)
	if err != nil {
		t.Fatal(err)
	}
	return c, dir
}

// save takes key's fetch lock, saves tok for ttl and unlocks.
func save(t *testing.T, c *store.TokenCache, key string, tok transport.StoredToken, ttl time.Duration) {
	t.Helper()
	ctx := context.Background()
	l, err := c.Lock(ctx, key)
	if err != nil || l == nil {
		t.Fatalf("Lock(%s) = %v, %v", key, l, err)
	}
	if err := l.Save(ctx, tok, ttl); err != nil {
		t.Fatal(err)
	}
	if err := l.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestTokenCacheKeepsEveryFieldForItsTTL(t *testing.T) {
	c, dir := newCache(t)
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	c.SetClock(func() time.Time { return now })
	want := transport.StoredToken{
		Token: transport.Token{
			AccessToken:     "at-1",
			Expiry:          now.Add(20 * time.Minute),
			RefreshAfter:    now.Add(10 * time.Minute),
			RESTInstanceURL: "https://mc.rest.marketingcloudapis.com/",
			SOAPInstanceURL: "https://mc.soap.marketingcloudapis.com/",
			Scope:           "email_read",
		},
		Fetched: now.Add(-time.Second),
	}
	save(t, c, "k", want, 19*time.Minute)
	ctx := context.Background()
	got, ok, err := c.Load(ctx, "k")
	if err != nil || !ok {
		t.Fatalf("Load = %v, %v", ok, err)
	}
	if !got.Token.Expiry.Equal(want.Token.Expiry) || !got.Token.RefreshAfter.Equal(want.Token.RefreshAfter) || !got.Fetched.Equal(want.Fetched) {
		t.Fatalf("times changed: %+v, want %+v", got, want)
	}
	got.Token.Expiry, got.Token.RefreshAfter, got.Fetched = want.Token.Expiry, want.Token.RefreshAfter, want.Fetched
	if got != want {
		t.Fatalf("Load = %+v, want %+v", got, want)
	}
	if _, ok, _ := c.Load(ctx, "other"); ok {
		t.Fatal("a key never saved was found")
	}
	// A new TokenCache on the directory — the next run — sees it too.
	next, err := store.NewTokenCache(dir)
	if err != nil {
		t.Fatal(err)
	}
	next.SetClock(func() time.Time { return now })
	if got, ok, _ := next.Load(ctx, "k"); !ok || got.Token.AccessToken != "at-1" {
		t.Fatalf("the next run's Load = %+v, %v", got, ok)
	}
	now = now.Add(19 * time.Minute)
	if _, ok, _ := c.Load(ctx, "k"); ok {
		t.Fatal("a token past its TTL was handed out")
	}

	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, "tokens.json"): 0o600} {
		info, err := os.Stat(path)
		if err != nil || info.Mode().Perm() != want {
			t.Errorf("%s: mode %v, %v; want %v", path, info.Mode().Perm(), err, want)
		}
	}
	if strings.Contains(c.String(), "at-1") {
		t.Fatalf("String shows a token: %s", c)
	}
}

func TestTokenCacheFetchLockIsExclusive(t *testing.T) {
	c, dir := newCache(t)
	other, err := store.NewTokenCache(dir) // another process, as far as flock can tell
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	l, err := c.Lock(ctx, "k")
	if err != nil || l == nil {
		t.Fatalf("first Lock = %v, %v", l, err)
	}
	if l2, err := other.Lock(ctx, "k"); l2 != nil || err != nil {
		t.Fatalf("second Lock while held = %v, %v; want nil, nil", l2, err)
	}
	if l3, err := other.Lock(ctx, "another key"); l3 == nil || err != nil {
		t.Fatalf("Lock of another key = %v, %v; want it", l3, err)
	} else {
		l3.Unlock(ctx)
	}

	// Wait returns once the holder unlocks.
	waited := make(chan error)
	go func() { waited <- other.Wait(ctx, "k") }()
	if err := l.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-waited; err != nil {
		t.Fatalf("Wait = %v", err)
	}
	if err := l.Save(ctx, transport.StoredToken{Token: transport.Token{AccessToken: "late", Expiry: time.Now().Add(time.Hour)}}, time.Hour); !errors.Is(err, transport.ErrLockLost) {
		t.Fatalf("Save after Unlock = %v, want ErrLockLost", err)
	}
	l2, err := other.Lock(ctx, "k")
	if err != nil || l2 == nil {
		t.Fatalf("Lock after Unlock = %v, %v", l2, err)
	}
	defer l2.Unlock(ctx)

	// Wait on a held lock gives up after a bounded time, or when ctx ends.
	start := time.Now()
	if err := c.Wait(ctx, "k"); err != nil {
		t.Fatalf("Wait on a held lock = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Wait took %v", d)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := c.Wait(cctx, "k"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait with an ended context = %v", err)
	}
}

func TestTokenCacheIsBounded(t *testing.T) {
	c, dir := newCache(t)
	now := time.Now()
	c.SetClock(func() time.Time { return now })
	tok := func(i int) transport.StoredToken {
		return transport.StoredToken{Token: transport.Token{AccessToken: fmt.Sprintf("at-%d", i), Expiry: now.Add(time.Hour)}}
	}
	// Key 0 is saved already expired; keys 1.. expire later the higher they are.
	save(t, c, "key-0", tok(0), 0)
	for i := 1; i <= store.MaxCachedTokens+5; i++ {
		save(t, c, fmt.Sprintf("key-%d", i), tok(i), time.Duration(i)*time.Minute)
	}
	ctx := context.Background()
	kept := 0
	for i := 0; i <= store.MaxCachedTokens+5; i++ {
		_, ok, err := c.Load(ctx, fmt.Sprintf("key-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			kept++
		}
		if want := i > 5; ok != want {
			t.Errorf("key-%d kept %v, want %v (the expired and the soonest to expire go)", i, ok, want)
		}
	}
	if kept != store.MaxCachedTokens {
		t.Fatalf("%d tokens kept, want %d", kept, store.MaxCachedTokens)
	}
	locks, _ := filepath.Glob(filepath.Join(dir, "fetch-*.lock"))
	if len(locks) > store.MaxCachedTokens {
		t.Fatalf("%d lock files for %d tokens", len(locks), store.MaxCachedTokens)
	}
}

func TestTokenCacheRefusesWhatOthersCouldWrite(t *testing.T) {
	ctx := context.Background()
	t.Run("directory writable by others", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Chmod(dir, 0o777); err != nil {
			t.Fatal(err)
		}
		if _, err := store.NewTokenCache(dir); err == nil || !strings.Contains(err.Error(), "writable by others") {
			t.Fatalf("NewTokenCache = %v, want a refusal", err)
		}
	})
	t.Run("file readable by others", func(t *testing.T) {
		c, dir := newCache(t)
		save(t, c, "k", transport.StoredToken{Token: transport.Token{AccessToken: "at", Expiry: time.Now().Add(time.Hour)}}, time.Hour)
		if err := os.Chmod(filepath.Join(dir, "tokens.json"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Load(ctx, "k"); err == nil || !strings.Contains(err.Error(), "not 0600") {
			t.Fatalf("Load = %v, want a refusal", err)
		}
	})
	t.Run("not a directory", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "file")
		os.WriteFile(path, nil, 0o600)
		if _, err := store.NewTokenCache(path); err == nil {
			t.Fatal("NewTokenCache on a file succeeded")
		}
	})
}

func TestTokenCacheReplacesAnUnreadableFile(t *testing.T) {
	for name, content := range map[string][]byte{
		"not JSON":       []byte("not json"),
		"another format": []byte(`{"version":99,"tokens":{"k":{"access_token":"old","expiry":1,"until":99999999999999999}}}`),
		"too large":      append(append([]byte(`{"version":1,"tokens":{},"pad":"`), make([]byte, store.MaxTokenCacheFile)...), `"}`...),
		"empty token":    []byte(`{"version":1,"tokens":{"k":{"access_token":"","expiry":1,"until":99999999999999999}}}`),
	} {
		t.Run(name, func(t *testing.T) {
			c, dir := newCache(t)
			path := filepath.Join(dir, "tokens.json")
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if _, ok, err := c.Load(ctx, "k"); ok || err != nil {
				t.Fatalf("Load = %v, %v; want a miss", ok, err)
			}
			save(t, c, "k", transport.StoredToken{Token: transport.Token{AccessToken: "new", Expiry: time.Now().Add(time.Hour)}}, time.Hour)
			if got, ok, err := c.Load(ctx, "k"); !ok || err != nil || got.Token.AccessToken != "new" {
				t.Fatalf("Load after a save = %+v, %v, %v", got, ok, err)
			}
		})
	}
}

// TestTokenCacheSharesTokensBetweenRuns: each "run" builds its Transport anew on the
// same directory, as a cron job or the CLI does. Runs within a token's life make one
// token request; concurrent runs make one between them; another business unit gets
// its own token; a run past the token's life fetches again.
func TestTokenCacheSharesTokensBetweenRuns(t *testing.T) {
	srv := mcv2test.NewServer()
	defer srv.Close()
	_, dir := newCache(t)
	run := func(account string) string {
		c, err := store.NewTokenCache(dir)
		if err != nil {
			t.Error(err)
			return ""
		}
		tr, err := mcv2.NewTransport(mcv2.Config{
			AuthURL: srv.URL, ClientID: mcv2test.DefaultClientID, ClientSecret: mcv2test.DefaultClientSecret,
			AccountID: account, HTTPClient: srv.Client(), Store: c,
		})
		if err != nil {
			t.Error(err)
			return ""
		}
		defer tr.CloseIdleConnections()
		tok, err := tr.Source().Token(context.Background())
		if err != nil {
			t.Error(err)
		}
		return tok.AccessToken
	}
	first := run("")
	if second := run(""); second != first || srv.Stats().TokenRequests != 1 {
		t.Fatalf("two runs: tokens %q and %q, %d token requests; want one token, one request", first, second, srv.Stats().TokenRequests)
	}

	// Eight runs at once, for a business unit with no token yet: one request.
	var wg sync.WaitGroup
	tokens := make([]string, 8)
	for i := range tokens {
		wg.Add(1)
		go func() { defer wg.Done(); tokens[i] = run(mcv2test.DefaultAccountID) }()
	}
	wg.Wait()
	if got := srv.Stats().TokenRequests; got != 2 {
		t.Fatalf("%d token requests after eight concurrent runs for another business unit, want 2 in all", got)
	}
	for _, tok := range tokens[1:] {
		if tok != tokens[0] || tok == first {
			t.Fatalf("concurrent runs got tokens %q", tokens)
		}
	}

	// A token the server no longer accepts is dropped by the run that finds out,
	// and the next run does not adopt it again.
	srv.ExpireToken(first)
	c, _ := store.NewTokenCache(dir)
	tr, _ := mcv2.NewTransport(mcv2.Config{AuthURL: srv.URL, ClientID: mcv2test.DefaultClientID, ClientSecret: mcv2test.DefaultClientSecret, HTTPClient: srv.Client(), Base: srv.Client().Transport, Store: c})
	resp, err := (&http.Client{Transport: tr}).Get(srv.URL + "/platform/v1/endpoints")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("call with an expired cached token: %v, %v", resp, err)
	}
	resp.Body.Close()
	tr.CloseIdleConnections()
	if got := srv.Stats().TokenRequests; got != 3 {
		t.Fatalf("%d token requests after a rejection, want 3", got)
	}
	if again := run(""); again == first || srv.Stats().TokenRequests != 3 {
		t.Fatalf("the next run: token %q (the rejected one: %v), %d token requests; want the new token, 3 requests", again, again == first, srv.Stats().TokenRequests)
	}
}
