package proxy

import (
	"context"
	"errors"
	"log/slog"
	"net/url"
	"strings"

	"github.com/tokentrip/tokentrip/transport"
)

// Provider names, as the command's --provider takes them.
const (
	ProviderMCv1     = "mcv1"
	ProviderMCv2     = "mcv2"
	ProviderAcoustic = "acoustic"
)

// The proxy's routes, as the access log and the metrics name them.
const (
	RouteREST   = "rest"
	RouteSOAP   = "soap"
	RouteXMLAPI = "xmlapi"
)

// ErrNoRoute is the error of a path that leads nowhere: the proxy answers 404.
var ErrNoRoute = errors.New("no route for this path")

// RESTPaths says which paths a Marketing Cloud router sends to REST.
type RESTPaths int

const (
	// RESTPrefixed sends only /rest and /rest/... to REST, with /rest removed.
	RESTPrefixed RESTPaths = iota
	// RESTAll also sends every other path that is not SOAP to REST unchanged, for
	// clients that resolve /platform/v1/… against the proxy's origin.
	RESTAll
)

// RouterConfig is what a Router needs to know. Marketing Cloud: REST and SOAP are the
// fixed endpoints (nil: the token's instance URLs, then the fallbacks). Acoustic: API
// is the org's base URL.
type RouterConfig struct {
	Provider     string            // ProviderMCv1, ProviderMCv2 or ProviderAcoustic
	Source       *transport.Source // the credential's Source, read for instance URLs
	REST, SOAP   *url.URL          // fixed Marketing Cloud endpoints (SOAP: the full Service.asmx URL)
	FallbackREST *url.URL          // when neither REST nor the token names one
	FallbackSOAP *url.URL          // when neither SOAP nor the token names one
	API          *url.URL          // Acoustic: the org's API base URL
	RESTPaths    RESTPaths         // which paths go to Marketing Cloud REST
}

// Router maps the proxy's paths to the provider's endpoints. Every target is fixed by
// the configuration or by the token's instance URLs; nothing in a request can send
// it, or its credential, anywhere else.
type Router struct {
	cfg RouterConfig
}

// Route is where one request goes.
type Route struct {
	Name   string   // RouteREST, RouteSOAP or RouteXMLAPI
	Target *url.URL // scheme, host and path; the request's query is added later
}

// NewRouter returns the Router of cfg.
func NewRouter(cfg RouterConfig) *Router { return &Router{cfg: cfg} }

// Provider is the provider the Router routes for.
func (r *Router) Provider() string { return r.cfg.Provider }

// Resolve finds the route of an incoming request's URL. Paths with dot segments,
// backslashes or control characters, in any decoding, are refused (see CheckPath).
func (r *Router) Resolve(ctx context.Context, in *url.URL) (Route, error) {
	if err := CheckPath(in.EscapedPath()); err != nil {
		return Route{}, err
	}
	p := in.Path
	if r.cfg.Provider == ProviderAcoustic {
		switch {
		case strings.EqualFold(p, "/XMLAPI"):
			return Route{RouteXMLAPI, under(r.cfg.API, "", in)}, nil
		case strings.HasPrefix(p, "/rest/"):
			return Route{RouteREST, under(r.cfg.API, "", in)}, nil
		}
		return Route{}, ErrNoRoute
	}
	isSOAP := strings.EqualFold(p, "/soap") || strings.EqualFold(p, "/Service.asmx")
	prefixed := p == "/rest" || strings.HasPrefix(p, "/rest/")
	isREST := !isSOAP && (prefixed || r.cfg.RESTPaths == RESTAll)
	if !isREST && !isSOAP {
		return Route{}, ErrNoRoute
	}
	var tok transport.Token
	if (isREST && r.cfg.REST == nil) || (isSOAP && r.cfg.SOAP == nil) {
		// An enhanced package's endpoints come with its token.
		var err error
		if tok, err = r.cfg.Source.Token(ctx); err != nil {
			return Route{}, err
		}
	}
	if isREST {
		base, err := r.restBase(tok)
		if err != nil {
			return Route{}, err
		}
		prefix := ""
		if prefixed {
			prefix = "/rest"
		}
		return Route{RouteREST, under(base, prefix, in)}, nil
	}
	ep, err := r.soapEndpoint(tok)
	if err != nil {
		return Route{}, err
	}
	t := *ep
	return Route{RouteSOAP, &t}, nil
}

// restBase is the Marketing Cloud REST base URL: the fixed one, or tok's instance.
func (r *Router) restBase(tok transport.Token) (*url.URL, error) {
	switch {
	case r.cfg.REST != nil:
		return r.cfg.REST, nil
	case tok.RESTInstanceURL != "":
		return url.Parse(tok.RESTInstanceURL)
	case r.cfg.FallbackREST != nil:
		return r.cfg.FallbackREST, nil
	}
	return nil, errors.New("the token names no REST instance URL: set --rest-url")
}

// soapEndpoint is the Marketing Cloud SOAP endpoint URL: the fixed one, or tok's
// instance.
func (r *Router) soapEndpoint(tok transport.Token) (*url.URL, error) {
	switch {
	case r.cfg.SOAP != nil:
		return r.cfg.SOAP, nil
	case tok.SOAPInstanceURL != "":
		u, err := url.Parse(tok.SOAPInstanceURL)
		if err != nil {
			return nil, err
		}
		return u.JoinPath("Service.asmx"), nil
	case r.cfg.FallbackSOAP != nil:
		return r.cfg.FallbackSOAP, nil
	}
	return nil, errors.New("the token names no SOAP instance URL: set --soap-url")
}

// under returns base with the request's path appended, less prefix, keeping the
// request's escaping. The query is left to the caller.
func under(base *url.URL, prefix string, in *url.URL) *url.URL {
	rest := strings.TrimPrefix(in.Path, prefix)
	restRaw := (&url.URL{Path: rest}).EscapedPath()
	if esc := in.EscapedPath(); strings.HasPrefix(esc, prefix) {
		restRaw = strings.TrimPrefix(esc, prefix)
	}
	t := &url.URL{Scheme: base.Scheme, Host: base.Host}
	t.Path = strings.TrimSuffix(base.Path, "/") + rest
	t.RawPath = strings.TrimSuffix(base.EscapedPath(), "/") + restRaw
	if t.Path == "" {
		t.Path, t.RawPath = "/", ""
	}
	if t.RawPath == t.Path {
		t.RawPath = ""
	}
	return t
}

// LogRoutes logs where each route goes, once the token (and with it, for mcv2, the
// instance URLs) is known.
func (r *Router) LogRoutes(logger *slog.Logger) {
	if r.cfg.Provider == ProviderAcoustic {
		logger.Info("route", "from", "/XMLAPI", "to", r.cfg.API.JoinPath("XMLAPI").String())
		logger.Info("route", "from", "/rest/...", "to", r.cfg.API.JoinPath("rest").String()+"/...")
		return
	}
	var tok transport.Token
	if r.cfg.Source != nil {
		tok, _ = r.cfg.Source.Current() // never waits: without a token, the token-bound routes stay unnamed
	}
	if base, err := r.restBase(tok); err == nil {
		from := "/rest/..."
		if r.cfg.RESTPaths == RESTAll {
			from = "/rest/... and every other path but SOAP's"
		}
		logger.Info("route", "from", from, "to", base.String()+"...")
	}
	if ep, err := r.soapEndpoint(tok); err == nil {
		logger.Info("route", "from", "/soap, /Service.asmx", "to", ep.String())
	}
}
