// Package marketingcloud holds what both Marketing Cloud providers share: the
// settings (the tenant subdomain, the auth base URL and the tenant's hosts), which
// packages mcv1 and mcv2 check here, one way, so that a value one accepts
// the other accepts too; and the SOAP credentials that carry their tokens.
package marketingcloud

import (
	"net/url"
	"strings"

	"github.com/tokentrip/tokentrip/internal/httpx"
)

// Domain is the domain of every tenant-specific Marketing Cloud host.
const Domain = "marketingcloudapis.com"

// SubdomainLen is the length of a tenant subdomain.
const SubdomainLen = 28

// SubdomainProblem says what is wrong with a tenant subdomain (28 characters of
// a-z, 0-9 and '-', starting with "mc"), or "" if nothing.
func SubdomainProblem(s string) string {
	if strings.Contains(s, ".") || strings.Contains(s, "/") {
		return `give only the subdomain: the part before ".auth.` + Domain + `"`
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '-' {
			return "may hold only lower-case letters, digits and '-'"
		}
	}
	if !strings.HasPrefix(s, "mc") {
		return `must start with "mc"`
	}
	if len(s) != SubdomainLen {
		return "must be 28 characters long; copy it from Installed Packages"
	}
	return ""
}

// QueryProblem is the problem ParseAuthURL reports for a URL with a query, so that
// a provider can add a hint of its own.
const QueryProblem = "must not carry a query"

// ParseAuthURL checks an auth base URL: absolute, https or plain http to a loopback
// host, without user info, query or fragment. It returns the URL with its scheme in
// lower case and without trailing slashes or a final tokenPath (the provider's token
// endpoint, so that a URL copied whole still names the base), or the problem with it.
// A problem never quotes the URL, which may hold a secret.
func ParseAuthURL(raw, tokenPath string) (base, problem string) {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "", "not a URL"
	case u.Scheme == "" || u.Host == "":
		return "", `must be an absolute URL such as "https://auth.exacttargetapis.com" or an emulator's "http://127.0.0.1:8080"`
	case u.User != nil:
		return "", "must not carry user info: the credentials go in ClientID and ClientSecret"
	case u.RawQuery != "" || u.ForceQuery:
		return "", QueryProblem
	case u.Fragment != "":
		return "", "must not carry a fragment"
	case !strings.EqualFold(u.Scheme, "https") && !(strings.EqualFold(u.Scheme, "http") && httpx.IsLoopback(u.Hostname())):
		return "", "must be https (plain http is accepted for loopback hosts only)"
	}
	path := strings.TrimRight(u.EscapedPath(), "/")
	if tokenPath != "" {
		path = strings.TrimRight(strings.TrimSuffix(path, tokenPath), "/")
	}
	return strings.ToLower(u.Scheme) + "://" + u.Host + path, ""
}

// AuthBase is the auth base URL of the tenant with subdomain sub.
func AuthBase(sub string) string { return "https://" + sub + ".auth." + Domain }

// TenantHosts returns the tenant's auth, rest and soap hosts: the hosts its
// credentials may always be sent to.
func TenantHosts(sub string) []string {
	return []string{sub + ".auth." + Domain, sub + ".rest." + Domain, sub + ".soap." + Domain}
}
