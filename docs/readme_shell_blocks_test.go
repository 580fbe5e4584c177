package docs_test

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// notRun lists the commands a README shell block may hold that the test cannot
// run here, each with the reason. A command is matched from its start (after the
// variables it sets). The rest of its block runs; a block of nothing but such
// commands is skipped, and the test log says why.
var notRun = []struct {
	re  *regexp.Regexp
	why string
}{
	{regexp.MustCompile(`^go install \S+@latest\b`), "installs the released tokentrip from the network; this tree's build is on PATH instead"},
	{regexp.MustCompile(`^go get\b`), "adds the module to a module of the reader's own, from the network; the Go blocks test builds what it imports"},
	{regexp.MustCompile(`^go test -race -count=1 \./\.\.\.$`), "the whole suite, which holds this test (CI runs it)"},
	{regexp.MustCompile(`^go test -fuzz=`), "a fuzzing session of half an hour, run before a release"},
	{regexp.MustCompile(`^benchmarks/bench\.sh\b`), "ten interleaved rounds of every benchmark, tens of minutes, run before a release"},
	{regexp.MustCompile(`^(sudo )?docker\b`), "needs a Docker daemon and base images from the network"},
	{regexp.MustCompile(`^(sudo )?(systemctl|systemd-run|journalctl)\b`), "needs systemd and root"},
	{regexp.MustCompile(`^(sudo )?(apt-get|apt|kubectl|helm)\b`), "changes the machine or a cluster"},
}

// notRunReason returns why the test does not run code, or "".
func notRunReason(code string) string {
	code = leadingAssignments.ReplaceAllString(code, "")
	for _, r := range notRun {
		if r.re.MatchString(code) {
			return r.why
		}
	}
	return ""
}

// leadingAssignments are the VAR=value words before a command's name.
var leadingAssignments = regexp.MustCompile(`^(\w+=\S*\s+)+`)

// shellCase says how the test runs one README shell block beyond what it does for
// every block (see TestREADMEShellBlocks), and what it checks there.
type shellCase struct {
	// block is a string that only this block of the README holds: it finds the
	// block wherever it moves.
	block string
	// after is the block string of a block the reader runs first, in another
	// terminal (the proxy that this block's curl lines call): its commands go
	// before this block's, in the same script.
	after string
	// providers are emulators to start besides those the block's commands name
	// with --provider.
	providers []string
	// replace are edits to the block's text: placeholders the harness cannot fill
	// by its general rules. Each old string must be in the block.
	replace []replacement
	// setup writes what the block expects to find, before it runs.
	setup func(t *testing.T, r *shellRun)
	// check asserts what the block's reader relies on, after it ran and exited 0.
	check func(t *testing.T, r *shellRun)
}

// replacement is one edit of a block's text before it runs.
type replacement struct{ old, new, why string }

// getLists is an Acoustic XML API call, for blocks that leave the envelope out.
const getLists = `<Envelope><Body><GetLists><VISIBILITY>1</VISIBILITY><LIST_TYPE>2</LIST_TYPE></GetLists></Body></Envelope>`

// shellCases are the README's shell blocks that need more than the general rules
// or that the test checks more closely. A block not listed here still runs, with
// the general checks; a case whose block is gone fails the test.
var shellCases = []shellCase{
	{
		block: "go run ./cmd/tokentrip demo",
		check: func(t *testing.T, r *shellRun) {
			m := regexp.MustCompile(`(?m)^(\d+)/(\d+) scenarios passed`).FindStringSubmatch(r.stdout)
			if m == nil || m[1] != m[2] {
				t.Errorf("the demo does not report every scenario passed:\n%s", r.stdout)
			}
		},
	},
	{
		// The proxy in the foreground. It fetches a token to check the
		// credentials before it serves, and nothing else.
		block: "read -rs TOKENTRIP_CLIENT_SECRET",
		check: func(t *testing.T, r *shellRun) {
			r.wantCounts(t, "mcv2", counts{TokenRequests: 1})
		},
	},
	{
		block: "/rest/hub/v1/dataevents/key:orders/rowset",
		after: "read -rs TOKENTRIP_CLIENT_SECRET",
		check: func(t *testing.T, r *shellRun) {
			// One token for the start-up check and all three calls; each call
			// reached its API with it, none was refused.
			r.wantCounts(t, "mcv2", counts{TokenRequests: 1, RESTCalls: 2, SOAPCalls: 1})
			for _, want := range []string{
				`"method":"GET","path":"/platform/v1/endpoints"`,
				`"method":"POST","path":"/hub/v1/dataevents/key:orders/rowset"`,
				`"accountId":"12345"`,
				`<OverallStatus>OK</OverallStatus>`,
			} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("the answers lack %s:\n%s", want, r.stdout)
				}
			}
		},
	},
	{
		block: "tokentrip proxy --provider acoustic",
		check: func(t *testing.T, r *shellRun) {
			r.wantCounts(t, "acoustic", counts{TokenRequests: 1, XMLAPICalls: 1})
			if !strings.Contains(r.stdout, "<SUCCESS>TRUE</SUCCESS>") {
				t.Errorf("the XML API call did not succeed:\n%s", r.stdout)
			}
		},
	},
	{
		// Several credentials: the TOML block before this one is the config file.
		block:     "tokentrip proxy --config tokentrip-proxy.toml",
		providers: []string{"mcv2", "acoustic"},
		replace: []replacement{{
			old: `--data '…'`, new: `--data '` + getLists + `'`,
			why: "the README leaves the envelope out; any XML API call does",
		}},
		setup: func(t *testing.T, r *shellRun) {
			if r.prev.lang != "toml" {
				t.Fatalf("README.md:%d: the block before the --config block is %q, not the TOML file it runs", r.prev.line, r.prev.lang)
			}
			r.writeProxyConfig(t, r.prev.text, "tokentrip-proxy.toml")
		},
		check: func(t *testing.T, r *shellRun) {
			// Each credential fetched its own token on its first request, not
			// before; each call reached its own API.
			r.wantCounts(t, "mcv2", counts{TokenRequests: 1, RESTCalls: 1})
			r.wantCounts(t, "acoustic", counts{TokenRequests: 1, XMLAPICalls: 1})
			if !strings.Contains(r.stdout, `"accountId":"12345"`) {
				t.Errorf("the REST call did not carry business unit 12345's token:\n%s", r.stdout)
			}
			if !strings.Contains(r.stdout, "<SUCCESS>TRUE</SUCCESS>") {
				t.Errorf("the XML API call did not succeed:\n%s", r.stdout)
			}
		},
	},
	{
		block: "TOKEN=$(tokentrip token --provider mcv2",
		check: func(t *testing.T, r *shellRun) {
			r.wantCounts(t, "mcv2", counts{TokenRequests: 1, RESTCalls: 1})
			if !strings.Contains(r.stdout, `"ok":true,"method":"GET","path":"/platform/v1/endpoints"`) {
				t.Errorf("the REST call with the printed token did not succeed:\n%s", r.stdout)
			}
		},
	},
	{
		// --json prints what the JSON block after this one shows.
		block: "tokentrip token --provider acoustic",
		check: func(t *testing.T, r *shellRun) {
			r.wantCounts(t, "acoustic", counts{TokenRequests: 1})
			if r.next.lang != "json" {
				t.Fatalf("README.md:%d: the block after the acoustic token block is %q, not the JSON it prints", r.next.line, r.next.lang)
			}
			var shown, got map[string]any
			if err := json.Unmarshal([]byte(r.next.text), &shown); err != nil {
				t.Fatalf("README.md:%d: %v", r.next.line, err)
			}
			if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
				t.Fatalf("token --json printed %v:\n%s", err, r.stdout)
			}
			if k1, k2 := slices.Sorted(maps.Keys(shown)), slices.Sorted(maps.Keys(got)); !slices.Equal(k1, k2) {
				t.Errorf("token --json printed the keys %v; the README shows %v", k2, k1)
			}
			for k, v := range shown {
				if g, ok := got[k]; ok && typeName(g) != typeName(v) {
					t.Errorf("token --json: %s is a %s; the README shows a %s", k, typeName(g), typeName(v))
				}
			}
			want := map[string]any{"provider": "acoustic", "token_type": "Bearer", "base_url": r.emulators["acoustic"].BaseURL}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("token --json: %s = %v, want %v", k, got[k], v)
				}
			}
			if n, _ := got["expires_in"].(float64); n <= 0 {
				t.Errorf("token --json: expires_in = %v", got["expires_in"])
			}
		},
	},
	{
		// Two runs with one cache: one token request, the same token twice.
		block: "--cache ~/.cache/tokentrip",
		check: func(t *testing.T, r *shellRun) {
			r.wantCounts(t, "mcv2", counts{TokenRequests: 1})
			lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
			if len(lines) != 2 || lines[0] == "" || lines[0] != lines[1] {
				t.Errorf("two runs with one cache printed %q, want one token twice", lines)
			}
			fi, err := os.Stat(filepath.Join(r.home, ".cache", "tokentrip"))
			if err != nil {
				t.Fatal(err)
			}
			if perm := fi.Mode().Perm(); perm != 0o700 {
				t.Errorf("the cache directory has mode %v, want 0700", perm)
			}
		},
	},
	{
		// The try-it session: it builds tokentrip, starts its own emulator and
		// proxy, and prints the emulator's counters last.
		block: "./tokentrip emulate --provider mcv2",
		check: func(t *testing.T, r *shellRun) {
			out := strings.Split(strings.TrimSpace(r.stdout), "\n")
			var info struct {
				BaseURL string `json:"base_url"`
			}
			if err := json.Unmarshal([]byte(out[0]), &info); err != nil || info.BaseURL != "http://127.0.0.1:"+r.emulatorPort {
				t.Errorf("cat emulator.json printed %s (%v), want the emulator's JSON with base_url http://127.0.0.1:%s", out[0], err, r.emulatorPort)
			}
			var c counts
			if err := json.Unmarshal([]byte(out[len(out)-1]), &c); err != nil {
				t.Fatalf("the last line is not the emulator's counters: %v\n%s", err, r.stdout)
			}
			// After the expiry: the call was refused once (expired token), the
			// proxy fetched one token and replayed it, and the client got the
			// replay's 200 (curl saw no error).
			want := counts{TokenRequests: 1, TokensIssued: 1, RESTCalls: 2, Rejections: map[string]int{"expired_token": 1}}
			if !c.equal(want) {
				t.Errorf("the counters after the expiry are %+v, want %+v", c, want)
			}
			if !strings.Contains(r.stdout, `"ok":true,"method":"GET","path":"/platform/v1/endpoints"`) {
				t.Errorf("the call through the proxy did not succeed:\n%s", r.stdout)
			}
		},
	},
}

// typeName is a JSON value's kind, for comparing shapes.
func typeName(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return "null"
}
