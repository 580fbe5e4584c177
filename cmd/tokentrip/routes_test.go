package main

import (
	"context"
	"errors"
	"net/url"
	"testing"

	"github.com/tokentrip/tokentrip/internal/proxy"
)

// The proxy's paths map onto fixed targets, keeping the request's escaping.
func TestRoutes(t *testing.T) {
	mc := mustRouter(t, &settings{provider: providerMCv1, subdomain: "mc563885gzs27c5t9-63k636tzgm"})
	legacy := mustRouter(t, &settings{provider: providerMCv1, authURL: "https://auth-s7.exacttargetapis.com"})
	override := mustRouter(t, &settings{provider: providerMCv2, restURL: "http://127.0.0.1:9000/base/", soapURL: "http://127.0.0.1:9001"})
	ac := mustRouter(t, &settings{provider: providerAcoustic, pod: "6"})
	allREST := mustRouter(t, &settings{provider: providerMCv1, subdomain: "mc563885gzs27c5t9-63k636tzgm", restPaths: "all"})
	const tenantREST = "https://mc563885gzs27c5t9-63k636tzgm.rest.marketingcloudapis.com"
	const tenantSOAP = "https://mc563885gzs27c5t9-63k636tzgm.soap.marketingcloudapis.com/Service.asmx"
	for _, tc := range []struct {
		name  string
		r     *proxy.Router
		path  string // as it arrives, escaped
		route string
		want  string // the target, escaped
		err   error
	}{
		{"rest", mc, "/rest/hub/v1/campaigns", proxy.RouteREST, tenantREST + "/hub/v1/campaigns", nil},
		{"rest root", mc, "/rest", proxy.RouteREST, tenantREST + "/", nil},
		{"rest escaping kept", mc, "/rest/data/v1/key%2Fwith%2Fslashes/rows", proxy.RouteREST, tenantREST + "/data/v1/key%2Fwith%2Fslashes/rows", nil},
		{"soap", mc, "/soap", proxy.RouteSOAP, tenantSOAP, nil},
		{"Service.asmx any case", mc, "/service.ASMX", proxy.RouteSOAP, tenantSOAP, nil},
		{"legacy stack", legacy, "/rest/platform/v1/endpoints", proxy.RouteREST, "https://www.exacttargetapis.com/platform/v1/endpoints", nil},
		{"legacy SOAP", legacy, "/Service.asmx", proxy.RouteSOAP, "https://webservice.exacttarget.com/Service.asmx", nil},
		{"rest override with a path", override, "/rest/x", proxy.RouteREST, "http://127.0.0.1:9000/base/x", nil},
		{"soap override without a path", override, "/soap", proxy.RouteSOAP, "http://127.0.0.1:9001/Service.asmx", nil},
		{"restless prefix", mc, "/restaurant", "", "", proxy.ErrNoRoute},
		{"token endpoint", mc, "/v2/token", "", "", proxy.ErrNoRoute},
		{"dot segments", mc, "/rest/../v2/token", "", "", proxy.ErrDotSegments},
		{"escaped dot segments", mc, "/rest/%2e%2e/v2/token", "", "", proxy.ErrDotSegments},
		{"acoustic XML API", ac, "/XMLAPI", proxy.RouteXMLAPI, "https://api-campaign-eu-1.goacoustic.com/XMLAPI", nil},
		{"acoustic XML API any case", ac, "/xmlapi", proxy.RouteXMLAPI, "https://api-campaign-eu-1.goacoustic.com/xmlapi", nil},
		{"acoustic REST", ac, "/rest/databases/123", proxy.RouteREST, "https://api-campaign-eu-1.goacoustic.com/rest/databases/123", nil},
		{"acoustic SOAP", ac, "/Service.asmx", "", "", proxy.ErrNoRoute},
		// --rest-paths all: clients that resolve REST paths against the proxy's origin.
		{"all: fuel-rest path", allREST, "/platform/v1/endpoints", proxy.RouteREST, tenantREST + "/platform/v1/endpoints", nil},
		{"all: prefixed path still drops /rest", allREST, "/rest/hub/v1/campaigns", proxy.RouteREST, tenantREST + "/hub/v1/campaigns", nil},
		{"all: SOAP stays SOAP", allREST, "/Service.asmx", proxy.RouteSOAP, tenantSOAP, nil},
		{"all: escaping kept", allREST, "/data/v1/key%2Fwith%2Fslashes/rows", proxy.RouteREST, tenantREST + "/data/v1/key%2Fwith%2Fslashes/rows", nil},
		{"all: dot segments", allREST, "/platform/../v2/token", "", "", proxy.ErrDotSegments},
		{"prefixed: fuel-rest path", mc, "/platform/v1/endpoints", "", "", proxy.ErrNoRoute},
		{"acoustic ignores the mode", ac, "/platform/v1/endpoints", "", "", proxy.ErrNoRoute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, err := url.Parse("http://127.0.0.1:8787" + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := tc.r.Resolve(context.Background(), in)
			if !errors.Is(err, tc.err) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if err != nil {
				return
			}
			if got.Name != tc.route || got.Target.String() != tc.want {
				t.Errorf("route %s → %s, want %s → %s", got.Name, got.Target, tc.route, tc.want)
			}
		})
	}
}

// mustRouter is the Router of s, failing the test if there is none.
func mustRouter(t *testing.T, s *settings) *proxy.Router {
	t.Helper()
	r, err := newRouter(s, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// A listen address that is not loopback needs --allow-remote.
func TestCheckListen(t *testing.T) {
	for _, tc := range []struct {
		addr   string
		remote bool
		ok     bool
	}{
		{"127.0.0.1:8787", false, true},
		{"[::1]:8787", false, true},
		{"localhost:0", false, true},
		{":8787", false, false},
		{"0.0.0.0:8787", false, false},
		{"192.0.2.7:8787", false, false},
		{"0.0.0.0:8787", true, true},
		{"127.0.0.1", false, false},
		// Ports and hosts that could only fail once the proxy has fetched a token.
		{"127.0.0.1:99999", false, false},
		{"127.0.0.1:65536", false, false},
		{"127.0.0.1:-1", false, false},
		{"127.0.0.1:http", false, false},
		{"127.0.0.1:+80", false, false},
		{"127.0.0.1:", false, false},
		{"127.0.0.1:65535", false, true},
		{"999.0.0.1:8787", true, false},
		{"bad_host!:8787", true, false},
		{"proxy.internal:8787", true, true},
		{"[::1]:0", false, true},
	} {
		err := checkListen(tc.addr, tc.remote)
		if (err == nil) != tc.ok {
			t.Errorf("checkListen(%q, %v) = %v, want ok %v", tc.addr, tc.remote, err, tc.ok)
		}
	}
}
