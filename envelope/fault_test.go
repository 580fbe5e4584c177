package envelope

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// mcAuthFault is Marketing Cloud's answer (HTTP 500) to an expired or
// invalid token: reason is "Token Expired" or "Login Failed".
func mcAuthFault(reason string) string {
	return `<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd">
  <soap:Header>
    <wsa:Action>http://schemas.xmlsoap.org/ws/2004/08/addressing/fault</wsa:Action>
    <wsa:MessageID>urn:uuid:1b5cc6d5-2a4f-4d6e-9d0c-3d1f3c5e4a21</wsa:MessageID>
    <wsa:RelatesTo>urn:uuid:6f1e0f9a-7c1b-4a57-9f3e-0a3c2b1d4e5f</wsa:RelatesTo>
    <wsa:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:To>
    <wsse:Security>
      <wsu:Timestamp wsu:Id="Timestamp-4d1b1c8e-3b7a-4a0e-8f7e-5b2a6c9d0e1f">
        <wsu:Created>2024-03-12T10:15:02Z</wsu:Created>
        <wsu:Expires>2024-03-12T10:20:02Z</wsu:Expires>
      </wsu:Timestamp>
    </wsse:Security>
  </soap:Header>
  <soap:Body>
    <soap:Fault>
      <faultcode xmlns:q0="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">q0:Security</faultcode>
      <faultstring>` + reason + `</faultstring>
      <faultactor>https://mc563885gzs27c5t9-63k636tzgm.soap.marketingcloudapis.com/Service.asmx</faultactor>
    </soap:Fault>
  </soap:Body>
</soap:Envelope>`
}

const (
	mcRateLimited = `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>` +
		`<soap:Fault><faultcode>soap:Server</faultcode><faultstring>Rate Limited</faultstring>` +
		`<detail><apifault xmlns="urn:fault.partner.exacttarget.com"><Code>17</Code><Message>Rate Limited</Message></apifault></detail>` +
		`</soap:Fault></soap:Body></soap:Envelope>`
	mcApplicationError = `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>` +
		`<RetrieveResponseMsg xmlns="http://exacttarget.com/wsdl/partnerAPI"><OverallStatus>Error: The Request Property(s) Foo do not match with the fields of Subscriber retrieve</OverallStatus>` +
		`<RequestID>7ac7a8a1-1c4e-4a39-9b0b-0f7c3e2b8d11</RequestID></RetrieveResponseMsg></soap:Body></soap:Envelope>`
	soap12AuthFault = `<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"><env:Body>` +
		`<env:Fault><env:Code><env:Value>env:Sender</env:Value><env:Subcode><env:Value>wsse:FailedAuthentication</env:Value></env:Subcode></env:Code>` +
		`<env:Reason><env:Text xml:lang="en">The security token could not be authenticated</env:Text><env:Text xml:lang="de">Das Token ist ungültig</env:Text></env:Reason>` +
		`<env:Node>https://soap.example.com/node</env:Node><env:Role>http://www.w3.org/2003/05/soap-envelope/role/ultimateReceiver</env:Role>` +
		`<env:Detail><e:Info xmlns:e="urn:e">see <![CDATA[logs]]></e:Info></env:Detail></env:Fault></env:Body></env:Envelope>`
	soap12Timeout = `<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body><env:Fault>` +
		`<env:Code><env:Value>env:Receiver</env:Value><env:Subcode><env:Value xmlns:m="urn:m">m:MessageTimeout</env:Value>` +
		`<env:Subcode><env:Value xmlns:m="urn:m2">m:Retry</env:Value></env:Subcode></env:Subcode></env:Code>` +
		`<env:Reason><env:Text xml:lang="en">Sender Timeout</env:Text></env:Reason></env:Fault></env:Body></env:Envelope>`
)

func TestParseFault(t *testing.T) {
	wsse := func(local string) xml.Name { return xml.Name{Space: uriWSSE, Local: local} }
	for _, tt := range []struct {
		name string
		in   string
		want Fault
		auth bool
	}{
		{
			name: "Marketing Cloud: token expired",
			in:   mcAuthFault("Token Expired"),
			want: Fault{Version: "1.1", Code: wsse("Security"), Reason: "Token Expired", Actor: "https://mc563885gzs27c5t9-63k636tzgm.soap.marketingcloudapis.com/Service.asmx"},
			auth: true,
		},
		{
			name: "Marketing Cloud: login failed, in capitals",
			in:   mcAuthFault("LOGIN FAILED"),
			want: Fault{Version: "1.1", Code: wsse("Security"), Reason: "LOGIN FAILED", Actor: "https://mc563885gzs27c5t9-63k636tzgm.soap.marketingcloudapis.com/Service.asmx"},
			auth: true,
		},
		{
			name: "a login failure under another code",
			in:   `<s:Envelope xmlns:s=` + ns11 + `><s:Body><s:Fault><faultcode>s:Client</faultcode><faultstring> login failed </faultstring></s:Fault></s:Body></s:Envelope>`,
			want: Fault{Version: "1.1", Code: xml.Name{Space: uriSOAP11, Local: "Client"}, Reason: "login failed"},
			auth: true,
		},
		{
			name: "Marketing Cloud: rate limited",
			in:   mcRateLimited,
			want: Fault{Version: "1.1", Code: xml.Name{Space: uriSOAP11, Local: "Server"}, Reason: "Rate Limited",
				Detail: []byte(`<apifault xmlns="urn:fault.partner.exacttarget.com"><Code>17</Code><Message>Rate Limited</Message></apifault>`)},
		},
		{
			name: "SOAP 1.2 with a WS-Security subcode",
			in:   soap12AuthFault,
			want: Fault{Version: "1.2", Code: xml.Name{Space: uriSOAP12, Local: "Sender"}, Subcodes: []xml.Name{wsse("FailedAuthentication")},
				Reason: "The security token could not be authenticated", Node: "https://soap.example.com/node",
				Actor: "http://www.w3.org/2003/05/soap-envelope/role/ultimateReceiver", Detail: []byte(`<e:Info xmlns:e="urn:e">see <![CDATA[logs]]></e:Info>`)},
			auth: true,
		},
		{
			name: "SOAP 1.2 timeout, nested subcodes with rebound prefixes",
			in:   soap12Timeout,
			want: Fault{Version: "1.2", Code: xml.Name{Space: uriSOAP12, Local: "Receiver"},
				Subcodes: []xml.Name{{Space: "urn:m", Local: "MessageTimeout"}, {Space: "urn:m2", Local: "Retry"}}, Reason: "Sender Timeout"},
		},
		{
			name: "unprefixed and undeclared codes",
			in:   `<Envelope xmlns=` + ns11 + `><Body><Fault><faultcode>x:Odd</faultcode><faultstring/><detail/></Fault></Body></Envelope>`,
			want: Fault{Version: "1.1", Code: xml.Name{Space: "x", Local: "Odd"}, Detail: []byte{}},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseFault(strings.NewReader(tt.in), 0)
			if err != nil {
				t.Fatal(err)
			}
			if !equalFaults(*f, tt.want) {
				t.Errorf("got  %#v\nwant %#v", *f, tt.want)
			}
			if f.IsAuth() != tt.auth {
				t.Errorf("IsAuth() = %t, want %t", f.IsAuth(), tt.auth)
			}
		})
	}
}

func equalFaults(a, b Fault) bool {
	return a.Version == b.Version && a.Code == b.Code && slices.Equal(a.Subcodes, b.Subcodes) &&
		a.Reason == b.Reason && a.Actor == b.Actor && a.Node == b.Node &&
		bytes.Equal(a.Detail, b.Detail) && (a.Detail == nil) == (b.Detail == nil)
}

func TestParseFaultDetailUnmarshals(t *testing.T) {
	f, err := ParseFault(strings.NewReader(mcRateLimited), 0)
	if err != nil {
		t.Fatal(err)
	}
	var apifault struct {
		Code    int
		Message string
	}
	if err := xml.Unmarshal(f.Detail, &apifault); err != nil || apifault.Code != 17 {
		t.Errorf("apifault = %+v, %v; want Code 17", apifault, err)
	}
	if got := f.Error(); got != "SOAP fault Server: Rate Limited" {
		t.Errorf("Error() = %q", got)
	}
}

func TestParseFaultStopsAtTheFault(t *testing.T) {
	doc := mcAuthFault("Token Expired")
	end := strings.Index(doc, "</soap:Fault>") + len("</soap:Fault>")
	// Anything after the Fault is never read.
	src := io.MultiReader(strings.NewReader(doc[:end]), iotest.ErrReader(errors.New("read past the Fault")))
	f, err := ParseFault(src, int64(end))
	if err != nil || !f.IsAuth() {
		t.Errorf("ParseFault = %v, %v", f, err)
	}
}

func TestParseFaultRefuses(t *testing.T) {
	for _, tt := range []struct {
		name  string
		in    string
		limit int64
		want  error
	}{
		{"an application error is no fault", mcApplicationError, 0, ErrNoFault},
		{"an empty Body", `<s:Envelope xmlns:s=` + ns11 + `><s:Body/></s:Envelope>`, 0, ErrNoFault},
		{"a Fault in the other version's namespace", `<s:Envelope xmlns:s=` + ns11 + `><s:Body><f:Fault xmlns:f=` + ns12 + `/></s:Body></s:Envelope>`, 0, ErrNoFault},
		{"empty", ``, 0, ErrMalformed},
		{"not XML", `Service Unavailable`, 0, ErrMalformed},
		{"truncated", mcAuthFault("Token Expired")[:900], 0, ErrMalformed},
		{"HTML error page", `<html><body>502 Bad Gateway</body></html>`, 0, ErrNotEnvelope},
		{"no Body", `<s:Envelope xmlns:s=` + ns11 + `><s:Header/></s:Envelope>`, 0, ErrNotEnvelope},
		{"Fault past the limit", mcAuthFault("Token Expired"), 600, ErrTooLarge},
		{"DOCTYPE", `<!DOCTYPE x [<!ENTITY e "e">]><s:Envelope xmlns:s=` + ns11 + `/>`, 0, ErrDoctype},
		{"ISO-8859-1", `<?xml version="1.0" encoding="ISO-8859-1"?><s:Envelope xmlns:s=` + ns11 + `/>`, 0, ErrEncoding},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseFault(strings.NewReader(tt.in), tt.limit)
			if !errors.Is(err, tt.want) || f != nil {
				t.Errorf("ParseFault = %v, %v; want nil, %v", f, err, tt.want)
			}
			if f.IsAuth() {
				t.Error("IsAuth is true without a fault")
			}
		})
	}
}
