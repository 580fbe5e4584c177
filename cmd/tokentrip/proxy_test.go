package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/internal/emulator/emulatortest"
	"github.com/tokentrip/tokentrip/provider/acoustic/acoustictest"
	"github.com/tokentrip/tokentrip/provider/mcv1/mcv1test"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
)

// proxyProc is a running "tokentrip proxy".
type proxyProc struct {
	cmd  *exec.Cmd
	base string // http://127.0.0.1:port

	mu     sync.Mutex
	cond   *sync.Cond    // broadcast on every line of stderr and at the end
	stderr bytes.Buffer  // everything it has logged so far
	done   bool          // the process has ended
	exited chan struct{} // closed when stderr is drained and the process has ended
	err    error         // Wait's result, once exited
}

const listeningPrefix = "tokentrip proxy listening on "

// startProxy starts the proxy on a free loopback port and returns once it has
// said where it listens, reading its stderr rather than sleeping.
func startProxy(t *testing.T, vars []string, args ...string) *proxyProc {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"proxy", "--listen", "127.0.0.1:0"}, args...)...)
	cmd.Env = childEnv(vars...)
	pipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	publishToChild(t)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proxyProc{cmd: cmd, exited: make(chan struct{})}
	p.cond = sync.NewCond(&p.mu)
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.stderr.WriteString(line + "\n")
			p.cond.Broadcast()
			p.mu.Unlock()
			if a, ok := listeningAddr(line); ok {
				addr <- a
			}
		}
		err := cmd.Wait()
		p.mu.Lock()
		p.err, p.done = err, true
		p.cond.Broadcast()
		p.mu.Unlock()
		close(p.exited)
		close(addr)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.exited
	})
	select {
	case a, ok := <-addr:
		if !ok {
			t.Fatalf("the proxy exited before listening:\n%s", p.log())
		}
		p.base = a
	case <-time.After(30 * time.Second):
		t.Fatalf("the proxy did not say where it listens:\n%s", p.log())
	}
	return p
}

// listeningAddr reads the address out of the proxy's "listening" line, in either log
// format: its message holds "tokentrip proxy listening on http://ADDR (PROVIDER)".
func listeningAddr(line string) (string, bool) {
	_, rest, ok := strings.Cut(line, listeningPrefix)
	if !ok {
		return "", false
	}
	a, _, _ := strings.Cut(rest, " ")
	return strings.TrimPrefix(a, "http://"), true
}

// log is what the proxy has written on stderr so far.
func (p *proxyProc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// stop sends SIGTERM and returns the exit code once the process has ended.
func (p *proxyProc) stop(t *testing.T) int {
	t.Helper()
	p.terminate(t)
	return p.wait(t)
}

// terminate sends SIGTERM.
func (p *proxyProc) terminate(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
}

// wait returns the exit code once the process has ended.
func (p *proxyProc) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("the proxy did not stop:\n%s", p.log())
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var exit *exec.ExitError
	switch {
	case p.err == nil:
		return 0
	case errors.As(p.err, &exit):
		return exit.ExitCode()
	default:
		t.Fatal(p.err)
		return -1
	}
}

// waitForLog blocks until the proxy has logged want; it fails the test if the
// proxy ends without logging it.
func (p *proxyProc) waitForLog(t *testing.T, want string) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for !strings.Contains(p.stderr.String(), want) {
		if p.done {
			t.Fatalf("the proxy ended without logging %q:\n%s", want, p.stderr.String())
		}
		p.cond.Wait()
	}
}

// startMCv2Proxy starts an mcv2 emulator for the test and a proxy of its default
// client, with args after the client's flags.
func startMCv2Proxy(t *testing.T, args ...string) (*mcv2test.Server, *proxyProc) {
	t.Helper()
	srv := mcv2test.NewServer()
	t.Cleanup(srv.Close)
	return srv, startProxy(t, []string{envClientSecret + "=" + emulator.MCv2ClientSecret},
		append([]string{"--provider", "mcv2", "--auth-url", srv.URL, "--client-id", emulator.MCv2ClientID}, args...)...)
}

// do sends a request to the proxy and returns the status and body.
func do(t *testing.T, method, url, contentType, body string, header ...string) (int, string) {
	t.Helper()
	r := emulatortest.Send(t, http.DefaultClient, method, url, contentType, body, header...)
	return r.Status, r.Body
}

// sendAs sends a request to the proxy with the Host (unless empty) and headers
// given, and returns the status and body of the answer.
func sendAs(t *testing.T, method, url, host string, header ...string) (int, string) {
	t.Helper()
	client := http.DefaultClient
	if host != "" {
		client = &http.Client{Transport: withHost(host)}
	}
	r := emulatortest.Send(t, client, method, url, "", "", header...)
	return r.Status, r.Body
}

// withHost sends every request with its Host instead of its URL's.
type withHost string

func (h withHost) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.Host = string(h)
	return http.DefaultTransport.RoundTrip(req)
}

// restEcho is what the Marketing Cloud emulators answer a REST call with.
type restEcho struct {
	OK     bool   `json:"ok"`
	Method string `json:"method"`
	Path   string `json:"path"`
}

const soapEnvelope = `<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">
  <soap:Header/>
  <soap:Body><RetrieveRequestMsg xmlns="http://exacttarget.com/wsdl/partnerAPI"><RetrieveRequest><ObjectType>Subscriber</ObjectType></RetrieveRequest></RetrieveRequestMsg></soap:Body>
</soap:Envelope>`

// checkMCProxy sends REST and SOAP through a Marketing Cloud proxy: the REST call
// arrives without /rest and with the proxy's credential (not the local client's),
// the SOAP envelopes with one fueloauth, and the access log names neither the query
// nor any header.
func checkMCProxy(t *testing.T, p *proxyProc, lastEnvelope func() []byte) {
	t.Helper()
	const localAuth = "Bearer local-client-credential-3e8a"
	status, body := do(t, http.MethodGet, "http://"+p.base+"/rest/hub/v1/campaigns?access_token=query-secret-77f1", "", "",
		"Authorization", localAuth)
	if status != http.StatusOK {
		t.Fatalf("REST through the proxy: HTTP %d: %s\n%s", status, body, p.log())
	}
	var echo restEcho
	if err := json.Unmarshal([]byte(body), &echo); err != nil || !echo.OK || echo.Path != "/hub/v1/campaigns" {
		t.Fatalf("REST answer %s (%v): want ok for /hub/v1/campaigns", body, err)
	}
	for _, path := range []string{"/Service.asmx", "/soap", "/service.ASMX"} {
		status, body = do(t, http.MethodPost, "http://"+p.base+path, "text/xml; charset=utf-8", soapEnvelope,
			"SOAPAction", "Retrieve", "Authorization", localAuth)
		if status != http.StatusOK {
			t.Fatalf("SOAP to %s through the proxy: HTTP %d: %s", path, status, body)
		}
		if n := countElements(lastEnvelope(), "fueloauth"); n != 1 {
			t.Fatalf("SOAP to %s: the emulator received %d fueloauth blocks, want 1:\n%s", path, n, lastEnvelope())
		}
	}
	status, _ = do(t, http.MethodGet, "http://"+p.base+"/v2/token", "", "")
	if status != http.StatusNotFound {
		t.Errorf("an unrouted path: HTTP %d, want 404", status)
	}
	status, _ = do(t, http.MethodGet, "http://"+p.base+"/rest/../v2/token", "", "")
	if status != http.StatusBadRequest {
		t.Errorf("a path with dot segments: HTTP %d, want 400", status)
	}
	log := p.log()
	for _, secret := range []string{"query-secret-77f1", "local-client-credential-3e8a", "access_token"} {
		if strings.Contains(log, secret) {
			t.Errorf("the access log shows %q:\n%s", secret, log)
		}
	}
	if !strings.Contains(log, "path=/rest/hub/v1/campaigns") || !strings.Contains(log, "status=200") || !strings.Contains(log, "duration=") {
		t.Errorf("the access log lacks the REST call's path, status or duration:\n%s", log)
	}
}

// mcv2: REST and SOAP go to the instance URLs the token names.
func TestProxyMCv2(t *testing.T) {
	srv, p := startMCv2Proxy(t)
	checkMCProxy(t, p, srv.LastEnvelope)
	st := srv.Stats()
	if st.TokenRequests != 1 {
		t.Errorf("%d token requests, want 1 shared by every call", st.TokenRequests)
	}
	if n := rejections(st.Rejections); n != 0 {
		t.Errorf("the emulator refused %d requests: %v", n, st.Rejections)
	}
	if code := p.stop(t); code != exitOK {
		t.Fatalf("exit code %d after SIGTERM, want 0:\n%s", code, p.log())
	}
}

// mcv1 against --rest-url and --soap-url, the way it faces a sandbox or an emulator.
func TestProxyMCv1Overrides(t *testing.T) {
	srv := mcv1test.NewServer()
	defer srv.Close()
	p := startProxy(t, []string{envClientSecret + "=" + emulator.MCv1ClientSecret},
		"--provider", "mcv1", "--auth-url", srv.URL, "--client-id", emulator.MCv1ClientID,
		"--rest-url", srv.URL+"/", "--soap-url", srv.URL)
	checkMCProxy(t, p, srv.LastEnvelope)
	if st := srv.Stats(); st.TokenRequests != 1 {
		t.Errorf("%d token requests, want 1", st.TokenRequests)
	}
}

// Acoustic: /XMLAPI and /rest/... go to the pod with the bearer token.
func TestProxyAcoustic(t *testing.T) {
	srv := acoustictest.NewServer()
	defer srv.Close()
	p := startProxy(t, []string{
		envClientSecret + "=" + emulator.AcousticClientSecret,
		envRefreshToken + "=" + emulator.AcousticRefreshToken,
	}, "--provider", "acoustic", "--base-url", srv.URL, "--client-id", emulator.AcousticClientID)
	status, body := do(t, http.MethodPost, "http://"+p.base+"/XMLAPI", "text/xml;charset=UTF-8",
		`<Envelope><Body><GetLists><VISIBILITY>1</VISIBILITY><LIST_TYPE>2</LIST_TYPE></GetLists></Body></Envelope>`)
	if status != http.StatusOK || !strings.Contains(strings.ToUpper(body), "<SUCCESS>TRUE</SUCCESS>") {
		t.Fatalf("XML API through the proxy: HTTP %d: %s\n%s", status, body, p.log())
	}
	status, body = do(t, http.MethodGet, "http://"+p.base+"/rest/databases", "", "")
	if status != http.StatusOK {
		t.Fatalf("REST through the proxy: HTTP %d: %s", status, body)
	}
	status, _ = do(t, http.MethodPost, "http://"+p.base+"/Service.asmx", "text/xml", soapEnvelope)
	if status != http.StatusNotFound {
		t.Errorf("SOAP path on Acoustic: HTTP %d, want 404", status)
	}
	st := srv.Stats()
	if st.TokenRequests != 1 || st.XMLAPICalls != 1 || st.RESTCalls != 1 || rejections(st.Rejections) != 0 {
		t.Errorf("emulator saw %+v; want 1 token request, 1 XML API and 1 REST call, no rejections", st)
	}
}

// Nothing a local client sends can make the proxy talk to another host: not an
// absolute-form request line, not a Host header, not a path that looks like a URL.
func TestProxyNothingLeaks(t *testing.T) {
	var foreign atomic.Int64
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		foreign.Add(1)
	}))
	defer other.Close()
	srv, p := startMCv2Proxy(t)
	otherHost := strings.TrimPrefix(other.URL, "http://")

	// A client configured to use tokentrip as its HTTP proxy sends absolute-form
	// request lines naming the foreign host.
	proxyURL, _ := url.Parse("http://" + p.base)
	viaProxy := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL)}}
	resp, err := viaProxy.Get(other.URL + "/rest/steal")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	// A Host header naming the foreign host.
	req, _ := http.NewRequest(http.MethodGet, "http://"+p.base+"/rest/steal", nil)
	req.Host = otherHost
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	// Paths that carry the foreign host.
	for _, path := range []string{"/rest//" + otherHost + "/steal", "/" + other.URL + "/rest/x", "/rest/%2F%2F" + otherHost} {
		do(t, http.MethodGet, "http://"+p.base+path, "", "")
	}
	if n := foreign.Load(); n != 0 {
		t.Fatalf("the foreign host received %d requests", n)
	}
	if st := srv.Stats(); st.RESTCalls == 0 {
		t.Fatalf("the emulator received no REST call: the requests went nowhere")
	}
}

// Rejected credentials stop the proxy before it listens, with exit code 1.
func TestProxyRejectedCredentials(t *testing.T) {
	srv := mcv2test.NewServer()
	defer srv.Close()
	const wrong = "wrong-proxy-secret-51aa"
	r := runBinary(t, []string{envClientSecret + "=" + wrong},
		"proxy", "--listen", "127.0.0.1:0", "--provider", "mcv2", "--auth-url", srv.URL, "--client-id", emulator.MCv2ClientID)
	wantCode(t, r, exitFailure)
	if strings.Contains(r.stderr, listeningPrefix) {
		t.Errorf("the proxy listened with rejected credentials:\n%s", r.stderr)
	}
	if !strings.Contains(r.stderr, "credentials rejected") || strings.Contains(r.output(), wrong) {
		t.Errorf("stderr %q: want the library's message without the secret", r.stderr)
	}
}

// SIGTERM lets a request in flight finish, then the proxy exits 0.
func TestProxyGracefulShutdown(t *testing.T) {
	srv, p := startMCv2Proxy(t)

	srv.HoldAPICalls()
	done := make(chan int, 1)
	go func() {
		resp, err := http.Get("http://" + p.base + "/rest/slow")
		if err != nil {
			done <- -1
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := srv.WaitAPICallsHeld(ctx, 1); err != nil {
		t.Fatalf("the call did not reach the emulator: %v\n%s", err, p.log())
	}
	p.terminate(t)
	// The proxy announces the shutdown while the call is still held.
	p.waitForLog(t, "shutting down")
	srv.ReleaseAPICalls()
	if status := <-done; status != http.StatusOK {
		t.Errorf("the call in flight at SIGTERM: %d, want 200", status)
	}
	if code := p.wait(t); code != exitOK {
		t.Fatalf("exit code %d, want 0:\n%s", code, p.log())
	}
	if !strings.Contains(p.log(), "stopped") {
		t.Errorf("no \"stopped\" line:\n%s", p.log())
	}
}
