package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/provider/acoustic/acoustictest"
	"github.com/tokentrip/tokentrip/provider/mcv1/mcv1test"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
)

// cachedProvider is a provider's emulator, the flags and variables that reach it,
// and its count of token requests.
type cachedProvider struct {
	name     string
	args     []string
	vars     []string
	secrets  []string
	requests func() int
}

func cachedProviders(t *testing.T) []cachedProvider {
	mc1, mc2, ac := mcv1test.NewServer(), mcv2test.NewServer(), acoustictest.NewServer()
	t.Cleanup(func() { mc1.Close(); mc2.Close(); ac.Close() })
	return []cachedProvider{
		{
			name:     providerMCv1,
			args:     []string{"--provider", "mcv1", "--auth-url", mc1.URL, "--client-id", mc1.ClientID},
			vars:     []string{envClientSecret + "=" + mc1.ClientSecret},
			secrets:  []string{mc1.ClientSecret},
			requests: func() int { return mc1.Stats().TokenRequests },
		},
		{
			name:     providerMCv2,
			args:     []string{"--provider", "mcv2", "--auth-url", mc2.URL, "--client-id", mc2.ClientID},
			vars:     []string{envClientSecret + "=" + mc2.ClientSecret},
			secrets:  []string{mc2.ClientSecret},
			requests: func() int { return mc2.Stats().TokenRequests },
		},
		{
			name: providerAcoustic,
			args: []string{"--provider", "acoustic", "--base-url", ac.URL, "--client-id", ac.ClientID},
			vars: []string{
				envClientSecret + "=" + ac.ClientSecret,
				envRefreshToken + "=" + ac.RefreshToken,
			},
			secrets:  []string{ac.ClientSecret, ac.RefreshToken},
			requests: func() int { return ac.Stats().TokenRequests },
		},
	}
}

// TestTokenCacheBetweenRuns runs "tokentrip token --cache DIR" as separate
// processes: two runs within the token's life print the same token after one
// token request; four runs started together make one request between them; the
// cache holds no secret and is private; a run without --cache asks again.
func TestTokenCacheBetweenRuns(t *testing.T) {
	for _, p := range cachedProviders(t) {
		t.Run(p.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "cache")
			args := append([]string{"token", "--cache", dir}, p.args...)

			first := runBinary(t, p.vars, args...)
			wantCode(t, first, exitOK)
			second := runBinary(t, p.vars, args...)
			wantCode(t, second, exitOK)
			if first.stdout != second.stdout || p.requests() != 1 {
				t.Fatalf("two runs: tokens %q and %q, %d token requests; want one token, 1 request", first.stdout, second.stdout, p.requests())
			}
			t.Logf("FIGURE %s: two token --cache runs, %d token request", p.name, p.requests())

			// --json from the cache describes the same token.
			js := runBinary(t, p.vars, append(args, "--json")...)
			wantCode(t, js, exitOK)
			var out tokenOutput
			if err := json.Unmarshal([]byte(js.stdout), &out); err != nil || out.AccessToken+"\n" != first.stdout || out.ExpiresIn <= 0 {
				t.Fatalf("--json from the cache: %+v, %v", out, err)
			}

			// Four runs at once on an empty cache: one of them fetches.
			fresh := filepath.Join(t.TempDir(), "fresh")
			before := p.requests()
			var wg sync.WaitGroup
			runs := make([]result, 4)
			for i := range runs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					runs[i] = runBinary(t, p.vars, append([]string{"token", "--cache", fresh}, p.args...)...)
				}()
			}
			wg.Wait()
			for _, r := range runs {
				wantCode(t, r, exitOK)
				if r.stdout != runs[0].stdout {
					t.Fatalf("concurrent runs printed different tokens: %q, %q", runs[0].stdout, r.stdout)
				}
			}
			if got := p.requests() - before; got != 1 {
				t.Fatalf("four concurrent runs made %d token requests, want 1", got)
			}

			// The cache is private and holds tokens only, never a secret.
			info, err := os.Stat(dir)
			if err != nil || info.Mode().Perm() != 0o700 {
				t.Fatalf("cache directory mode %v, %v; want 0700", info.Mode().Perm(), err)
			}
			files, _ := filepath.Glob(filepath.Join(dir, "*"))
			for _, f := range files {
				data, _ := os.ReadFile(f)
				for _, secret := range append(p.secrets, p.args[5]) { // p.args[5]: the client id
					if secret != "" && strings.Contains(string(data), secret) {
						t.Errorf("%s holds a secret or the client id", filepath.Base(f))
					}
				}
			}
			if info, err := os.Stat(filepath.Join(dir, "tokens.json")); err != nil || info.Mode().Perm() != 0o600 {
				t.Fatalf("tokens.json: %v, %v; want mode 0600", info, err)
			}

			// Without --cache every run asks.
			before = p.requests()
			wantCode(t, runBinary(t, p.vars, append([]string{"token"}, p.args...)...), exitOK)
			if got := p.requests() - before; got != 1 {
				t.Fatalf("a run without --cache made %d token requests, want 1", got)
			}
		})
	}
}

// A cache directory others may write is refused before anything is sent.
func TestTokenCacheRefusesAnOpenDirectory(t *testing.T) {
	p := cachedProviders(t)[1]
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	for _, how := range []struct {
		args []string
		vars []string
	}{
		{args: []string{"--cache", dir}},
		{vars: []string{"TOKENTRIP_CACHE=" + dir}},
	} {
		r := runBinary(t, append(how.vars, p.vars...), append(append([]string{"token"}, how.args...), p.args...)...)
		wantCode(t, r, exitUsage)
		if !strings.Contains(r.stderr, "--cache (TOKENTRIP_CACHE)") || !strings.Contains(r.stderr, "writable by others") {
			t.Fatalf("stderr does not say what is wrong:\n%s", r.stderr)
		}
		if p.requests() != 0 {
			t.Fatalf("%d token requests, want none", p.requests())
		}
	}
}

// TestTokenCacheNeverCrossesCredentials: a token cached by one run is adopted only
// by a run with the same endpoint and the same secrets, never by one that shares
// the client id alone — another auth URL (an emulator, a sandbox, another tenant),
// a mistyped or rotated secret — whatever the cache directory holds.
func TestTokenCacheNeverCrossesCredentials(t *testing.T) {
	type run struct {
		name     string
		server   int    // which emulator the run asks: 0 or 1
		secret   string // "" for the right one
		wantCode int
		wantNew  bool // the run fetched: its emulator counted one token request
	}
	runs := []run{
		{name: "the same settings adopt the cached token", wantCode: exitOK},
		{name: "another auth URL, same client id and secret", server: 1, wantCode: exitOK, wantNew: true},
		{name: "a wrong secret is refused by the endpoint", secret: "not-the-secret", wantCode: exitFailure, wantNew: true},
		{name: "the first emulator's token is still the one for its settings", wantCode: exitOK},
	}
	type emulated struct {
		url      string
		requests func() int
	}
	for _, prov := range []struct {
		name     string
		start    func() (emulated, func())
		clientID string
		secret   string
	}{
		{providerMCv1, func() (emulated, func()) {
			s := mcv1test.NewServer()
			return emulated{s.URL, func() int { return s.Stats().TokenRequests }}, s.Close
		}, emulator.MCv1ClientID, emulator.MCv1ClientSecret},
		{providerMCv2, func() (emulated, func()) {
			s := mcv2test.NewServer()
			return emulated{s.URL, func() int { return s.Stats().TokenRequests }}, s.Close
		}, emulator.MCv2ClientID, emulator.MCv2ClientSecret},
	} {
		t.Run(prov.name, func(t *testing.T) {
			var emus [2]emulated
			for i := range emus {
				e, stop := prov.start()
				t.Cleanup(stop)
				emus[i] = e
			}
			dir := filepath.Join(t.TempDir(), "cache")
			token := func(server int, secret string) result {
				if secret == "" {
					secret = prov.secret
				}
				return runBinary(t, []string{envClientSecret + "=" + secret},
					"token", "--cache", dir, "--provider", prov.name, "--auth-url", emus[server].url, "--client-id", prov.clientID)
			}
			first := token(0, "")
			wantCode(t, first, exitOK)
			for _, r := range runs {
				before := emus[r.server].requests()
				got := token(r.server, r.secret)
				wantCode(t, got, r.wantCode)
				fetched := emus[r.server].requests() != before
				if fetched != r.wantNew {
					t.Fatalf("%s: the run fetched = %t, want %t", r.name, fetched, r.wantNew)
				}
				if !r.wantNew && got.stdout != first.stdout {
					t.Fatalf("%s: printed %q, want the cached %q", r.name, got.stdout, first.stdout)
				}
				if r.wantNew && got.stdout == first.stdout {
					t.Fatalf("%s: printed the token cached for other settings", r.name)
				}
			}
		})
	}
}
