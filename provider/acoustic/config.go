package acoustic

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tokentrip/tokentrip/internal/httpx"
	"github.com/tokentrip/tokentrip/transport"
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
	// api-campaign-{region}.goacoustic.com (see PodHost), serves both the token
	// endpoint and the APIs. Set Pod or BaseURL, not both.
	Pod string
	// BaseURL is the org's API base URL, scheme and host only, for a pod PodHost does
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
	// Store, when set, shares the access token among the Transports that use the
	// same Store and credential: across a fleet with a Redis store (package
	// store/redis), within a process with a *store.MemoryTokens. They then make
	// one token request per token lifetime between them. The token is keyed by
	// ClientID and a SHA-256 digest of RefreshToken (never the token itself), so
	// that different users never share one. Nil: each Transport keeps its token to
	// itself. A Store in Settings replaces it.
	Store transport.Store

	// HTTPClient sends token requests (default: a client over a clone of
	// http.DefaultTransport). Its Timeout is replaced by Retry.AttemptTimeout.
	HTTPClient *http.Client
	// Base sends API calls (default: transport.DefaultBase, shared). Set it here
	// rather than in the Options given to NewTransport, whose Base would bypass the
	// in-flight cap.
	Base http.RoundTripper
	// Retry says how failed token requests are retried: exponential backoff with
	// jitter, as Acoustic requires. The zero value takes every default.
	Retry transport.RetryPolicy
	// Clock is the time source for token lifetimes (default time.Now); tests use it
	// to cross Acoustic's three-hour mark in microseconds.
	Clock func() time.Time
	// Logger receives the token source's events and the token client's retries
	// (default: none). Nothing logged ever holds a secret or a token.
	Logger *slog.Logger
	// Hook is called for every Source event: fetches, failures, invalidations and
	// breaker changes, for metrics. It runs synchronously and must be quick.
	Hook func(transport.Event)
	// Settings holds further settings of the token Source (breaker, backoff…).
	// Each field set here wins over the one NewTransport derives from this Config
	// (name "acoustic", a refresh lead of one hour, Clock, Logger, Hook, Store).
	Settings transport.Settings
}

// DefaultMaxInFlight is Acoustic's limit on an org's concurrent API requests.
const DefaultMaxInFlight = 10

// Validate reports the first field that cannot work, as a *transport.ConfigError
// (errors.Is(err, transport.ErrConfig) matches it). It sends nothing.
func (c Config) Validate() error {
	if _, err := c.Endpoint(); err != nil {
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
		case strings.TrimSpace(f.value) != f.value:
			return configError(f.name, "begins or ends with white space (a newline read from a file?)")
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
		host, ok := PodHost(pod)
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
	return &transport.ConfigError{Provider: name, Field: field, Problem: problem}
}

// redacted is what a Config shows of itself: everything but its secrets, and
// whether they are set.
type redacted struct {
	Pod          string    `json:"pod,omitempty"`
	BaseURL      string    `json:"base_url,omitempty"`
	ClientID     string    `json:"client_id"`
	ClientSecret string    `json:"client_secret"`
	RefreshToken string    `json:"refresh_token"`
	MaxInFlight  int       `json:"max_in_flight,omitempty"`
	LimitMode    LimitMode `json:"limit_mode"`
	Limiter      bool      `json:"limiter,omitempty"`
	Store        bool      `json:"store,omitempty"`
}

const redactedMark = "[REDACTED]"

func (c Config) redacted() redacted {
	return redacted{
		Pod:          c.Pod,
		BaseURL:      redactURL(c.BaseURL),
		ClientID:     c.ClientID,
		ClientSecret: mask(c.ClientSecret),
		RefreshToken: mask(c.RefreshToken),
		MaxInFlight:  c.MaxInFlight,
		LimitMode:    c.LimitMode,
		Limiter:      c.Limiter != nil,
		Store:        c.Store != nil,
	}
}

func mask(secret string) string {
	if secret == "" {
		return ""
	}
	return redactedMark
}

// redactURL hides a password in a BaseURL that carries one (Validate refuses it,
// but a Config may be printed before it is validated).
func redactURL(raw string) string {
	if !strings.Contains(raw, "@") {
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return redactedMark
	}
	if u.User == nil {
		return raw
	}
	u.User = nil
	scheme, rest, _ := strings.Cut(u.String(), "://")
	return scheme + "://" + redactedMark + "@" + rest
}

// String renders the Config without its secrets.
func (c Config) String() string {
	r := c.redacted()
	var b strings.Builder
	b.WriteString("acoustic.Config{")
	if r.Pod != "" {
		fmt.Fprintf(&b, "Pod:%s ", r.Pod)
	}
	if r.BaseURL != "" {
		fmt.Fprintf(&b, "BaseURL:%s ", r.BaseURL)
	}
	fmt.Fprintf(&b, "ClientID:%s ClientSecret:%s RefreshToken:%s MaxInFlight:%d LimitMode:%s",
		r.ClientID, r.ClientSecret, r.RefreshToken, r.MaxInFlight, r.LimitMode)
	if r.Limiter {
		b.WriteString(" Limiter:set")
	}
	if r.Store {
		b.WriteString(" Store:set")
	}
	b.WriteString("}")
	return b.String()
}

// GoString keeps %#v from printing the secrets.
func (c Config) GoString() string { return c.String() }

// MarshalJSON renders the Config without its secrets.
func (c Config) MarshalJSON() ([]byte, error) { return json.Marshal(c.redacted()) }

// LogValue renders the Config for log/slog without its secrets.
func (c Config) LogValue() slog.Value {
	r := c.redacted()
	attrs := make([]slog.Attr, 0, 9)
	if r.Pod != "" {
		attrs = append(attrs, slog.String("pod", r.Pod))
	}
	if r.BaseURL != "" {
		attrs = append(attrs, slog.String("base_url", r.BaseURL))
	}
	attrs = append(attrs,
		slog.String("client_id", r.ClientID),
		slog.String("client_secret", r.ClientSecret),
		slog.String("refresh_token", r.RefreshToken),
		slog.Int("max_in_flight", r.MaxInFlight),
		slog.String("limit_mode", r.LimitMode.String()),
	)
	if r.Limiter {
		attrs = append(attrs, slog.Bool("limiter", true))
	}
	if r.Store {
		attrs = append(attrs, slog.Bool("store", true))
	}
	return slog.GroupValue(attrs...)
}
