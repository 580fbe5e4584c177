package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/provider/acoustic/acoustictest"
	"github.com/tokentrip/tokentrip/provider/mcv1/mcv1test"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
)

// emulated is one provider's emulator with the settings that reach it.
type emulated struct {
	provider string
	url      string   // the emulator's base URL
	api      string   // a REST URL its tokens open
	args     []string // the flags that point tokentrip at it
	secret   string   // the client secret it accepts
	vars     []string // the environment that carries the secrets
}

// emulators starts one emulator per provider.
func emulators(t *testing.T) []emulated {
	t.Helper()
	mc1 := mcv1test.NewServer()
	mc2 := mcv2test.NewServer()
	ac := acoustictest.NewServer()
	t.Cleanup(func() { mc1.Close(); mc2.Close(); ac.Close() })
	return []emulated{
		{
			provider: providerMCv1, url: mc1.URL, api: mc1.URL + "/platform/v1/endpoints",
			args:   []string{"--provider", "mcv1", "--auth-url", mc1.URL, "--client-id", mc1.ClientID},
			secret: mc1.ClientSecret,
			vars:   []string{envClientSecret + "=" + mc1.ClientSecret},
		},
		{
			provider: providerMCv2, url: mc2.URL, api: mc2.URL + "/platform/v1/endpoints",
			args:   []string{"--provider", "mcv2", "--auth-url", mc2.URL, "--client-id", mc2.ClientID},
			secret: mc2.ClientSecret,
			vars:   []string{envClientSecret + "=" + mc2.ClientSecret},
		},
		{
			provider: providerAcoustic, url: ac.URL, api: ac.URL + "/rest/databases",
			args:   []string{"--provider", "acoustic", "--base-url", ac.URL, "--client-id", ac.ClientID},
			secret: ac.ClientSecret,
			vars: []string{
				envClientSecret + "=" + ac.ClientSecret,
				envRefreshToken + "=" + ac.RefreshToken,
			},
		},
	}
}

// callWith calls url with a bearer token and returns the status.
func callWith(t *testing.T, url, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// The printed token is one line, and the emulator accepts it.
func TestTokenPrintsAcceptedToken(t *testing.T) {
	for _, e := range emulators(t) {
		t.Run(e.provider, func(t *testing.T) {
			r := runBinary(t, e.vars, append([]string{"token"}, e.args...)...)
			wantCode(t, r, exitOK)
			token := strings.TrimSuffix(r.stdout, "\n")
			if token == "" || strings.ContainsAny(token, " \n\t") {
				t.Fatalf("stdout %q: want the token alone on one line", r.stdout)
			}
			if got := callWith(t, e.api, token); got != http.StatusOK {
				t.Fatalf("REST call with the printed token: HTTP %d, want 200", got)
			}
			if got := callWith(t, e.api, token+"x"); got != http.StatusUnauthorized {
				t.Fatalf("REST call with a wrong token: HTTP %d, want 401 (is the emulator checking?)", got)
			}
			if strings.Contains(r.output(), e.secret) {
				t.Fatal("the client secret appears in the output")
			}
		})
	}
}

// --json carries the token and what the provider said about it.
func TestTokenJSON(t *testing.T) {
	for _, e := range emulators(t) {
		t.Run(e.provider, func(t *testing.T) {
			before := time.Now()
			r := runBinary(t, e.vars, append([]string{"token", "--json"}, e.args...)...)
			wantCode(t, r, exitOK)
			var got map[string]any
			if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
				t.Fatalf("stdout is not JSON: %v\n%s", err, r.stdout)
			}
			var out tokenOutput
			if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
				t.Fatal(err)
			}
			if out.Provider != e.provider || out.TokenType != "Bearer" {
				t.Errorf("provider %q, token_type %q; want %q, Bearer", out.Provider, out.TokenType, e.provider)
			}
			if got := callWith(t, e.api, out.AccessToken); got != http.StatusOK {
				t.Errorf("REST call with access_token: HTTP %d, want 200", got)
			}
			lifetime := map[string]time.Duration{
				providerMCv1:     emulator.MCv1TokenLifetime,
				providerMCv2:     emulator.MCv2TokenLifetime,
				providerAcoustic: emulator.AcousticTokenLifetime,
			}[e.provider]
			if in := time.Duration(out.ExpiresIn) * time.Second; in < lifetime-time.Minute || in > lifetime {
				t.Errorf("expires_in %d s, want about %s", out.ExpiresIn, lifetime)
			}
			if d := out.ExpiresAt.Sub(before); d < lifetime-time.Minute || d > lifetime+time.Minute {
				t.Errorf("expires_at %s is %s from now, want about %s", out.ExpiresAt, d, lifetime)
			}
			switch e.provider {
			case providerMCv2:
				if out.RESTInstanceURL != e.url+"/" || out.SOAPInstanceURL != e.url+"/" {
					t.Errorf("instance URLs %q, %q; want %q", out.RESTInstanceURL, out.SOAPInstanceURL, e.url+"/")
				}
			case providerAcoustic:
				if out.BaseURL != e.url {
					t.Errorf("base_url %q, want %q", out.BaseURL, e.url)
				}
				if out.RefreshAfter == nil || out.RefreshAfter.Sub(before) < 2*time.Hour {
					t.Errorf("refresh_after %v, want about 3 h from now", out.RefreshAfter)
				}
			}
			for _, key := range []string{"access_token", "token_type", "expires_at", "expires_in"} {
				if _, ok := got[key]; !ok {
					t.Errorf("JSON lacks %q: %s", key, r.stdout)
				}
			}
		})
	}
}

// Secrets read from files work, with the editor's trailing line break dropped, and
// their variables name the file only.
func TestTokenSecretFiles(t *testing.T) {
	e := emulators(t)[2] // acoustic: both secrets
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "client-secret")
	refreshFile := filepath.Join(dir, "refresh-token")
	if err := os.WriteFile(secretFile, []byte(emulator.AcousticClientSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(refreshFile, []byte(emulator.AcousticRefreshToken+"\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runBinary(t, []string{"TOKENTRIP_REFRESH_TOKEN_FILE=" + refreshFile},
		append([]string{"token", "--client-secret-file", secretFile}, e.args...)...)
	wantCode(t, r, exitOK)
	if got := callWith(t, e.api, strings.TrimSpace(r.stdout)); got != http.StatusOK {
		t.Fatalf("REST call with the token: HTTP %d, want 200", got)
	}

	// A secret given both ways is refused rather than guessed at.
	r = runBinary(t, e.vars, append([]string{"token", "--client-secret-file", secretFile}, e.args...)...)
	wantCode(t, r, exitUsage)
	if !strings.Contains(r.stderr, "one way only") {
		t.Errorf("stderr %q: want it to say to give the secret one way only", r.stderr)
	}
}

// Every setting can come from the environment instead of a flag, and a flag wins.
func TestTokenFromEnvironment(t *testing.T) {
	e := emulators(t)[1]
	vars := append([]string{
		"TOKENTRIP_PROVIDER=mcv2",
		"TOKENTRIP_AUTH_URL=" + e.url,
		"TOKENTRIP_CLIENT_ID=" + emulator.MCv2ClientID,
		"TOKENTRIP_POD=6", // another provider's variable is left alone
	}, e.vars...)
	r := runBinary(t, vars, "token")
	wantCode(t, r, exitOK)
	if got := callWith(t, e.api, strings.TrimSpace(r.stdout)); got != http.StatusOK {
		t.Fatalf("REST call with the token: HTTP %d, want 200", got)
	}
	r = runBinary(t, append(vars, "TOKENTRIP_CLIENT_ID=unknown-client"), "token", "--client-id", emulator.MCv2ClientID)
	wantCode(t, r, exitOK)
}

// Rejected credentials are a runtime failure (exit 1) with the library's message,
// and neither the secret nor anything else secret is printed, even at debug level.
func TestTokenRejectedCredentials(t *testing.T) {
	for _, e := range emulators(t) {
		t.Run(e.provider, func(t *testing.T) {
			const wrong = "wrong-secret-4c1d9a7e"
			vars := []string{envClientSecret + "=" + wrong}
			if e.provider == providerAcoustic {
				vars = append(vars, envRefreshToken+"="+emulator.AcousticRefreshToken)
			}
			r := runBinary(t, vars, append([]string{"token", "--log-level", "debug"}, e.args...)...)
			wantCode(t, r, exitFailure)
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
			if !strings.Contains(r.stderr, "credentials rejected") {
				t.Errorf("stderr %q: want the library's \"credentials rejected\"", r.stderr)
			}
			for _, secret := range []string{wrong, emulator.AcousticRefreshToken} {
				if strings.Contains(r.output(), secret) {
					t.Errorf("a secret appears in the output:\n%s", r.output())
				}
			}
		})
	}
}

// At debug level the token command logs the Source's events, never the token.
func TestTokenDebugLogHasNoToken(t *testing.T) {
	e := emulators(t)[1]
	r := runBinary(t, e.vars, append([]string{"token", "--log-level", "debug", "--log-format", "json"}, e.args...)...)
	wantCode(t, r, exitOK)
	token := strings.TrimSpace(r.stdout)
	if !strings.Contains(r.stderr, "fetched") {
		t.Errorf("stderr %q: want the Source's fetched event at debug level", r.stderr)
	}
	if strings.Contains(r.stderr, token) || strings.Contains(r.stderr, e.secret) {
		t.Fatalf("the token or the secret appears in the log:\n%s", r.stderr)
	}
}

// Secrets are refused as flags, whatever the spelling, and the value is echoed
// nowhere.
func TestSecretFlagsRefused(t *testing.T) {
	const secret = "flag-secret-9f2c61"
	for _, args := range [][]string{
		{"token", "--provider", "mcv2", "--client-secret", secret},
		{"token", "--provider", "mcv2", "--client-secret=" + secret},
		{"token", "-client-secret", secret, "--provider", "mcv2"},
		{"token", "--provider", "acoustic", "--refresh-token", secret},
		{"proxy", "--provider", "mcv1", "--client-secret=" + secret},
		{"proxy", "--provider", "acoustic", "-refresh-token=" + secret},
	} {
		t.Run(strings.Join(args[:4], " "), func(t *testing.T) {
			r := runBinary(t, nil, args...)
			wantCode(t, r, exitUsage)
			if strings.Contains(r.output(), secret) {
				t.Fatalf("the secret is echoed:\n%s", r.output())
			}
			if !strings.Contains(r.stderr, "not accepted as flags") || !strings.Contains(r.stderr, "TOKENTRIP_") {
				t.Errorf("stderr %q: want it to say where the secret goes", r.stderr)
			}
		})
	}
}
