package mcv1test_test

import (
	"bytes"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/internal/emulator/emulatortest"
	"github.com/tokentrip/tokentrip/provider/mcv1/mcv1test"
)

const (
	soap11NS = "http://schemas.xmlsoap.org/soap/envelope/"
	soap12NS = "http://www.w3.org/2003/05/soap-envelope"
	wsseNS   = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"

	retrieveBody = `<RetrieveRequestMsg xmlns="http://exacttarget.com/wsdl/partnerAPI"><RetrieveRequest><ObjectType>Subscriber</ObjectType><Properties>EmailAddress</Properties></RetrieveRequest></RetrieveRequestMsg>`
)

// envelope11 is a SOAP 1.1 Retrieve request with the given header blocks and a
// WS-Addressing MessageID the responses must relate to.
func envelope11(header string) string {
	return `<?xml version="1.0" encoding="utf-8"?>` +
		`<soap:Envelope xmlns:soap="` + soap11NS + `" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing">` +
		`<soap:Header><wsa:Action>Retrieve</wsa:Action><wsa:MessageID>urn:uuid:request-1</wsa:MessageID>` + header + `</soap:Header>` +
		`<soap:Body>` + retrieveBody + `</soap:Body></soap:Envelope>`
}

func fuelOAuth(tok string) string {
	return `<fueloauth xmlns="http://exacttarget.com">` + tok + `</fueloauth>`
}

func usernameToken(user, password string) string {
	return `<wsse:Security xmlns:wsse="` + wsseNS + `" soap:mustUnderstand="1"><wsse:UsernameToken>` +
		`<wsse:Username>` + user + `</wsse:Username>` +
		`<wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText">` + password + `</wsse:Password>` +
		`</wsse:UsernameToken></wsse:Security>`
}

func soapCall(t *testing.T, srv *mcv1test.Server, path, contentType, envelope string) emulatortest.Reply {
	t.Helper()
	return send(t, srv, http.MethodPost, path, contentType, envelope, "SOAPAction", "Retrieve")
}

func TestSOAPAccepted(t *testing.T) {
	srv := mcv1test.NewServer()
	defer srv.Close()
	tok := fetchToken(t, srv, tokenBody()).AccessToken

	tests := []struct {
		name, path, contentType, envelope, wantType string
	}{
		{
			name: "fueloauth, SOAP 1.1", envelope: envelope11(fuelOAuth(tok)),
		},
		{
			name: "fueloauth with an h: prefix and padding", path: "/service.ASMX",
			envelope: `<s:Envelope xmlns:s="` + soap11NS + `"><s:Header><h:fueloauth xmlns="http://exacttarget.com" xmlns:h="http://exacttarget.com">
			  ` + tok + `
			</h:fueloauth></s:Header><s:Body>` + retrieveBody + `</s:Body></s:Envelope>`,
		},
		{
			name:     "fueloauth without a namespace",
			envelope: envelope11(`<fueloauth>` + tok + `</fueloauth>`),
		},
		{
			name:     "default SOAP namespace, Body before Header",
			envelope: `<Envelope xmlns="` + soap11NS + `"><Body>` + retrieveBody + `</Body><Header>` + fuelOAuth(tok) + `</Header></Envelope>`,
		},
		{
			name:     "legacy oAuth block",
			envelope: envelope11(`<oAuth xmlns="http://exacttarget.com"><oAuthToken>` + tok + `</oAuthToken></oAuth>`),
		},
		{
			name:     "UsernameToken of the default API user",
			envelope: envelope11(usernameToken(emulator.MCAPIUsername, emulator.MCAPIPassword)),
		},
		{
			name:     "BOM, comment and processing instruction before the root",
			envelope: "\uFEFF<?xml version=\"1.0\"?><!-- hello --><?pi x?>" + strings.TrimPrefix(envelope11(fuelOAuth(tok)), `<?xml version="1.0" encoding="utf-8"?>`),
		},
		{
			name: "SOAP 1.2", contentType: `application/soap+xml; charset=utf-8; action="Retrieve"`,
			envelope: `<env:Envelope xmlns:env="` + soap12NS + `"><env:Header>` + fuelOAuth(tok) + `</env:Header><env:Body>` + retrieveBody + `</env:Body></env:Envelope>`,
			wantType: "application/soap+xml; charset=utf-8",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, ct, wantType := tt.path, tt.contentType, tt.wantType
			if path == "" {
				path = "/Service.asmx"
			}
			if ct == "" {
				ct = "text/xml; charset=utf-8"
			}
			if wantType == "" {
				wantType = "text/xml; charset=utf-8"
			}
			r := soapCall(t, srv, path, ct, tt.envelope)
			if r.Status != 200 {
				t.Fatalf("status %d, body %s", r.Status, r.Body)
			}
			emulatortest.WantContentType(t, r, wantType)
			for _, want := range []string{
				`<wsa:Action>RetrieveResponse</wsa:Action>`,
				`<RetrieveResponseMsg xmlns="http://exacttarget.com/wsdl/partnerAPI"><OverallStatus>OK</OverallStatus>`,
			} {
				if !strings.Contains(r.Body, want) {
					t.Errorf("body lacks %s:\n%s", want, r.Body)
				}
			}
			if got := srv.LastEnvelope(); !bytes.Equal(got, []byte(tt.envelope)) {
				t.Errorf("LastEnvelope = %q, want the bytes sent", got)
			}
		})
	}
	if st := srv.Stats(); st.SOAPCalls != len(tests) || len(st.Rejections) != 0 {
		t.Errorf("stats = %+v", st)
	}
}

var uuidPattern = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}`)

func TestSOAPTokenExpiredFault(t *testing.T) {
	clock := emulatortest.ManualClock()
	srv := mcv1test.NewServer(mcv1test.WithClock(clock.Now))
	defer srv.Close()
	tok := fetchToken(t, srv, tokenBody()).AccessToken
	clock.Advance(time.Hour)

	r := soapCall(t, srv, "/Service.asmx", "text/xml; charset=utf-8", envelope11(fuelOAuth(tok)))
	want := `<?xml version="1.0" encoding="utf-8"?>` +
		`<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"` +
		` xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:wsse="` + wsseNS + `" xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">` +
		`<soap:Header>` +
		`<wsa:Action>http://schemas.xmlsoap.org/ws/2004/08/addressing/fault</wsa:Action>` +
		`<wsa:MessageID>urn:uuid:UUID</wsa:MessageID>` +
		`<wsa:RelatesTo>urn:uuid:request-1</wsa:RelatesTo>` +
		`<wsa:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:To>` +
		`<wsse:Security><wsu:Timestamp wsu:Id="Timestamp-UUID"><wsu:Created>2026-01-02T04:04:05.000Z</wsu:Created><wsu:Expires>2026-01-02T04:09:05.000Z</wsu:Expires></wsu:Timestamp></wsse:Security>` +
		`</soap:Header><soap:Body><soap:Fault>` +
		`<faultcode xmlns:q0="` + wsseNS + `">q0:Security</faultcode>` +
		`<faultstring>Token Expired</faultstring>` +
		`<faultactor>` + srv.URL + `/Service.asmx</faultactor>` +
		`</soap:Fault></soap:Body></soap:Envelope>`
	emulatortest.WantReply(t, emulatortest.Reply{Status: r.Status, Body: uuidPattern.ReplaceAllString(r.Body, "UUID")}, 500, want)
	emulatortest.WantContentType(t, r, "text/xml; charset=utf-8")
	emulatortest.WantRejections(t, srv.Stats().Rejections, map[string]int{emulator.ReasonExpiredToken: 1})
}

func TestSOAPFaults(t *testing.T) {
	const (
		securityCode = `<faultcode xmlns:q0="` + wsseNS + `">q0:Security</faultcode>`
		clientCode   = `<faultcode>soap:Client</faultcode>`
	)
	tests := []struct {
		name     string
		prepare  func(srv *mcv1test.Server, tok string)
		envelope func(tok string) string
		status   int
		want     []string // fragments of the body, in order
		reason   string
	}{
		{
			name:     "unknown token",
			envelope: func(string) string { return envelope11(fuelOAuth("at-never-issued")) },
			status:   500, want: []string{securityCode, `<faultstring>Login Failed</faultstring>`}, reason: emulator.ReasonInvalidToken,
		},
		{
			name:     "revoked token",
			prepare:  func(srv *mcv1test.Server, tok string) { srv.RevokeToken(tok) },
			envelope: func(tok string) string { return envelope11(fuelOAuth(tok)) },
			status:   500, want: []string{securityCode, `<faultstring>Login Failed</faultstring>`}, reason: emulator.ReasonRevokedToken,
		},
		{
			name:     "expired token, SOAP 1.2",
			prepare:  func(srv *mcv1test.Server, tok string) { srv.ExpireToken(tok) },
			envelope: func(tok string) string { return strings.ReplaceAll(envelope11(fuelOAuth(tok)), soap11NS, soap12NS) },
			status:   500,
			want: []string{
				`<soap:Envelope xmlns:soap="` + soap12NS + `"`,
				`<soap:Code><soap:Value>soap:Sender</soap:Value><soap:Subcode><soap:Value xmlns:q0="` + wsseNS + `">q0:Security</soap:Value></soap:Subcode></soap:Code>`,
				`<soap:Reason><soap:Text xml:lang="en">Token Expired</soap:Text></soap:Reason>`,
			},
			reason: emulator.ReasonExpiredToken,
		},
		{
			name:     "wrong API user password",
			envelope: func(string) string { return envelope11(usernameToken(emulator.MCAPIUsername, "wrong")) },
			status:   500, want: []string{securityCode, `<faultstring>Login Failed</faultstring>`}, reason: emulator.ReasonInvalidToken,
		},
		{
			name:     "no credential",
			envelope: func(string) string { return envelope11("") },
			status:   500,
			want: []string{securityCode,
				`<faultstring>Security requirements are not satisfied because the security header is not present in the incoming message.</faultstring>`},
			reason: emulator.ReasonMissingToken,
		},
		{
			name: "fueloauth and UsernameToken",
			envelope: func(tok string) string {
				return envelope11(fuelOAuth(tok) + usernameToken(emulator.MCAPIUsername, emulator.MCAPIPassword))
			},
			status: 500,
			want:   []string{clientCode, `<faultstring>The SOAP header carries more than one credential; send exactly one.</faultstring>`},
			reason: emulator.ReasonDuplicateCredentials,
		},
		{
			name: "two fueloauth blocks",
			envelope: func(tok string) string {
				return envelope11(fuelOAuth(tok) + `<h:fueloauth xmlns:h="http://exacttarget.com">` + tok + `</h:fueloauth>`)
			},
			status: 500,
			want:   []string{clientCode, `<faultstring>The SOAP header carries more than one credential; send exactly one.</faultstring>`},
			reason: emulator.ReasonDuplicateCredentials,
		},
		{
			name:     "throttled",
			prepare:  func(srv *mcv1test.Server, _ string) { srv.ThrottleAPICalls(1) },
			envelope: func(tok string) string { return envelope11(fuelOAuth(tok)) },
			status:   500,
			want: []string{
				`<faultcode>soap:Server</faultcode><faultstring>Rate Limited</faultstring>`,
				`<detail><apifault xmlns="urn:fault.partner.exacttarget.com"><Code>17</Code><Message>Rate Limited</Message></apifault></detail>`,
			},
			reason: emulator.ReasonThrottled,
		},
		{
			name:     "not a SOAP envelope",
			envelope: func(string) string { return `<Envelope><Body/></Envelope>` },
			status:   400,
			want:     []string{clientCode, `<faultstring>Malformed SOAP envelope: root element is {}Envelope, not a SOAP Envelope</faultstring>`},
			reason:   emulator.ReasonMalformedEnvelope,
		},
		{
			name:     "truncated envelope",
			envelope: func(tok string) string { return envelope11(fuelOAuth(tok))[:200] },
			status:   400,
			want:     []string{clientCode, `<faultstring>Malformed SOAP envelope: `},
			reason:   emulator.ReasonMalformedEnvelope,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mcv1test.NewServer()
			defer srv.Close()
			tok := fetchToken(t, srv, tokenBody()).AccessToken
			if tt.prepare != nil {
				tt.prepare(srv, tok)
			}

			r := soapCall(t, srv, "/Service.asmx", "text/xml; charset=utf-8", tt.envelope(tok))
			if r.Status != tt.status {
				t.Errorf("status %d, want %d", r.Status, tt.status)
			}
			rest := r.Body
			for _, frag := range tt.want {
				i := strings.Index(rest, frag)
				if i < 0 {
					t.Fatalf("body lacks %s (in order):\n%s", frag, r.Body)
				}
				rest = rest[i+len(frag):]
			}
			if strings.Contains(r.Body, "OverallStatus") {
				t.Errorf("a fault also carries a result:\n%s", r.Body)
			}
			emulatortest.WantRejections(t, srv.Stats().Rejections, map[string]int{tt.reason: 1})
		})
	}
}
