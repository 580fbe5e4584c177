package proxy

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Why a request was refused before it was routed, as the access log and the
// refusals metric name it. The set is fixed, so the metric's labels stay bounded.
const (
	refusedHost     = "host"     // a Host the proxy does not serve (DNS rebinding)
	refusedOrigin   = "origin"   // a browser request from another site
	refusedMethod   = "method"   // TRACE, CONNECT and other methods no API takes
	refusedUpgrade  = "upgrade"  // a protocol upgrade (websocket)
	refusedPath     = "path"     // dot segments, backslashes, control characters
	refusedBusy     = "busy"     // too many requests in flight
	refusedBuffer   = "buffer"   // the body buffers are full
	refusedEncoding = "encoding" // a body compression the proxy cannot undo
	refusedTooLarge = "too_large"
)

// allowedMethods are the methods the proxy forwards: those the vendors' REST and
// SOAP APIs take. TRACE would echo the credential back; CONNECT would open a tunnel.
var allowedMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
}

const allowHeader = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"

// hostRule is one Host value the proxy answers to: a name (lower case, no trailing
// dot) and a port, or any port when port is "".
type hostRule struct{ name, port string }

// hostRules is the set of Host values a request may carry.
type hostRules []hostRule

// loopbackNames are the names a local client may use for a loopback listener.
var loopbackNames = []string{"localhost", "127.0.0.1", "::1"}

// newHostRules returns the Host values of a proxy listening on addr (its actual
// address, port included): the address itself and, for a loopback or unspecified
// address, the loopback names with its port; plus allowed, each "name" (any port)
// or "name:port".
func newHostRules(addr string, allowed []string) (hostRules, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("listen address %q: %w", addr, err)
	}
	rules := hostRules{{normalHost(host), port}}
	if ip := net.ParseIP(host); host == "" || strings.EqualFold(host, "localhost") || (ip != nil && (ip.IsLoopback() || ip.IsUnspecified())) {
		for _, n := range loopbackNames {
			rules = append(rules, hostRule{n, port})
		}
	}
	for _, a := range allowed {
		r, err := parseAllowedHost(a)
		if err != nil {
			return nil, err
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// CheckAllowedHosts checks --allowed-host values before anything else happens, so
// that a mistake is a usage error.
func CheckAllowedHosts(hosts []string) error {
	for _, h := range hosts {
		if _, err := parseAllowedHost(h); err != nil {
			return err
		}
	}
	return nil
}

// parseAllowedHost reads one --allowed-host value: "name" or "name:port", where name
// is a DNS name or an IP address.
func parseAllowedHost(s string) (hostRule, error) {
	s = strings.TrimSpace(s)
	name, port := s, ""
	if h, p, err := net.SplitHostPort(s); err == nil {
		name, port = h, p
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return hostRule{}, fmt.Errorf("allowed host %q: the port must be a number from 1 to 65535", s)
		}
	} else if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		name = s[1 : len(s)-1]
	}
	name = normalHost(name)
	if name == "" || (net.ParseIP(name) == nil && !ValidHostName(name)) {
		return hostRule{}, fmt.Errorf("allowed host %q: want a host name or an IP address, with an optional :port", s)
	}
	return hostRule{name, port}, nil
}

// ValidHostName reports whether h could be a DNS name: labels of letters, digits
// and hyphens, not all digits (which would be a malformed IP address).
func ValidHostName(h string) bool {
	h = normalHost(h)
	return strings.Trim(h, "0123456789.") != "" && isDNSName(h)
}

// isDNSName reports whether s is made of DNS labels: letters, digits and hyphens
// (underscores too, which some internal names use), separated by dots.
func isDNSName(s string) bool {
	if len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// normalHost lower-cases a host name and drops a trailing dot.
func normalHost(h string) string {
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

// allows reports whether hostport (a Host header or an origin's host) names the
// proxy. A value without a port means defaultPort.
func (rs hostRules) allows(hostport, defaultPort string) bool {
	if hostport == "" {
		return false
	}
	host, port := hostport, defaultPort
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		host, port = h, p
	} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	host = normalHost(host)
	for _, r := range rs {
		if r.name == host && (r.port == "" || r.port == port) {
			return true
		}
	}
	return false
}

// refusal is why a request is turned away, and how.
type refusal struct {
	status int
	reason string // one of the refused… constants
	msg    string // for the client, and the log
}

// guard checks what a browser, a rebinding page or a confused client could send
// before anything else looks at the request: the method (and a method override
// header, which some servers honour in place of the method), a protocol upgrade,
// the Host and the request's site of origin. A nil result lets the request on.
func (rs hostRules) guard(r *http.Request) *refusal {
	if !allowedMethods[r.Method] {
		return &refusal{http.StatusMethodNotAllowed, refusedMethod, "method " + strconv.Quote(clip(r.Method)) + " is not forwarded"}
	}
	for _, name := range methodOverrides {
		for _, v := range r.Header.Values(name) {
			if m := strings.ToUpper(strings.TrimSpace(v)); !allowedMethods[m] {
				return &refusal{http.StatusMethodNotAllowed, refusedMethod, name + " " + strconv.Quote(clip(v)) + " is not forwarded"}
			}
		}
	}
	if ups := r.Header.Values("Upgrade"); len(ups) > 0 || headerHasToken(r.Header, "Connection", "upgrade") {
		if !onlyH2C(ups) {
			return &refusal{http.StatusBadRequest, refusedUpgrade, "protocol upgrades (websocket and the like) are not forwarded"}
		}
		// curl --http2 asks to upgrade plain http to HTTP/2 and carries on in HTTP/1.1
		// when the server does not switch: drop the offer rather than refuse it.
		r.Header.Del("Upgrade")
		r.Header.Del("HTTP2-Settings")
		r.Header.Del("Connection")
	}
	if !rs.allows(r.Host, "80") {
		return &refusal{http.StatusMisdirectedRequest, refusedHost, "the Host " + strconv.Quote(clip(r.Host)) + " is not one this proxy serves (see --allowed-host)"}
	}
	return rs.crossSite(r)
}

// methodOverrides are the headers by which some servers and frameworks let a
// request stand for another method: a TRACE or CONNECT in one is refused like the
// method itself.
var methodOverrides = []string{"X-HTTP-Method-Override", "X-HTTP-Method", "X-Method-Override"}

// onlyH2C reports whether every protocol the Upgrade headers offer is h2c, the
// offer that curl --http2 makes and that is dropped rather than refused.
func onlyH2C(upgrades []string) bool {
	if len(upgrades) == 0 {
		return false
	}
	for _, v := range upgrades {
		for t := range strings.SplitSeq(v, ",") {
			if !strings.EqualFold(strings.TrimSpace(t), "h2c") {
				return false
			}
		}
	}
	return true
}

// crossSite refuses a request that a browser says comes from another site: a
// Sec-Fetch-Site other than same-origin or none, or an Origin (any of them, when
// a client sends several) that does not name the proxy.
func (rs hostRules) crossSite(r *http.Request) *refusal {
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return &refusal{http.StatusForbidden, refusedOrigin, "a request from another site (Sec-Fetch-Site: " + clip(site) + ")"}
	}
	for _, origin := range r.Header["Origin"] {
		if !rs.allowsOrigin(origin) {
			return &refusal{http.StatusForbidden, refusedOrigin, "a request from another site (Origin: " + strconv.Quote(clip(origin)) + ")"}
		}
	}
	return nil
}

// guardInternal checks a request for the proxy's own /-/ endpoints. /-/healthz
// says nothing but "ok" and answers anyone. /-/readyz and /-/metrics name the
// credentials and their failures, and readyz may fetch a token: they answer a
// Host the proxy serves or an IP address (what orchestrators' probes and scrapers
// send), never another DNS name, which is what a DNS-rebinding page would send,
// and no request a browser says comes from another site.
func (rs hostRules) guardInternal(r *http.Request) *refusal {
	if r.URL.Path == "/-/healthz" {
		return nil
	}
	if !rs.allows(r.Host, "80") && !isIPHost(r.Host) {
		return &refusal{http.StatusMisdirectedRequest, refusedHost, "the Host " + strconv.Quote(clip(r.Host)) + " is not one this proxy serves (see --allowed-host)"}
	}
	return rs.crossSite(r)
}

// isIPHost reports whether hostport (a Host header) names an IP address rather
// than a DNS name.
func isIPHost(hostport string) bool {
	host := hostport
	if h, p, err := net.SplitHostPort(hostport); err == nil {
		if n, err := strconv.Atoi(p); err != nil || n < 0 || n > 65535 || p != strconv.Itoa(n) {
			return false
		}
		host = h
	} else if strings.HasPrefix(host, "[") && strings.HasSuffix(host, "]") {
		host = host[1 : len(host)-1]
	}
	return host != "" && net.ParseIP(host) != nil
}

// allowsOrigin reports whether a browser's Origin names the proxy itself.
func (rs hostRules) allowsOrigin(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || u.Path != "" || u.User != nil {
		return false // "null" (a sandboxed page or a file) included
	}
	switch u.Scheme {
	case "http":
		return rs.allows(u.Host, "80")
	case "https":
		return rs.allows(u.Host, "443")
	}
	return false
}

// headerHasToken reports whether a comma-separated header holds token, in any case.
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// clip bounds what a client sent before it is echoed into a message or a log line.
func clip(s string) string {
	const maxEcho = 100
	if len(s) > maxEcho {
		return s[:maxEcho] + "…"
	}
	return s
}
