package httpx

import (
	"net"
	"net/url"
	"strings"
)

// HostRule matches a request's host: exactly ("api.example.com", or with a port,
// "127.0.0.1:8080") or any subdomain ("*.example.com", which does not match
// example.com itself). The zero HostRule matches nothing anyone sends.
type HostRule struct {
	host     string // lower case; with a port when the rule names one
	wildcard bool
	withPort bool
}

// ParseHostRule parses one rule of the forms transport.Options.Hosts takes: a host, a
// host and port, "*." and a domain, or a URL, whose host is taken. It reports false
// for a rule that names no host.
func ParseHostRule(rule string) (HostRule, bool) {
	rule = strings.ToLower(strings.TrimSpace(rule))
	if rule == "" {
		return HostRule{}, false
	}
	if strings.Contains(rule, "://") {
		u, err := url.Parse(rule)
		if err != nil || u.Host == "" {
			return HostRule{}, false
		}
		rule = u.Host
	}
	if suffix, ok := strings.CutPrefix(rule, "*."); ok {
		return HostRule{host: "." + suffix, wildcard: true}, suffix != ""
	}
	_, port, err := net.SplitHostPort(rule)
	return HostRule{host: rule, withPort: err == nil && port != ""}, true
}

// HostOf returns the rule that matches exactly u's host, and its port when u names
// one; a "*." in u's host is taken literally.
func HostOf(u *url.URL) HostRule {
	return HostRule{host: strings.ToLower(u.Host), withPort: u.Port() != ""}
}

// Match reports whether the rule covers u's host. It does not allocate: it runs on
// every request.
func (r HostRule) Match(u *url.URL) bool {
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

// Hosts is a set of host rules: the hosts a credential may be sent to. Code that
// wraps a Transport (a concurrency limiter, a proxy) matches with it so that it
// agrees with the Transport's scope.
type Hosts []HostRule

// NewHosts parses rules of the forms transport.Options.Hosts takes, skipping those that
// name no host.
func NewHosts(rules ...string) Hosts {
	var h Hosts
	for _, r := range rules {
		if hr, ok := ParseHostRule(r); ok {
			h = append(h, hr)
		}
	}
	return h
}

// Match reports whether u's host is covered by a rule. An empty Hosts matches
// nothing, nor does anything match a nil URL.
func (h Hosts) Match(u *url.URL) bool {
	if u == nil {
		return false
	}
	for _, r := range h {
		if r.Match(u) {
			return true
		}
	}
	return false
}
