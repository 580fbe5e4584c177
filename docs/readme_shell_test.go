package docs_test

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestREADMEShellBlocks runs the README's shell blocks (```sh, ```bash, ```shell)
// the way a reader would, against this tree's tokentrip and its emulators:
//
//   - tokentrip is built once and put first on PATH; each block runs in bash with
//     set -euo pipefail, in a directory of its own with a HOME of its own (in the
//     checkout when it names ./cmd/…);
//   - for each provider the block's tokentrip commands name with --provider (and
//     those its shellCase lists), the test starts "tokentrip emulate" on a free
//     port. With one emulator, CLIENT_ID is its client id, and its secret and
//     refresh token are in TOKENTRIP_CLIENT_SECRET and TOKENTRIP_REFRESH_TOKEN
//     when the reader's shell has them: the block names the variable without
//     setting it (a comment "TOKENTRIP_CLIENT_SECRET set"), or an earlier block
//     of its "## " section sets it. A block that sets one sets it itself (read
//     gets the secret on stdin);
//   - the README's placeholders point at the emulators: --subdomain SUB becomes
//     --auth-url (and for a proxy of a legacy package --rest-url, --soap-url),
//     --pod POD becomes --base-url, the vendors' https URLs the emulator's, a
//     VAR=… the emulator's value of VAR, /tmp the block's directory, and the
//     ports 8787 (the proxy's) and 8788 (the emulator's) free ones, with
//     TOKENTRIP_LISTEN set to the first and --listen added to a "tokentrip
//     emulate" that has none;
//   - a "tokentrip proxy" or "tokentrip emulate" the README runs in the
//     foreground (the reader then opens another terminal) runs in the background
//     and the block goes on once it listens; a comment line right after it is
//     what it prints, and its output must have a line of that form (… stands for
//     anything);
//   - a command that cannot run here (see notRun) is left out, with its reason.
//
// Every block that runs must exit 0; every HTTP answer its curl lines get must be
// a success (curl runs with --fail-with-body); no client secret or refresh token
// may appear on its stderr or in a server's output; a "…" left in a command fails
// it (a placeholder no rule fills: give it a replacement in its shellCase). The
// shellCase of a block, if it has one, adds checks: token requests and API calls
// on the emulators' /-/counters, and the output the README shows.
func TestREADMEShellBlocks(t *testing.T) {
	if testing.Short() {
		t.Skip("builds tokentrip and runs the README's shell blocks")
	}
	for _, tool := range []string{"bash", "curl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the README's shell blocks need %s: install it (apt-get install %s)", tool, tool)
		}
	}
	all := fences(t, readme(t))
	blocks := planShellBlocks(t, all)

	run, skipped := 0, 0
	for _, b := range blocks {
		if b.skip != "" {
			skipped++
			t.Logf("README.md:%d: not run: %s", b.fence.line, b.skip)
		} else {
			run++
		}
	}
	if run == 0 {
		t.Fatal("the README has no shell block to run")
	}
	h := newShellHarness(t)
	t.Run("blocks", func(t *testing.T) {
		for _, b := range blocks {
			if b.skip != "" {
				continue
			}
			t.Run(fmt.Sprintf("README.md:%d", b.fence.line), func(t *testing.T) {
				t.Parallel()
				h.runBlock(t, b)
			})
		}
	})
	t.Logf("FIGURE README shell blocks: %d run, %d skipped", run, skipped)
}

// plannedBlock is a shell block and how the test treats it.
type plannedBlock struct {
	fence      fence
	prev, next fence      // the fenced blocks around it, of any language
	c          *shellCase // nil: only the general rules and checks
	after      *fence     // a block run first, in the same script
	skip       string     // why it does not run, when none of its commands can
	inherited  []string   // secret variables an earlier block of its section sets
}

// planShellBlocks pairs the shell blocks with their shellCases and finds those
// that cannot run at all.
func planShellBlocks(t *testing.T, all []fence) []plannedBlock {
	var blocks []plannedBlock
	set := map[string][]string{} // by section: the secret variables its blocks set so far
	for i, f := range all {
		if !shellLangs[f.lang] {
			continue
		}
		b := plannedBlock{fence: f, inherited: set[f.section]}
		for _, name := range secretVars {
			if setsVar(f.text, name) && !slices.Contains(set[f.section], name) {
				set[f.section] = append(slices.Clone(set[f.section]), name)
			}
		}
		if i > 0 {
			b.prev = all[i-1]
		}
		if i+1 < len(all) {
			b.next = all[i+1]
		}
		var reasons []string
		runs := false
		for _, c := range commands(f.text) {
			if c.code == "" {
				continue
			}
			if why := notRunReason(c.code); why != "" {
				if !slices.Contains(reasons, why) {
					reasons = append(reasons, why)
				}
			} else {
				runs = true
			}
		}
		if !runs {
			b.skip = strings.Join(reasons, "; ")
			if b.skip == "" {
				b.skip = "it has no command"
			}
		}
		blocks = append(blocks, b)
	}
	find := func(key string) *plannedBlock {
		var found []*plannedBlock
		for i := range blocks {
			if strings.Contains(blocks[i].fence.text, key) {
				found = append(found, &blocks[i])
			}
		}
		switch len(found) {
		case 0:
			t.Errorf("shellCases: no README shell block holds %q: update or drop its case", key)
			return nil
		case 1:
			return found[0]
		}
		lines := make([]int, len(found))
		for i, b := range found {
			lines[i] = b.fence.line
		}
		t.Errorf("shellCases: %q is in the shell blocks at README.md lines %v: choose a string only one holds", key, lines)
		return nil
	}
	for i := range shellCases {
		c := &shellCases[i]
		b := find(c.block)
		if b == nil {
			continue
		}
		if b.c != nil {
			t.Errorf("README.md:%d: two shellCases for one block (%q, %q)", b.fence.line, b.c.block, c.block)
		}
		if b.skip != "" {
			t.Errorf("README.md:%d: a shellCase for a block that cannot run (%s)", b.fence.line, b.skip)
		}
		b.c = c
		if c.after != "" {
			if a := find(c.after); a != nil {
				b.after = &a.fence
			}
		}
	}
	return blocks
}

// shellHarness is what every block's run shares: the tokentrip binary and the
// environment.
type shellHarness struct {
	root string   // the checkout
	bin  string   // the directory holding tokentrip
	env  []string // the variables every block starts with
}

// newShellHarness builds tokentrip and prepares the environment blocks run in.
func newShellHarness(t *testing.T) *shellHarness {
	root, goBin := checkoutRoot(t), goBin()
	h := &shellHarness{root: root, bin: t.TempDir()}
	start := time.Now()
	build := exec.Command(filepath.Join(goBin, "go"), "build", "-o", filepath.Join(h.bin, "tokentrip"), "./cmd/tokentrip")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/tokentrip: %v\n%s", err, out)
	}
	t.Logf("built tokentrip in %v", time.Since(start).Round(time.Millisecond))

	// Blocks get a HOME of their own; the go command keeps its cache and
	// settings where they are.
	goenv, err := exec.Command(filepath.Join(goBin, "go"), "env", "GOCACHE", "GOMODCACHE", "GOPATH", "GOENV").Output()
	if err != nil {
		t.Fatalf("go env: %v", err)
	}
	vals := strings.Split(strings.TrimSpace(string(goenv)), "\n")
	if len(vals) != 4 {
		t.Fatalf("go env printed %q", goenv)
	}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "TOKENTRIP_"), name == "CLIENT_ID",
			name == "HOME", name == "PATH", name == "NO_PROXY", name == "no_proxy",
			name == "CDPATH", name == "BASH_ENV", name == "ENV", name == "SHELLOPTS", name == "BASHOPTS":
			continue // the reader's own settings would change what the blocks do
		}
		h.env = append(h.env, kv)
	}
	noProxy := "127.0.0.1,localhost"
	if v := cmp.Or(os.Getenv("NO_PROXY"), os.Getenv("no_proxy")); v != "" {
		noProxy += "," + v
	}
	h.env = append(h.env,
		"PATH="+h.bin+string(os.PathListSeparator)+goBin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"NO_PROXY="+noProxy, "no_proxy="+noProxy, // curl and the emulators on loopback, never through a proxy
		"GOCACHE="+vals[0], "GOMODCACHE="+vals[1], "GOPATH="+vals[2], "GOENV="+vals[3])
	return h
}

// runBlock runs one block (again, on other ports, if a port it was given was
// taken meanwhile) and checks it.
func (h *shellHarness) runBlock(t *testing.T, b plannedBlock) {
	var r *shellRun
	for attempt := 1; ; attempt++ {
		r = &shellRun{h: h, plannedBlock: b}
		err := r.run(t)
		if err == nil {
			break
		}
		if errors.Is(err, errPortTaken) && attempt < 3 {
			t.Logf("attempt %d: %v; again on other ports", attempt, err)
			continue
		}
		t.Fatalf("%v\n%s", err, r.report())
	}
	r.checkServers(t)
	r.checkNoSecrets(t)
	if b.c != nil && b.c.check != nil {
		b.c.check(t, r)
	}
	if t.Failed() {
		t.Logf("what ran:\n%s", r.report())
		return
	}
	checks := "the general checks only"
	if b.c != nil && b.c.check != nil {
		checks = "the general checks and its shellCase's"
	}
	t.Logf("%d commands run, %d left out; %s passed", r.ran, r.leftOut, checks)
}

// errPortTaken is a run that failed because a port picked for it was taken before
// it could listen there.
var errPortTaken = errors.New("a port picked for the block was taken")

// shellRun is one run of one block.
type shellRun struct {
	h *shellHarness
	plannedBlock

	dir, home    string                   // its directory and HOME
	emulators    map[string]*emulatorInfo // by provider
	extraEnv     map[string]string        // set by a shellCase's setup
	proxyPort    string                   // what 8787 became
	emulatorPort string                   // what 8788 became
	script       string                   // what bash ran
	given        []string                 // the secret variables the test set for it
	servers      []foregroundServer       // the servers it ran in the background
	ran, leftOut int                      // its commands run and not run

	stdout, stderr string
	counts         map[string]counts // the emulators' counters after the block
}

// foregroundServer is a server a block runs in the foreground, which the test ran
// in the background.
type foregroundServer struct {
	line  int    // its README line
	log   string // the file its output went to
	shows string // the comment after it: what the README says it prints
}

// counts are an emulator's counters, as its GET /-/counters reports them.
type counts struct {
	TokenRequests int            `json:"token_requests"`
	TokensIssued  int            `json:"tokens_issued"`
	RESTCalls     int            `json:"rest_calls"`
	SOAPCalls     int            `json:"soap_calls"`
	XMLAPICalls   int            `json:"xmlapi_calls"`
	Rejections    map[string]int `json:"rejections"`
}

// equal compares every count; an empty Rejections equals a nil one.
func (c counts) equal(o counts) bool {
	return c.TokenRequests == o.TokenRequests && c.TokensIssued == o.TokensIssued &&
		c.RESTCalls == o.RESTCalls && c.SOAPCalls == o.SOAPCalls && c.XMLAPICalls == o.XMLAPICalls &&
		maps.Equal(c.Rejections, o.Rejections)
}

// wantCounts checks the token requests, API calls and rejections (none unless
// want lists some) of the emulator the test started for provider.
func (r *shellRun) wantCounts(t *testing.T, provider string, want counts) {
	t.Helper()
	got, ok := r.counts[provider]
	if !ok {
		t.Errorf("no %s emulator ran for this block", provider)
		return
	}
	want.TokensIssued = got.TokensIssued
	if !got.equal(want) {
		t.Errorf("the %s emulator counted %+v, want %+v", provider, got, want)
	}
}

// emulatorInfo is what "tokentrip emulate" prints on stdout.
type emulatorInfo struct {
	Provider     string            `json:"provider"`
	BaseURL      string            `json:"base_url"`
	ClientID     string            `json:"client_id"`
	ClientSecret string            `json:"client_secret"`
	RefreshToken string            `json:"refresh_token"`
	Env          map[string]string `json:"env"`
}

// run prepares the block's directory, emulators and script, runs it, and
// collects what it did. It returns an error when the block failed.
func (r *shellRun) run(t *testing.T) error {
	base := t.TempDir()
	r.dir, r.home = filepath.Join(base, "work"), filepath.Join(base, "home")
	for _, d := range []string{r.dir, r.home} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	if r.proxyPort, err = freePort(); err != nil {
		t.Fatal(err)
	}
	if r.emulatorPort, err = freePort(); err != nil {
		t.Fatal(err)
	}

	text := r.fence.text
	if r.c != nil {
		for _, rep := range r.c.replace {
			if !strings.Contains(text, rep.old) {
				t.Fatalf("README.md:%d: the block no longer holds %q (replaced because %s)", r.fence.line, rep.old, rep.why)
			}
			text = strings.ReplaceAll(text, rep.old, rep.new)
		}
	}
	var before string
	if r.after != nil {
		before = r.after.text
	}
	providers := providersOf(before + text)
	if r.c != nil {
		providers = append(providers, r.c.providers...)
	}
	slices.Sort(providers)
	providers = slices.Compact(providers)
	r.emulators = map[string]*emulatorInfo{}
	for _, p := range providers {
		r.emulators[p] = r.startEmulator(t, p)
	}
	if r.c != nil && r.c.setup != nil {
		r.c.setup(t, r)
	}

	var script strings.Builder
	script.WriteString(shellPrelude)
	if r.after != nil {
		fmt.Fprintf(&script, "\n# README.md:%d, run first (in another terminal)\n", r.after.line)
		r.writeCommands(t, &script, *r.after, r.after.text)
	}
	fmt.Fprintf(&script, "\n# README.md:%d\n", r.fence.line)
	r.writeCommands(t, &script, r.fence, text)
	r.script = script.String()
	if t.Failed() {
		t.FailNow()
	}

	env, stdin := r.environment(before + text)
	return r.exec(t, env, stdin)
}

// shellPrelude comes before every block.
const shellPrelude = `set -euo pipefail
# A curl line of the README that gets a 4xx or 5xx fails the block.
curl() { command curl --fail-with-body --show-error "$@"; }
# tt_listening PID LOG: the README runs this server in the foreground, the test in
# the background: wait (at most 30 s) until it says it listens.
tt_listening() {
	local end=$((SECONDS + 30))
	until grep -qs 'listening on' "$2"; do
		if ! kill -0 "$1" 2>/dev/null; then
			echo "it exited before it listened:" >&2; cat "$2" >&2; exit 1
		fi
		if ((SECONDS >= end)); then
			echo "it did not listen within 30 s:" >&2; cat "$2" >&2; exit 1
		fi
		sleep 0.05
	done
}
`

// writeCommands writes a block's commands as the test runs them.
func (r *shellRun) writeCommands(t *testing.T, script *strings.Builder, f fence, text string) {
	cmds := commands(text)
	for i, c := range cmds {
		line := f.line + c.line - 1
		if c.code == "" {
			fmt.Fprintf(script, "# %s\n", c.comment)
			continue
		}
		if why := notRunReason(c.code); why != "" {
			fmt.Fprintf(script, "# not run (%s): %s\n", why, strings.SplitN(c.code, "\n", 2)[0])
			r.leftOut++
			continue
		}
		r.ran++
		code, err := r.substitute(c.code)
		if err != nil {
			t.Errorf("README.md:%d: %v", line, err)
			continue
		}
		if strings.Contains(code, "…") {
			t.Errorf("README.md:%d: a placeholder (…) the test cannot fill: give the block a replacement in its shellCase\n%s", line, code)
			continue
		}
		if foregroundServer := serverCommand.MatchString(code) && !backgrounded.MatchString(code); foregroundServer {
			s := r.foreground(line, cmds, i)
			fmt.Fprintf(script, "%s >%s 2>&1 &\ntt_listening $! %s\n", code, shellQuote(s.log), shellQuote(s.log))
			continue
		}
		raw, err := r.substitute(c.raw)
		if err != nil {
			t.Errorf("README.md:%d: %v", line, err)
			continue
		}
		script.WriteString(raw + "\n")
	}
}

// foreground records a server the block runs in the foreground.
func (r *shellRun) foreground(line int, cmds []command, i int) foregroundServer {
	s := foregroundServer{line: line, log: filepath.Join(r.dir, fmt.Sprintf("server-%d.log", len(r.servers)+1))}
	if i+1 < len(cmds) && cmds[i+1].code == "" {
		s.shows = cmds[i+1].comment
	}
	r.servers = append(r.servers, s)
	return s
}

var (
	// serverCommand is a tokentrip command that serves until stopped.
	serverCommand = regexp.MustCompile(`^(\w+=\S*\s+)*(\S*/)?tokentrip\s+(proxy|emulate)\b`)
	// backgrounded is a command with a single & in it.
	backgrounded = regexp.MustCompile(`(^|[^&>])&([^&>]|$)`)
	// tokentripCommand is a tokentrip command that takes --provider.
	tokentripCommand = regexp.MustCompile(`(^|[\s;&|(/])tokentrip\s+(token|proxy|emulate)\b`)
	providerFlag     = regexp.MustCompile(`--provider[ =]"?(\w+)`)
)

// providersOf returns the providers a block's tokentrip token and proxy commands
// name.
func providersOf(text string) []string {
	var out []string
	for _, c := range commands(text) {
		m := tokentripCommand.FindStringSubmatch(c.code)
		if m == nil || m[2] == "emulate" { // an emulator the block starts itself
			continue
		}
		if p := providerFlag.FindStringSubmatch(c.code); p != nil {
			out = append(out, p[1])
		}
	}
	return out
}

// The README's placeholders, which substitute points at the emulators.
var (
	subdomainFlag = regexp.MustCompile(`--subdomain[ =](\S+)`)
	podFlag       = regexp.MustCompile(`--pod[ =](\S+)`)
	mcURL         = regexp.MustCompile(`https://(mc[0-9a-z-]{26}|…|\{subdomain\})\.(rest|soap|auth)\.marketingcloudapis\.com`)
	acousticURL   = regexp.MustCompile(`https://api-campaign-[0-9a-z-]+\.goacoustic\.com`)
	elidedValue   = regexp.MustCompile(`\b([A-Z][A-Z0-9_]*)=…`)
	tmpDir        = regexp.MustCompile(`(^|[\s=])/tmp\b`)
	emulateCmd    = regexp.MustCompile(`\btokentrip\s+emulate\b`)
	proxyCmd      = regexp.MustCompile(`\btokentrip\s+proxy\b`)
	proxyPort     = regexp.MustCompile(`:8787\b`)
	emulatorPort  = regexp.MustCompile(`:8788\b`)
)

// substitute points a command's placeholders at the block's emulators, directory
// and ports.
func (r *shellRun) substitute(s string) (string, error) {
	provider := ""
	if m := providerFlag.FindStringSubmatch(s); m != nil {
		provider = m[1]
	}
	var errs []string
	need := func(what string, kinds ...string) *emulatorInfo {
		if e, ok := r.emulators[provider]; ok && slices.Contains(kinds, provider) {
			return e
		}
		var found []*emulatorInfo
		for _, k := range kinds {
			if e, ok := r.emulators[k]; ok {
				found = append(found, e)
			}
		}
		if len(found) != 1 {
			errs = append(errs, fmt.Sprintf("%s needs one %s emulator, and the block has %d: name the provider in its shellCase", what, strings.Join(kinds, " or "), len(found)))
			return nil
		}
		return found[0]
	}
	isProxy := proxyCmd.MatchString(s)
	s = subdomainFlag.ReplaceAllStringFunc(s, func(m string) string {
		e := need(m, "mcv1", "mcv2")
		if e == nil {
			return m
		}
		flags := "--auth-url " + e.Env["TOKENTRIP_AUTH_URL"]
		if isProxy {
			for _, f := range []string{"REST_URL", "SOAP_URL"} {
				if v := e.Env["TOKENTRIP_"+f]; v != "" {
					flags += " --" + strings.ToLower(strings.ReplaceAll(f, "_", "-")) + " " + v
				}
			}
		}
		return flags
	})
	s = podFlag.ReplaceAllStringFunc(s, func(m string) string {
		if e := need(m, "acoustic"); e != nil {
			return "--base-url " + e.BaseURL
		}
		return m
	})
	s = mcURL.ReplaceAllStringFunc(s, func(m string) string {
		if e := need(m, "mcv1", "mcv2"); e != nil {
			return e.BaseURL
		}
		return m
	})
	s = acousticURL.ReplaceAllStringFunc(s, func(m string) string {
		if e := need(m, "acoustic"); e != nil {
			return e.BaseURL
		}
		return m
	})
	s = elidedValue.ReplaceAllStringFunc(s, func(m string) string {
		name := strings.TrimSuffix(m, "=…")
		e := need(m, "mcv1", "mcv2", "acoustic")
		if e == nil {
			return m
		}
		v, ok := e.Env[name]
		if !ok {
			errs = append(errs, fmt.Sprintf("%s: the %s emulator has no value for %s", m, e.Provider, name))
			return m
		}
		return name + "=" + shellQuote(v)
	})
	s = tmpDir.ReplaceAllString(s, "${1}"+r.dir)
	if emulateCmd.MatchString(s) && !strings.Contains(s, "--listen") {
		s = emulateCmd.ReplaceAllString(s, "tokentrip emulate --listen 127.0.0.1:8788")
	}
	s = proxyPort.ReplaceAllString(s, ":"+r.proxyPort)
	s = emulatorPort.ReplaceAllString(s, ":"+r.emulatorPort)
	if len(errs) > 0 {
		return s, errors.New(strings.Join(errs, "; "))
	}
	return s, nil
}

// secretVars are the variables that hold a credential's secrets.
var secretVars = []string{"TOKENTRIP_CLIENT_SECRET", "TOKENTRIP_REFRESH_TOKEN"}

// setsVar reports whether a block sets the variable name (name=… or read name).
func setsVar(text, name string) bool {
	return regexp.MustCompile(`\b` + name + `=|\bread\b[^\n]*\b` + name + `\b`).MatchString(text)
}

// environment returns the block's variables and what its stdin holds.
func (r *shellRun) environment(text string) (env []string, stdin string) {
	env = append(slices.Clone(r.h.env), "HOME="+r.home, "TOKENTRIP_LISTEN=127.0.0.1:"+r.proxyPort)
	if len(r.emulators) == 1 {
		for _, e := range r.emulators {
			env = append(env, "CLIENT_ID="+e.ClientID)
			// A secret the block sets, it sets itself (read gets it on stdin).
			// One it names without setting ("TOKENTRIP_CLIENT_SECRET set"), or
			// that an earlier block of its section sets, is in the reader's
			// shell already.
			for name, v := range map[string]string{"TOKENTRIP_CLIENT_SECRET": e.ClientSecret, "TOKENTRIP_REFRESH_TOKEN": e.RefreshToken} {
				has := strings.Contains(text, name) || slices.Contains(r.inherited, name)
				if v != "" && has && !setsVar(text, name) {
					env = append(env, name+"="+v)
					r.given = append(r.given, name)
				}
			}
			stdin = e.ClientSecret + "\n"
		}
	}
	for _, k := range slices.Sorted(maps.Keys(r.extraEnv)) {
		env = append(env, k+"="+r.extraEnv[k])
	}
	return env, stdin
}

// exec runs the script in bash and collects its output and the emulators'
// counters.
func (r *shellRun) exec(t *testing.T, env []string, stdin string) error {
	files := map[string]string{"script.sh": r.script, "stdin": stdin}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(r.dir, "..", name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	in, err := os.Open(filepath.Join(r.dir, "..", "stdin"))
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(filepath.Join(r.dir, "..", "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	errOut, err := os.Create(filepath.Join(r.dir, "..", "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer errOut.Close()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(r.dir, "..", "script.sh"))
	cmd.Dir = r.dir
	if inCheckout.MatchString(r.fence.text) {
		cmd.Dir = r.h.root // the block runs in a checkout
	}
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = in, out, errOut
	// The block and whatever it leaves running are one process group, ended
	// together.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	runErr := cmd.Run()
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if ctx.Err() != nil {
		runErr = fmt.Errorf("still running after a minute: %w", ctx.Err())
	}

	for name, dst := range map[string]*string{"stdout": &r.stdout, "stderr": &r.stderr} {
		b, err := os.ReadFile(filepath.Join(r.dir, "..", name))
		if err != nil {
			t.Fatal(err)
		}
		*dst = string(b)
	}
	r.counts = map[string]counts{}
	for p, e := range r.emulators {
		c, err := fetchCounts(e.BaseURL)
		if err != nil {
			t.Fatalf("the %s emulator: %v", p, err)
		}
		r.counts[p] = c
	}
	if runErr != nil {
		all := r.stderr
		for _, s := range r.servers {
			b, _ := os.ReadFile(s.log)
			all += string(b)
		}
		if strings.Contains(all, "address already in use") {
			return fmt.Errorf("%w: %v", errPortTaken, runErr)
		}
		return fmt.Errorf("README.md:%d: the block failed: %v", r.fence.line, runErr)
	}
	return nil
}

// inCheckout is a block that builds or runs a package of the checkout.
var inCheckout = regexp.MustCompile(`(^|\s)\./cmd/`)

// report is what the run did, for a failure's message.
func (r *shellRun) report() string {
	var b strings.Builder
	fmt.Fprintf(&b, "--- script (run with CLIENT_ID, TOKENTRIP_LISTEN=127.0.0.1:%s and the secrets %v set)\n%s", r.proxyPort, r.given, r.script)
	fmt.Fprintf(&b, "--- stdout\n%s--- stderr\n%s", r.stdout, r.stderr)
	for _, s := range r.servers {
		out, _ := os.ReadFile(s.log)
		fmt.Fprintf(&b, "--- the server of README.md:%d\n%s", s.line, out)
	}
	return b.String()
}

// checkServers checks that each server the block ran in the foreground printed
// the line the README shows after it.
func (r *shellRun) checkServers(t *testing.T) {
	for _, s := range r.servers {
		if s.shows == "" {
			continue
		}
		shows, err := r.substitute(s.shows)
		if err != nil {
			t.Errorf("README.md:%d: %v", s.line+1, err)
			continue
		}
		pattern := "(?m)^" + strings.ReplaceAll(regexp.QuoteMeta(shows), "…", ".*") + "$"
		out, err := os.ReadFile(s.log)
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(pattern).Match(out) {
			t.Errorf("README.md:%d: the README shows it prints\n\t%s\nbut it printed\n%s", s.line, shows, out)
		}
	}
}

// checkNoSecrets checks that no secret of an emulator's credential appears on the
// block's stderr or in a server's output.
func (r *shellRun) checkNoSecrets(t *testing.T) {
	outputs := map[string]string{"stderr": r.stderr}
	for _, s := range r.servers {
		b, _ := os.ReadFile(s.log)
		outputs[fmt.Sprintf("the output of the server of README.md:%d", s.line)] = string(b)
	}
	for _, e := range r.emulators {
		for _, secret := range []string{e.ClientSecret, e.RefreshToken} {
			for where, out := range outputs {
				if secret != "" && strings.Contains(out, secret) {
					t.Errorf("a %s secret appears in %s", e.Provider, where)
				}
			}
		}
	}
}

// startEmulator starts "tokentrip emulate" for provider on a free port and
// stops it when the test ends.
func (r *shellRun) startEmulator(t *testing.T, provider string) *emulatorInfo {
	cmd := exec.Command(filepath.Join(r.h.bin, "tokentrip"), "emulate", "--provider", provider, "--listen", "127.0.0.1:0")
	cmd.Env = r.h.env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Errorf("tokentrip emulate --provider %s: %v\n%s", provider, err, stderr.String())
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("tokentrip emulate --provider %s printed no JSON: %v", provider, err)
	}
	var info emulatorInfo
	if err := json.Unmarshal([]byte(line), &info); err != nil {
		t.Fatalf("tokentrip emulate --provider %s: %v\n%s", provider, err, line)
	}
	return &info
}

// fetchCounts reads an emulator's counters.
func fetchCounts(baseURL string) (counts, error) {
	var c counts
	resp, err := http.Get(baseURL + "/-/counters")
	if err != nil {
		return c, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return c, fmt.Errorf("GET /-/counters: %s", resp.Status)
	}
	return c, json.NewDecoder(resp.Body).Decode(&c)
}

// writeProxyConfig writes a README proxy config file (TOML) into the block's
// directory as name, its credentials pointed at the block's emulators: subdomain
// and pod become the emulator's URLs, client_id its client id, and the variables
// and files the file names for secrets are set and written.
func (r *shellRun) writeProxyConfig(t *testing.T, toml, name string) {
	if r.extraEnv == nil {
		r.extraEnv = map[string]string{}
	}
	keyValue := regexp.MustCompile(`^\s*(\w+)\s*=\s*"([^"]*)"`)
	lines := strings.Split(toml, "\n")
	var out []string
	for start := 0; start < len(lines); {
		end := start + 1
		for end < len(lines) && strings.TrimSpace(lines[end]) != "[[credential]]" {
			end++
		}
		var e *emulatorInfo
		for _, l := range lines[start:end] {
			if m := keyValue.FindStringSubmatch(l); m != nil && m[1] == "provider" {
				if e = r.emulators[m[2]]; e == nil {
					t.Fatalf("the config names provider %q: list it in the block's shellCase providers", m[2])
				}
			}
		}
		for _, l := range lines[start:end] {
			m := keyValue.FindStringSubmatch(l)
			if m == nil || e == nil {
				out = append(out, l)
				continue
			}
			switch key, v := m[1], m[2]; key {
			case "subdomain":
				for _, k := range []string{"AUTH_URL", "REST_URL", "SOAP_URL"} {
					if u := e.Env["TOKENTRIP_"+k]; u != "" {
						out = append(out, fmt.Sprintf("%s = %q", strings.ToLower(k), u))
					}
				}
			case "pod":
				out = append(out, fmt.Sprintf("base_url = %q", e.BaseURL))
			case "client_id":
				out = append(out, fmt.Sprintf("client_id = %q", e.ClientID))
			case "client_secret_env":
				r.extraEnv[v] = e.ClientSecret
				out = append(out, l)
			case "refresh_token_env":
				r.extraEnv[v] = e.RefreshToken
				out = append(out, l)
			case "client_secret_file", "refresh_token_file":
				secret := e.ClientSecret
				if key == "refresh_token_file" {
					secret = e.RefreshToken
				}
				path := filepath.Join(r.dir, filepath.FromSlash(v))
				if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				out = append(out, l)
			default:
				out = append(out, l)
			}
		}
		start = end
	}
	if err := os.WriteFile(filepath.Join(r.dir, name), []byte(strings.Join(out, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
}

// freePort returns a loopback port nothing listens on now.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), nil
}

// shellQuote quotes s for bash.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// The placeholders of the README point at the block's emulators, directory and
// ports; one the test cannot fill is an error.
func TestShellSubstitute(t *testing.T) {
	emu := func(p, url string, env map[string]string) *emulatorInfo {
		return &emulatorInfo{Provider: p, BaseURL: url, ClientID: p + "-id", ClientSecret: p + "-secret", Env: env}
	}
	mcv1 := emu("mcv1", "http://127.0.0.1:1001", map[string]string{
		"TOKENTRIP_AUTH_URL": "http://127.0.0.1:1001", "TOKENTRIP_REST_URL": "http://127.0.0.1:1001",
		"TOKENTRIP_SOAP_URL": "http://127.0.0.1:1001/Service.asmx", "TOKENTRIP_CLIENT_SECRET": "mcv1-secret"})
	mcv2 := emu("mcv2", "http://127.0.0.1:1002", map[string]string{
		"TOKENTRIP_AUTH_URL": "http://127.0.0.1:1002", "TOKENTRIP_CLIENT_SECRET": "mcv2 'secret'"})
	acoustic := emu("acoustic", "http://127.0.0.1:1003", map[string]string{
		"TOKENTRIP_BASE_URL": "http://127.0.0.1:1003", "TOKENTRIP_REFRESH_TOKEN": "rt"})
	for _, tc := range []struct {
		name      string
		emulators []*emulatorInfo
		in, want  string
		err       bool
	}{
		{"subdomain", []*emulatorInfo{mcv2}, "tokentrip token --provider mcv2 --subdomain mc563885gzs27c5t9-63k636tzgm --json",
			"tokentrip token --provider mcv2 --auth-url http://127.0.0.1:1002 --json", false},
		{"elided subdomain", []*emulatorInfo{mcv2}, "tokentrip proxy --provider mcv2 --subdomain …",
			"tokentrip proxy --provider mcv2 --auth-url http://127.0.0.1:1002", false},
		{"legacy proxy", []*emulatorInfo{mcv1}, "tokentrip proxy --provider mcv1 --subdomain=mc563885gzs27c5t9-63k636tzgm",
			"tokentrip proxy --provider mcv1 --auth-url http://127.0.0.1:1001 --rest-url http://127.0.0.1:1001 --soap-url http://127.0.0.1:1001/Service.asmx", false},
		{"legacy token", []*emulatorInfo{mcv1}, "tokentrip token --provider mcv1 --subdomain mc563885gzs27c5t9-63k636tzgm",
			"tokentrip token --provider mcv1 --auth-url http://127.0.0.1:1001", false},
		{"the provider named", []*emulatorInfo{mcv1, mcv2}, "tokentrip token --provider mcv2 --subdomain x",
			"tokentrip token --provider mcv2 --auth-url http://127.0.0.1:1002", false},
		{"two to choose from", []*emulatorInfo{mcv1, mcv2}, "tokentrip token --subdomain x", "", true},
		{"none to choose from", []*emulatorInfo{acoustic}, "tokentrip token --subdomain x", "", true},
		{"pod", []*emulatorInfo{acoustic}, "tokentrip token --provider acoustic --pod 6",
			"tokentrip token --provider acoustic --base-url http://127.0.0.1:1003", false},
		{"vendor URLs", []*emulatorInfo{mcv2, acoustic},
			"curl https://mc563885gzs27c5t9-63k636tzgm.rest.marketingcloudapis.com/platform/v1/endpoints https://api-campaign-eu-1.goacoustic.com/XMLAPI",
			"curl http://127.0.0.1:1002/platform/v1/endpoints http://127.0.0.1:1003/XMLAPI", false},
		{"elided values", []*emulatorInfo{mcv2}, "export TOKENTRIP_CLIENT_SECRET=…   # or a file",
			`export TOKENTRIP_CLIENT_SECRET='mcv2 '\''secret'\'''   # or a file`, false},
		{"an elided value it has not", []*emulatorInfo{mcv2}, "export TOKENTRIP_REFRESH_TOKEN=…", "", true},
		{"/tmp", nil, "go build -o /tmp/tokentrip ./cmd/tokentrip && cd /tmp; ls a/tmp",
			"go build -o DIR/tokentrip ./cmd/tokentrip && cd DIR; ls a/tmp", false},
		{"ports", nil, "curl http://127.0.0.1:8787/x http://127.0.0.1:8788/-/counters localhost:87870",
			"curl http://127.0.0.1:5001/x http://127.0.0.1:5002/-/counters localhost:87870", false},
		{"emulate's address", nil, "./tokentrip emulate --provider mcv2 > e.json &",
			"./tokentrip emulate --listen 127.0.0.1:5002 --provider mcv2 > e.json &", false},
		{"emulate's own address", nil, "tokentrip emulate --provider mcv2 --listen 127.0.0.1:0",
			"tokentrip emulate --provider mcv2 --listen 127.0.0.1:0", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &shellRun{dir: "DIR", proxyPort: "5001", emulatorPort: "5002", emulators: map[string]*emulatorInfo{}}
			for _, e := range tc.emulators {
				r.emulators[e.Provider] = e
			}
			got, err := r.substitute(tc.in)
			if (err != nil) != tc.err {
				t.Fatalf("substitute(%q) = %q, %v; want an error: %v", tc.in, got, err, tc.err)
			}
			if !tc.err && got != tc.want {
				t.Errorf("substitute(%q)\n got %q\nwant %q", tc.in, got, tc.want)
			}
		})
	}
}
