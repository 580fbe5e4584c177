package proxy

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// What a browser page, a DNS-rebinding attacker or a confused client sends is
// refused before it reaches the upstream, with its own status, a count in the
// metrics and a log line; what a local client sends gets through.
func TestGuard(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.AllowedHosts = []string{"proxy.internal", "sidecar:9000"} })
	const ok = http.StatusOK
	for _, tc := range []struct {
		name   string
		req    request
		status int
		reason string // the refused reason, "" when the request gets through
	}{
		// Host: the listen address, loopback names on its port, --allowed-host.
		{"listen address", request{target: "/rest/x"}, ok, ""},
		{"localhost", request{target: "/rest/x", header: []string{"Host", "localhost:8787"}}, ok, ""},
		{"localhost, any case, trailing dot", request{target: "/rest/x", header: []string{"Host", "LocalHost.:8787"}}, ok, ""},
		{"IPv6 loopback", request{target: "/rest/x", header: []string{"Host", "[::1]:8787"}}, ok, ""},
		{"allowed name, any port", request{target: "/rest/x", header: []string{"Host", "proxy.internal:1234"}}, ok, ""},
		{"allowed name without port", request{target: "/rest/x", header: []string{"Host", "proxy.internal"}}, ok, ""},
		{"allowed name:port", request{target: "/rest/x", header: []string{"Host", "sidecar:9000"}}, ok, ""},
		{"rebinding: attacker's name", request{target: "/rest/x", header: []string{"Host", "evil.example:8787"}}, http.StatusMisdirectedRequest, refusedHost},
		{"rebinding: no port", request{target: "/rest/x", header: []string{"Host", "evil.example"}}, http.StatusMisdirectedRequest, refusedHost},
		{"loopback on another port", request{target: "/rest/x", header: []string{"Host", "127.0.0.1:9999"}}, http.StatusMisdirectedRequest, refusedHost},
		{"allowed name on another port", request{target: "/rest/x", header: []string{"Host", "sidecar:9001"}}, http.StatusMisdirectedRequest, refusedHost},
		{"suffix of an allowed name", request{target: "/rest/x", header: []string{"Host", "evil-proxy.internal"}}, http.StatusMisdirectedRequest, refusedHost},
		{"empty Host", request{target: "/rest/x", header: []string{"Host", ""}}, http.StatusMisdirectedRequest, refusedHost},

		// Browsers say where a request comes from.
		{"cross-site fetch", request{target: "/rest/x", header: []string{"Sec-Fetch-Site", "cross-site"}}, http.StatusForbidden, refusedOrigin},
		{"same-site fetch", request{target: "/rest/x", header: []string{"Sec-Fetch-Site", "same-site"}}, http.StatusForbidden, refusedOrigin},
		{"typed into the address bar", request{target: "/rest/x", header: []string{"Sec-Fetch-Site", "none"}}, ok, ""},
		{"same origin", request{target: "/rest/x", header: []string{"Sec-Fetch-Site", "same-origin", "Origin", "http://127.0.0.1:8787"}}, ok, ""},
		{"simple text/plain POST from a page", request{method: "POST", target: "/rest/x", body: "{}", header: []string{"Origin", "https://evil.example", "Content-Type", "text/plain"}}, http.StatusForbidden, refusedOrigin},
		{"opaque origin", request{target: "/rest/x", header: []string{"Origin", "null"}}, http.StatusForbidden, refusedOrigin},
		{"origin on another port", request{target: "/rest/x", header: []string{"Origin", "http://127.0.0.1:8788"}}, http.StatusForbidden, refusedOrigin},
		{"origin with a path", request{target: "/rest/x", header: []string{"Origin", "http://127.0.0.1:8787/x"}}, http.StatusForbidden, refusedOrigin},
		{"empty origin", request{target: "/rest/x", header: []string{"Origin", ""}}, http.StatusForbidden, refusedOrigin},
		{"allowed origin", request{target: "/rest/x", header: []string{"Origin", "http://proxy.internal"}}, ok, ""},
		{"IPv6 loopback origin", request{target: "/rest/x", header: []string{"Origin", "http://[::1]:8787"}}, ok, ""},
		{"origin with a trailing dot", request{target: "/rest/x", header: []string{"Origin", "http://localhost.:8787"}}, ok, ""},
		{"origin naming the proxy as user info", request{target: "/rest/x", header: []string{"Origin", "http://127.0.0.1:8787@evil.example"}}, http.StatusForbidden, refusedOrigin},
		{"origin over another scheme", request{target: "/rest/x", header: []string{"Origin", "ws://127.0.0.1:8787"}}, http.StatusForbidden, refusedOrigin},
		{"a second, cross-site Origin", request{target: "/rest/x", header: []string{"Origin", "http://127.0.0.1:8787", "Origin", "https://evil.example"}}, http.StatusForbidden, refusedOrigin},

		// Methods and upgrades.
		{"TRACE", request{method: "TRACE", target: "/rest/x"}, http.StatusMethodNotAllowed, refusedMethod},
		{"TRACK", request{method: "TRACK", target: "/rest/x"}, http.StatusMethodNotAllowed, refusedMethod},
		{"CONNECT", request{method: "CONNECT", target: "/rest/x"}, http.StatusMethodNotAllowed, refusedMethod},
		{"PROPFIND", request{method: "PROPFIND", target: "/rest/x"}, http.StatusMethodNotAllowed, refusedMethod},
		{"websocket", request{target: "/rest/x", header: []string{"Connection", "Upgrade", "Upgrade", "websocket", "Sec-WebSocket-Version", "13"}}, http.StatusBadRequest, refusedUpgrade},
		{"Upgrade alone", request{target: "/rest/x", header: []string{"Upgrade", "websocket"}}, http.StatusBadRequest, refusedUpgrade},
		{"Connection: upgrade alone", request{target: "/rest/x", header: []string{"Connection", "keep-alive, Upgrade"}}, http.StatusBadRequest, refusedUpgrade},
		{"h2c offer is dropped", request{target: "/rest/x", header: []string{"Connection", "Upgrade, HTTP2-Settings", "Upgrade", "h2c", "HTTP2-Settings", "AAMAAABkAAQCAAAAAAIAAAAA"}}, ok, ""},
		{"PATCH", request{method: "PATCH", target: "/rest/x", body: "{}"}, ok, ""},
		{"OPTIONS without an origin", request{method: "OPTIONS", target: "/rest/x"}, ok, ""},
		{"TRACE as a method override", request{method: "POST", target: "/rest/x", body: "{}", header: []string{"X-HTTP-Method-Override", "TRACE"}}, http.StatusMethodNotAllowed, refusedMethod},
		{"CONNECT as X-HTTP-Method", request{method: "POST", target: "/rest/x", body: "{}", header: []string{"X-HTTP-Method", "connect"}}, http.StatusMethodNotAllowed, refusedMethod},
		{"TRACK as X-Method-Override", request{target: "/rest/x", header: []string{"X-Method-Override", "TRACK"}}, http.StatusMethodNotAllowed, refusedMethod},
		{"a second override header", request{method: "POST", target: "/rest/x", body: "{}", header: []string{"X-HTTP-Method-Override", "PUT", "X-HTTP-Method-Override", "TRACE"}}, http.StatusMethodNotAllowed, refusedMethod},
		{"PUT as a method override", request{method: "POST", target: "/rest/x", body: "{}", header: []string{"X-HTTP-Method-Override", "put"}}, ok, ""},
		{"h2c, then websocket in a second Upgrade", request{target: "/rest/x", header: []string{"Connection", "Upgrade", "Upgrade", "h2c", "Upgrade", "websocket"}}, http.StatusBadRequest, refusedUpgrade},
		{"h2c and websocket in one Upgrade", request{target: "/rest/x", header: []string{"Connection", "Upgrade", "Upgrade", "h2c, websocket"}}, http.StatusBadRequest, refusedUpgrade},

		// Paths, after every decoding.
		{"backslash dot-dot", request{target: "/rest/..%5cx"}, http.StatusBadRequest, refusedPath},
		{"dot-dot with parameters", request{target: "/rest/..;/x"}, http.StatusBadRequest, refusedPath},
		{"dot-dot with named parameters", request{target: "/rest/a/..;jsessionid=1/x"}, http.StatusBadRequest, refusedPath},
		{"escaped dot-dot", request{target: "/rest/%2e%2e/v2/token"}, http.StatusBadRequest, refusedPath},
		{"escaped dot-dot, upper case", request{target: "/rest/%2E%2E/v2/token"}, http.StatusBadRequest, refusedPath},
		{"half-escaped dot-dot", request{target: "/rest/.%2e/v2/token"}, http.StatusBadRequest, refusedPath},
		{"double-encoded dot-dot", request{target: "/rest/%252e%252e/v2/token"}, http.StatusBadRequest, refusedPath},
		{"triple-encoded dot-dot", request{target: "/rest/%25252e%25252e/v2/token"}, http.StatusBadRequest, refusedPath},
		{"escaped slash after dot-dot", request{target: "/rest/..%2fv2/token"}, http.StatusBadRequest, refusedPath},
		{"double-encoded backslash", request{target: "/rest/x%255c..%255cy"}, http.StatusBadRequest, refusedPath},
		{"backslashes to another host", request{target: "/rest/%5c%5cevil.example/x"}, http.StatusBadRequest, refusedPath},
		{"NUL", request{target: "/rest/x%00.json"}, http.StatusBadRequest, refusedPath},
		{"single dot", request{target: "/rest/./x"}, http.StatusBadRequest, refusedPath},
		{"dots inside a name", request{target: "/rest/a..b/...json"}, ok, ""},
		{"overlong UTF-8 dot-dot", request{target: "/rest/%c0%ae%c0%ae/v2/token"}, http.StatusBadRequest, refusedPath},
		{"three-byte overlong dot-dot", request{target: "/rest/%e0%80%ae%e0%80%ae/v2/token"}, http.StatusBadRequest, refusedPath},
		{"double-encoded overlong dot-dot", request{target: "/rest/%25c0%25ae%25c0%25ae/v2/token"}, http.StatusBadRequest, refusedPath},
		{"Latin-1 byte", request{target: "/rest/caf%e9"}, http.StatusBadRequest, refusedPath},
		{"full-width dot-dot", request{target: "/rest/%ef%bc%8e%ef%bc%8e/v2/token"}, http.StatusBadRequest, refusedPath},
		{"two dot leader", request{target: "/rest/%e2%80%a5/v2/token"}, http.StatusBadRequest, refusedPath},
		{"small full stop and a dot", request{target: "/rest/%ef%b9%92./v2/token"}, http.StatusBadRequest, refusedPath},
		{"UTF-8 in a name", request{target: "/rest/data/v1/caf%c3%a9/%ef%bc%8ejson"}, ok, ""},
		{"an escaped percent in a value", request{target: "/rest/data/v1/50%25off/rows"}, ok, ""},
		{"an escaped percent before hex", request{target: "/rest/data/v1/100%2541/rows"}, ok, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(f.up.got())
			var refusedBefore float64
			if tc.reason != "" {
				refusedBefore, _ = metric(t, f.h, `tokentrip_proxy_refused_total{reason="`+tc.reason+`"}`)
			}
			w := serve(f.h, tc.req.build())
			if w.Code != tc.status {
				t.Fatalf("HTTP %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			forwarded := len(f.up.got()) - before
			if tc.reason == "" {
				if forwarded != 1 {
					t.Fatalf("the upstream received %d requests, want 1", forwarded)
				}
				return
			}
			if forwarded != 0 {
				t.Fatalf("a refused request reached the upstream")
			}
			if !strings.HasPrefix(w.Body.String(), "tokentrip proxy: ") {
				t.Errorf("answer %q: want the proxy's explanation", w.Body)
			}
			if n, _ := metric(t, f.h, `tokentrip_proxy_refused_total{reason="`+tc.reason+`"}`); n != refusedBefore+1 {
				t.Errorf("refusals for %s: %v, want %v", tc.reason, n, refusedBefore+1)
			}
			if tc.status == http.StatusMethodNotAllowed && w.Header().Get("Allow") == "" {
				t.Errorf("405 without Allow")
			}
			if !strings.Contains(f.logs.String(), "refused="+tc.reason) {
				t.Errorf("no log line with refused=%s:\n%s", tc.reason, f.logs)
			}
		})
	}
	// The h2c offer reached the upstream as a plain HTTP/1.1 request.
	for _, s := range f.up.got() {
		if s.Header.Get("Upgrade") != "" || s.Header.Get("Http2-Settings") != "" {
			t.Errorf("the upstream received an upgrade offer: %v", s.Header)
		}
	}
}

// --allowed-host values are checked before the proxy starts.
func TestCheckAllowedHosts(t *testing.T) {
	for _, tc := range []struct {
		host string
		ok   bool
	}{
		{"proxy.internal", true},
		{"proxy.internal:8787", true},
		{"tokentrip", true},
		{"10.0.0.7", true},
		{"[fd00::7]:8787", true},
		{"[fd00::7]", true},
		{"my_host.corp", true},
		{"", false},
		{"proxy.internal:0", false},
		{"proxy.internal:99999", false},
		{"proxy.internal:http", false},
		{"http://proxy.internal", false},
		{"proxy internal", false},
		{"-proxy.internal", false},
		{"999.1.1.1", false},
		{"*.example.com", false},
	} {
		err := CheckAllowedHosts([]string{tc.host})
		if (err == nil) != tc.ok {
			t.Errorf("CheckAllowedHosts(%q) = %v, want ok %v", tc.host, err, tc.ok)
		}
	}
}

// A client chooses its method and path up to the header cap: neither is echoed
// or logged at that length, while a long path still reaches the upstream whole.
func TestLongRequestLinesClipped(t *testing.T) {
	long := strings.Repeat("a", 60<<10)
	for _, tc := range []struct {
		name    string
		req     request
		status  int
		forward bool
	}{
		{"long method", request{method: strings.ToUpper(long), target: "/rest/x"}, http.StatusMethodNotAllowed, false},
		{"long path, forwarded", request{target: "/rest/" + long}, http.StatusOK, true},
		{"long path, refused Host", request{target: "/rest/" + long, header: []string{"Host", "evil.example"}}, http.StatusMisdirectedRequest, false},
		{"long path, refused dot-dot", request{target: "/rest/" + long + "/%2e%2e/x"}, http.StatusBadRequest, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			w := serve(f.h, tc.req.build())
			if w.Code != tc.status {
				t.Fatalf("HTTP %d, want %d", w.Code, tc.status)
			}
			if !tc.forward && w.Body.Len() > 1<<10 {
				t.Errorf("a %d-byte answer echoes the request", w.Body.Len())
			}
			got := f.up.got()
			if tc.forward && (len(got) != 1 || got[0].Path != "/"+long) {
				t.Errorf("the upstream did not receive the whole path")
			}
			logged := f.logs.String()
			if logged == "" {
				t.Fatal("nothing logged")
			}
			for line := range strings.SplitSeq(strings.TrimSpace(logged), "\n") {
				if len(line) > 4<<10 {
					t.Errorf("a %d-byte log line: %.200s…", len(line), line)
				}
			}
		})
	}
}

// The proxy's origin holds the credential, so nothing it answers may run there:
// whatever an upstream returns (an HTML error page that reflects the path, a
// script, its own looser policies) and whatever the proxy answers itself comes
// sandboxed, unsniffable and unembeddable by other sites.
func TestAnswersAreBrowserSafe(t *testing.T) {
	for _, tc := range []struct {
		name   string
		req    request
		header http.Header // the upstream's
		status int
	}{
		{"HTML that reflects the path", request{target: "/rest/%3Cscript%3E"}, http.Header{"Content-Type": {"text/html"}}, http.StatusOK},
		{"a script", request{target: "/rest/app.js"}, http.Header{"Content-Type": {"application/javascript"}}, http.StatusOK},
		{"JSON", request{target: "/rest/x"}, nil, http.StatusOK},
		{"the upstream's own policies", request{target: "/rest/x"}, http.Header{
			"Content-Type":                 {"text/html"},
			"Content-Security-Policy":      {"default-src *"},
			"Cross-Origin-Resource-Policy": {"cross-origin"},
			"X-Content-Type-Options":       {"sniff"},
		}, http.StatusOK},
		{"a refusal", request{target: "/rest/%2e%2e/x"}, nil, http.StatusBadRequest},
		{"no route", request{target: "/elsewhere"}, nil, http.StatusNotFound},
		{"readiness", request{target: "/-/readyz"}, nil, http.StatusOK},
		{"metrics", request{target: "/-/metrics"}, nil, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, nil)
			f.up.mu.Lock()
			f.up.answer, f.up.header = []byte("<script>fetch('/rest/x',{method:'DELETE'})</script>"), tc.header
			f.up.mu.Unlock()
			w := serve(f.h, tc.req.build())
			if w.Code != tc.status {
				t.Fatalf("HTTP %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			for name, want := range map[string]string{
				"Content-Security-Policy":      "sandbox",
				"X-Content-Type-Options":       "nosniff",
				"Cross-Origin-Resource-Policy": "same-origin",
			} {
				if got := w.Header().Values(name); len(got) != 1 || got[0] != want {
					t.Errorf("%s: %q, want just %q", name, got, want)
				}
			}
		})
	}
}

// What reaches the guard is what net/http made of the bytes on the wire: a
// request target in absolute form, several Host headers, a Host list, a Host the
// way a browser or curl spells it, dot segments behind the proxy's own /-/. Sent
// as raw request lines to a real server, each is refused before the upstream, or
// forwarded to the credential's endpoint with the proxy's Host and credential,
// never the client's.
func TestGuardOnTheWire(t *testing.T) {
	f, addr, _ := serving(t, Timeouts{})
	_, port, _ := net.SplitHostPort(addr)
	for _, tc := range []struct {
		name   string
		head   string // the request line and header, without the final CRLF
		status int
	}{
		{"absolute form naming another host", "GET http://evil.example:" + port + "/rest/x HTTP/1.1\r\nHost: " + addr, http.StatusMisdirectedRequest},
		{"absolute form naming the proxy, hostile Host", "GET http://" + addr + "/rest/x HTTP/1.1\r\nHost: evil.example", http.StatusOK},
		{"absolute form with user info", "GET http://user:pw@" + addr + "/rest/x HTTP/1.1\r\nHost: " + addr, http.StatusOK},
		{"absolute form, escaped dot-dot", "GET http://" + addr + "/rest/%2e%2e/x HTTP/1.1\r\nHost: " + addr, http.StatusBadRequest},
		{"a second Host, hostile", "GET /rest/x HTTP/1.1\r\nHost: " + addr + "\r\nHost: evil.example", http.StatusBadRequest},
		{"a hostile Host, then the proxy's", "GET /rest/x HTTP/1.1\r\nHost: evil.example\r\nHost: " + addr, http.StatusBadRequest},
		{"a Host list", "GET /rest/x HTTP/1.1\r\nHost: " + addr + ", evil.example", http.StatusBadRequest},
		{"no Host, HTTP/1.1", "GET /rest/x HTTP/1.1", http.StatusBadRequest},
		{"no Host, HTTP/1.0", "GET /rest/x HTTP/1.0", http.StatusMisdirectedRequest},
		{"upper case and a trailing dot", "GET /rest/x HTTP/1.1\r\nHost: LOCALHOST.:" + port, http.StatusOK},
		{"IP with a trailing dot", "GET /rest/x HTTP/1.1\r\nHost: 127.0.0.1.:" + port, http.StatusOK},
		{"IPv6 loopback", "GET /rest/x HTTP/1.1\r\nHost: [::1]:" + port, http.StatusOK},
		{"IPv6 loopback, no port", "GET /rest/x HTTP/1.1\r\nHost: [::1]", http.StatusMisdirectedRequest},
		{"X-Forwarded-Host", "GET /rest/x HTTP/1.1\r\nHost: " + addr + "\r\nX-Forwarded-Host: evil.example", http.StatusOK},
		{"dot-dot out of /-/", "GET /-/../rest/x HTTP/1.1\r\nHost: " + addr, http.StatusBadRequest},
		{"escaped dot-dot out of /-/", "GET /-/%2e%2e/rest/x HTTP/1.1\r\nHost: " + addr, http.StatusBadRequest},
		{"dot-dot out of /-/, by IP", "GET /-/../-/metrics HTTP/1.1\r\nHost: 10.1.2.3", http.StatusBadRequest},
		{"relative target", "GET rest/x HTTP/1.1\r\nHost: " + addr, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(f.up.got())
			c := dial(t, addr)
			if _, err := io.WriteString(c, tc.head+"\r\nConnection: close\r\n\r\n"); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatal(err)
			}
			answer, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("HTTP %d, want %d: %s", resp.StatusCode, tc.status, answer)
			}
			got := f.up.got()[before:]
			if tc.status != http.StatusOK {
				if len(got) != 0 {
					t.Fatalf("a refused request reached the upstream: %+v", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("the upstream received %d requests, want 1", len(got))
			}
			if got[0].Path != "/x" || !strings.HasPrefix(got[0].Header.Get("Authorization"), "Bearer tok-") {
				t.Errorf("the upstream received %s with Authorization %q, want /x with the proxy's token", got[0].Path, got[0].Header.Get("Authorization"))
			}
			if h := got[0].Header.Get("X-Forwarded-Host"); h != "" {
				t.Errorf("the upstream received X-Forwarded-Host %q", h)
			}
		})
	}
}
