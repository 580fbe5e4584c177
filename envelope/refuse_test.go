package envelope

import (
	"bytes"
	"strings"
	"testing"
)

func TestInjectRefuses(t *testing.T) {
	const open = `<soap:Envelope xmlns:soap=` + ns11 + `>`
	longHeader := open + `<soap:Header>` +
		strings.Repeat(`<wsa:To xmlns:wsa="http://www.w3.org/2005/08/addressing">urn:x</wsa:To>`, maxPrefix/64) +
		`</soap:Header><soap:Body/></soap:Envelope>`

	for _, tt := range []struct {
		name string
		in   string
		kind error
		at   string // the error's offset is where this first occurs in in
		msg  string // the error's message contains this
	}{
		{"empty", "", ErrMalformed, "", "empty"},
		{"JSON", `{"accessToken":"` + accessToken + `"}`, ErrMalformed, "{", "not XML"},
		{"only whitespace", " \r\n\t", ErrMalformed, "", "no root element"},
		{"truncated in the prolog", `<?xml version="1.0"`, ErrMalformed, "", "ends early"},
		{"truncated in the Header", open + `<soap:Header><wsa:Action xmlns:wsa="urn:a">Ret`, ErrMalformed, "", "ends early"},
		{"truncated in a Body that comes first", open + `<soap:Body><Ping xmlns="urn:x">`, ErrMalformed, "", "ends early"},
		{"root is not an Envelope", `<RetrieveRequestMsg xmlns="http://exacttarget.com/wsdl/partnerAPI"/>`, ErrNotEnvelope, "<Retrieve", "<RetrieveRequestMsg>"},
		{"Envelope in another namespace", `<soap:Envelope xmlns:soap="http://example.com/soap"><soap:Body/></soap:Envelope>`, ErrNotEnvelope, "<soap:Envelope", "not a SOAP 1.1 or 1.2 Envelope"},
		{"Acoustic XML API envelope (no namespace)", `<Envelope><Body><GetLists/></Body></Envelope>`, ErrNotEnvelope, "<Envelope", "not a SOAP"},
		{"empty Envelope", `<soap:Envelope xmlns:soap=` + ns11 + `/>`, ErrNotEnvelope, "<soap:Envelope", "needs a Body"},
		{"Envelope without Body", open + `<!-- nothing --></soap:Envelope>`, ErrNotEnvelope, "</soap:Envelope>", "no Body"},
		{"DOCTYPE with entities", `<?xml version="1.0"?><!DOCTYPE soap:Envelope [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>` + open + `<soap:Body>&b;</soap:Body></soap:Envelope>`, ErrDoctype, "<!DOCTYPE", "remove it"},
		{"DOCTYPE inside the Header", open + `<soap:Header><!DOCTYPE x></soap:Header><soap:Body/></soap:Envelope>`, ErrMalformed, "<!DOCTYPE", "DOCTYPE"},
		{"declared ISO-8859-1", `<?xml version="1.0" encoding="ISO-8859-1"?>` + open + `<soap:Body/></soap:Envelope>`, ErrEncoding, "<?xml", `"ISO-8859-1"`},
		{"declared encoding with spaces", `<?xml version="1.0" encoding = 'windows-1252' ?>` + open + `<soap:Body/></soap:Envelope>`, ErrEncoding, "<?xml", "convert the envelope to UTF-8"},
		{"UTF-16 little-endian byte order mark", "\xFF\xFE<\x00s\x00", ErrEncoding, "", "UTF-16"},
		{"UTF-16 big-endian byte order mark", "\xFE\xFF\x00<\x00s", ErrEncoding, "", "UTF-16"},
		{"UTF-16 without byte order mark", "\x00<\x00s\x00o", ErrEncoding, "", "UTF-16"},
		{"garbled XML declaration", `<?xml version?>` + open + `<soap:Body/></soap:Envelope>`, ErrMalformed, "<?xml", "declaration"},
		{"XML declaration not first", ` <?xml version="1.0"?>` + open + `<soap:Body/></soap:Envelope>`, ErrMalformed, "<?xml", "must come first"},
		{"mismatched end tag in the Header", open + `<soap:Header><a:To xmlns:a="urn:a">x</a:Action></soap:Header><soap:Body/></soap:Envelope>`, ErrMalformed, "</a:Action>", "does not match"},
		{"undeclared prefix on the root", `<soap:Envelope><soap:Body/></soap:Envelope>`, ErrMalformed, "<soap:Envelope", `"soap" is not declared`},
		{"undeclared prefix on a Header child", open + `<soap:Header><wsa:To>x</wsa:To></soap:Header><soap:Body/></soap:Envelope>`, ErrMalformed, "<wsa:To", `"wsa" is not declared`},
		{"xmlns: without a prefix on the root", `<Envelope xmlns:=` + ns11 + `><Header/><Body/></Envelope>`, ErrMalformed, "xmlns:=", "declares no prefix"},
		{"xmlns: without a prefix on a Header child", open + `<soap:Header><a xmlns:="urn:a"/></soap:Header><soap:Body/></soap:Envelope>`, ErrMalformed, "xmlns:=", "declares no prefix"},
		{"the prefix xml bound to SOAP", `<s:Envelope xmlns:s=` + ns11 + ` xmlns:xml=` + ns11 + `><xml:Header/><s:Body/></s:Envelope>`, ErrMalformed, "xmlns:xml", "prefix xml"},
		{"the prefix xml bound to another namespace on the Header", open + `<soap:Header xmlns:xml="urn:x"/><soap:Body/></soap:Envelope>`, ErrMalformed, "xmlns:xml", "prefix xml"},
		{"the prefix xmlns declared", `<s:Envelope xmlns:s=` + ns11 + ` xmlns:xmlns="urn:x"><s:Body/></s:Envelope>`, ErrMalformed, "xmlns:xmlns", "prefix xmlns"},
		{"unquoted attribute", `<soap:Envelope xmlns:soap=http://schemas.xmlsoap.org/soap/envelope/>`, ErrMalformed, "http:", "quoted attribute value"},
		{"'<' in an attribute value", open + `<soap:Header a="<"/><soap:Body/></soap:Envelope>`, ErrMalformed, `<"/>`, "&lt;"},
		{"text before the root", `hello` + open + `<soap:Body/></soap:Envelope>`, ErrMalformed, "hello", "not XML"},
		{"Header longer than maxPrefix", longHeader, ErrTooLarge, "", "first 1048576 bytes"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			checkRefused(t, tt.in, tt.kind, tt.at, tt.msg)
		})
	}
}

func TestInjectZeroCredential(t *testing.T) {
	var out bytes.Buffer
	if _, err := copyInjected(&out, strings.NewReader(shapes[0].in), Credential{}); err != errZeroCredential {
		t.Errorf("err = %v, want %v", err, errZeroCredential)
	}
	if out.Len() != 0 {
		t.Errorf("wrote %q", out.Bytes())
	}
}

func TestErrorText(t *testing.T) {
	_, err := InjectBytes([]byte(`<?xml version="1.0"?><a/>`), FuelOAuth(accessToken))
	const want = "envelope: not a SOAP envelope at byte 21: the root element is <a>, not a SOAP 1.1 or 1.2 Envelope; only SOAP envelopes can carry the credential"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}
