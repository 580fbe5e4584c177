package benchmarks

import (
	"context"
	"net/http"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/tokentrip/tokentrip/internal/marketingcloud"
	"github.com/tokentrip/tokentrip/internal/providerfunc"
	"github.com/tokentrip/tokentrip/transport"
)

// nopBase answers every request at once without touching the network, so that only
// the authenticating layer is measured.
type nopBase struct{ resp *http.Response }

func (n nopBase) RoundTrip(*http.Request) (*http.Response, error) { return n.resp, nil }

// limitTransport is the least any authenticating RoundTripper can do: a shallow copy
// of the request with its own header map and one precomputed header.
type limitTransport struct {
	base  http.RoundTripper
	value []string
}

func (l limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	out := new(http.Request)
	*out = *req
	out.Header = make(http.Header, len(req.Header)+1)
	for k, v := range req.Header {
		out.Header[k] = v
	}
	out.Header["Authorization"] = l.value
	return l.base.RoundTrip(out)
}

// BenchmarkWarmPath measures one authenticated request with a fresh cached token:
// tokentrip's Transport (plain, and SOAP-enabled as the Marketing Cloud providers build
// it), x/oauth2's Transport over a ReuseTokenSource, and the limit.
func BenchmarkWarmPath(b *testing.B) {
	req, rts := warmPathTransports(b)
	for _, c := range rts {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := c.rt.RoundTrip(req); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// namedTransport is one RoundTripper under measurement.
type namedTransport struct {
	name string
	rt   http.RoundTripper
}

// warmPathTransports returns the request and the RoundTrippers of the warm-path
// benchmarks, their caches warm; the limit comes last.
func warmPathTransports(b *testing.B) (*http.Request, []namedTransport) {
	const token = "eyJhbGciOiJIUzI1NiJ9.warm-path-benchmark-token"
	base := nopBase{resp: &http.Response{StatusCode: http.StatusOK, Body: http.NoBody}}
	req, _ := http.NewRequest(http.MethodGet, "https://mc123.rest.marketingcloudapis.com/hub/v1/campaigns", nil)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "benchmark")

	src := transport.NewSource(providerfunc.Func(func(context.Context) (transport.Token, error) {
		return transport.Token{AccessToken: token, Expiry: time.Now().Add(time.Hour)}, nil
	}), transport.Settings{})
	tokentrip := transport.New(src, transport.Options{Hosts: []string{"*.marketingcloudapis.com"}, Base: base})
	// What the Marketing Cloud providers build: SOAP-enabled, here on a REST call.
	withSOAP := transport.New(src, transport.Options{Hosts: []string{"*.marketingcloudapis.com"}, Base: base, SOAP: marketingcloud.FuelOAuth})
	ots := oauth2.ReuseTokenSource(nil, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token, Expiry: time.Now().Add(time.Hour)}))
	xoauth2 := &oauth2.Transport{Source: ots, Base: base}
	limit := limitTransport{base: base, value: []string{"Bearer " + token}}

	rts := []namedTransport{{"tokentrip", tokentrip}, {"tokentrip-soap", withSOAP}, {"oauth2", xoauth2}, {"limit", limit}}
	for _, c := range rts {
		if _, err := c.rt.RoundTrip(req); err != nil { // warm the cache
			b.Fatal(err)
		}
	}
	return req, rts
}
