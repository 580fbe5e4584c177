package main

import (
	"net/url"
	"strings"

	"github.com/tokentrip/tokentrip/internal/httpx"
	"github.com/tokentrip/tokentrip/internal/proxy"
	"github.com/tokentrip/tokentrip/transport"
)

// Marketing Cloud's shared hosts for tenants without a subdomain (older stacks),
// which the legacy provider already counts as the credential's hosts.
const (
	legacyRESTURL = "https://www.exacttargetapis.com/"
	legacySOAPURL = "https://webservice.exacttarget.com/Service.asmx"
)

// --rest-paths values.
const (
	restPathsPrefixed = "prefixed"
	restPathsAll      = "all"
)

// newRouter works out the targets the settings describe. Marketing Cloud: REST and
// SOAP from --rest-url and --soap-url, else from the token's instance URLs (mcv2),
// else from the subdomain, else the legacy shared hosts (mcv1). Acoustic: the pod
// or --base-url.
func newRouter(s *settings, src *transport.Source) (*proxy.Router, error) {
	cfg := proxy.RouterConfig{Provider: s.provider, Source: src}
	if s.provider == providerAcoustic {
		base, err := s.acousticConfig(nil).Endpoint()
		if err != nil {
			return nil, asUsage(err)
		}
		cfg.API, _ = url.Parse(base)
		return proxy.NewRouter(cfg), nil
	}
	switch strings.ToLower(s.restPaths) {
	case "", restPathsPrefixed:
	case restPathsAll:
		cfg.RESTPaths = proxy.RESTAll
	default:
		return nil, usagef("--rest-paths %q: use %s (only /rest/... goes to REST) or %s (every path but SOAP's does)", s.restPaths, restPathsPrefixed, restPathsAll)
	}
	var err error
	if cfg.REST, err = endpointURL("--rest-url", s.restURL, false); err != nil {
		return nil, err
	}
	if cfg.SOAP, err = endpointURL("--soap-url", s.soapURL, true); err != nil {
		return nil, err
	}
	var tenantREST, tenantSOAP *url.URL
	switch sub := strings.ToLower(s.subdomain); {
	case sub != "":
		tenantREST, _ = url.Parse("https://" + sub + ".rest.marketingcloudapis.com/")
		tenantSOAP, _ = url.Parse("https://" + sub + ".soap.marketingcloudapis.com/Service.asmx")
	case s.provider == providerMCv1:
		tenantREST, _ = url.Parse(legacyRESTURL)
		tenantSOAP, _ = url.Parse(legacySOAPURL)
	}
	if s.provider == providerMCv2 {
		// Enhanced packages learn their endpoints from each token.
		cfg.FallbackREST, cfg.FallbackSOAP = tenantREST, tenantSOAP
		return proxy.NewRouter(cfg), nil
	}
	if cfg.REST == nil {
		cfg.REST = tenantREST
	}
	if cfg.SOAP == nil {
		cfg.SOAP = tenantSOAP
	}
	return proxy.NewRouter(cfg), nil
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
	case u.Scheme == "http" && httpx.IsLoopback(u.Hostname()):
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
