package transport

import (
	"net"
	"net/url"
	"strings"

	"github.com/tokentrip/tokentrip/internal/httpx"
)

// hostRule matches a request's host: exactly ("api.example.com", or with a port,
// "127.0.0.1:8080") or any subdomain ("*.example.com", which does not match
// example.com itself).
type hostRule struct {
	host     string // lower case; with a port when the rule names one
	wildcard bool
	withPort bool
}

func parseHostRule(rule string) (hostRule, bool) {
	rule = strings.ToLower(strings.TrimSpace(rule))
	if rule == "" {
		return hostRule{}, false
	}
	if strings.Contains(rule, "://") {
		u, err := url.Parse(rule)
		if err != nil || u.Host == "" {
			return hostRule{}, false
		}
		rule = u.Host
	}
	if suffix, ok := strings.CutPrefix(rule, "*."); ok {
		return hostRule{host: "." + suffix, wildcard: true}, suffix != ""
	}
	_, port, err := net.SplitHostPort(rule)
	return hostRule{host: rule, withPort: err == nil && port != ""}, true
}

// match reports whether the rule covers u's host. It does not allocate: it runs on
// every request.
func (r hostRule) match(u *url.URL) bool {
	switch {
	case r.wildcard:
		host := u.Hostname()
		return len(host) > len(r.host) && strings.EqualFold(host[len(host)-len(r.host):], r.host)
	case r.withPort:
		return strings.EqualFold(u.Host, r.host)
	default:
		return strings.EqualFold(u.Hostname(), r.host)
	}
}

// scope is the set of hosts a credential may be sent to.
type scope []hostRule

func newScope(rules []string) scope {
	var s scope
	for _, r := range rules {
		if hr, ok := parseHostRule(r); ok {
			s = append(s, hr)
		}
	}
	return s
}

func (s scope) match(u *url.URL) bool {
	for _, r := range s {
		if r.match(u) {
			return true
		}
	}
	return false
}

// instanceScope returns the hosts of a token's instance URLs, which arrive with or
// without a scheme.
func instanceScope(t Token) scope {
	var s scope
	for _, raw := range []string{t.RESTInstanceURL, t.SOAPInstanceURL} {
		if raw == "" {
			continue
		}
		if !strings.Contains(raw, "://") {
			raw = "https://" + raw
		}
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			continue
		}
		s = append(s, hostRule{host: strings.ToLower(u.Host), withPort: u.Port() != ""})
	}
	return s
}

// secureScheme reports whether a credential may travel over u's scheme: https
// always, plain http only to a loopback host (for tests and local emulators).
func secureScheme(u *url.URL) bool {
	if strings.EqualFold(u.Scheme, "https") {
		return true
	}
	return strings.EqualFold(u.Scheme, "http") && httpx.IsLoopback(u.Hostname())
}

// Hosts matches URLs against host rules exactly as WithHosts does, for code that
// wraps a Transport and must agree with its scope (a concurrency limiter, a proxy).
type Hosts struct{ rules scope }

// NewHosts parses rules of the forms WithHosts takes.
func NewHosts(rules ...string) Hosts { return Hosts{rules: newScope(rules)} }

// Match reports whether u's host is covered by a rule. An empty Hosts matches nothing.
func (h Hosts) Match(u *url.URL) bool { return u != nil && h.rules.match(u) }

// Len reports how many rules h holds.
func (h Hosts) Len() int { return len(h.rules) }
