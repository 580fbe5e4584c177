package envelope

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"testing/iotest"
)

// The envelopes below are written the way the SOAP clients that
// tokentrip's users run serialise a Marketing Cloud Retrieve: each client's
// prefixes, declarations, XML declaration and Header placement. clientShapes
// holds them as the client sends them, hostile holds what an attacker (or a
// client gone wrong) makes of them.

const (
	retrieve = `<RetrieveRequest><ObjectType>Subscriber</ObjectType><Properties>EmailAddress</Properties></RetrieveRequest>`

	// zeep (Python, lxml): soap-env prefix, ns0 for the service, a
	// single-quoted XML declaration; a Header only when the caller gives
	// header values.
	zeepOpen   = "<?xml version='1.0' encoding='utf-8'?>\n<soap-env:Envelope xmlns:soap-env=" + ns11 + `>`
	zeepHeader = `<soap-env:Header><ns0:Client xmlns:ns0="http://exacttarget.com/wsdl/partnerAPI"><ns0:ID>7281698</ns0:ID></ns0:Client></soap-env:Header>`
	zeepBody   = `<soap-env:Body><ns0:RetrieveRequestMsg xmlns:ns0="http://exacttarget.com/wsdl/partnerAPI"><ns0:RetrieveRequest><ns0:ObjectType>Subscriber</ns0:ObjectType>` +
		`<ns0:Properties>EmailAddress</ns0:Properties></ns0:RetrieveRequest></ns0:RetrieveRequestMsg></soap-env:Body>`
	zeepClose = `</soap-env:Envelope>`

	// node-soap: soap prefix, every namespace of the WSDL declared on the
	// Envelope, the Header present only with headers or a security option.
	nodeSoapOpen = `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap=` + ns11 +
		` xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:tns="http://exacttarget.com/wsdl/partnerAPI"` +
		` xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" xmlns:soap12="http://schemas.xmlsoap.org/wsdl/soap12/"` +
		` xmlns:http="http://schemas.xmlsoap.org/wsdl/http/" xmlns:mime="http://schemas.xmlsoap.org/wsdl/mime/" xmlns:tm="http://microsoft.com/wsdl/mime/textMatching/"` +
		` xmlns:s="http://www.w3.org/2001/XMLSchema" xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" xmlns:wsp="http://schemas.xmlsoap.org/ws/2004/09/policy"` +
		` xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd" xmlns:wsam="http://www.w3.org/2007/05/addressing/metadata"` +
		` xmlns:wsaw="http://www.w3.org/2006/05/addressing/wsdl" xmlns:msc="http://schemas.microsoft.com/ws/2005/12/wsdl/contract" xmlns:wsa10="http://www.w3.org/2005/08/addressing"` +
		` xmlns:wsx="http://schemas.xmlsoap.org/ws/2004/09/mex" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:ns1="http://exacttarget.com/wsdl/partnerAPI">`
	nodeSoapHeader = `<soap:Header><wsse:Security soap:mustUnderstand="1" xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">` +
		`<wsse:UsernameToken wsu:Id="SecurityToken-4f1c"><wsse:Username>api.user</wsse:Username><wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText">OLD</wsse:Password>` +
		`</wsse:UsernameToken></wsse:Security></soap:Header>`
	nodeSoapBody  = `<soap:Body><tns:RetrieveRequestMsg xmlns="http://exacttarget.com/wsdl/partnerAPI">` + retrieve + `</tns:RetrieveRequestMsg></soap:Body>`
	nodeSoapClose = `</soap:Envelope>`

	// gowsdl (Go, encoding/xml): soap prefix, no XML declaration, empty
	// elements written as start and end tags, the Header only when the
	// client was given header values.
	gowsdlOpen   = `<soap:Envelope xmlns:soap=` + ns11 + `>`
	gowsdlHeader = `<soap:Header><fueloauth xmlns="http://exacttarget.com">OLD</fueloauth></soap:Header>`
	gowsdlBody   = `<soap:Body><RetrieveRequestMsg xmlns="http://exacttarget.com/wsdl/partnerAPI">` + retrieve + `<Options></Options></RetrieveRequestMsg></soap:Body>`
	gowsdlClose  = `</soap:Envelope>`

	// sfmc-sdk (Node): the SOAP namespace as the default one, and the
	// Header after the Body.
	sfmcOpen   = `<?xml version="1.0" encoding="UTF-8"?><Envelope xmlns=` + ns11 + ` xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">`
	sfmcBody   = `<Body><RetrieveRequestMsg xmlns="http://exacttarget.com/wsdl/partnerAPI">` + retrieve + `</RetrieveRequestMsg></Body>`
	sfmcHeader = `<Header><fueloauth xmlns="http://exacttarget.com">OLD</fueloauth></Header>`
	sfmcClose  = `</Envelope>`

	// Apache CXF (Java): soap prefix, WS-Addressing in the Header each
	// element declaring its namespace, ns2 for the service, no XML
	// declaration.
	cxfOpen   = `<soap:Envelope xmlns:soap=` + ns11 + `>`
	cxfHeader = `<soap:Header><Action xmlns="http://www.w3.org/2005/08/addressing">Retrieve</Action><MessageID xmlns="http://www.w3.org/2005/08/addressing">urn:uuid:0b8e2f4a-6c1d-4e7f-9a3b-5d2c1e0f9a8b</MessageID>` +
		`<To xmlns="http://www.w3.org/2005/08/addressing">https://mc.soap.marketingcloudapis.com/Service.asmx</To><ReplyTo xmlns="http://www.w3.org/2005/08/addressing"><Address>http://www.w3.org/2005/08/addressing/anonymous</Address></ReplyTo></soap:Header>`
	cxfBody  = `<soap:Body><ns2:RetrieveRequestMsg xmlns:ns2="http://exacttarget.com/wsdl/partnerAPI"><ns2:RetrieveRequest><ns2:ObjectType>Subscriber</ns2:ObjectType><ns2:Properties>EmailAddress</ns2:Properties></ns2:RetrieveRequest></ns2:RetrieveRequestMsg></soap:Body>`
	cxfClose = `</soap:Envelope>`
)

// clientShapes are the clients' envelopes with the exact output of
// injecting FuelOAuth(accessToken); TestInjectShapes runs them.
var clientShapes = []struct {
	name, in, want string
}{
	{"zeep, no Header", zeepOpen + zeepBody + zeepClose,
		zeepOpen + `<soap-env:Header>` + fuel + `</soap-env:Header>` + zeepBody + zeepClose},
	{"zeep, Header", zeepOpen + zeepHeader + zeepBody + zeepClose,
		zeepOpen + strings.TrimSuffix(zeepHeader, `</soap-env:Header>`) + fuel + `</soap-env:Header>` + zeepBody + zeepClose},
	{"node-soap, no Header, 20 namespaces on the Envelope", nodeSoapOpen + nodeSoapBody + nodeSoapClose,
		nodeSoapOpen + `<soap:Header>` + fuel + `</soap:Header>` + nodeSoapBody + nodeSoapClose},
	{"node-soap, WS-Security replaced", nodeSoapOpen + nodeSoapHeader + nodeSoapBody + nodeSoapClose,
		nodeSoapOpen + `<soap:Header>` + fuel + `</soap:Header>` + nodeSoapBody + nodeSoapClose},
	{"gowsdl, no Header", gowsdlOpen + gowsdlBody + gowsdlClose,
		gowsdlOpen + `<soap:Header>` + fuel + `</soap:Header>` + gowsdlBody + gowsdlClose},
	{"gowsdl, fueloauth replaced", gowsdlOpen + gowsdlHeader + gowsdlBody + gowsdlClose,
		gowsdlOpen + `<soap:Header>` + fuel + `</soap:Header>` + gowsdlBody + gowsdlClose},
	{"sfmc-sdk, Header after the Body", sfmcOpen + sfmcBody + sfmcHeader + sfmcClose,
		sfmcOpen + sfmcBody + `<Header>` + fuel + `</Header>` + sfmcClose},
	{"sfmc-sdk, no Header", sfmcOpen + sfmcBody + sfmcClose,
		sfmcOpen + `<Header>` + fuel + `</Header>` + sfmcBody + sfmcClose},
	{"CXF, WS-Addressing", cxfOpen + cxfHeader + cxfBody + cxfClose,
		cxfOpen + strings.TrimSuffix(cxfHeader, `</soap:Header>`) + fuel + `</soap:Header>` + cxfBody + cxfClose},
	{"CXF, no Header", cxfOpen + cxfBody + cxfClose,
		cxfOpen + `<soap:Header>` + fuel + `</soap:Header>` + cxfBody + cxfClose},
}

// hostile are envelopes that must be refused: each names the kind of
// refusal, the text at whose first occurrence the error's offset points
// ("" for offset 0), and words of its message.
var hostile = []struct {
	name string
	in   string
	kind error
	at   string
	msg  string
}{
	// A second Header before the Body: the server could take its credential
	// from either, so the credential could go where the sender did not
	// mean it to, or sit beside one the sender smuggled in.
	{"zeep: a smuggled Header after the client's", zeepOpen + zeepHeader + `<soap-env:Header><ns0:fueloauth xmlns:ns0="http://exacttarget.com">STOLEN</ns0:fueloauth></soap-env:Header>` + zeepBody + zeepClose,
		ErrNotEnvelope, "<soap-env:Header><ns0:fueloauth", "second Header"},
	{"node-soap: two Headers, the second empty", nodeSoapOpen + nodeSoapHeader + `<soap:Header/>` + nodeSoapBody + nodeSoapClose,
		ErrNotEnvelope, "<soap:Header/>", "second Header"},
	{"gowsdl: empty Header, then one with a credential", gowsdlOpen + `<soap:Header></soap:Header>` + gowsdlHeader + gowsdlBody + gowsdlClose,
		ErrNotEnvelope, gowsdlHeader, "merge them"},
	{"CXF: second Header after a comment and whitespace", cxfOpen + cxfHeader + "\n  <!-- addressing -->\n  " + `<soap:Header><wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"/></soap:Header>` + cxfBody + cxfClose,
		ErrNotEnvelope, `<soap:Header><wsse:`, "second Header"},
	{"second Header under another prefix bound to SOAP", `<soap:Envelope xmlns:soap=` + ns11 + ` xmlns:env=` + ns11 + `><soap:Header/><env:Header><fueloauth>X</fueloauth></env:Header>` + body + `</soap:Envelope>`,
		ErrNotEnvelope, "<env:Header>", "second Header"},
	{"second Header declaring the SOAP namespace itself", `<soap:Envelope xmlns:soap=` + ns11 + `><soap:Header/><h:Header xmlns:h=` + ns11 + `/>` + body + `</soap:Envelope>`,
		ErrNotEnvelope, "<h:Header", "second Header"},
	{"SOAP 1.2: two Headers", `<env:Envelope xmlns:env=` + ns12 + `><env:Header/><env:Header/><env:Body/></env:Envelope>`,
		ErrNotEnvelope, "<env:Header/><env:Body/>", "second Header"},
	{"sfmc-sdk: two Headers after the Body", sfmcOpen + sfmcBody + sfmcHeader + `<Header><fueloauth xmlns="http://exacttarget.com">STOLEN</fueloauth></Header>` + sfmcClose,
		ErrNotEnvelope, `<Header><fueloauth xmlns="http://exacttarget.com">STOLEN`, "second Header"},
	{"a Header and no Body", gowsdlOpen + gowsdlHeader + gowsdlClose, ErrNotEnvelope, gowsdlClose, "no Body"},
	{"cut short after the Header", gowsdlOpen + gowsdlHeader, ErrMalformed, "", "ends early"},

	// Bytes that are not UTF-8 where the injector reads. A client that
	// writes Latin-1 without declaring it sends é as the byte E9.
	{"node-soap: a Latin-1 user name in WS-Security", nodeSoapOpen + strings.Replace(nodeSoapHeader, "api.user", "Jos\xE9", 1) + nodeSoapBody + nodeSoapClose,
		ErrEncoding, "\xE9", "not UTF-8"},
	{"CXF: a stray byte in a MessageID", cxfOpen + strings.Replace(cxfHeader, "urn:uuid:0b8e", "urn:uuid:\x800b8e", 1) + cxfBody + cxfClose,
		ErrEncoding, "\x80", "not UTF-8"},
	{"zeep: a Latin-1 comment before the root", "<?xml version='1.0' encoding='utf-8'?>\n<!-- r\xE9sum\xE9 -->" + zeepOpen[len("<?xml version='1.0' encoding='utf-8'?>\n"):] + zeepBody + zeepClose,
		ErrEncoding, "\xE9", "not UTF-8"},
	{"in the XML declaration", "<?xml version=\"1.0\" standalone=\"\xFF\"?>" + gowsdlOpen + gowsdlBody + gowsdlClose, ErrEncoding, "\xFF", "not UTF-8"},
	{"in an Envelope attribute", `<soap:Envelope xmlns:soap=` + ns11 + " xmlns:a=\"urn:\xC3\">" + body + `</soap:Envelope>`, ErrEncoding, "\xC3", "not UTF-8"},
	{"in an Envelope namespace prefix", `<soap:Envelope xmlns:soap=` + ns11 + " xmlns:\xFE=\"urn:a\">" + body + `</soap:Envelope>`, ErrEncoding, "\xFE", "not UTF-8"},
	{"an overlong '<' in the Header", gowsdlOpen + "<soap:Header><To xmlns=\"urn:a\">\xC0\xBCfueloauth\xC0\xBE</To></soap:Header>" + gowsdlBody + gowsdlClose, ErrEncoding, "\xC0", "not UTF-8"},
	{"a UTF-16 surrogate in the Header", gowsdlOpen + "<soap:Header><To xmlns=\"urn:a\">\xED\xA0\x80</To></soap:Header>" + gowsdlBody + gowsdlClose, ErrEncoding, "\xED", "not UTF-8"},
	{"a character cut short at the Header's end", gowsdlOpen + "<soap:Header><To xmlns=\"urn:a\">\xE2\x82</To></soap:Header>" + gowsdlBody + gowsdlClose, ErrEncoding, "\xE2", "not UTF-8"},
	{"in a Header child's name", gowsdlOpen + "<soap:Header><To\xFF xmlns=\"urn:a\"/></soap:Header>" + gowsdlBody + gowsdlClose, ErrEncoding, "\xFF", "not UTF-8"},
	{"between the Header and the Body", gowsdlOpen + gowsdlHeader + "<!-- \xF8 -->" + gowsdlBody + gowsdlClose, ErrEncoding, "\xF8", "not UTF-8"},
	{"in the Body's start tag", gowsdlOpen + "<soap:Body Id=\"\xF5\">" + retrieve + `</soap:Body>` + gowsdlClose, ErrEncoding, "\xF5", "not UTF-8"},
	{"sfmc-sdk: in a Header after the Body", sfmcOpen + sfmcBody + strings.Replace(sfmcHeader, "OLD", "O\xFFD", 1) + sfmcClose, ErrEncoding, "\xFF", "not UTF-8"},

	// Empty input, however it arrives.
	{"empty", "", ErrMalformed, "", "empty"},
	{"only a UTF-8 byte order mark", "\xEF\xBB\xBF", ErrMalformed, "", "no root element"},
}

func TestInjectRefusesHostile(t *testing.T) {
	for _, tt := range hostile {
		t.Run(tt.name, func(t *testing.T) {
			checkRefused(t, tt.in, tt.kind, tt.at, tt.msg)
		})
	}
}

// checkRefused checks that every way in refuses in with an *Error of the
// given kind, at the first occurrence of at, whose message contains msg,
// with nothing handed out and nothing secret in it.
func checkRefused(t *testing.T, in string, kind error, at, msg string) {
	t.Helper()
	c := FuelOAuth(accessToken)
	_, want := InjectBytes([]byte(in), c)
	var e *Error
	if !errors.Is(want, kind) || !errors.As(want, &e) {
		t.Fatalf("InjectBytes: err = %v, want an *Error of kind %v", want, kind)
	}
	if !strings.Contains(e.Msg, msg) {
		t.Errorf("message %q does not say %q", e.Msg, msg)
	}
	if strings.Contains(want.Error(), accessToken) {
		t.Errorf("the error reveals the token: %v", want)
	}
	if at != "" {
		if off := int64(strings.Index(in, at)); e.Offset != off {
			t.Errorf("offset = %d, want %d (at %q)", e.Offset, off, at)
		}
	}
	sources := map[string]func() io.Reader{
		"whole":    func() io.Reader { return strings.NewReader(in) },
		"one byte": func() io.Reader { return iotest.OneByteReader(strings.NewReader(in)) },
		"data and EOF together": func() io.Reader {
			return iotest.DataErrReader(strings.NewReader(in))
		},
	}
	if in == "" {
		sources["http.NoBody"] = func() io.Reader { return http.NoBody }
	}
	for name, src := range sources {
		var out bytes.Buffer
		if _, err := copyInjected(&out, src(), c); err == nil || err.Error() != want.Error() {
			t.Errorf("NewReader, copied (%s): %v; InjectBytes: %v", name, err, want)
		}
		if out.Len() != 0 {
			t.Errorf("NewReader, copied (%s): wrote %d bytes before refusing", name, out.Len())
		}
		// The refusal comes with no reader: nothing of the envelope can be read.
		if r, n, err := NewReader(src(), int64(len(in)), c); err == nil || err.Error() != want.Error() || n != 0 || r != nil {
			t.Errorf("NewReader (%s) = %v, %d, %v; InjectBytes: %v", name, r, n, err, want)
		}
	}
	if in == "" {
		if _, err := InjectBytes(nil, c); err == nil || err.Error() != want.Error() {
			t.Errorf("InjectBytes(nil): %v; InjectBytes(\"\"): %v", err, want)
		}
	}
}

// TestInjectSecondHeaderAfterTheBodyIsNotRead shows where the
// second-Header check ends: when the Header comes first, nothing past the
// Body's start tag is read, so a Header after the Body is left as it is.
func TestInjectSecondHeaderAfterTheBodyIsNotRead(t *testing.T) {
	in := gowsdlOpen + gowsdlHeader + gowsdlBody + `<soap:Header><fueloauth>LATE</fueloauth></soap:Header>` + gowsdlClose
	got, err := InjectBytes([]byte(in), FuelOAuth(accessToken))
	if err != nil {
		t.Fatal(err)
	}
	want := gowsdlOpen + `<soap:Header>` + fuel + `</soap:Header>` + gowsdlBody + `<soap:Header><fueloauth>LATE</fueloauth></soap:Header>` + gowsdlClose
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}
