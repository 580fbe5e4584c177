package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/internal/eventrec"
	"github.com/tokentrip/tokentrip/internal/proxy"
	"github.com/tokentrip/tokentrip/internal/testkit"
	"github.com/tokentrip/tokentrip/provider/acoustic/acoustictest"
	"github.com/tokentrip/tokentrip/provider/mcv1/mcv1test"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
)

// syncBuffer is a log destination that handlers may write to concurrently.
type syncBuffer = eventrec.Log

// multiEmulators are the emulators a --config proxy test talks to: one per provider that
// is used, and one of each kind of credential that must stay unused.
type multiEmulators struct {
	v1           *mcv1test.Server
	v2           *mcv2test.Server
	ac           *acoustictest.Server
	idleMCv2     *mcv2test.Server
	idleAcoustic *acoustictest.Server
}

func startMultiEmulators(t *testing.T) *multiEmulators {
	t.Helper()
	e := &multiEmulators{
		v1:           mcv1test.NewServer(),
		v2:           mcv2test.NewServer(),
		ac:           acoustictest.NewServer(),
		idleMCv2:     mcv2test.NewServer(),
		idleAcoustic: acoustictest.NewServer(),
	}
	t.Cleanup(func() {
		e.v1.Close()
		e.v2.Close()
		e.ac.Close()
		e.idleMCv2.Close()
		e.idleAcoustic.Close()
	})
	return e
}

// multiVars are the variables a --config proxy test reads its secrets from.
func multiVars() map[string]string {
	return map[string]string{
		"LEGACY_SECRET":   emulator.MCv1ClientSecret,
		"ENHANCED_SECRET": emulator.MCv2ClientSecret,
		"CAMPAIGN_SECRET": emulator.AcousticClientSecret,
	}
}

// config is a config file of seven credentials: mcv1 "legacy", mcv2 business units
// 111, 222 and 444, and Acoustic "campaign", each on its emulator; and mcv2 "bu-333"
// and Acoustic "campaign-us", on emulators that must never hear from them.
func (e *multiEmulators) config() string {
	mc2 := func(mid, auth string) string {
		return fmt.Sprintf(`
[[credential]]
name = "bu-%[1]s"
prefix = "/bu/%[1]s"
provider = "mcv2"
auth_url = %[2]q
client_id = %[3]q
client_secret_env = "ENHANCED_SECRET"
account_id = %[1]q
`, mid, auth, emulator.MCv2ClientID)
	}
	ac := func(name, prefix, base string) string {
		return fmt.Sprintf(`
[[credential]]
name = %q
prefix = %q
provider = "acoustic"
base_url = %q
client_id = %q
client_secret_env = "CAMPAIGN_SECRET"
refresh_token_file = "refresh-token"
`, name, prefix, base, emulator.AcousticClientID)
	}
	return fmt.Sprintf(`
[[credential]]
name = "legacy"
provider = "mcv1"
auth_url = %[1]q
rest_url = "%[1]s/"
soap_url = %[1]q
client_id = %[2]q
client_secret_env = "LEGACY_SECRET"
`, e.v1.URL, emulator.MCv1ClientID) +
		mc2("111", e.v2.URL) + mc2("222", e.v2.URL) + mc2("444", e.v2.URL) + mc2("333", e.idleMCv2.URL) +
		ac("campaign", "/acoustic/eu", e.ac.URL) + ac("campaign-us", "/acoustic/us", e.idleAcoustic.URL)
}

// startMulti serves the config through the --config proxy's handler, in process,
// and returns its credentials, its URL and its log.
func startMulti(t *testing.T, config string) (*configProxy, string, *syncBuffer) {
	t.Helper()
	vars := multiVars()
	creds, err := loadConfig(&environ{getenv: func(k string) string { return vars[k] }}, writeMultiConfig(t, config))
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	srv := httptest.NewUnstartedServer(nil)
	opts := proxy.Options{Listen: srv.Listener.Addr().String(), Logger: logger, Metrics: proxy.NewMetrics()}
	upstream := proxy.NewUpstreamTransport(0)
	cp := newConfigProxy(creds, logger, opts.Metrics, upstream)
	h, err := newProxyHandler(opts, cp.backends...)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = h
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		cp.pool.CloseIdleConnections()
		upstream.CloseIdleConnections()
	})
	return cp, srv.URL, logs
}

// credential returns the pooled credential called name.
func (cp *configProxy) credential(t *testing.T, name string) *pooled {
	t.Helper()
	for _, p := range cp.creds {
		if p.name == name {
			return p
		}
	}
	t.Fatalf("no credential %q", name)
	return nil
}

// memberID asks the mcv2 emulator, through the proxy, which business unit the
// token the proxy sent is for.
func memberID(t *testing.T, base, prefix string) int64 {
	t.Helper()
	status, body := do(t, http.MethodGet, base+prefix+"/rest/v2/userinfo", "", "")
	if status != http.StatusOK {
		t.Fatalf("%s/rest/v2/userinfo: HTTP %d: %s", prefix, status, body)
	}
	var info struct {
		Organization struct {
			MemberID int64 `json:"member_id"`
		} `json:"organization"`
	}
	if err := json.Unmarshal([]byte(body), &info); err != nil {
		t.Fatalf("userinfo %s: %v", body, err)
	}
	return info.Organization.MemberID
}

// Each prefix goes to its own credential, with its own token: two business units
// of one package get tokens for their own MIDs, one token request each however
// many calls they make; the legacy package and the Acoustic org are served beside
// them; credentials nobody calls are never built and never ask for a token.
func TestProxyConfigRoutesEachPrefixToItsCredential(t *testing.T) {
	e := startMultiEmulators(t)
	mp, base, logs := startMulti(t, e.config())

	for _, name := range []string{"legacy", "bu-111", "bu-222", "bu-333", "bu-444", "campaign", "campaign-us"} {
		if _, built := mp.pool.Built(name); built {
			t.Fatalf("%s is built before any request", name)
		}
	}
	for range 3 {
		if id := memberID(t, base, "/bu/111"); id != 111 {
			t.Errorf("/bu/111 used a token for business unit %d", id)
		}
		if id := memberID(t, base, "/bu/222"); id != 222 {
			t.Errorf("/bu/222 used a token for business unit %d", id)
		}
	}

	// SOAP for one business unit: one fueloauth, added by the proxy.
	status, body := do(t, http.MethodPost, base+"/bu/222/Service.asmx", "text/xml; charset=utf-8", soapEnvelope, "SOAPAction", "Retrieve")
	if status != http.StatusOK || countElements(e.v2.LastEnvelope(), "fueloauth") != 1 {
		t.Errorf("SOAP through /bu/222: HTTP %d %s; the emulator saw %d fueloauth", status, body, countElements(e.v2.LastEnvelope(), "fueloauth"))
	}

	// The legacy package: REST arrives without the prefix and without /rest.
	status, body = do(t, http.MethodGet, base+"/legacy/rest/hub/v1/campaigns?page=2", "", "", "Authorization", "Bearer local-client-7c1d")
	var echo restEcho
	if status != http.StatusOK || json.Unmarshal([]byte(body), &echo) != nil || echo.Path != "/hub/v1/campaigns" {
		t.Errorf("/legacy/rest/hub/v1/campaigns: HTTP %d %s; want the emulator's echo of /hub/v1/campaigns", status, body)
	}

	// Acoustic: the XML API and REST under the org's prefix.
	status, body = do(t, http.MethodPost, base+"/acoustic/eu/XMLAPI", "text/xml;charset=UTF-8",
		`<Envelope><Body><GetLists><VISIBILITY>1</VISIBILITY><LIST_TYPE>2</LIST_TYPE></GetLists></Body></Envelope>`)
	if status != http.StatusOK || !strings.Contains(strings.ToUpper(body), "<SUCCESS>TRUE</SUCCESS>") {
		t.Errorf("/acoustic/eu/XMLAPI: HTTP %d %s", status, body)
	}
	if status, body = do(t, http.MethodGet, base+"/acoustic/eu/rest/databases", "", ""); status != http.StatusOK {
		t.Errorf("/acoustic/eu/rest/databases: HTTP %d %s", status, body)
	}

	// Paths under no credential, or that try to climb out of one.
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/rest/hub/v1/campaigns", http.StatusNotFound},    // no prefix
		{"/bu/11/rest/v2/userinfo", http.StatusNotFound},   // a prefix of a prefix
		{"/bu/1111/rest/v2/userinfo", http.StatusNotFound}, // a prefix is whole segments
		{"/BU/111/rest/v2/userinfo", http.StatusNotFound},  // paths are case-sensitive
		{"/bu/111", http.StatusNotFound},                   // the credential, no route
		{"/bu/111/v2/token", http.StatusNotFound},          // not a route of the credential
		{"/bu/111/../222/rest/v2/userinfo", http.StatusBadRequest},
		{"/bu/111/%2e%2e/222/rest/v2/userinfo", http.StatusBadRequest},
		{"/bu/111%2Frest/v2/userinfo", http.StatusNotFound}, // an escaped slash is no boundary
		{"/bu/111/rest/a%5c..%5cx", http.StatusBadRequest},  // a backslash, decoded
		{"/-/healthz", http.StatusOK},                       // the proxy's own, for any credential
	} {
		if status, body := do(t, http.MethodGet, base+tc.path, "", ""); status != tc.status {
			t.Errorf("%s: HTTP %d %s, want %d", tc.path, status, body, tc.status)
		}
	}

	if st := e.v2.Stats(); st.TokenRequests != 2 || rejections(st.Rejections) != 0 {
		t.Errorf("mcv2 emulator: %d token requests, %v rejections; want 2 (one per business unit used), none", st.TokenRequests, st.Rejections)
	}
	if st := e.v1.Stats(); st.TokenRequests != 1 || st.RESTCalls != 1 {
		t.Errorf("mcv1 emulator: %+v; want 1 token request and 1 REST call", st)
	}
	if st := e.ac.Stats(); st.TokenRequests != 1 || st.XMLAPICalls != 1 || st.RESTCalls != 1 {
		t.Errorf("Acoustic emulator: %+v; want 1 token request, 1 XML API and 1 REST call", st)
	}
	if n := e.idleMCv2.Stats().TokenRequests + e.idleAcoustic.Stats().TokenRequests; n != 0 {
		t.Errorf("the unused credentials made %d token requests", n)
	}
	for name, want := range map[string]bool{"legacy": true, "bu-111": true, "bu-222": true, "campaign": true, "bu-333": false, "bu-444": false, "campaign-us": false} {
		if _, built := mp.pool.Built(name); built != want {
			t.Errorf("%s built: %v, want %v", name, built, want)
		}
	}
	if mp.credential(t, "bu-333").router.Load() != nil || mp.credential(t, "bu-444").router.Load() != nil {
		t.Error("an unused credential has a router")
	}
	log := logs.String()
	for _, want := range []string{`route=rest credential=bu-111`, `route=rest credential=legacy`, `route=xmlapi credential=campaign`, `credential=bu-222`} {
		if !strings.Contains(log, want) {
			t.Errorf("the log lacks %s:\n%s", want, log)
		}
	}
	for _, secret := range []string{emulator.MCv2ClientSecret, emulator.MCv1ClientSecret, emulator.AcousticClientSecret, emulator.AcousticRefreshToken, "local-client-7c1d"} {
		if strings.Contains(log, secret) {
			t.Errorf("the log shows %q", secret)
		}
	}
}

// Requests arriving together for a credential nobody has used yet build it once
// and share one token request.
func TestProxyConfigConcurrentFirstUse(t *testing.T) {
	e := startMultiEmulators(t)
	mp, base, _ := startMulti(t, e.config())
	const callers = 16
	e.v2.HoldTokenRequests()
	statuses := make(chan int, callers)
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			resp, err := http.Get(base + "/bu/444/rest/v2/userinfo")
			if err != nil {
				statuses <- -1
				return
			}
			resp.Body.Close()
			statuses <- resp.StatusCode
		})
	}
	if err := e.v2.WaitTokenRequestsHeld(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	e.v2.ReleaseTokenRequests()
	wg.Wait()
	close(statuses)
	for s := range statuses {
		if s != http.StatusOK {
			t.Errorf("a first request: HTTP %d", s)
		}
	}
	if n := e.v2.Stats().TokenRequests; n != 1 {
		t.Errorf("%d token requests for %d concurrent first requests, want 1", n, callers)
	}
	if _, built := mp.pool.Built("bu-444"); !built {
		t.Error("bu-444 is not built after its requests")
	}
}

// writeMultiConfig writes config, and the Acoustic refresh token file it names, in
// a new directory, and returns the config's path.
func writeMultiConfig(t *testing.T, config string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "refresh-token"), []byte(emulator.AcousticRefreshToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "tokentrip.toml")
	if err := os.WriteFile(path, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// varList is multiVars as NAME=value pairs for a child process.
func varList() []string {
	var list []string
	for k, v := range multiVars() {
		list = append(list, k+"="+v)
	}
	return list
}

// The command: "tokentrip proxy --config FILE" listens without contacting any
// token endpoint, serves each credential under its prefix, and stops on SIGTERM.
func TestProxyConfigCommand(t *testing.T) {
	e := startMultiEmulators(t)
	path := writeMultiConfig(t, e.config())
	p := startProxy(t, varList(), "--config", path)
	if !strings.Contains(p.log(), "(7 credentials)") {
		t.Errorf("the listening line does not count the credentials:\n%s", p.log())
	}
	if n := e.v1.Stats().TokenRequests + e.v2.Stats().TokenRequests + e.ac.Stats().TokenRequests; n != 0 {
		t.Errorf("%d token requests before the first request, want 0", n)
	}
	if id := memberID(t, "http://"+p.base, "/bu/222"); id != 222 {
		t.Errorf("/bu/222 used a token for business unit %d", id)
	}
	if st := e.v2.Stats(); st.TokenRequests != 1 {
		t.Errorf("%d mcv2 token requests, want 1", st.TokenRequests)
	}
	if n := e.v1.Stats().TokenRequests + e.ac.Stats().TokenRequests + e.idleMCv2.Stats().TokenRequests; n != 0 {
		t.Errorf("credentials nobody called made %d token requests", n)
	}
	if code := p.stop(t); code != exitOK {
		t.Fatalf("exit code %d after SIGTERM, want 0:\n%s", code, p.log())
	}
	for _, secret := range []string{emulator.MCv2ClientSecret, emulator.AcousticRefreshToken} {
		if strings.Contains(p.log(), secret) {
			t.Errorf("the log shows %q", secret)
		}
	}
}

// Mistakes in a --config proxy's file or flags end with exit code 2 and the usage
// before any network call: the emulator the good credentials name hears nothing.
func TestProxyConfigUsageErrors(t *testing.T) {
	srv := mcv2test.NewServer()
	defer srv.Close()
	good := fmt.Sprintf("[[credential]]\nname = \"bu-1\"\nprovider = \"mcv2\"\nauth_url = %q\nclient_id = %q\nclient_secret_env = \"ENHANCED_SECRET\"\n",
		srv.URL, srv.ClientID)
	goodPath := writeMultiConfig(t, good)
	for _, tc := range []struct {
		name   string
		config string   // "" for goodPath
		vars   []string // added to varList()
		args   []string // after "proxy --listen 127.0.0.1:0"
		want   string
	}{
		{"literal secret", good + "client_secret = \"" + srv.ClientSecret + "\"\n", nil, nil, `credential "bu-1": client_secret: secrets are not accepted`},
		{"unknown key", good + "acount_id = \"1\"\n", nil, nil, `unknown key "acount_id"`},
		{"duplicate name", good + strings.Replace(good, "[[credential]]\n", "[[credential]]\nprefix = \"/other\"\n", 1), nil, nil, "the name is taken"},
		{"duplicate prefix", good + strings.Replace(good, `"bu-1"`, `"bu-2"`+"\nprefix = \"/bu-1\"", 1), nil, nil, "prefix /bu-1 is taken"},
		{"missing secret", strings.Replace(good, "ENHANCED_SECRET", "NOT_SET_3f1", 1), nil, nil, "NOT_SET_3f1 is not set"},
		{"not TOML", "[[credential]\n", nil, nil, "not valid TOML"},
		{"no such file", "-", nil, []string{"--config", "/nonexistent/tokentrip.toml"}, "cannot read /nonexistent/tokentrip.toml"},
		{"a credential flag", "", nil, []string{"--provider", "mcv2"}, "--provider: with --config (or TOKENTRIP_CONFIG), each credential's settings are in the config file"},
		{"a credential flag with =", "", nil, []string{"--client-id=x"}, "--client-id: with --config"},
		{"a secret flag", "", nil, []string{"--client-secret", srv.ClientSecret}, "secrets are not accepted as flags"},
		{"remote listen", "", nil, []string{"--listen", "0.0.0.0:0"}, "--allow-remote"},
		{"bad log level", "", nil, []string{"--log-level", "loud"}, "--log-level"},
		{"port out of range", "", nil, []string{"--listen", "127.0.0.1:99999"}, "the port must be a number from 0 to 65535"},
		{"no requests in flight", "", nil, []string{"--max-in-flight", "0"}, "--max-in-flight"},
		{"zero read timeout", "", nil, []string{"--read-timeout", "0s"}, "--read-timeout must be positive"},
		{"allowed host with a scheme", "", nil, []string{"--allowed-host", "http://proxy.internal"}, "--allowed-host"},
		{"REST mode as a flag", "", nil, []string{"--rest-paths", "all"}, "--rest-paths: with --config"},
		{"stray argument", "", nil, []string{"extra"}, "unexpected argument"},
		{"config from the environment, with flags of one credential", "-", []string{envConfig + "=" + goodPath}, []string{"--subdomain", "mc563885gzs27c5t9-63k636tzgm"}, "--subdomain: with --config"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"proxy", "--listen", "127.0.0.1:0"}
			switch tc.config {
			case "":
				args = append(args, "--config", goodPath)
			case "-":
			default:
				args = append(args, "--config", writeMultiConfig(t, tc.config))
			}
			r := runBinary(t, append(varList(), tc.vars...), append(args, tc.args...)...)
			wantCode(t, r, exitUsage)
			if !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, "Usage: tokentrip proxy") {
				t.Errorf("stderr lacks %q or the usage:\n%s", tc.want, r.stderr)
			}
			if strings.Contains(r.output(), srv.ClientSecret) {
				t.Errorf("the output shows the secret:\n%s", r.output())
			}
		})
	}
	if n := srv.Stats().TokenRequests; n != 0 {
		t.Errorf("%d token requests from proxies that should not have started", n)
	}
}

// -h with --config lists the config mode's flags; the proxy's own usage names --config.
func TestProxyConfigHelp(t *testing.T) {
	r := runBinary(t, nil, "proxy", "--config", "x.toml", "-h")
	wantCode(t, r, exitOK)
	for _, w := range []string{"--config FILE", "TOKENTRIP_CONFIG", "--listen", "--log-format", "path prefix", "--allowed-host", "--max-in-flight", "--read-timeout", "/-/readyz"} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("usage lacks %q:\n%s", w, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "--subdomain") {
		t.Errorf("the --config usage lists a credential flag:\n%s", r.stdout)
	}
	r = runBinary(t, nil, "proxy", "-h")
	wantCode(t, r, exitOK)
	if !strings.Contains(r.stdout, "--config FILE") {
		t.Errorf("the proxy's usage does not name --config:\n%s", r.stdout)
	}
}

// An idle credential of a --config proxy costs under a kilobyte of heap and no
// goroutine: 10,000 business units cost less than 10 MB before their first use.
func TestProxyConfigIdleCost(t *testing.T) {
	const n = 10_000
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before, goroutines := heap(), runtime.NumGoroutine()
	creds := make([]credential, n)
	for i := range creds {
		// Settings of production length, as loadConfig returns them.
		creds[i] = credential{name: fmt.Sprintf("bu-%d", 100000000+i), prefix: fmt.Sprintf("/bu/%d", 100000000+i), settings: settings{
			provider: providerMCv2, subdomain: fmt.Sprintf("mc%026x", i), clientID: fmt.Sprintf("%024x", i),
			clientSecret: fmt.Sprintf("s%023x", i), accountID: fmt.Sprint(100000000 + i)}}
	}
	// Everything the command builds for its credentials before serving: the pool,
	// the Backends and the handler over them.
	metrics := proxy.NewMetrics()
	mp := newConfigProxy(creds, slog.New(slog.DiscardHandler), metrics, proxy.NewUpstreamTransport(0))
	h, err := newProxyHandler(proxy.Options{Listen: "127.0.0.1:8787", Metrics: metrics}, mp.backends...)
	if err != nil {
		t.Fatal(err)
	}
	creds = nil
	perCredential := float64(heap()-before) / n
	runtime.KeepAlive(mp)
	runtime.KeepAlive(h)
	t.Logf("%.0f B and %d goroutines per idle credential", perCredential, (runtime.NumGoroutine()-goroutines)/n)
	if perCredential > 1024 {
		t.Errorf("an idle credential costs %.0f B, want under 1 KiB", perCredential)
	}
	if g := runtime.NumGoroutine() - goroutines; g > 0 {
		t.Errorf("%d more goroutines after adding %d credentials", g, n)
	}
	if _, built := mp.pool.Built("bu-100000007"); built {
		t.Error("a credential was built before its first use")
	}
}

// A --config proxy is the same proxy as the one-credential one: it refuses a
// foreign Host and a cross-site request before any credential is built or any
// token fetched; /-/readyz counts the credentials built so far (ready with none,
// not ready once a built one has no token); /-/metrics labels each credential by
// its name in the file and says nothing of those never built.
func TestProxyConfigGuardsHealthAndMetrics(t *testing.T) {
	e := startMultiEmulators(t)
	bad := fmt.Sprintf(`
[[credential]]
name = "bu-bad"
prefix = "/bu/bad"
provider = "mcv2"
auth_url = %q
client_id = %q
client_secret_env = "WRONG_SECRET"
account_id = "555"
`, e.v2.URL, emulator.MCv2ClientID)
	path := writeMultiConfig(t, e.config()+bad)
	p := startProxy(t, append(varList(), "WRONG_SECRET=not-the-secret-9d2f"), "--config", path)
	base := "http://" + p.base
	tokenRequests := func() int {
		return e.v1.Stats().TokenRequests + e.v2.Stats().TokenRequests + e.ac.Stats().TokenRequests +
			e.idleMCv2.Stats().TokenRequests + e.idleAcoustic.Stats().TokenRequests
	}

	if status, body := sendAs(t, http.MethodGet, base+"/-/readyz", "10.0.0.7:8787"); status != http.StatusOK || body != "ready\n" {
		t.Errorf("/-/readyz with nothing built: HTTP %d %q, want 200 ready", status, body)
	}
	for _, tc := range []struct {
		name   string
		method string
		path   string
		host   string
		header []string
		status int
	}{
		{"foreign Host (DNS rebinding)", http.MethodGet, "/bu/111/rest/v2/userinfo", "evil.example", nil, http.StatusMisdirectedRequest},
		{"foreign Host on the proxy's port", http.MethodGet, "/bu/111/rest/v2/userinfo", "evil.example:" + p.base[strings.LastIndexByte(p.base, ':')+1:], nil, http.StatusMisdirectedRequest},
		{"cross-site Origin", http.MethodPost, "/bu/111/Service.asmx", "", []string{"Origin", "https://evil.example", "Content-Type", "text/plain"}, http.StatusForbidden},
		{"cross-site fetch", http.MethodGet, "/acoustic/eu/rest/databases", "", []string{"Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"TRACE", "TRACE", "/legacy/rest/hub/v1/campaigns", "", nil, http.StatusMethodNotAllowed},
		{"websocket upgrade", http.MethodGet, "/bu/222/rest/v2/userinfo", "", []string{"Connection", "Upgrade", "Upgrade", "websocket"}, http.StatusBadRequest},
	} {
		status, body := sendAs(t, tc.method, base+tc.path, tc.host, tc.header...)
		if status != tc.status || !strings.HasPrefix(body, "tokentrip proxy: ") {
			t.Errorf("%s: HTTP %d %q, want %d from the proxy", tc.name, status, body, tc.status)
		}
	}
	if n := tokenRequests(); n != 0 {
		t.Errorf("refused requests made %d token requests, want 0", n)
	}

	if id := memberID(t, base, "/bu/111"); id != 111 {
		t.Errorf("/bu/111 used a token for business unit %d", id)
	}
	if status, body := sendAs(t, http.MethodGet, base+"/-/readyz", ""); status != http.StatusOK {
		t.Errorf("/-/readyz with bu-111 built: HTTP %d %q, want 200", status, body)
	}
	if status, _ := sendAs(t, http.MethodGet, base+"/bu/bad/rest/v2/userinfo", ""); status == http.StatusOK {
		t.Error("a credential with a wrong secret answered 200")
	}
	status, body := sendAs(t, http.MethodGet, base+"/-/readyz", "")
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "bu-bad: no usable token") || strings.Contains(body, "bu-111") || strings.Contains(body, "bu-333") {
		t.Errorf("/-/readyz with bu-bad built: HTTP %d %q, want 503 naming bu-bad only", status, body)
	}

	status, metrics := sendAs(t, http.MethodGet, base+"/-/metrics", "")
	if status != http.StatusOK {
		t.Fatalf("/-/metrics: HTTP %d", status)
	}
	testkit.WantSamples(t, metrics, map[string]float64{
		`tokentrip_token_fetches_total{credential="bu-111"}`:      1,
		`tokentrip_breaker_state{credential="bu-111"}`:            0,
		`tokentrip_replays_total{credential="bu-111"}`:            0,
		`tokentrip_token_fetches_total{credential="bu-bad"}`:      0,
		`tokentrip_proxy_requests_total{code="200",route="rest"}`: 1,
		`tokentrip_proxy_refused_total{reason="host"}`:            2,
		`tokentrip_proxy_refused_total{reason="origin"}`:          2,
		`tokentrip_proxy_refused_total{reason="method"}`:          1,
		`tokentrip_proxy_refused_total{reason="upgrade"}`:         1,
	})
	if v, _ := testkit.Sample(t, metrics, `tokentrip_token_fetch_failures_total{credential="bu-bad"}`); v < 1 {
		t.Errorf("bu-bad's fetch failures: %v, want at least 1", v)
	}
	for _, absent := range []string{`credential="bu-333"`, `credential="campaign-us"`, `credential="bu-222"`, `credential="mcv2"`,
		emulator.MCv2ClientID, emulator.MCv2ClientSecret, "not-the-secret-9d2f", "evil.example", "/bu/"} {
		if strings.Contains(metrics, absent) {
			t.Errorf("the metrics show %s", absent)
		}
	}
	if code := p.stop(t); code != exitOK {
		t.Fatalf("exit code %d after SIGTERM:\n%s", code, p.log())
	}
	if strings.Contains(p.log(), "not-the-secret-9d2f") {
		t.Error("the log shows the wrong secret")
	}
}

// A --config proxy finishing requests in flight after SIGTERM ends at once on a
// second SIGINT or SIGTERM, as an operator's second Ctrl-C expects, instead of
// waiting out the grace period.
func TestProxyConfigSecondSignal(t *testing.T) {
	for _, second := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(second.String(), func(t *testing.T) {
			e := startMultiEmulators(t)
			p := startProxy(t, varList(), "--config", writeMultiConfig(t, e.config()))
			e.v2.HoldAPICalls() // the request stays in flight; Close lets it go
			answered := make(chan error, 1)
			go func() {
				resp, err := http.Get("http://" + p.base + "/bu/111/rest/platform/v1/endpoints")
				if err == nil {
					resp.Body.Close()
				}
				answered <- err
			}()
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			if err := e.v2.WaitAPICallsHeld(ctx, 1); err != nil {
				t.Fatal(err)
			}
			p.terminate(t)
			p.waitForLog(t, "shutting down: finishing requests in flight")
			if err := p.cmd.Process.Signal(second); err != nil {
				t.Fatal(err)
			}
			if code := p.wait(t); code != -1 {
				t.Errorf("exit code %d, want the process ended by %v:\n%s", code, second, p.log())
			}
			if err := <-answered; err == nil {
				t.Error("the request in flight was answered; the process should have ended first")
			}
		})
	}
}
