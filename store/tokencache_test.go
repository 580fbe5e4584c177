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

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/internal/storetest"
	"github.com/tokentrip/tokentrip/internal/testkit"
	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/provider/mcv2"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
	"github.com/tokentrip/tokentrip/store"
	"github.com/tokentrip/tokentrip/transport"
)

// The bounds of a TokenCache, as its documentation states them.
const (
	maxCachedTokens   = 64
	maxTokenCacheFile = 256 << 10
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
func save(t *testing.T, c *store.TokenCache, key string, tok storetest.Stored, ttl time.Duration) {
	t.Helper()
	if err := trySave(t, c, key, tok, ttl); err != nil {
		t.Fatal(err)
	}
}

// trySave is save that returns the error of the Save.
func trySave(t *testing.T, c *store.TokenCache, key string, tok storetest.Stored, ttl time.Duration) error {
	t.Helper()
	ctx := context.Background()
	l, err := c.Lock(ctx, key)
	if err != nil || l == nil {
		t.Fatalf("Lock(%s) = %v, %v", key, l, err)
	}
	err = l.Save(ctx, tok.Value(), ttl)
	if uerr := l.Unlock(ctx); uerr != nil {
		t.Fatal(uerr)
	}
	return err
}

func TestTokenCacheKeepsEveryFieldForItsTTL(t *testing.T) {
	c, dir := newCache(t)
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	c.SetClock(func() time.Time { return now })
	want := storetest.Stored{
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
	got, ok, err := storetest.Load(ctx, c, "k")
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
	if _, ok, _ := storetest.Load(ctx, c, "other"); ok {
		t.Fatal("a key never saved was found")
	}
	// A new TokenCache on the directory — the next run — sees it too.
	next, err := store.NewTokenCache(dir)
	if err != nil {
		t.Fatal(err)
	}
	next.SetClock(func() time.Time { return now })
	if got, ok, _ := storetest.Load(ctx, next, "k"); !ok || got.Token.AccessToken != "at-1" {
		t.Fatalf("the next run's Load = %+v, %v", got, ok)
	}
	now = now.Add(19 * time.Minute)
	if _, ok, _ := storetest.Load(ctx, c, "k"); ok {
		t.Fatal("a token past its TTL was handed out")
	}

	for path, want := range map[string]os.FileMode{dir: 0o700, filepath.Join(dir, "tokens.json"): 0o600} {
		info, err := os.Stat(path)
		if err != nil || info.Mode().Perm() != want {
			t.Errorf("%s: mode %v, %v; want %v", path, info.Mode().Perm(), err, want)
		}
	}
	for _, v := range testkit.Renderings(c) {
		if strings.Contains(v, "at-1") {
			t.Fatalf("a rendering shows a token: %s", v)
		}
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
	if err := l.Save(ctx, storetest.Stored{Token: transport.Token{AccessToken: "late", Expiry: time.Now().Add(time.Hour)}}.Value(), time.Hour); !errors.Is(err, transport.ErrLockLost) {
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
	tok := func(i int) storetest.Stored {
		return storetest.Stored{Token: transport.Token{AccessToken: fmt.Sprintf("at-%d", i), Expiry: now.Add(time.Hour)}}
	}
	// Key 0 is saved already expired; keys 1.. expire later the higher they are.
	save(t, c, "key-0", tok(0), 0)
	for i := 1; i <= maxCachedTokens+5; i++ {
		save(t, c, fmt.Sprintf("key-%d", i), tok(i), time.Duration(i)*time.Minute)
	}
	ctx := context.Background()
	kept := 0
	for i := 0; i <= maxCachedTokens+5; i++ {
		_, ok, err := storetest.Load(ctx, c, fmt.Sprintf("key-%d", i))
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
	if kept != maxCachedTokens {
		t.Fatalf("%d tokens kept, want %d", kept, maxCachedTokens)
	}
	locks, _ := filepath.Glob(filepath.Join(dir, "fetch-*.lock"))
	if len(locks) > maxCachedTokens {
		t.Fatalf("%d lock files for %d tokens", len(locks), maxCachedTokens)
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
		save(t, c, "k", storetest.Stored{Token: transport.Token{AccessToken: "at", Expiry: time.Now().Add(time.Hour)}}, time.Hour)
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

// TestTokenCacheReplacesAnUnreadableFile: a file that is not a token file, or an
// entry that is not a token, is reported as corrupt (so the Source says so), not
// as a miss nor an outage; the next save replaces it.
func TestTokenCacheReplacesAnUnreadableFile(t *testing.T) {
	good := `{"version":1,"tokens":{"k":{"access_token":"old","expiry":1,"until":99999999999999999}}}`
	for _, tt := range []struct {
		name    string
		content []byte
	}{
		{"not JSON", []byte("not json")},
		{"binary", []byte{0, 0xff, 0xfe, '{'}},
		{"empty file", nil},
		{"truncated", []byte(good[:40])},
		{"trailing garbage", []byte(good + "garbage")},
		{"no version", []byte(`{"tokens":{}}`)},
		{"version as text", []byte(`{"version":"1","tokens":{}}`)},
		{"tokens as a list", []byte(`{"version":1,"tokens":[1,2]}`)},
		{"too large", append(append([]byte(`{"version":1,"tokens":{},"pad":"`), make([]byte, maxTokenCacheFile)...), `"}`...)},
		{"empty token", []byte(`{"version":1,"tokens":{"k":{"access_token":"","expiry":1,"until":99999999999999999}}}`)},
		{"no expiry", []byte(`{"version":1,"tokens":{"k":{"access_token":"old","until":99999999999999999}}}`)},
		{"no lifetime", []byte(`{"version":1,"tokens":{"k":{"access_token":"old","expiry":1}}}`)},
		{"entry null", []byte(`{"version":1,"tokens":{"k":null}}`)},
		{"entry as text", []byte(`{"version":1,"tokens":{"k":"old"}}`)},
		{"expiry as text", []byte(`{"version":1,"tokens":{"k":{"access_token":"old","expiry":"soon","until":99999999999999999}}}`)},
		{"access token as a number", []byte(`{"version":1,"tokens":{"k":{"access_token":7,"expiry":1,"until":99999999999999999}}}`)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, dir := newCache(t)
			path := filepath.Join(dir, "tokens.json")
			if err := os.WriteFile(path, tt.content, 0o600); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if _, ok, err := storetest.Load(ctx, c, "k"); ok || !errors.Is(err, transport.ErrCorruptValue) {
				t.Fatalf("Load = %v, %v; want an error wrapping ErrCorruptValue", ok, err)
			}
			save(t, c, "k", storetest.Stored{Token: transport.Token{AccessToken: "new", Expiry: time.Now().Add(time.Hour)}}, time.Hour)
			if got, ok, err := storetest.Load(ctx, c, "k"); !ok || err != nil || got.Token.AccessToken != "new" {
				t.Fatalf("Load after a save = %+v, %v, %v", got, ok, err)
			}
		})
	}
}

// TestTokenCacheLeavesANewerVersionsFile: a file in a format this tokentrip does
// not know is neither read nor replaced — a newer tokentrip sharing the directory
// keeps its tokens — and the error says why.
func TestTokenCacheLeavesANewerVersionsFile(t *testing.T) {
	for _, content := range []string{
		`{"version":2,"tokens":{"k":{"access_token":"old","expiry":1,"until":99999999999999999}}}`,
		`{"version":99,"tokens":{"k":{"token":{"v":"sealed"}}},"keys":["x"]}`,
		`{"version":2,"tokens":["a new shape"]}`,
	} {
		c, dir := newCache(t)
		path := filepath.Join(dir, "tokens.json")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		_, ok, err := storetest.Load(ctx, c, "k")
		if ok || !errors.Is(err, store.ErrNewerTokenCache) || errors.Is(err, transport.ErrCorruptValue) {
			t.Fatalf("%s: Load = %v, %v; want ErrNewerTokenCache, not corrupt", content, ok, err)
		}
		err = trySave(t, c, "k", storetest.Stored{Token: transport.Token{AccessToken: "mine", Expiry: time.Now().Add(time.Hour)}}, time.Hour)
		if !errors.Is(err, store.ErrNewerTokenCache) {
			t.Fatalf("Save over a newer file = %v, want ErrNewerTokenCache", err)
		}
		if got, _ := os.ReadFile(path); string(got) != content {
			t.Fatalf("the newer file was replaced: %s", got)
		}
	}
}

// TestTokenCacheFollowsNoLinkAndWaitsForNoFIFO: a tokens.json or a lock file that
// is a symbolic link is not followed — not read, not written through, no file
// created where it points — and a FIFO is refused at once instead of blocking the
// run until a writer comes.
func TestTokenCacheFollowsNoLinkAndWaitsForNoFIFO(t *testing.T) {
	ctx := context.Background()
	tok := storetest.Stored{Token: transport.Token{AccessToken: "at", Expiry: time.Now().Add(time.Hour)}}
	outside := t.TempDir()
	private := filepath.Join(outside, "private")
	privateContent := `{"version":1,"tokens":{"k":{"access_token":"planted","expiry":1,"until":99999999999999999}}}`
	if err := os.WriteFile(private, []byte(privateContent), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name  string
		plant func(t *testing.T, dir string) (target string)
	}{
		{"tokens.json links to a private file of the user", func(t *testing.T, dir string) string {
			return private
		}},
		{"tokens.json links to /etc/passwd", func(t *testing.T, dir string) string { return "/etc/passwd" }},
		{"tokens.json links to nothing", func(t *testing.T, dir string) string { return filepath.Join(outside, "dangling") }},
		{"tokens.json is a FIFO", func(t *testing.T, dir string) string {
			if err := mkfifo(filepath.Join(dir, "tokens.json")); err != nil {
				t.Skip("no FIFOs here:", err)
			}
			return ""
		}},
		{"tokens.json is a directory", func(t *testing.T, dir string) string {
			if err := os.Mkdir(filepath.Join(dir, "tokens.json"), 0o700); err != nil {
				t.Fatal(err)
			}
			return ""
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, dir := newCache(t)
			path := filepath.Join(dir, "tokens.json")
			var before []byte
			if target := tt.plant(t, dir); target != "" {
				before, _ = os.ReadFile(target)
				if err := os.Symlink(target, path); err != nil {
					t.Fatal(err)
				}
				defer func() {
					after, _ := os.ReadFile(target)
					if string(after) != string(before) {
						t.Errorf("%s changed through the link", target)
					}
				}()
			}
			done := make(chan error, 1)
			go func() {
				_, ok, err := storetest.Load(ctx, c, "k")
				if ok {
					err = errors.New("a token was loaded")
				}
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || errors.Is(err, transport.ErrCorruptValue) || !strings.Contains(err.Error(), "not a regular file") {
					t.Fatalf("Load = %v; want a refusal: not a regular file", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Load blocked")
			}
			if err := trySave(t, c, "k", tok, time.Hour); err == nil {
				t.Fatal("Save over a link, a FIFO or a directory succeeded")
			}
			if _, err := os.Stat(filepath.Join(outside, "dangling")); err == nil {
				t.Fatal("a file was created where the link points")
			}
		})
	}

	t.Run("a fetch lock links elsewhere", func(t *testing.T) {
		c, dir := newCache(t)
		save(t, c, "k", tok, time.Hour) // makes the key's lock file
		locks, _ := filepath.Glob(filepath.Join(dir, "fetch-*.lock"))
		if len(locks) != 1 {
			t.Fatalf("lock files %v", locks)
		}
		target := filepath.Join(outside, "created-by-lock")
		os.Remove(locks[0])
		if err := os.Symlink(target, locks[0]); err != nil {
			t.Fatal(err)
		}
		if l, err := c.Lock(ctx, "k"); err == nil || l != nil {
			t.Fatalf("Lock through a link = %v, %v; want an error", l, err)
		}
		if err := c.Wait(ctx, "k"); err == nil {
			t.Fatal("Wait through a link succeeded")
		}
		if _, err := os.Lstat(target); err == nil {
			t.Fatal("the lock created a file where its link points")
		}
	})

	t.Run("the write lock links elsewhere", func(t *testing.T) {
		c, dir := newCache(t)
		target := filepath.Join(outside, "created-by-write-lock")
		if err := os.Symlink(target, filepath.Join(dir, "tokens.lock")); err != nil {
			t.Fatal(err)
		}
		if err := trySave(t, c, "k", tok, time.Hour); err == nil {
			t.Fatal("Save under a write lock that links elsewhere succeeded")
		}
		if _, err := os.Lstat(target); err == nil {
			t.Fatal("the write lock created a file where its link points")
		}
		if _, err := os.Lstat(filepath.Join(dir, "tokens.json")); err == nil {
			t.Fatal("tokens.json was written without the write lock")
		}
	})
}

// TestTokenCacheFitsItsFile: however long the tokens (up to the 16 KiB a Source
// accepts, of characters JSON may escape), a save keeps the file within
// its 256 KiB by dropping the tokens that expire soonest, so that the file
// stays readable and the tokens saved last are found.
func TestTokenCacheFitsItsFile(t *testing.T) {
	for _, tt := range []struct {
		name     string
		token    func(i int) string
		n        int
		wantKept int // at least this many of the last saved are found
	}{
		{"20 tokens of 1 KiB", func(i int) string { return fmt.Sprintf("%04d", i) + strings.Repeat("a", 1<<10-4) }, 20, 20},
		{"24 tokens of 16 KiB", func(i int) string { return fmt.Sprintf("%04d", i) + strings.Repeat("b", 16<<10-4) }, 24, 14},
		{"24 tokens of 16 KiB of <&>", func(i int) string { return fmt.Sprintf("%04d", i) + strings.Repeat("<&>", (16<<10-4)/3) }, 24, 14},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, dir := newCache(t)
			now := time.Now()
			c.SetClock(func() time.Time { return now })
			for i := range tt.n {
				tok := storetest.Stored{Token: transport.Token{
					AccessToken:     tt.token(i),
					Expiry:          now.Add(2 * time.Hour),
					RESTInstanceURL: "https://mc.rest.marketingcloudapis.com/",
				}, Fetched: now}
				save(t, c, fmt.Sprintf("key-%d", i), tok, time.Hour+time.Duration(i)*time.Second)
				info, err := os.Stat(filepath.Join(dir, "tokens.json"))
				if err != nil || info.Size() > maxTokenCacheFile {
					t.Fatalf("save %d: file %v, %v; want at most %d bytes", i, info.Size(), err, maxTokenCacheFile)
				}
			}
			ctx := context.Background()
			for i := tt.n - 1; i >= tt.n-tt.wantKept; i-- {
				got, ok, err := storetest.Load(ctx, c, fmt.Sprintf("key-%d", i))
				if err != nil || !ok || got.Token.AccessToken != tt.token(i) {
					t.Fatalf("key-%d (of the %d saved last): %v, %v", i, tt.wantKept, ok, err)
				}
			}
		})
	}
}

// TestTokenCacheBindsKeys: views bound to different endpoints or secrets never see
// each other's tokens under the same Store key, nor wait on each other's fetch
// locks; the same binding, in another run, does; no part reaches the directory.
func TestTokenCacheBindsKeys(t *testing.T) {
	c, dir := newCache(t)
	ctx := context.Background()
	const key = "same store key"
	views := []struct {
		name  string
		parts []string
	}{
		{"unbound", nil},
		{"endpoint A, secret 1", []string{"https://a.example/", "secret-one-1"}},
		{"endpoint B, secret 1", []string{"https://b.example/", "secret-one-1"}},
		{"endpoint A, secret 2", []string{"https://a.example/", "secret-two-2"}},
		{"parts split differently", []string{"https://a.example/secret-one-1"}},
		{"parts split differently again", []string{"https://a.example/", "secret-one", "-1"}},
	}
	view := func(i int) *store.TokenCache {
		if views[i].parts == nil {
			return c
		}
		return c.Bind(views[i].parts...)
	}
	locks := make([]transport.FetchLock, len(views))
	for i := range views {
		l, err := view(i).Lock(ctx, key)
		if err != nil || l == nil {
			t.Fatalf("%s: Lock = %v, %v while the other views hold theirs", views[i].name, l, err)
		}
		locks[i] = l
	}
	for i, l := range locks {
		tok := storetest.Stored{Token: transport.Token{AccessToken: fmt.Sprintf("at-%d", i), Expiry: time.Now().Add(time.Hour)}}
		if err := l.Save(ctx, tok.Value(), time.Hour); err != nil {
			t.Fatal(err)
		}
		l.Unlock(ctx)
	}
	next, err := store.NewTokenCache(dir) // the next run
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range views {
		again := next
		if v.parts != nil {
			again = next.Bind(v.parts...)
		}
		got, ok, err := storetest.Load(ctx, again, key)
		if want := fmt.Sprintf("at-%d", i); err != nil || !ok || got.Token.AccessToken != want {
			t.Errorf("%s: Load = %q, %v, %v; want %s", v.name, got.Token.AccessToken, ok, err, want)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		data, _ := os.ReadFile(f)
		for _, part := range []string{"secret-one", "secret-two", "a.example", "b.example"} {
			if strings.Contains(f, part) || strings.Contains(string(data), part) {
				t.Errorf("%s holds %q", filepath.Base(f), part)
			}
		}
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
			AuthURL:      srv.URL,
			ClientID:     emulator.MCv2ClientID,
			ClientSecret: emulator.MCv2ClientSecret,
			AccountID:    account,
			Common:       provider.Common{HTTPClient: srv.Client(), Source: transport.Settings{Store: c}},
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
		go func() { defer wg.Done(); tokens[i] = run(srv.AccountID) }()
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
	tr, _ := mcv2.NewTransport(mcv2.Config{AuthURL: srv.URL, ClientID: emulator.MCv2ClientID, ClientSecret: emulator.MCv2ClientSecret, Common: provider.Common{HTTPClient: srv.Client(), Source: transport.Settings{Store: c}, Transport: transport.Options{Base: srv.Client().Transport}}})
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
