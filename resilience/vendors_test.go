package resilience_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/provider/acoustic"
	"github.com/tokentrip/tokentrip/provider/acoustic/acoustictest"
	"github.com/tokentrip/tokentrip/provider/mcv1"
	"github.com/tokentrip/tokentrip/provider/mcv1/mcv1test"
	"github.com/tokentrip/tokentrip/provider/mcv2"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
	"github.com/tokentrip/tokentrip/transport"
)

// vendor is one of tokentrip's providers with the emulator of its vendor.
type vendor struct {
	name     string
	clientID string
	secrets  []string // the credentials its Config holds
	inFlight int      // API calls its client lets through at once
	apiHosts bool     // its Config takes further hosts for the credential's scope
	rest     api      // a REST call
	soap     api      // a SOAP call (Marketing Cloud) or an XML API call (Acoustic)

	// serve starts the emulator for setup; build makes the provider's Config from
	// set, lets tweak change it, and returns it with its Provider and Transport.
	serve func(s setup) (vendorEmulator, string, func() emulatorStats)
	build func(t *testing.T, set settings, tweak func(cfg any), opts []transport.Option) (cfg, provider any, tr *transport.Transport, err error)
}

// vendors lists the three providers; the suite runs a fault against each where the
// fault concerns what a provider decides (what is retried, what counts as rejected
// credentials, what a rejected token looks like, what is secret).
var vendors = []*vendor{mcv1Vendor, mcv2Vendor, acousticVendor}

// The paths and bodies of the calls the suite makes.
const (
	mcRESTPath     = "/platform/v1/endpoints"
	mcSOAPPath     = "/Service.asmx"
	acRESTPath     = "/rest/databases"
	acXMLAPIPath   = "/XMLAPI"
	soapEnvelope   = `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header/><s:Body><RetrieveRequestMsg xmlns="http://exacttarget.com/wsdl/partnerAPI"><RetrieveRequest><ObjectType>Subscriber</ObjectType><Properties>EmailAddress</Properties></RetrieveRequest></RetrieveRequestMsg></s:Body></s:Envelope>`
	xmlAPIEnvelope = `<Envelope><Body><GetLists><VISIBILITY>1</VISIBILITY><LIST_TYPE>2</LIST_TYPE></GetLists></Body></Envelope>`
	soapType       = "text/xml; charset=utf-8"
)

// Marketing Cloud's calls: REST with a Bearer header, SOAP with the token in a
// fueloauth block that the Transport puts into the envelope.
var (
	mcREST = api{"REST", func(ctx context.Context, h *harness) outcome {
		return send(ctx, h.client, http.MethodGet, h.url+mcRESTPath, "", nil)
	}}
	mcSOAP = api{"SOAP", func(ctx context.Context, h *harness) outcome {
		return send(ctx, h.client, http.MethodPost, h.url+mcSOAPPath, soapType, strings.NewReader(soapEnvelope))
	}}
)

// Acoustic's calls: REST and the XML API, both with a Bearer header. The XML API
// answers a failure with a 200 whose SUCCESS is not true.
var (
	acREST = api{"REST", func(ctx context.Context, h *harness) outcome {
		return send(ctx, h.client, http.MethodGet, h.url+acRESTPath, "", nil)
	}}
	acXMLAPI = api{"XML API", func(ctx context.Context, h *harness) outcome {
		o := send(ctx, h.client, http.MethodPost, h.url+acXMLAPIPath, "text/xml;charset=UTF-8", strings.NewReader(xmlAPIEnvelope))
		o.fault = o.status == http.StatusOK && !strings.Contains(strings.ToUpper(string(o.body)), "<SUCCESS>TRUE</SUCCESS>")
		return o
	}}
)

var mcv1Vendor = &vendor{
	name:     "mcv1",
	clientID: emulator.MCv1ClientID,
	secrets:  []string{emulator.MCv1ClientSecret},
	inFlight: 50,
	apiHosts: true,
	rest:     mcREST,
	soap:     mcSOAP,
	serve: func(s setup) (vendorEmulator, string, func() emulatorStats) {
		var opts []mcv1test.Option
		if s.clock != nil {
			opts = append(opts, mcv1test.WithClock(s.clock))
		}
		srv := mcv1test.NewServer(opts...)
		srv.SetTokenLatency(s.tokenLatency)
		return srv, srv.URL, func() emulatorStats {
			st := srv.Stats()
			return emulatorStats{st.TokenRequests, st.RESTCalls + st.SOAPCalls, st.Rejections}
		}
	},
	build: func(_ *testing.T, set settings, tweak func(any), opts []transport.Option) (any, any, *transport.Transport, error) {
		cfg := mcv1.Config{
			AuthURL:       set.AuthURL,
			ClientID:      emulator.MCv1ClientID,
			ClientSecret:  emulator.MCv1ClientSecret,
			APIHosts:      set.APIHosts,
			HTTPClient:    set.HTTPClient,
			Base:          set.Base,
			Retry:         set.Retry,
			Clock:         set.Clock,
			Logger:        set.Logger,
			Hook:          set.Hook,
			SourceOptions: set.SourceOptions,
		}
		if tweak != nil {
			tweak(&cfg)
		}
		p, err := mcv1.NewProvider(cfg)
		if err != nil {
			return nil, nil, nil, err
		}
		return cfg, p, p.NewTransport(opts...), nil
	},
}

var mcv2Vendor = &vendor{
	name:     "mcv2",
	clientID: emulator.MCv2ClientID,
	secrets:  []string{emulator.MCv2ClientSecret},
	inFlight: 50,
	apiHosts: true,
	rest:     mcREST,
	soap:     mcSOAP,
	serve: func(s setup) (vendorEmulator, string, func() emulatorStats) {
		var opts []mcv2test.Option
		if s.clock != nil {
			opts = append(opts, mcv2test.WithClock(s.clock))
		}
		srv := mcv2test.NewServer(opts...)
		srv.SetTokenLatency(s.tokenLatency)
		return srv, srv.URL, func() emulatorStats {
			st := srv.Stats()
			return emulatorStats{st.TokenRequests, st.RESTCalls + st.SOAPCalls, st.Rejections}
		}
	},
	build: func(_ *testing.T, set settings, tweak func(any), opts []transport.Option) (any, any, *transport.Transport, error) {
		cfg := mcv2.Config{
			AuthURL:       set.AuthURL,
			ClientID:      emulator.MCv2ClientID,
			ClientSecret:  emulator.MCv2ClientSecret,
			APIHosts:      set.APIHosts,
			HTTPClient:    set.HTTPClient,
			Base:          set.Base,
			Retry:         set.Retry,
			Clock:         set.Clock,
			Logger:        set.Logger,
			Hook:          set.Hook,
			SourceOptions: set.SourceOptions,
		}
		if tweak != nil {
			tweak(&cfg)
		}
		p, err := mcv2.NewProvider(cfg)
		if err != nil {
			return nil, nil, nil, err
		}
		return cfg, p, p.NewTransport(opts...), nil
	},
}

var acousticVendor = &vendor{
	name:     "acoustic",
	clientID: emulator.AcousticClientID,
	secrets:  []string{emulator.AcousticClientSecret, emulator.AcousticRefreshToken},
	inFlight: acoustic.DefaultMaxInFlight,
	rest:     acREST,
	soap:     acXMLAPI,
	serve: func(s setup) (vendorEmulator, string, func() emulatorStats) {
		var opts []acoustictest.Option
		if s.clock != nil {
			opts = append(opts, acoustictest.WithClock(s.clock))
		}
		srv := acoustictest.NewServer(opts...)
		srv.SetTokenLatency(s.tokenLatency)
		return srv, srv.URL, func() emulatorStats {
			st := srv.Stats()
			return emulatorStats{st.TokenRequests, st.RESTCalls + st.XMLAPICalls, st.Rejections}
		}
	},
	build: func(t *testing.T, set settings, tweak func(any), opts []transport.Option) (any, any, *transport.Transport, error) {
		if len(set.APIHosts) > 0 {
			t.Fatal("acoustic's Config takes no further API hosts")
		}
		cfg := acoustic.Config{
			BaseURL:       set.AuthURL,
			ClientID:      emulator.AcousticClientID,
			ClientSecret:  emulator.AcousticClientSecret,
			RefreshToken:  emulator.AcousticRefreshToken,
			HTTPClient:    set.HTTPClient,
			Base:          set.Base,
			Retry:         set.Retry,
			Clock:         set.Clock,
			Logger:        set.Logger,
			Hook:          set.Hook,
			SourceOptions: set.SourceOptions,
		}
		if tweak != nil {
			tweak(&cfg)
		}
		p, err := acoustic.NewProvider(cfg)
		if err != nil {
			return nil, nil, nil, err
		}
		tr, err := acoustic.NewTransport(cfg, opts...)
		return cfg, p, tr, err
	},
}
