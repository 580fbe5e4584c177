package resilience_test

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/provider"
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
	rest     api      // a REST call
	soap     api      // a SOAP call (Marketing Cloud) or an XML API call (Acoustic)

	// serve starts the emulator on clock (nil: the wall clock) and returns its URL;
	// build makes the provider's Config from set, lets tweak change it, and returns
	// it with its Provider and Transport.
	serve func(clock func() time.Time) (vendorEmulator, string)
	build func(t *testing.T, set settings, tweak func(cfg any)) (cfg, provider any, tr *transport.Transport, err error)
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

var (
	mcv1Vendor = mcVendor("mcv1", emulator.MCv1ClientID, emulator.MCv1ClientSecret, mcv1.NewProvider,
		func(clock func() time.Time) (vendorEmulator, string) {
			s := mcv1test.NewServer(mcv1test.WithClock(clock))
			return s, s.URL
		})
	mcv2Vendor = mcVendor("mcv2", emulator.MCv2ClientID, emulator.MCv2ClientSecret, mcv2.NewProvider,
		func(clock func() time.Time) (vendorEmulator, string) {
			s := mcv2test.NewServer(mcv2test.WithClock(clock))
			return s, s.URL
		})
)

// mcVendor is a Marketing Cloud provider: its Config takes an auth URL, further
// API hosts and a client id and secret; its Provider makes the Transport.
func mcVendor[C any, P interface{ NewTransport() *transport.Transport }](name, clientID, clientSecret string, newProvider func(C) (P, error), serve func(clock func() time.Time) (vendorEmulator, string)) *vendor {
	return &vendor{
		name:     name,
		clientID: clientID,
		secrets:  []string{clientSecret},
		inFlight: 50,
		rest:     mcREST,
		soap:     mcSOAP,
		serve:    serve,
		build: func(_ *testing.T, set settings, tweak func(any)) (any, any, *transport.Transport, error) {
			var cfg C
			setFields(&cfg, struct{ AuthURL, ClientID, ClientSecret string }{set.AuthURL, clientID, clientSecret})
			return buildWith(cfg, set.Common, tweak, newProvider, func(_ C, p P) (*transport.Transport, error) {
				return p.NewTransport(), nil
			})
		},
	}
}

var acousticVendor = &vendor{
	name:     "acoustic",
	clientID: emulator.AcousticClientID,
	secrets:  []string{emulator.AcousticClientSecret, emulator.AcousticRefreshToken},
	inFlight: acoustic.DefaultMaxInFlight,
	rest:     acREST,
	soap:     acXMLAPI,
	serve: func(clock func() time.Time) (vendorEmulator, string) {
		s := acoustictest.NewServer(acoustictest.WithClock(clock))
		return s, s.URL
	},
	build: func(_ *testing.T, set settings, tweak func(any)) (any, any, *transport.Transport, error) {
		cfg := acoustic.Config{
			BaseURL:      set.AuthURL,
			ClientID:     emulator.AcousticClientID,
			ClientSecret: emulator.AcousticClientSecret,
			RefreshToken: emulator.AcousticRefreshToken,
		}
		return buildWith(cfg, set.Common, tweak, acoustic.NewProvider, func(cfg acoustic.Config, _ *acoustic.Provider) (*transport.Transport, error) {
			return acoustic.NewTransport(cfg)
		})
	},
}

// buildWith sets the common settings on cfg, lets tweak change it, and builds the
// provider's Provider and Transport from it.
func buildWith[C, P any](cfg C, common provider.Common, tweak func(any), newProvider func(C) (P, error), newTransport func(C, P) (*transport.Transport, error)) (any, any, *transport.Transport, error) {
	setFields(&cfg, struct{ Common provider.Common }{common})
	if tweak != nil {
		tweak(&cfg)
	}
	p, err := newProvider(cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	tr, err := newTransport(cfg, p)
	return cfg, p, tr, err
}

// setFields sets each field of the struct src on the field of the same name of the
// struct dst points to.
func setFields(dst, src any) {
	d := reflect.ValueOf(dst).Elem()
	v := reflect.ValueOf(src)
	for i := range v.NumField() {
		name := v.Type().Field(i).Name
		f := d.FieldByName(name)
		if !f.IsValid() {
			panic(fmt.Sprintf("%s has no field %s", d.Type(), name))
		}
		f.Set(v.Field(i))
	}
}
