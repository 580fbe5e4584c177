package transport

import (
	"net/url"
	"strings"

	"github.com/tokentrip/tokentrip/internal/httpx"
)

// hostRule matches a request's host exactly or as any subdomain (see
// httpx.HostRule).
type hostRule = httpx.HostRule

// scope is the set of hosts a credential may be sent to.
type scope httpx.Hosts

func newScope(rules []string) scope { return scope(httpx.NewHosts(rules...)) }

func (s scope) match(u *url.URL) bool { return httpx.Hosts(s).Match(u) }

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
		s = append(s, httpx.HostOf(u))
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
