package providerkit

import (
	"net/url"
	"strings"

	"github.com/tokentrip/tokentrip/internal/httpx"
	"github.com/tokentrip/tokentrip/provider"
)

// hostsField names Common.Transport.Hosts in configuration errors.
const hostsField = "Transport.Hosts"

// CheckCommon reports the first setting of c that cannot work, as the provider's
// *transport.ConfigError: today, an entry of Transport.Hosts that names no host, or
// would send the credential somewhere it must not go. The error never quotes what
// could be a secret.
func CheckCommon(name string, c provider.Common) error {
	for _, h := range c.Transport.Hosts {
		if problem := hostRuleProblem(h); problem != "" {
			return ConfigError(name, hostsField, CleanURL(h)+": "+problem)
		}
	}
	return nil
}

// hostRuleProblem says what is wrong with a host rule, or "" if nothing.
func hostRuleProblem(rule string) string {
	if strings.Contains(rule, "://") {
		u, err := url.Parse(rule)
		switch {
		case err != nil || u.Host == "":
			return "not a valid URL"
		case u.User != nil:
			return "must not carry user information: a credential goes to the host, not in it"
		case !strings.EqualFold(u.Scheme, "https") && !(strings.EqualFold(u.Scheme, "http") && httpx.IsLoopback(u.Hostname())):
			return "a URL must be https (plain http only to a loopback host)"
		}
		return ""
	}
	switch suffix, wildcard := strings.CutPrefix(rule, "*."); {
	case rule == "" || strings.TrimSpace(rule) != rule:
		return "empty, or has spaces around it"
	case strings.Contains(rule, "@"):
		return "must not carry user information: a credential goes to the host, not in it"
	case !Visible(rule) || strings.Contains(rule, "/"):
		return `neither a host ("api.example.com", "*.example.com", "127.0.0.1:8080") nor a URL`
	case rule == "*" || wildcard && !strings.Contains(suffix, "."):
		return "a wildcard needs a domain of two labels or more, such as *.example.com"
	}
	return ""
}
