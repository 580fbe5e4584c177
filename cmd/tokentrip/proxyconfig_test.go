package main

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// Secrets the config tests put in variables and files; no error may show them.
const (
	cfgSecret       = "cfg-secret-4c1f9a"
	cfgRefreshToken = "cfg-refresh-77e02b"
	// Secrets of letters and digits only, as Marketing Cloud's client secrets and
	// Acoustic's refresh tokens are: shaped like a variable's name.
	cfgAlnumSecret  = "kq3vB8xZr2Lw9sT4mN7pY1dF"
	cfgLowerSecret  = "v1legacysecret7c2e9a0b"
	cfgAlnumRefresh = "rT9mKq2ZxW4vB7nL1pY8sD3f"
)

// configEnv is the environment the config tests read secrets from.
func configEnv() *environ {
	vars := map[string]string{
		"BU1_SECRET":      cfgSecret,
		"BU2_SECRET":      cfgSecret + "-2",
		"AC_SECRET":       cfgSecret + "-ac",
		"AC_REFRESH":      cfgRefreshToken,
		"SPACED_SECRET":   "has a space " + cfgSecret,
		"TOKENTRIP_EMPTY": "",
	}
	return &environ{getenv: func(k string) string { return vars[k] }}
}

// writeConfig writes a config file, and the secret files it may name, in a new
// directory, and returns the file's path.
func writeConfig(t *testing.T, body string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range map[string]string{
		"refresh.txt": cfgRefreshToken + "\n",
		"secret.txt":  cfgSecret + "\n",
		"empty.txt":   "",
		"dot.env":     "CLIENT_SECRET=" + cfgSecret + "\nREFRESH_TOKEN=" + cfgRefreshToken + "\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "tokentrip.toml")
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Good files: every credential comes back with its prefix, its settings and the
// secrets read from the variables and files it names.
func TestLoadConfig(t *testing.T) {
	const three = `
# three credentials, three providers
[[credential]]
name = "legacy"
prefix = "/legacy"
provider = "mcv1"
subdomain = "mc563885gzs27c5t9-63k636tzgm"
client_id = "legacy-client"
client_secret_file = "secret.txt"       # next to this file

[[credential]]
name = "bu-12345"
prefix = "/bu/12345/"                   # a trailing slash is dropped
provider = "MCv2"
subdomain = "mc563885gzs27c5t9-63k636tzgm"
client_id = "enhanced-client"
client_secret_env = "BU1_SECRET"
account_id = "12345"
scope = ["email_read", "email_write"]
rest_url = "http://127.0.0.1:9000/"
rest_paths = "all"                      # for clients that drop /rest

[[credential]]
name = "campaign.eu"                    # no prefix: /campaign.eu
provider = "acoustic"
pod = "6"
client_id = "acoustic-client"
client_secret_env = "AC_SECRET"
refresh_token_file = "refresh.txt"
`
	for _, tc := range []struct {
		name string
		body string
		want []credential
	}{
		{"three providers", three, []credential{
			{name: "legacy", prefix: "/legacy", settings: settings{provider: "mcv1", subdomain: "mc563885gzs27c5t9-63k636tzgm", clientID: "legacy-client", clientSecret: cfgSecret}},
			{name: "bu-12345", prefix: "/bu/12345", settings: settings{provider: "mcv2", subdomain: "mc563885gzs27c5t9-63k636tzgm", clientID: "enhanced-client",
				clientSecret: cfgSecret, accountID: "12345", scope: "email_read email_write", restURL: "http://127.0.0.1:9000/",
				restPaths: "all"}},
			{name: "campaign.eu", prefix: "/campaign.eu", settings: settings{provider: "acoustic", pod: "6", clientID: "acoustic-client",
				clientSecret: cfgSecret + "-ac", refreshToken: cfgRefreshToken}},
		}},
		{"inline array of tables", `credential = [
			{ name = "a", provider = "mcv2", auth_url = "http://127.0.0.1:1", client_id = "x", client_secret_env = "BU1_SECRET" },
			{ name = "b", provider = "mcv2", auth_url = "http://127.0.0.1:1", client_id = "x", client_secret_env = "BU2_SECRET", account_id = "7" },
		]`, []credential{
			{name: "a", prefix: "/a", settings: settings{provider: "mcv2", authURL: "http://127.0.0.1:1", clientID: "x", clientSecret: cfgSecret}},
			{name: "b", prefix: "/b", settings: settings{provider: "mcv2", authURL: "http://127.0.0.1:1", clientID: "x", clientSecret: cfgSecret + "-2", accountID: "7"}},
		}},
		{"sibling prefixes", `
[[credential]]
name = "a"
prefix = "/bu/1"
provider = "mcv1"
auth_url = "http://127.0.0.1:1"
client_id = "x"
client_secret_env = "BU1_SECRET"
[[credential]]
name = "b"
prefix = "/bu/10"
provider = "mcv1"
auth_url = "http://127.0.0.1:1"
client_id = "y"
client_secret_env = "BU1_SECRET"
`, []credential{
			{name: "a", prefix: "/bu/1", settings: settings{provider: "mcv1", authURL: "http://127.0.0.1:1", clientID: "x", clientSecret: cfgSecret}},
			{name: "b", prefix: "/bu/10", settings: settings{provider: "mcv1", authURL: "http://127.0.0.1:1", clientID: "y", clientSecret: cfgSecret}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := loadConfig(configEnv(), writeConfig(t, tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("%d credentials, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if !reflect.DeepEqual(got[i], tc.want[i]) {
					t.Errorf("credential %d:\n got %+v\nwant %+v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

// Bad files: each is a usage error that names the credential and the key, and
// never shows a secret, whether it was read from a variable or a file, or written
// into the file by mistake.
func TestLoadConfigRefuses(t *testing.T) {
	// good is the settings of a valid mcv2 credential, to which a case adds one
	// mistake.
	const good = "provider = \"mcv2\"\nauth_url = \"http://127.0.0.1:1\"\nclient_id = \"x\"\nclient_secret_env = \"BU1_SECRET\"\n"
	one := func(name, extra string) string {
		return "[[credential]]\nname = \"" + name + "\"\n" + good + extra
	}
	for _, tc := range []struct {
		name string
		body string
		want string // in the error
	}{
		// The file itself.
		{"empty file", "", "no credentials"},
		{"empty array", "credential = []", "no credentials"},
		{"not TOML, a bare secret", "[[credential]]\nname = \"a\"\nclient_secret = " + cfgSecret + "\n", "not valid TOML: line 3"},
		{"not TOML, an unterminated secret", "[[credential]]\nname = \"" + cfgSecret + "\n", "not valid TOML: line 2"},
		{"a key twice", one("a", "client_id = \"y\"\n"), "has already been defined"},
		{"unknown top-level key", "listen = \"127.0.0.1:9\"\n" + one("a", ""), `top level: unknown key "listen"`},
		{"one table instead of an array", "[credential]\nname = \"a\"\n" + good, "write [[credential]]"},
		{"array of strings", `credential = ["a"]`, "write [[credential]]"},

		// Literal secrets.
		{"literal client secret", one("a", "client_secret = \""+cfgSecret+"\"\n"), `credential "a": client_secret: secrets are not accepted in the config file`},
		{"literal refresh token", one("a", "refresh_token = \""+cfgRefreshToken+"\"\n"), "refresh_token_env"},
		{"password", one("a", "password = \""+cfgSecret+"\"\n"), `credential "a": password: secrets are not accepted`},
		{"access token", one("a", "access_token = \""+cfgSecret+"\"\n"), "access_token: secrets are not accepted"},
		{"secret in the variable's place", "[[credential]]\nname = \"a\"\nprovider = \"mcv2\"\nauth_url = \"http://127.0.0.1:1\"\nclient_id = \"x\"\nclient_secret_env = \"" + cfgSecret + "\"\n",
			"client_secret_env must be the name of an environment variable"},
		// A secret of letters and digits has a variable name's shape; unset, it is
		// not echoed back.
		{"alphanumeric secret in the variable's place", "[[credential]]\nname = \"a\"\nprovider = \"mcv2\"\nauth_url = \"http://127.0.0.1:1\"\nclient_id = \"x\"\nclient_secret_env = \"" + cfgAlnumSecret + "\"\n",
			`credential "a": client_secret_env: the variable it names is not set or empty`},
		{"lower-case secret in the variable's place", "[[credential]]\nname = \"a\"\nprovider = \"mcv1\"\nauth_url = \"http://127.0.0.1:1\"\nclient_id = \"x\"\nclient_secret_env = \"" + cfgLowerSecret + "\"\n",
			"client_secret_env: the variable it names is not set or empty (the name is not shown: it looks like a secret"},
		{"refresh token in the variable's place", "[[credential]]\nname = \"a\"\nprovider = \"acoustic\"\npod = \"6\"\nclient_id = \"x\"\nclient_secret_env = \"AC_SECRET\"\nrefresh_token_env = \"" + cfgAlnumRefresh + "\"\n",
			`credential "a": refresh_token_env: the variable it names is not set or empty`},

		// Names, keys and providers.
		{"no name", "[[credential]]\n" + good, "credential #1: name is required"},
		{"bad name", one("bu 1", ""), `credential #1: name "bu 1"`},
		{"name not a string", "[[credential]]\nname = 5\n" + good, "credential #1: name must be a string"},
		{"misspelt key", one("a", "subdomian = \"mc563885gzs27c5t9-63k636tzgm\"\n"), `credential "a": unknown key "subdomian"`},
		{"nested table", one("a", "[credential.extra]\nx = 1\n"), `credential "a": unknown table "extra"`},
		{"no provider", "[[credential]]\nname = \"a\"\nclient_id = \"x\"\n", `credential "a": provider is required`},
		{"unknown provider", "[[credential]]\nname = \"a\"\nprovider = \"sfmc\"\n", `unknown provider "sfmc"`},
		{"pod on mcv2", one("a", "pod = \"6\"\n"), `credential "a": pod applies to acoustic only, not to mcv2`},
		{"refresh token on mcv2", one("a", "refresh_token_file = \"refresh.txt\"\n"), "refresh_token_file applies to acoustic only"},
		{"account id on mcv1", "[[credential]]\nname = \"a\"\nprovider = \"mcv1\"\nauth_url = \"http://127.0.0.1:1\"\nclient_id = \"x\"\nclient_secret_env = \"BU1_SECRET\"\naccount_id = \"1\"\n",
			"account_id applies to mcv2 only"},
		{"rest url on acoustic", "[[credential]]\nname = \"a\"\nprovider = \"acoustic\"\npod = \"6\"\nclient_id = \"x\"\nclient_secret_env = \"AC_SECRET\"\nrefresh_token_env = \"AC_REFRESH\"\nrest_url = \"https://x.example.com\"\n",
			"rest_url applies to mcv1 and mcv2 only"},
		{"no client id", "[[credential]]\nname = \"a\"\nprovider = \"mcv2\"\nauth_url = \"http://127.0.0.1:1\"\nclient_secret_env = \"BU1_SECRET\"\n", `credential "a": client_id is required`},
		{"scope not a list", one("a", "scope = \"email_read\"\n"), "scope must be a list of strings"},

		// Secrets from the environment and from files.
		{"no secret", "[[credential]]\nname = \"a\"\nprovider = \"mcv2\"\nauth_url = \"http://127.0.0.1:1\"\nclient_id = \"x\"\n", "client_secret_env or client_secret_file is required"},
		{"secret both ways", one("a", "client_secret_file = \"secret.txt\"\n"), "both client_secret_env and client_secret_file are set"},
		{"variable not set", "[[credential]]\nname = \"a\"\nprovider = \"mcv2\"\nauth_url = \"http://127.0.0.1:1\"\nclient_id = \"x\"\nclient_secret_env = \"NOT_SET_ANYWHERE\"\n", "client_secret_env: NOT_SET_ANYWHERE is not set or empty"},
		{"variable empty", "[[credential]]\nname = \"a\"\nprovider = \"mcv2\"\nauth_url = \"http://127.0.0.1:1\"\nclient_id = \"x\"\nclient_secret_env = \"TOKENTRIP_EMPTY\"\n", "TOKENTRIP_EMPTY is not set or empty"},
		{"secret file missing", "[[credential]]\nname = \"a\"\nprovider = \"mcv2\"\nauth_url = \"http://127.0.0.1:1\"\nclient_id = \"x\"\nclient_secret_file = \"nope.txt\"\n", "client_secret_file: cannot read"},
		{"secret file empty", "[[credential]]\nname = \"a\"\nprovider = \"mcv2\"\nauth_url = \"http://127.0.0.1:1\"\nclient_id = \"x\"\nclient_secret_file = \"empty.txt\"\n", "is empty"},
		{"secret file of several lines", "[[credential]]\nname = \"a\"\nprovider = \"mcv1\"\nauth_url = \"http://127.0.0.1:1\"\nclient_id = \"x\"\nclient_secret_file = \"dot.env\"\n",
			"dot.env holds more than one line; it should hold the secret alone"},
		{"refresh token file of several lines", "[[credential]]\nname = \"a\"\nprovider = \"acoustic\"\npod = \"6\"\nclient_id = \"x\"\nclient_secret_env = \"AC_SECRET\"\nrefresh_token_file = \"dot.env\"\n",
			"dot.env holds more than one line; it should hold the secret alone"},
		{"acoustic without refresh token", "[[credential]]\nname = \"a\"\nprovider = \"acoustic\"\npod = \"6\"\nclient_id = \"x\"\nclient_secret_env = \"AC_SECRET\"\n", "refresh_token_env or refresh_token_file is required"},
		{"secret with a space", "[[credential]]\nname = \"a\"\nprovider = \"mcv2\"\nauth_url = \"http://127.0.0.1:1\"\nclient_id = \"x\"\nclient_secret_env = \"SPACED_SECRET\"\n", `credential "a": the client secret: contains spaces`},

		// Settings the library or the router refuses, in the file's words.
		{"bad subdomain", "[[credential]]\nname = \"a\"\nprovider = \"mcv1\"\nsubdomain = \"not a subdomain\"\nclient_id = \"x\"\nclient_secret_env = \"BU1_SECRET\"\n", `credential "a": subdomain:`},
		{"no subdomain", "[[credential]]\nname = \"a\"\nprovider = \"mcv2\"\nclient_id = \"x\"\nclient_secret_env = \"BU1_SECRET\"\n", `credential "a": subdomain: required (or auth_url)`},
		{"plain http auth url", "[[credential]]\nname = \"a\"\nprovider = \"mcv2\"\nauth_url = \"http://auth.example.com\"\nclient_id = \"x\"\nclient_secret_env = \"BU1_SECRET\"\n", `credential "a": auth_url:`},
		{"account id not a MID", one("a", "account_id = \"BU-1\"\n"), `credential "a": account_id: must be the business unit's MID`},
		{"rest url over plain http", one("a", "rest_url = \"http://api.example.com/\"\n"), `credential "a": rest_url: want https`},
		{"unknown REST mode", one("a", "rest_paths = \"some\"\n"), `credential "a": rest_paths "some": use "prefixed"`},
		{"REST mode on acoustic", "[[credential]]\nname = \"a\"\nprovider = \"acoustic\"\npod = \"6\"\nclient_id = \"x\"\nclient_secret_env = \"AC_SECRET\"\nrefresh_token_env = \"AC_REFRESH\"\nrest_paths = \"all\"\n",
			"rest_paths applies to mcv1 and mcv2 only"},
		{"soap url with a query", one("a", "soap_url = \"https://x.example.com/?a=b\"\n"), "soap_url: want a URL without user info, query or fragment"},
		{"unknown pod", "[[credential]]\nname = \"a\"\nprovider = \"acoustic\"\npod = \"Z\"\nclient_id = \"x\"\nclient_secret_env = \"AC_SECRET\"\nrefresh_token_env = \"AC_REFRESH\"\n", `credential "a": pod: unknown pod "Z"`},

		// Prefixes.
		{"prefix without slash", one("a", "prefix = \"bu\"\n"), `prefix "bu": must start with "/"`},
		{"root prefix", one("a", "prefix = \"/\"\n"), "must name at least one path segment"},
		{"empty segment", one("a", "prefix = \"/bu//1\"\n"), "empty segment"},
		{"dot segment", one("a", "prefix = \"/bu/../x\"\n"), `"." or ".." segment`},
		{"escaped prefix", one("a", "prefix = \"/bu/%41\"\n"), "letters, digits"},
		{"space in prefix", one("a", "prefix = \"/bu 1\"\n"), "letters, digits"},
		{"the proxy's own prefix", one("a", "prefix = \"/-/healthz\"\n"), "/-/ is the proxy's own"},
		{"duplicate name", one("a", "prefix = \"/one\"\n") + one("A", "prefix = \"/two\"\n"), `credential "A": the name is taken by an earlier credential ("a")`},
		{"duplicate prefix", one("a", "prefix = \"/bu/1\"\n") + one("b", "prefix = \"/BU/1/\"\n"), `credential "b": prefix /BU/1 is taken by credential "a"`},
		{"nested prefix", one("a", "prefix = \"/bu/1/x\"\n") + one("b", "prefix = \"/bu/1\"\n"), `credential "a": prefix /bu/1/x lies inside credential "b"'s prefix /bu/1`},
		{"name as default prefix taken", one("a", "prefix = \"/b\"\n") + one("b", ""), `prefix /b is taken by credential "a"`},

		// Several problems at once.
		{"twenty problems shown, the rest counted", strings.Repeat("[[credential]]\n", 30), "60 problems:\n  credential #1: name is required"},
		{"the count of the rest", strings.Repeat("[[credential]]\n", 30), "credential #10: provider is required: one of mcv1, mcv2, acoustic\n  … and 40 more"},
		{"every problem listed", one("a", "pod = \"6\"\nclient_secret = \"x\"\n") + "[[credential]]\nname = \"b\"\n", "3 problems:\n  credential \"a\": client_secret: secrets are not accepted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeConfig(t, tc.body)
			creds, err := loadConfig(configEnv(), path)
			var ue *usageError
			if !errors.As(err, &ue) {
				t.Fatalf("got %d credentials and %v; want a usage error", len(creds), err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n%v\nwant it to contain %q", err, tc.want)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
			for _, s := range []string{cfgSecret, cfgRefreshToken, cfgAlnumSecret, cfgLowerSecret, cfgAlnumRefresh} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("the error shows a secret:\n%v", err)
				}
			}
		})
	}
}

// An error names an unset variable only when the name is shaped as people write
// variable names; a secret of letters and digits pasted in its place is not shown.
func TestShowableEnvName(t *testing.T) {
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"MC_CLIENT_SECRET", true},
		{"SECRET", true},
		{"BU12345SECRETFORTHEEUROPEANTENANT", true}, // UPPER_CASE, however long
		{"mc_secret", true},
		{"NOT_SET_3f1", true},
		{"Campaign_Refresh_Token", true},
		{"_private", true},
		{cfgAlnumSecret, false},
		{cfgLowerSecret, false},
		{cfgAlnumRefresh, false},
		{"secret", false},                    // one lower-case word: no underscore
		{"x_" + cfgAlnumSecret, false},       // a part longer than 16 characters
		{cfgAlnumRefresh + "_" + "B", false}, // likewise
	} {
		if got := showableEnvName(tc.name); got != tc.want {
			t.Errorf("showableEnvName(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// A missing file and a file larger than any config are usage errors too.
func TestLoadConfigFile(t *testing.T) {
	if _, err := loadConfig(configEnv(), filepath.Join(t.TempDir(), "none.toml")); err == nil || !strings.Contains(err.Error(), "cannot read") {
		t.Errorf("missing file: %v", err)
	}
	big := filepath.Join(t.TempDir(), "big.toml")
	if err := os.WriteFile(big, []byte(strings.Repeat("#", maxConfigFile+1)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := loadConfig(configEnv(), big); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("huge file: %v", err)
	}
}

// The example config in docs/ loads, with the variables and files it names.
func TestDocsExampleConfig(t *testing.T) {
	example, err := os.ReadFile("../../docs/tokentrip-proxy.toml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "secrets"), 0o700); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{
		"tokentrip-proxy.toml":           string(example),
		"secrets/legacy-client-secret":   cfgSecret + "\n",
		"secrets/acoustic-refresh-token": cfgRefreshToken + "\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	vars := map[string]string{"MC_CLIENT_SECRET": cfgSecret, "ACOUSTIC_CLIENT_SECRET": cfgSecret}
	creds, err := loadConfig(&environ{getenv: func(k string) string { return vars[k] }}, filepath.Join(dir, "tokentrip-proxy.toml"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range creds {
		got = append(got, c.name+" "+c.prefix+" "+c.provider)
	}
	want := []string{"bu-12345 /bu/12345 mcv2", "bu-67890 /bu/67890 mcv2", "legacy-s7 /legacy-s7 mcv1", "campaign-eu /campaign/eu acoustic"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("credentials:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
