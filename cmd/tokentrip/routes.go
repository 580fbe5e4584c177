package main

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/tokentrip/tokentrip/transport"
)

// Marketing Cloud's shared hosts for tenants without a subdomain (older stacks),
// which the legacy provider already counts as the credential's hosts.
const (
	legacyRESTURL = "https://www.exacttargetapis.com/"
	legacySOAPURL = "https://webservice.exacttarget.com/Service.asmx"
)

// The proxy's routes, as the access log names them.
const (
	routeREST   = "rest"
	routeSOAP   = "soap"
	routeXMLAPI = "xmlapi"
)

// Errors of resolve, each with its own status.
var (
	errNoRoute     = errors.New("no route for this path")
	errDotSegments = errors.New(`the path has "." or ".." segments`)
)

// router maps the proxy's paths to the provider's endpoints. Every target is fixed
// by the configuration or by the token's instance URLs; nothing in a request can
// send it, or its credential, anywhere else.
type router struct {
	provider string
	src      *transport.Source
	rest     *url.URL // Marketing Cloud REST base; nil: the token's REST instance URL
	soap     *url.URL // Marketing Cloud SOAP endpoint; nil: the token's SOAP instance URL
	api      *url.URL // Acoustic: the org's API base URL
	fallback *router  // the subdomain's endpoints, for a token without instance URLs
}

// route is where one request goes.
type route struct {
	name   string   // routeREST, routeSOAP or routeXMLAPI
	target *url.URL // scheme, host and path; the request's query is added later
}

// newRouter works out the targets the settings describe. Marketing Cloud: REST and
// SOAP from --rest-url and --soap-url, else from the token's instance URLs (mcv2),
// else from the subdomain, else the legacy shared hosts (mcv1). Acoustic: the pod
// or --base-url.
func newRouter(s *settings, src *transport.Source) (*router, error) {
	r := &router{provider: s.provider, src: src}
	if s.provider == providerAcoustic {
		base, err := s.acousticConfig(nil).Endpoint()
		if err != nil {
			return nil, asUsage(err)
		}
		r.api, _ = url.Parse(base)
		return r, nil
	}
	var err error
	if r.rest, err = endpointURL("--rest-url", s.restURL, false); err != nil {
		return nil, err
	}
	if r.soap, err = endpointURL("--soap-url", s.soapURL, true); err != nil {
		return nil, err
	}
	sub := strings.ToLower(s.subdomain)
	tenant := &router{provider: s.provider}
	switch {
	case sub != "":
		tenant.rest, _ = url.Parse("https://" + sub + ".rest.marketingcloudapis.com/")
		tenant.soap, _ = url.Parse("https://" + sub + ".soap.marketingcloudapis.com/Service.asmx")
	case s.provider == providerMCv1:
		tenant.rest, _ = url.Parse(legacyRESTURL)
		tenant.soap, _ = url.Parse(legacySOAPURL)
	}
	if s.provider == providerMCv2 {
		// Enhanced packages learn their endpoints from each token.
		r.fallback = tenant
		return r, nil
	}
	if r.rest == nil {
		r.rest = tenant.rest
	}
	if r.soap == nil {
		r.soap = tenant.soap
	}
	return r, nil
}

// endpointURL checks an endpoint override: an absolute https URL (http only to a
// loopback host) with no user info, query or fragment. A SOAP URL without a path
// gets /Service.asmx.
func endpointURL(flagName, raw string, soap bool) (*url.URL, error) {
	if raw == "" {
		return nil, nil
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || u.Opaque != "":
		return nil, usagef("%s: want an absolute URL such as https://host/", flagName)
	case u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return nil, usagef("%s: want a URL without user info, query or fragment", flagName)
	case u.Scheme == "https":
	case u.Scheme == "http" && transport.IsLoopback(u.Hostname()):
	default:
		return nil, usagef("%s: want https (plain http only to a loopback host)", flagName)
	}
	if soap && (u.Path == "" || u.Path == "/") {
		u.Path, u.RawPath = "/Service.asmx", ""
	}
	return u, nil
}

// apiHosts are the override hosts the credential may be sent to.
func (s *settings) apiHosts() []string {
	var hosts []string
	for _, u := range []string{s.restURL, s.soapURL} {
		if u != "" {
			hosts = append(hosts, u)
		}
	}
	return hosts
}

// resolve finds the route of an incoming request's URL.
func (r *router) resolve(ctx context.Context, in *url.URL) (route, error) {
	p := in.Path
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "." || seg == ".." {
			return route{}, errDotSegments
		}
	}
	if r.provider == providerAcoustic {
		switch {
		case strings.EqualFold(p, "/XMLAPI"):
			return route{routeXMLAPI, under(r.api, "", in)}, nil
		case strings.HasPrefix(p, "/rest/"):
			return route{routeREST, under(r.api, "", in)}, nil
		}
		return route{}, errNoRoute
	}
	isREST := p == "/rest" || strings.HasPrefix(p, "/rest/")
	isSOAP := strings.EqualFold(p, "/soap") || strings.EqualFold(p, "/Service.asmx")
	if !isREST && !isSOAP {
		return route{}, errNoRoute
	}
	var tok transport.Token
	if (isREST && r.rest == nil) || (isSOAP && r.soap == nil) {
		// An enhanced package's endpoints come with its token.
		var err error
		if tok, err = r.src.Token(ctx); err != nil {
			return route{}, err
		}
	}
	if isREST {
		base, err := r.restBase(tok)
		if err != nil {
			return route{}, err
		}
		return route{routeREST, under(base, "/rest", in)}, nil
	}
	ep, err := r.soapEndpoint(tok)
	if err != nil {
		return route{}, err
	}
	t := *ep
	return route{routeSOAP, &t}, nil
}

// restBase is the Marketing Cloud REST base URL: the override, or tok's instance.
func (r *router) restBase(tok transport.Token) (*url.URL, error) {
	switch {
	case r.rest != nil:
		return r.rest, nil
	case tok.RESTInstanceURL != "":
		return url.Parse(tok.RESTInstanceURL)
	case r.fallback != nil && r.fallback.rest != nil:
		return r.fallback.rest, nil
	}
	return nil, errors.New("the token names no REST instance URL: set --rest-url")
}

// soapEndpoint is the Marketing Cloud SOAP endpoint URL: the override, or tok's
// instance.
func (r *router) soapEndpoint(tok transport.Token) (*url.URL, error) {
	switch {
	case r.soap != nil:
		return r.soap, nil
	case tok.SOAPInstanceURL != "":
		u, err := url.Parse(tok.SOAPInstanceURL)
		if err != nil {
			return nil, err
		}
		return u.JoinPath("Service.asmx"), nil
	case r.fallback != nil && r.fallback.soap != nil:
		return r.fallback.soap, nil
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

// statusOf is the HTTP status the proxy answers a resolve error with.
func statusOf(err error) int {
	switch {
	case errors.Is(err, errNoRoute):
		return http.StatusNotFound
	case errors.Is(err, errDotSegments):
		return http.StatusBadRequest
	default:
		return upstreamStatus(err)
	}
}
