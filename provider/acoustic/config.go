package acoustic

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/tokentrip/tokentrip/internal/httpx"
	"github.com/tokentrip/tokentrip/internal/providerkit"
	"github.com/tokentrip/tokentrip/provider"
)

// name is the provider's name in errors, events and logs.
const name = "acoustic"

// Config describes one Acoustic Campaign credential: the org's pod, the application's
// client id and secret, and the refresh token of the user it acts for. All three come
// from Organization Settings → Application Account Access in Campaign. Only the
// credential fields are required; every other field has a working default.
//
// Formatting a Config with fmt, encoding/json or log/slog never shows the client
// secret or the refresh token.
type Config struct {
	// Pod is the org's pod: "1" to "9", "A", "B" or "PILOT", in any case. Its host,
	// api-campaign-{region}.goacoustic.com , serves both the token
	// endpoint and the APIs. Set Pod or BaseURL, not both.
	Pod string
	// BaseURL is the org's API base URL, scheme and host only, for a pod tokentrip does
	// not know yet ("https://api-campaign-us-7.goacoustic.com") or an emulator. It
	// must use https, except to a loopback host. Set Pod or BaseURL, not both.
	BaseURL string

	// ClientID and ClientSecret identify the application.
	ClientID     string
	ClientSecret string
	// RefreshToken is the token Campaign emailed when the user was given access to
	// the application. It lasts until that access is removed, and buys every access
	// token.
	RefreshToken string

	// MaxInFlight caps the API calls to the org's host that are in flight at once, a
	// call counting until its response body is read to the end or closed (token
	// requests, one at a time anyway, do not count). Acoustic rejects an org's
	// eleventh concurrent request, so 0 means DefaultMaxInFlight; a negative value
	// turns the cap off. The cap is per Transport: processes or Transports that
	// share an org share Acoustic's limit, and should share one Limiter instead.
	MaxInFlight int
	// LimitMode says what a request does while MaxInFlight requests are in flight:
	// Wait (the default) queues it until one finishes or its context ends;
	// FailFast fails it at once with ErrTooManyInFlight.
	LimitMode LimitMode
	// Limiter, when set, is the cap instead of MaxInFlight and LimitMode: share one
	// among the Transports of an org, or plug in one that spans processes.
	Limiter Limiter

	// Common holds the settings every provider shares: the token client, its
	// retries (exponential backoff with jitter, as Acoustic requires), the Source
	// (Clock, Logger, Hook, Store…; a refresh lead of one hour unless set) and the
	// Transport (Base, extra Hosts…). Transport.Base goes under the in-flight cap.
	// The Source's Store shares the access token among the Transports that use the
	// same Store and credential: across a fleet with a Redis store (package
	// store/redis), within a process with a *transport.MemoryStore, one token
	// request per token lifetime between them, keyed by ClientID and a SHA-256
	// digest of RefreshToken (never the token itself), so that different users
	// never share one.
	provider.Common
}

// DefaultMaxInFlight is Acoustic's limit on an org's concurrent API requests.
const DefaultMaxInFlight = 10

// Validate reports the first field that cannot work, as a *transport.ConfigError
// (errors.Is(err, transport.ErrConfig) matches it). It sends nothing.
func (c Config) Validate() error {
	if _, err := c.Endpoint(); err != nil {
		return err
	}
	if err := providerkit.CheckCommon(name, c.Common); err != nil {
		return err
	}
	for _, f := range []struct{ name, value string }{
		{"ClientID", c.ClientID},
		{"ClientSecret", c.ClientSecret},
		{"RefreshToken", c.RefreshToken},
	} {
		switch {
		case f.value == "":
			return configError(f.name, "is empty; find it under Organization Settings → Application Account Access in Campaign")
		case providerkit.CredentialProblem(f.value) != "":
			return configError(f.name, providerkit.CredentialProblem(f.value))
		}
	}
	switch {
	case c.LimitMode != Wait && c.LimitMode != FailFast:
		return configError("LimitMode", "must be Wait or FailFast, not "+strconv.Itoa(int(c.LimitMode)))
	case c.Limiter != nil && c.MaxInFlight != 0:
		return configError("MaxInFlight", "cannot be set together with Limiter, which replaces it")
	case c.Limiter != nil && c.LimitMode != Wait:
		return configError("LimitMode", "cannot be set together with Limiter, which decides for itself")
	}
	return nil
}

// Endpoint returns the org's API base URL without a trailing slash: https://
// followed by the pod's host, or BaseURL. Token requests go to Endpoint()+
// "/oauth/token", XML API calls to Endpoint()+"/XMLAPI" and REST calls under
// Endpoint()+"/rest/".
func (c Config) Endpoint() (string, error) {
	pod, base := strings.TrimSpace(c.Pod), strings.TrimSpace(c.BaseURL)
	switch {
	case pod != "" && base != "":
		return "", configError("Pod", "set Pod or BaseURL, not both")
	case pod != "":
		host, ok := podHost(pod)
		if !ok {
			return "", configError("Pod", fmt.Sprintf("unknown pod %q; the pods are %s (for a newer one, set BaseURL instead)", pod, strings.Join(podNames, ", ")))
		}
		return "https://" + host, nil
	case base != "":
		return parseBaseURL(base)
	default:
		return "", configError("Pod", "set Pod (\"1\" to \"9\", \"A\", \"B\" or \"PILOT\") or BaseURL")
	}
}

// parseBaseURL checks BaseURL and returns it in canonical form.
func parseBaseURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", configError("BaseURL", "must be an absolute URL such as https://api-campaign-us-1.goacoustic.com")
	}
	// Shown in errors: without user information, query or fragment, any of which
	// might hold a secret.
	bare := *u
	bare.User, bare.RawQuery, bare.Fragment, bare.ForceQuery = nil, "", "", false
	shown := bare.String()
	switch {
	case u.User != nil:
		return "", configError("BaseURL", "must not carry user information: "+shown)
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return "", configError("BaseURL", "must not carry a query or fragment: "+shown)
	case u.Path != "" && u.Path != "/":
		return "", configError("BaseURL", "must be a scheme and host only, without a path: "+shown)
	case strings.EqualFold(u.Scheme, "https"):
	case strings.EqualFold(u.Scheme, "http") && httpx.IsLoopback(u.Hostname()):
	default:
		return "", configError("BaseURL", "must use https (plain http only to a loopback host): "+shown)
	}
	return strings.ToLower(u.Scheme) + "://" + u.Host, nil
}

func configError(field, problem string) error {
	return providerkit.ConfigError(name, field, problem)
}

// rendering is what a Config shows of itself: everything but its secrets, and
// whether they are set.
func (c Config) rendering() providerkit.Rendering {
	return providerkit.Render("acoustic.Config", c.Common,
		"Pod", c.Pod, "BaseURL", providerkit.CleanURL(c.BaseURL), "ClientID", c.ClientID,
		"ClientSecret", providerkit.Secret(c.ClientSecret), "RefreshToken", providerkit.Secret(c.RefreshToken),
		"MaxInFlight", c.MaxInFlight, "LimitMode", c.LimitMode.name(), "Limiter", providerkit.Set(c.Limiter))
}

// String renders the Config without its secrets; %v, %+v and log/slog's text
// handler use it.
func (c Config) String() string { return c.rendering().String() }

// GoString keeps %#v from printing the secrets.
func (c Config) GoString() string { return c.String() }

// MarshalJSON renders the Config without its secrets, for logs (log/slog's JSON
// handler among them); it is not a Config to read back.
func (c Config) MarshalJSON() ([]byte, error) { return c.rendering().JSON() }
