package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator/emulatortest"
)

// emulateProc is a running "tokentrip emulate".
type emulateProc struct {
	cmd    *exec.Cmd
	info   emulatorInfo
	raw    map[string]any // the JSON object as printed
	stderr chan string    // its stderr, line by line, closed at the end
	exited chan error
}

// startEmulate starts the emulator on a free port, with args after the provider
// and the address, and returns once it has printed its JSON object, reading its
// output rather than sleeping.
func startEmulate(t *testing.T, provider string, args ...string) *emulateProc {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"emulate", "--provider", provider, "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = childEnv()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &emulateProc{cmd: cmd, stderr: make(chan string, 16), exited: make(chan error, 1)}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.stderr <- sc.Text()
		}
		close(p.stderr)
		p.exited <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	select {
	case line, ok := <-lines:
		if !ok {
			t.Fatalf("tokentrip emulate printed no JSON; stderr: %q", <-p.stderr)
		}
		if err := json.Unmarshal([]byte(line), &p.info); err != nil {
			t.Fatalf("stdout %q: %v", line, err)
		}
		if err := json.Unmarshal([]byte(line), &p.raw); err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("tokentrip emulate printed nothing")
	}
	return p
}

// stop sends SIGTERM and returns the exit code.
func (p *emulateProc) stop(t *testing.T) int {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for range p.stderr {
	}
	select {
	case err := <-p.exited:
		var exit *exec.ExitError
		switch {
		case err == nil:
			return 0
		case errors.As(err, &exit):
			return exit.ExitCode()
		}
		t.Fatal(err)
	case <-time.After(30 * time.Second):
		t.Fatal("tokentrip emulate did not stop on SIGTERM")
	}
	return -1
}

// call sends a request and returns the status, the body and the headers.
func call(t *testing.T, method, url, contentType, body string, header ...string) (int, string, http.Header) {
	t.Helper()
	r := emulatortest.Send(t, http.DefaultClient, method, url, contentType, body, header...)
	return r.Status, r.Body, r.Header
}

// emulatedVendor is how a test speaks to one provider's emulator.
type emulatedVendor struct {
	provider string
	wantKeys []string                                  // the JSON object's keys
	wantEnv  []string                                  // its env's keys
	apiPath  string                                    // a REST call
	token    func(info emulatorInfo) (ct, body string) // a token request with the test credentials
	tokenOf  func(t *testing.T, body string) string    // the access token of a token response
	badToken int                                       // the status of a token request from a revoked client
	issued   int                                       // tokens issued by the control scenario
}

var emulatedVendors = []emulatedVendor{
	{
		provider: providerMCv1,
		wantKeys: []string{"api_password", "api_username", "base_url", "client_id", "client_secret", "controls_url", "env", "provider", "token_url"},
		wantEnv:  []string{"TOKENTRIP_AUTH_URL", "TOKENTRIP_CLIENT_ID", "TOKENTRIP_CLIENT_SECRET", "TOKENTRIP_PROVIDER", "TOKENTRIP_REST_URL", "TOKENTRIP_SOAP_URL"},
		apiPath:  "/platform/v1/endpoints",
		token: func(i emulatorInfo) (string, string) {
			return "application/json", `{"clientId":"` + i.ClientID + `","clientSecret":"` + i.ClientSecret + `"}`
		},
		tokenOf:  jsonField("accessToken"),
		badToken: http.StatusUnauthorized,
		issued:   4,
	},
	{
		provider: providerMCv2,
		wantKeys: []string{"account_id", "api_password", "api_username", "base_url", "client_id", "client_secret", "controls_url", "env", "provider", "token_url"},
		wantEnv:  []string{"TOKENTRIP_ACCOUNT_ID", "TOKENTRIP_AUTH_URL", "TOKENTRIP_CLIENT_ID", "TOKENTRIP_CLIENT_SECRET", "TOKENTRIP_PROVIDER"},
		apiPath:  "/platform/v1/endpoints",
		token: func(i emulatorInfo) (string, string) {
			return "application/json", `{"grant_type":"client_credentials","client_id":"` + i.ClientID + `","client_secret":"` + i.ClientSecret +
				`","account_id":"` + i.AccountID + `"}`
		},
		tokenOf:  jsonField("access_token"),
		badToken: http.StatusUnauthorized,
		issued:   4,
	},
	{
		provider: providerAcoustic,
		wantKeys: []string{"base_url", "client_id", "client_secret", "controls_url", "env", "provider", "refresh_token", "token_url"},
		wantEnv:  []string{"TOKENTRIP_BASE_URL", "TOKENTRIP_CLIENT_ID", "TOKENTRIP_CLIENT_SECRET", "TOKENTRIP_PROVIDER", "TOKENTRIP_REFRESH_TOKEN"},
		apiPath:  "/rest/databases",
		token: func(i emulatorInfo) (string, string) {
			return "application/x-www-form-urlencoded", url.Values{
				"grant_type": {"refresh_token"}, "client_id": {i.ClientID}, "client_secret": {i.ClientSecret}, "refresh_token": {i.RefreshToken},
			}.Encode()
		},
		tokenOf:  jsonField("access_token"),
		badToken: http.StatusUnauthorized,
		issued:   3, // the delayed request gets the same token: it is not 3 hours old
	},
}

func jsonField(name string) func(*testing.T, string) string {
	return func(t *testing.T, body string) string {
		t.Helper()
		var m map[string]any
		if err := json.Unmarshal([]byte(body), &m); err != nil {
			t.Fatalf("token response %q: %v", body, err)
		}
		s, _ := m[name].(string)
		if s == "" {
			t.Fatalf("token response %q has no %s", body, name)
		}
		return s
	}
}

// counters reads GET /-/counters.
func counters(t *testing.T, info emulatorInfo) map[string]any {
	t.Helper()
	status, body, _ := call(t, http.MethodGet, info.ControlsURL+"counters", "", "")
	if status != http.StatusOK {
		t.Fatalf("counters: %d %s", status, body)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// wantCounters fails the test unless the counters hold these values (numbers, or
// for "rejections" a map of reason to count).
func wantCounters(t *testing.T, info emulatorInfo, want map[string]any) {
	t.Helper()
	got := counters(t, info)
	for k, w := range want {
		wj, _ := json.Marshal(w)
		gj, _ := json.Marshal(got[k])
		if string(wj) != string(gj) {
			t.Errorf("counter %s = %s, want %s", k, gj, wj)
		}
	}
}

// "tokentrip emulate" serves each vendor's emulator: it says where on stderr and
// prints its test credentials as JSON on stdout; the credentials fetch a token,
// the token calls the API, every control endpoint does what it says and shows in
// the counters, "tokentrip token" finds the emulator through the printed
// variables, and SIGTERM ends it with exit code 0.
func TestEmulate(t *testing.T) {
	listening := regexp.MustCompile(`^time=\S+ level=INFO msg="tokentrip emulate listening on (http://127\.0\.0\.1:[0-9]+) \(([a-z0-9]+)\)" url=(\S+) provider=([a-z0-9]+)$`)
	for _, v := range emulatedVendors {
		t.Run(v.provider, func(t *testing.T) {
			p := startEmulate(t, v.provider)
			info := p.info

			// The listening line, in the proxy's form, names the printed base URL.
			m := listening.FindStringSubmatch(<-p.stderr)
			if m == nil || m[1] != info.BaseURL || m[2] != v.provider || m[3] != info.BaseURL || m[4] != v.provider {
				t.Fatalf("listening line %q, base_url %q", m, info.BaseURL)
			}
			if keys := slices.Sorted(maps.Keys(p.raw)); !slices.Equal(keys, v.wantKeys) {
				t.Errorf("JSON keys %v, want %v", keys, v.wantKeys)
			}
			if keys := slices.Sorted(maps.Keys(info.Env)); !slices.Equal(keys, v.wantEnv) {
				t.Errorf("env keys %v, want %v", keys, v.wantEnv)
			}
			if info.Provider != v.provider || info.ControlsURL != info.BaseURL+"/-/" || !strings.HasPrefix(info.TokenURL, info.BaseURL+"/") ||
				info.Env["TOKENTRIP_CLIENT_SECRET"] != info.ClientSecret || info.Env["TOKENTRIP_PROVIDER"] != v.provider {
				t.Errorf("info = %+v", info)
			}

			fetch := func() (int, string, http.Header) {
				ct, body := v.token(info)
				return call(t, http.MethodPost, info.TokenURL, ct, body)
			}
			api := func(tok string) int {
				status, _, _ := call(t, http.MethodGet, info.BaseURL+v.apiPath, "", "", "Authorization", "Bearer "+tok)
				return status
			}
			control := func(method, path, body string, wantStatus int) string {
				t.Helper()
				status, answer, _ := call(t, method, info.ControlsURL+path, "application/json", body)
				if status != wantStatus {
					t.Fatalf("%s /-/%s %s: %d %s, want %d", method, path, body, status, answer, wantStatus)
				}
				return answer
			}

			// A token and an API call with the printed credentials.
			status, body, _ := fetch()
			if status != http.StatusOK {
				t.Fatalf("token request: %d %s", status, body)
			}
			tok := v.tokenOf(t, body)
			if got := api(tok); got != http.StatusOK {
				t.Fatalf("API call: %d", got)
			}
			wantCounters(t, info, map[string]any{"token_requests": 1, "tokens_issued": 1, "rest_calls": 1, "rejections": map[string]int{}})

			// Latency: both kinds of request take at least what was set.
			if got := control(http.MethodPost, "latency", `{"token":"60ms","api":"60ms"}`, 200); got != `{"token":"60ms","api":"60ms"}` {
				t.Errorf("latency: %s", got)
			}
			began := time.Now()
			if status, body, _ := fetch(); status != http.StatusOK {
				t.Fatalf("delayed token request: %d %s", status, body)
			}
			if api(tok) != http.StatusOK {
				t.Fatal("delayed API call failed")
			}
			if took := time.Since(began); took < 120*time.Millisecond {
				t.Errorf("a delayed token request and API call took %v, want at least 120ms", took)
			}
			control(http.MethodPost, "latency", `{"token":"0s","api":"0s"}`, 200)

			// Throttle: one API call refused with 429, then one token request with
			// the status and Retry-After asked for.
			control(http.MethodPost, "throttle", `{"api_calls":1}`, 200)
			if got := api(tok); got != http.StatusTooManyRequests {
				t.Errorf("throttled API call: %d", got)
			}
			if got := api(tok); got != http.StatusOK {
				t.Errorf("API call after the throttled one: %d", got)
			}
			control(http.MethodPost, "throttle", `{"token_requests":1,"status":503,"retry_after":"2s"}`, 200)
			if status, _, h := fetch(); status != http.StatusServiceUnavailable || h.Get("Retry-After") != "2" {
				t.Errorf("failed token request: %d, Retry-After %q", status, h.Get("Retry-After"))
			}

			// Expire and revoke: the token stops working.
			control(http.MethodPost, "expire", `{"token":"`+tok+`"}`, 200)
			if got := api(tok); got != http.StatusUnauthorized {
				t.Errorf("API call with an expired token: %d", got)
			}
			status, body, _ = fetch()
			if status != http.StatusOK {
				t.Fatalf("token after expiry: %d %s", status, body)
			}
			tok2 := v.tokenOf(t, body)
			if tok2 == tok {
				t.Fatal("the expired token was handed out again")
			}
			control(http.MethodPost, "revoke", `{"token":"`+tok2+`"}`, 200)
			if got := api(tok2); got != http.StatusUnauthorized {
				t.Errorf("API call with a revoked token: %d", got)
			}
			control(http.MethodPost, "expire", `{"token":"at-never-issued"}`, 404)

			// Revoke and restore the client.
			control(http.MethodPost, "revoke", `{"client_id":"`+info.ClientID+`"}`, 200)
			if status, body, _ := fetch(); status != v.badToken {
				t.Errorf("token request of a revoked client: %d %s", status, body)
			}
			control(http.MethodPost, "restore", `{"client_id":"`+info.ClientID+`"}`, 200)
			if status, body, _ := fetch(); status != http.StatusOK {
				t.Errorf("token request after restore: %d %s", status, body)
			}

			// Everything above, counted.
			wantCounters(t, info, map[string]any{
				"token_requests": 6,
				"tokens_issued":  v.issued,
				"rest_calls":     6,
				"rejections": map[string]int{
					"throttled": 1, "injected_failure": 1, "expired_token": 1, "revoked_token": 1, "revoked_client": 1,
				},
			})
			control(http.MethodDelete, "counters", "", 200)
			wantCounters(t, info, map[string]any{"token_requests": 0, "tokens_issued": 0, "rest_calls": 0, "rejections": map[string]int{}})

			// "tokentrip token" reaches the emulator through the printed variables.
			var vars []string
			for k, val := range info.Env {
				vars = append(vars, k+"="+val)
			}
			r := runBinary(t, vars, "token")
			wantCode(t, r, exitOK)
			if got := strings.TrimSpace(r.stdout); !strings.HasPrefix(got, "at-") || api(got) != http.StatusOK {
				t.Errorf("tokentrip token printed %q", got)
			}
			wantCounters(t, info, map[string]any{"token_requests": 1, "rest_calls": 1})

			if code := p.stop(t); code != exitOK {
				t.Errorf("exit code %d after SIGTERM, want 0", code)
			}
		})
	}
}

// With --log-format json, the listening line is a JSON object in the proxy's
// form: the fixed message, the url and the provider.
func TestEmulateJSONListeningLine(t *testing.T) {
	p := startEmulate(t, providerAcoustic, "--log-format", "json")
	var line struct {
		Level, Msg, URL, Provider string
	}
	raw := <-p.stderr
	if err := json.Unmarshal([]byte(raw), &line); err != nil {
		t.Fatalf("the listening line is not JSON: %q", raw)
	}
	want := "tokentrip emulate listening on " + p.info.BaseURL + " (acoustic)"
	if line.Level != "INFO" || line.Msg != want || line.URL != p.info.BaseURL || line.Provider != providerAcoustic {
		t.Errorf("listening line %q, want msg %q with url and provider", raw, want)
	}
	if code := p.stop(t); code != exitOK {
		t.Errorf("exit code %d", code)
	}
}

// Mistakes in calling "tokentrip emulate" end with exit code 2 and the usage
// before anything listens; an address already taken is a runtime failure.
func TestEmulateUsageErrors(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no provider", []string{"emulate"}, exitUsage, "--provider (or TOKENTRIP_PROVIDER) is required"},
		{"unknown provider", []string{"emulate", "--provider", "mcv3"}, exitUsage, `unknown provider "mcv3"`},
		{"port out of range", []string{"emulate", "--provider", "mcv2", "--listen", "127.0.0.1:99999"}, exitUsage, "the port must be a number from 0 to 65535"},
		{"no port", []string{"emulate", "--provider", "mcv2", "--listen", "127.0.0.1"}, exitUsage, "want host:port"},
		{"proxy flag", []string{"emulate", "--provider", "mcv2", "--client-id", "x"}, exitUsage, "flag provided but not defined: -client-id"},
		{"positional argument", []string{"emulate", "--provider", "mcv2", "now"}, exitUsage, "unexpected argument"},
		{"unknown log format", []string{"emulate", "--provider", "mcv2", "--log-format", "xml"}, exitUsage, `--log-format "xml": use text or json`},
		{"address taken", []string{"emulate", "--provider", "mcv2", "--listen", taken.Addr().String()}, exitFailure, "address already in use"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runBinary(t, nil, tc.args...)
			wantCode(t, r, tc.code)
			if !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
				t.Errorf("stderr %q, stdout %q; want %q in stderr and nothing on stdout", r.stderr, r.stdout, tc.want)
			}
			if tc.code == exitUsage && !strings.Contains(r.stderr, "Usage: tokentrip emulate") {
				t.Errorf("no usage in %q", r.stderr)
			}
		})
	}
}

// "tokentrip proxy", given the variables "tokentrip emulate" prints, authenticates
// REST calls against the emulator with one token.
func TestProxyThroughEmulate(t *testing.T) {
	for _, v := range emulatedVendors {
		t.Run(v.provider, func(t *testing.T) {
			e := startEmulate(t, v.provider)
			var vars []string
			for k, val := range e.info.Env {
				vars = append(vars, k+"="+val)
			}
			p := startProxy(t, vars)
			path := "/rest" + strings.TrimPrefix(v.apiPath, "/rest") // the proxy's REST route
			for range 3 {
				status, body, _ := call(t, http.MethodGet, "http://"+p.base+path, "", "")
				if status != http.StatusOK || !strings.Contains(body, `"path":"`+v.apiPath+`"`) {
					t.Fatalf("through the proxy: %d %s", status, body)
				}
			}
			wantCounters(t, e.info, map[string]any{"token_requests": 1, "tokens_issued": 1, "rest_calls": 3, "rejections": map[string]int{}})
			if code := p.stop(t); code != exitOK {
				t.Errorf("proxy exit code %d", code)
			}
			if code := e.stop(t); code != exitOK {
				t.Errorf("emulate exit code %d", code)
			}
		})
	}
}

// A client that stalls in the middle of its body cannot keep "tokentrip emulate"
// from stopping: after SIGTERM, requests in flight get a grace period and are then
// cut short (exit 1), and a second signal ends the process at once, as a second
// Ctrl-C does.
func TestEmulateStopsWithStalledClient(t *testing.T) {
	for _, tc := range []struct {
		name     string
		second   syscall.Signal // sent once the emulator says it is stopping; 0: none
		wantCode int            // -1: ended by the second signal
		wantLine string         // on stderr after the stopping line
	}{
		{"the grace period ends", 0, exitFailure, "tokentrip emulate: requests still in flight after 2s were cut short"},
		{"a second SIGINT", syscall.SIGINT, -1, ""},
		{"a second SIGTERM", syscall.SIGTERM, -1, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startEmulate(t, providerMCv2)
			stallTokenRequest(t, p.info.BaseURL)
			if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			wantStderrLine(t, p, "tokentrip emulate: stopping; requests in flight get 2s, a second SIGINT or SIGTERM ends it at once")
			if tc.second != 0 {
				if err := p.cmd.Process.Signal(tc.second); err != nil {
					t.Fatal(err)
				}
			}
			if tc.wantLine != "" {
				wantStderrLine(t, p, tc.wantLine)
			}
			for range p.stderr {
			}
			var code int
			select {
			case err := <-p.exited:
				var exit *exec.ExitError
				switch {
				case err == nil:
				case errors.As(err, &exit):
					code = exit.ExitCode()
				default:
					t.Fatal(err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("tokentrip emulate did not stop")
			}
			if code != tc.wantCode {
				t.Errorf("exit code %d, want %d", code, tc.wantCode)
			}
		})
	}
}

// stallTokenRequest sends the headers of a token request and none of its body,
// and returns once the emulator's handler is reading the body: it has asked for it
// with 100 Continue.
func stallTokenRequest(t *testing.T, baseURL string) {
	t.Helper()
	u, err := url.Parse(baseURL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.SetDeadline(time.Now().Add(30 * time.Second)); err != nil {
		t.Fatal(err)
	}
	_, err = conn.Write([]byte("POST /v2/token HTTP/1.1\r\nHost: " + u.Host + "\r\nContent-Type: application/json\r\n" +
		"Content-Length: 100\r\nExpect: 100-continue\r\n\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100 ") {
		t.Fatalf("the emulator answered %q, %v; want 100 Continue", line, err)
	}
}

// wantStderrLine reads the emulator's stderr up to the line want, for at most 30
// seconds.
func wantStderrLine(t *testing.T, p *emulateProc, want string) {
	t.Helper()
	var seen []string
	deadline := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-p.stderr:
			switch {
			case !ok:
				t.Fatalf("stderr ended without %q; it had %q", want, seen)
			case line == want:
				return
			}
			seen = append(seen, line)
		case <-deadline:
			t.Fatalf("no %q on stderr within 30s; it had %q", want, seen)
		}
	}
}
