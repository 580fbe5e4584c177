package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
)

// A bad setting of the proxy is a usage error (exit 2) found before anything is
// looked up, bound or fetched: the token endpoint never hears of it.
func TestProxyBadSettingsBeforeAnyNetworkCall(t *testing.T) {
	srv := mcv2test.NewServer()
	defer srv.Close()
	vars := []string{envClientSecret + "=" + emulator.MCv2ClientSecret}
	base := []string{"proxy", "--provider", "mcv2", "--auth-url", srv.URL, "--client-id", emulator.MCv2ClientID}
	for _, tc := range []struct {
		name string
		vars []string
		args []string
		want string
	}{
		{"port out of range", nil, []string{"--listen", "127.0.0.1:99999"}, "the port must be a number from 0 to 65535"},
		{"port 65536", nil, []string{"--listen", "127.0.0.1:65536"}, "from 0 to 65535"},
		{"named port", nil, []string{"--listen", "127.0.0.1:http"}, "from 0 to 65535"},
		{"negative port", nil, []string{"--listen", "127.0.0.1:-1"}, "from 0 to 65535"},
		{"empty port", nil, []string{"--listen", "127.0.0.1:"}, "from 0 to 65535"},
		{"port from env", []string{"TOKENTRIP_LISTEN=127.0.0.1:70000"}, nil, "from 0 to 65535"},
		{"malformed IP", nil, []string{"--listen", "999.0.0.1:8787", "--allow-remote"}, "neither an IP address nor a host name"},
		{"no host:port", nil, []string{"--listen", "8787"}, "want host:port"},
		{"no requests in flight", nil, []string{"--max-in-flight", "0"}, "--max-in-flight"},
		{"in flight not a number", nil, []string{"--max-in-flight", "lots"}, "--max-in-flight"},
		{"in flight from env", []string{"TOKENTRIP_MAX_IN_FLIGHT=-3"}, nil, "--max-in-flight"},
		{"buffer below one body", nil, []string{"--max-buffered", "512KiB"}, "at least 1MiB"},
		{"buffer not a size", nil, []string{"--max-buffered", "64 megs"}, "--max-buffered"},
		{"zero read timeout", nil, []string{"--read-timeout", "0s"}, "--read-timeout must be positive"},
		{"negative write timeout", nil, []string{"--write-timeout", "-1s"}, "--write-timeout must be positive"},
		{"idle timeout from env", []string{"TOKENTRIP_IDLE_TIMEOUT=soon"}, nil, "TOKENTRIP_IDLE_TIMEOUT"},
		{"allowed host with a scheme", nil, []string{"--allowed-host", "http://proxy.internal"}, "--allowed-host"},
		{"allowed host with a bad port", nil, []string{"--allowed-host", "proxy.internal,sidecar:0"}, "sidecar:0"},
		{"unknown REST mode", nil, []string{"--rest-paths", "some"}, `--rest-paths "some"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runBinary(t, append(tc.vars, vars...), append(base, tc.args...)...)
			wantCode(t, r, exitUsage)
			if !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, "Usage: tokentrip proxy") {
				t.Errorf("stderr lacks %q and the usage:\n%s", tc.want, r.stderr)
			}
		})
	}
	if n := srv.Stats().TokenRequests; n != 0 {
		t.Errorf("the token endpoint got %d requests from proxies that should not have started", n)
	}
}

// With --log-format json every line on stderr is a JSON object, the listening line
// included; it names the address in its message and in its url attribute.
func TestProxyJSONLog(t *testing.T) {
	_, p := startMCv2Proxy(t, "--log-format", "json")
	do(t, http.MethodGet, "http://"+p.base+"/rest/hub/v1/campaigns", "", "")
	do(t, http.MethodGet, "http://"+p.base+"/rest/x", "", "", "Origin", "https://evil.example")
	do(t, "TRACE", "http://"+p.base+"/rest/x", "", "")
	if code := p.stop(t); code != exitOK {
		t.Fatalf("exit %d", code)
	}
	var listening, requests int
	sc := bufio.NewScanner(strings.NewReader(p.log()))
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("not a JSON line: %q", sc.Text())
		}
		if line["level"] == nil || line["msg"] == nil || line["time"] == nil {
			t.Errorf("line without time, level or msg: %q", sc.Text())
		}
		msg, _ := line["msg"].(string)
		if strings.HasPrefix(msg, listeningPrefix) {
			listening++
			if line["url"] != "http://"+p.base || line["provider"] != "mcv2" {
				t.Errorf("listening line %q: want url http://%s and provider mcv2", sc.Text(), p.base)
			}
		}
		if msg == "request" {
			requests++
		}
	}
	if listening != 1 || requests != 3 {
		t.Errorf("%d listening lines and %d request lines, want 1 and 3:\n%s", listening, requests, p.log())
	}
	for _, want := range []string{`"refused":"origin"`, `"refused":"method"`, `"status":403`, `"status":405`} {
		if !strings.Contains(p.log(), want) {
			t.Errorf("the log lacks %s:\n%s", want, p.log())
		}
	}
}

// What an operator and an orchestrator ask of a running proxy: health, readiness
// and metrics on its own listener; the Hosts it answers to; fuel-rest's paths
// without /rest under --rest-paths all; gzip-compressed envelopes.
func TestProxyOperations(t *testing.T) {
	srv, p := startMCv2Proxy(t, "--allowed-host", "tokentrip.internal", "--rest-paths", "all")
	url := "http://" + p.base
	for _, tc := range []struct {
		path, host string
		status     int
		want       string
	}{
		{"/-/healthz", "", 200, "ok"},
		{"/-/readyz", "", 200, "ready"},
		{"/-/readyz", "10.0.0.9:8787", 200, "ready"}, // a probe from the orchestrator
		{"/-/metrics", "", 200, `tokentrip_token_fetches_total{credential="mcv2"} 1`},
		{"/-/metrics", "", 200, `tokentrip_breaker_state{credential="mcv2"} 0`},
		{"/rest/hub/v1/campaigns", "tokentrip.internal", 200, `"path":"/hub/v1/campaigns"`},
		{"/platform/v1/endpoints", "", 200, `"path":"/platform/v1/endpoints"`},
		{"/platform/v1/endpoints", "rebound.example:80", 421, "not one this proxy serves"},
	} {
		req, _ := http.NewRequest(http.MethodGet, url+tc.path, nil)
		if tc.host != "" {
			req.Host = tc.host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.want) {
			t.Errorf("GET %s (Host %q): HTTP %d %.300s; want %d with %s", tc.path, tc.host, resp.StatusCode, b, tc.status, tc.want)
		}
	}

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write([]byte(soapEnvelope))
	_ = zw.Close()
	req, _ := http.NewRequest(http.MethodPost, url+"/Service.asmx", &gz)
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("SOAPAction", "Retrieve")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("a gzip envelope: HTTP %d", resp.StatusCode)
	}
	if env := srv.LastEnvelope(); countElements(env, "fueloauth") != 1 || !bytes.Contains(env, []byte("RetrieveRequestMsg")) {
		t.Errorf("the emulator received:\n%s", env)
	}
	if st := srv.Stats(); st.TokenRequests != 1 || rejections(st.Rejections) != 0 {
		t.Errorf("emulator saw %+v; want 1 token request and no rejections", st)
	}
}
