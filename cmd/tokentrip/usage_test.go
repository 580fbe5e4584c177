package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Mistakes in how tokentrip is called end with exit code 2, a message that names
// the problem, and the usage.
func TestUsageErrors(t *testing.T) {
	secret := []string{envClientSecret + "=some-secret-0b7e"}
	emptyFile := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(emptyFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// The wrong file: a .env of several lines, which would all go to the token
	// endpoint as the secret.
	dotEnv := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(dotEnv, []byte("CLIENT_SECRET=some-secret-0b7e\r\nOTHER=x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		vars []string
		args []string
		want string // in stderr
	}{
		{"no command", nil, nil, "no command"},
		{"unknown command", nil, []string{"tokens"}, `unknown command "tokens"`},
		{"unknown flag", nil, []string{"token", "--provider", "mcv2", "--bogus"}, "flag provided but not defined: -bogus"},
		{"flag without value", nil, []string{"token", "--provider"}, "flag needs an argument"},
		{"no provider", nil, []string{"token"}, "--provider (or TOKENTRIP_PROVIDER) is required"},
		{"unknown provider", nil, []string{"token", "--provider", "mcv3"}, `unknown provider "mcv3"`},
		{"unknown provider from env", []string{"TOKENTRIP_PROVIDER=sfmc"}, []string{"token"}, `unknown provider "sfmc"`},
		{"another provider's flag", nil, []string{"token", "--provider", "acoustic", "--subdomain", "mc1234"}, "--subdomain applies to mcv1 and mcv2 only"},
		{"mcv2 flag on mcv1", nil, []string{"token", "--provider", "mcv1", "--account-id", "123"}, "--account-id applies to mcv2 only"},
		{"refresh token for Marketing Cloud", nil, []string{"token", "--provider", "mcv2", "--refresh-token-file", "x"}, "--refresh-token-file applies to acoustic only"},
		{"positional argument", nil, []string{"token", "--provider", "mcv2", "stray"}, "unexpected argument"},
		{"no client id", secret, []string{"token", "--provider", "mcv2", "--subdomain", "mc563885gzs27c5t9-63k636tzgm"}, "--client-id (TOKENTRIP_CLIENT_ID)"},
		{"no secret", nil, []string{"token", "--provider", "mcv2", "--subdomain", "mc563885gzs27c5t9-63k636tzgm", "--client-id", "abc"}, envClientSecret},
		{"bad subdomain", secret, []string{"token", "--provider", "mcv1", "--subdomain", "not a subdomain", "--client-id", "abc"}, "--subdomain (TOKENTRIP_SUBDOMAIN)"},
		{"plain http auth url", secret, []string{"token", "--provider", "mcv2", "--auth-url", "http://auth.example.com", "--client-id", "abc"}, "--auth-url"},
		{"unknown pod", secret, []string{"token", "--provider", "acoustic", "--pod", "Z", "--client-id", "abc"}, "--pod (TOKENTRIP_POD)"},
		{"bad timeout", nil, []string{"token", "--provider", "mcv2", "--timeout", "soon"}, "invalid value"},
		{"bad timeout from env", []string{"TOKENTRIP_TIMEOUT=soon"}, []string{"token", "--provider", "mcv2"}, "TOKENTRIP_TIMEOUT"},
		{"missing secret file", nil, []string{"token", "--provider", "mcv2", "--client-secret-file", "/nonexistent/secret"}, "--client-secret-file"},
		{"empty secret file", nil, []string{"token", "--provider", "mcv2", "--client-secret-file", emptyFile}, "is empty"},
		{"secret file of two lines", nil, []string{"token", "--provider", "mcv1", "--subdomain", "mc563885gzs27c5t9-63k636tzgm", "--client-id", "abc", "--client-secret-file", dotEnv},
			"--client-secret-file: " + dotEnv + " holds more than one line"},
		{"refresh token file of two lines", secret, []string{"token", "--provider", "acoustic", "--pod", "6", "--client-id", "abc", "--refresh-token-file", dotEnv},
			"--refresh-token-file: " + dotEnv + " holds more than one line"},
		{"bad log level", secret, []string{"token", "--provider", "mcv2", "--log-level", "loud"}, "--log-level"},
		{"remote listen", secret, []string{"proxy", "--provider", "mcv2", "--listen", "0.0.0.0:0"}, "--allow-remote"},
		{"every interface", secret, []string{"proxy", "--provider", "mcv2", "--listen", ":8787"}, "every interface"},
		{"remote listen from env", append([]string{"TOKENTRIP_LISTEN=192.0.2.1:8787"}, secret...), []string{"proxy", "--provider", "mcv2"}, "--allow-remote"},
		{"listen without port", secret, []string{"proxy", "--provider", "mcv2", "--listen", "127.0.0.1"}, "want host:port"},
		{"rest url on acoustic", secret, []string{"proxy", "--provider", "acoustic", "--rest-url", "https://x.example.com"}, "--rest-url applies to mcv1 and mcv2 only"},
		{"demo argument", nil, []string{"demo", "now"}, "no arguments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runBinary(t, tc.vars, tc.args...)
			wantCode(t, r, exitUsage)
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr does not contain %q:\n%s", tc.want, r.stderr)
			}
			if !strings.Contains(r.stderr, "Usage: tokentrip") {
				t.Errorf("stderr has no usage:\n%s", r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
			if strings.Contains(r.output(), "some-secret-0b7e") {
				t.Errorf("the secret appears in the output")
			}
		})
	}
}

// -h prints the usage on stdout and exits 0; the flags list every variable.
func TestHelp(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"-h"}, []string{"demo", "token", "proxy", "version"}},
		{[]string{"help", "token"}, []string{"--json", "TOKENTRIP_PROVIDER", "TOKENTRIP_CLIENT_SECRET_FILE", envClientSecret, envRefreshToken}},
		{[]string{"token", "-h"}, []string{"--provider", "--client-id", "--subdomain", "--auth-url", "--account-id", "--scope", "--pod", "--base-url", "--timeout", "TOKENTRIP_TIMEOUT"}},
		{[]string{"proxy", "--help"}, []string{"--listen", "--allow-remote", "--rest-url", "--soap-url", "TOKENTRIP_LISTEN", "TOKENTRIP_REST_URL", "TOKENTRIP_SOAP_URL", "TOKENTRIP_LOG_FORMAT"}},
		{[]string{"demo", "-h"}, []string{"accelerated clock"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := runBinary(t, nil, tc.args...)
			wantCode(t, r, exitOK)
			for _, w := range tc.want {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("usage lacks %q:\n%s", w, r.stdout)
				}
			}
		})
	}
}
