package emulator

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseEnvelope(t *testing.T) {
	const body = `<RetrieveRequestMsg xmlns="http://exacttarget.com/wsdl/partnerAPI"><RetrieveRequest/></RetrieveRequestMsg>`
	ut := `<wsse:Security xmlns:wsse="` + WSSENS + `"><wsse:UsernameToken><wsse:Username> api </wsse:Username><wsse:Password>p w</wsse:Password></wsse:UsernameToken></wsse:Security>`
	tests := []struct {
		name string
		in   string
		want Envelope
	}{
		{
			name: "SOAP 1.1 with fueloauth and WS-Addressing",
			in: `<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="` + SOAP11NS + `" xmlns:a="http://www.w3.org/2005/08/addressing">` +
				`<soapenv:Header><a:Action soapenv:mustUnderstand="1">Retrieve</a:Action><a:MessageID>urn:uuid:m-1</a:MessageID>` +
				`<fueloauth xmlns="http://exacttarget.com">tok</fueloauth></soapenv:Header><soapenv:Body>` + body + `</soapenv:Body></soapenv:Envelope>`,
			want: Envelope{Version: SOAP11, MessageID: "urn:uuid:m-1", Operation: "RetrieveRequestMsg", OperationNS: partnerAPINS,
				Credentials: []Credential{{Kind: FuelOAuth, Token: "tok"}}},
		},
		{
			name: "SOAP 1.2, UsernameToken, Body first",
			in:   `<env:Envelope xmlns:env="` + SOAP12NS + `"><env:Body>` + body + `</env:Body><env:Header>` + ut + `</env:Header></env:Envelope>`,
			want: Envelope{Version: SOAP12, Operation: "RetrieveRequestMsg", OperationNS: partnerAPINS,
				Credentials: []Credential{{Kind: UsernameToken, Username: "api", Password: "p w"}}},
		},
		{
			name: "two prefixes for one namespace, legacy oAuth, WS-Security timestamp only",
			in: `<a:Envelope xmlns:a="` + SOAP11NS + `" xmlns:b="` + SOAP11NS + `"><b:Header>` +
				`<oAuth xmlns="http://exacttarget.com"><oAuthToken>legacy</oAuthToken></oAuth>` +
				`<wsse:Security xmlns:wsse="` + WSSENS + `"><wsu:Timestamp xmlns:wsu="` + WSUNS + `"/></wsse:Security>` +
				`</b:Header><a:Body><![CDATA[text]]><Create/></a:Body></a:Envelope>`,
			want: Envelope{Version: SOAP11, Operation: "Create",
				Credentials: []Credential{{Kind: LegacyOAuth, Token: "legacy"}}},
		},
		{
			name: "Create with two objects, one prefixed, and a nested Objects not counted",
			in: `<s:Envelope xmlns:s="` + SOAP11NS + `"><s:Body><et:CreateRequest xmlns:et="` + partnerAPINS + `"><et:Options/>` +
				`<et:Objects><et:Objects/></et:Objects><Objects xmlns="` + partnerAPINS + `"/></et:CreateRequest><Trailing/></s:Body></s:Envelope>`,
			want: Envelope{Version: SOAP11, Operation: "CreateRequest", OperationNS: partnerAPINS, Objects: 2},
		},
		{
			name: "self-closing Header, empty Body",
			in:   `<s:Envelope xmlns:s="` + SOAP11NS + `"><s:Header/><s:Body/></s:Envelope>`,
			want: Envelope{Version: SOAP11},
		},
		{
			name: "fueloauth in the wrong namespace is no credential",
			in:   `<s:Envelope xmlns:s="` + SOAP11NS + `"><s:Header><fueloauth xmlns="urn:other">x</fueloauth></s:Header><s:Body/></s:Envelope>`,
			want: Envelope{Version: SOAP11},
		},
		{
			name: "fueloauth inside the Body is no credential",
			in:   `<s:Envelope xmlns:s="` + SOAP11NS + `"><s:Body><fueloauth>x</fueloauth></s:Body></s:Envelope>`,
			want: Envelope{Version: SOAP11, Operation: "fueloauth"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEnvelope([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("got %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

func TestParseEnvelopeRejects(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", ``, "no root element"},
		{"not SOAP", `<Envelope><Body/></Envelope>`, "not a SOAP Envelope"},
		{"text first", `hello <s:Envelope xmlns:s="` + SOAP11NS + `"/>`, "text before the root element"},
		{"no Body", `<s:Envelope xmlns:s="` + SOAP11NS + `"><s:Header/></s:Envelope>`, "no Body"},
		{"two Bodies", `<s:Envelope xmlns:s="` + SOAP11NS + `"><s:Body/><s:Body/></s:Envelope>`, "more than one Body"},
		{"truncated", `<s:Envelope xmlns:s="` + SOAP11NS + `"><s:Body>`, "unexpected EOF"},
		{"mismatched tags", `<s:Envelope xmlns:s="` + SOAP11NS + `"><s:Body></s:Header></s:Envelope>`, "element <Body> closed by </Header>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseEnvelope([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}
