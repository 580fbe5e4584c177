package envelope

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

const (
	ns11        = `"http://schemas.xmlsoap.org/soap/envelope/"`
	ns12        = `"http://www.w3.org/2003/05/soap-envelope"`
	accessToken = "TOKEN-3f9a"
	// fuel is what FuelOAuth(accessToken) puts in the Header.
	fuel = `<fueloauth xmlns="http://exacttarget.com">` + accessToken + `</fueloauth>`
	// body is a Marketing Cloud request body, used in most shapes.
	body = `<soap:Body><RetrieveRequestMsg xmlns="http://exacttarget.com/wsdl/partnerAPI"><RetrieveRequest><ObjectType>Subscriber</ObjectType><Properties>EmailAddress</Properties></RetrieveRequest></RetrieveRequestMsg></soap:Body>`
	wsa  = `<wsa:Action xmlns:wsa="http://www.w3.org/2005/08/addressing" soap:mustUnderstand="1">Retrieve</wsa:Action>` +
		`<wsa:To xmlns:wsa="http://www.w3.org/2005/08/addressing">https://mc.soap.marketingcloudapis.com/Service.asmx</wsa:To>`
)

// shapes are the envelopes of the wild (see PROTOCOLS.md), each with the
// exact output of injecting FuelOAuth(accessToken).
var shapes = []struct {
	name, in, want string
}{
	{
		name: "soap prefix, no Header",
		in:   `<soap:Envelope xmlns:soap=` + ns11 + `>` + body + `</soap:Envelope>`,
		want: `<soap:Envelope xmlns:soap=` + ns11 + `><soap:Header>` + fuel + `</soap:Header>` + body + `</soap:Envelope>`,
	},
	{
		name: "soapenv prefix, empty Header",
		in:   `<soapenv:Envelope xmlns:soapenv=` + ns11 + `><soapenv:Header></soapenv:Header><soapenv:Body><Ping xmlns="urn:x"/></soapenv:Body></soapenv:Envelope>`,
		want: `<soapenv:Envelope xmlns:soapenv=` + ns11 + `><soapenv:Header>` + fuel + `</soapenv:Header><soapenv:Body><Ping xmlns="urn:x"/></soapenv:Body></soapenv:Envelope>`,
	},
	{
		name: "s prefix, self-closing Header",
		in:   `<s:Envelope xmlns:s=` + ns11 + `><s:Header/><s:Body><Ping xmlns="urn:x"/></s:Body></s:Envelope>`,
		want: `<s:Envelope xmlns:s=` + ns11 + `><s:Header>` + fuel + `</s:Header><s:Body><Ping xmlns="urn:x"/></s:Body></s:Envelope>`,
	},
	{
		name: "self-closing Header with an attribute and a space",
		in:   `<s:Envelope xmlns:s=` + ns11 + `><s:Header Id='h1' /><s:Body/></s:Envelope>`,
		want: `<s:Envelope xmlns:s=` + ns11 + `><s:Header Id='h1' >` + fuel + `</s:Header><s:Body/></s:Envelope>`,
	},
	{
		name: "SOAP-ENV prefix, Header full of WS-Addressing",
		in: `<SOAP-ENV:Envelope xmlns:SOAP-ENV=` + ns11 + ` xmlns:wsa="http://www.w3.org/2005/08/addressing"><SOAP-ENV:Header>` +
			`<wsa:Action SOAP-ENV:mustUnderstand="1">Create</wsa:Action><wsa:MessageID>urn:uuid:9a1f</wsa:MessageID>` +
			`<wsa:ReplyTo><wsa:Address>http://www.w3.org/2005/08/addressing/anonymous</wsa:Address></wsa:ReplyTo>` +
			`<wsa:To SOAP-ENV:mustUnderstand="1">https://mc.soap.marketingcloudapis.com/Service.asmx</wsa:To>` +
			`</SOAP-ENV:Header><SOAP-ENV:Body><CreateRequest xmlns="http://exacttarget.com/wsdl/partnerAPI"/></SOAP-ENV:Body></SOAP-ENV:Envelope>`,
		want: `<SOAP-ENV:Envelope xmlns:SOAP-ENV=` + ns11 + ` xmlns:wsa="http://www.w3.org/2005/08/addressing"><SOAP-ENV:Header>` +
			`<wsa:Action SOAP-ENV:mustUnderstand="1">Create</wsa:Action><wsa:MessageID>urn:uuid:9a1f</wsa:MessageID>` +
			`<wsa:ReplyTo><wsa:Address>http://www.w3.org/2005/08/addressing/anonymous</wsa:Address></wsa:ReplyTo>` +
			`<wsa:To SOAP-ENV:mustUnderstand="1">https://mc.soap.marketingcloudapis.com/Service.asmx</wsa:To>` +
			fuel + `</SOAP-ENV:Header><SOAP-ENV:Body><CreateRequest xmlns="http://exacttarget.com/wsdl/partnerAPI"/></SOAP-ENV:Body></SOAP-ENV:Envelope>`,
	},
	{
		name: "env prefix, SOAP 1.2, WS-Addressing with mustUnderstand",
		in: `<env:Envelope xmlns:env=` + ns12 + `><env:Header><a:Action xmlns:a="http://www.w3.org/2005/08/addressing" env:mustUnderstand="true">Retrieve</a:Action></env:Header>` +
			`<env:Body><RetrieveRequestMsg xmlns="http://exacttarget.com/wsdl/partnerAPI"/></env:Body></env:Envelope>`,
		want: `<env:Envelope xmlns:env=` + ns12 + `><env:Header><a:Action xmlns:a="http://www.w3.org/2005/08/addressing" env:mustUnderstand="true">Retrieve</a:Action>` + fuel + `</env:Header>` +
			`<env:Body><RetrieveRequestMsg xmlns="http://exacttarget.com/wsdl/partnerAPI"/></env:Body></env:Envelope>`,
	},
	{
		name: "default namespace, SOAP 1.1, no Header",
		in:   `<Envelope xmlns=` + ns11 + `><Body><Ping xmlns="urn:x"/></Body></Envelope>`,
		want: `<Envelope xmlns=` + ns11 + `><Header>` + fuel + `</Header><Body><Ping xmlns="urn:x"/></Body></Envelope>`,
	},
	{
		name: "the prefix xml declared, as XML allows, with its own namespace",
		in:   `<s:Envelope xmlns:s=` + ns11 + ` xmlns:xml="http://www.w3.org/XML/1998/namespace"><s:Header xml:lang="en"/><s:Body/></s:Envelope>`,
		want: `<s:Envelope xmlns:s=` + ns11 + ` xmlns:xml="http://www.w3.org/XML/1998/namespace"><s:Header xml:lang="en">` + fuel + `</s:Header><s:Body/></s:Envelope>`,
	},
	{
		name: "default namespace, SOAP 1.2, Header",
		in:   `<Envelope xmlns=` + ns12 + `><Header><To xmlns="http://www.w3.org/2005/08/addressing">urn:x</To></Header><Body/></Envelope>`,
		want: `<Envelope xmlns=` + ns12 + `><Header><To xmlns="http://www.w3.org/2005/08/addressing">urn:x</To>` + fuel + `</Header><Body/></Envelope>`,
	},
	{
		name: "two prefixes bound to the SOAP namespace",
		in:   `<soap:Envelope xmlns:soap=` + ns11 + ` xmlns:soapenv=` + ns11 + `><soapenv:Header></soapenv:Header>` + body + `</soap:Envelope>`,
		want: `<soap:Envelope xmlns:soap=` + ns11 + ` xmlns:soapenv=` + ns11 + `><soapenv:Header>` + fuel + `</soapenv:Header>` + body + `</soap:Envelope>`,
	},
	{
		name: "prefix rebound: only the SOAP namespace makes a Header",
		in:   `<soap:Envelope xmlns:soap=` + ns11 + `><h:Header xmlns:h="urn:not-soap"/><soap:Body/></soap:Envelope>`,
		want: `<soap:Envelope xmlns:soap=` + ns11 + `><soap:Header>` + fuel + `</soap:Header><h:Header xmlns:h="urn:not-soap"/><soap:Body/></soap:Envelope>`,
	},
	{
		name: "SOAP namespace declared on the Header and the Body",
		in:   `<soap:Envelope xmlns:soap=` + ns11 + `><h:Header xmlns:h=` + ns11 + `></h:Header><b:Body xmlns:b=` + ns11 + `/></soap:Envelope>`,
		want: `<soap:Envelope xmlns:soap=` + ns11 + `><h:Header xmlns:h=` + ns11 + `>` + fuel + `</h:Header><b:Body xmlns:b=` + ns11 + `/></soap:Envelope>`,
	},
	{
		name: "namespaces declared on the Body",
		in: `<soap:Envelope xmlns:soap=` + ns11 + `><soap:Body xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:et="http://exacttarget.com/wsdl/partnerAPI">` +
			`<et:CreateRequest><et:Objects xsi:type="et:Subscriber"><et:EmailAddress>a@example.com</et:EmailAddress></et:Objects></et:CreateRequest></soap:Body></soap:Envelope>`,
		want: `<soap:Envelope xmlns:soap=` + ns11 + `><soap:Header>` + fuel + `</soap:Header><soap:Body xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:et="http://exacttarget.com/wsdl/partnerAPI">` +
			`<et:CreateRequest><et:Objects xsi:type="et:Subscriber"><et:EmailAddress>a@example.com</et:EmailAddress></et:Objects></et:CreateRequest></soap:Body></soap:Envelope>`,
	},
	{
		name: "Body before Header",
		in:   `<soap:Envelope xmlns:soap=` + ns11 + `>` + body + `<soap:Header>` + wsa + `<fueloauth>OLD</fueloauth></soap:Header></soap:Envelope>`,
		want: `<soap:Envelope xmlns:soap=` + ns11 + `>` + body + `<soap:Header>` + wsa + fuel + `</soap:Header></soap:Envelope>`,
	},
	{
		name: "Body first, then a comment, no Header",
		in:   `<soap:Envelope xmlns:soap=` + ns11 + `>` + body + `<!-- no Header here --></soap:Envelope>`,
		want: `<soap:Envelope xmlns:soap=` + ns11 + `><soap:Header>` + fuel + `</soap:Header>` + body + `<!-- no Header here --></soap:Envelope>`,
	},
	{
		name: "XML declaration with encoding",
		in:   `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<soap:Envelope xmlns:soap=` + ns11 + `>` + body + `</soap:Envelope>`,
		want: `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<soap:Envelope xmlns:soap=` + ns11 + `><soap:Header>` + fuel + `</soap:Header>` + body + `</soap:Envelope>`,
	},
	{
		name: "XML declaration without encoding",
		in:   `<?xml version='1.0' standalone='yes'?><soap:Envelope xmlns:soap=` + ns11 + `><soap:Header/>` + body + `</soap:Envelope>`,
		want: `<?xml version='1.0' standalone='yes'?><soap:Envelope xmlns:soap=` + ns11 + `><soap:Header>` + fuel + `</soap:Header>` + body + `</soap:Envelope>`,
	},
	{
		name: "UTF-8 byte order mark",
		in:   "\xEF\xBB\xBF" + `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap=` + ns11 + `>` + body + `</soap:Envelope>`,
		want: "\xEF\xBB\xBF" + `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap=` + ns11 + `><soap:Header>` + fuel + `</soap:Header>` + body + `</soap:Envelope>`,
	},
	{
		name: "comments and processing instructions before the root",
		in:   "<?xml version=\"1.0\"?>\n<!-- generated by a SOAP client -->\n<?xml-stylesheet type=\"text/xsl\" href=\"soap.xsl\"?>\n<soap:Envelope xmlns:soap=" + ns11 + `>` + body + `</soap:Envelope>`,
		want: "<?xml version=\"1.0\"?>\n<!-- generated by a SOAP client -->\n<?xml-stylesheet type=\"text/xsl\" href=\"soap.xsl\"?>\n<soap:Envelope xmlns:soap=" + ns11 + `><soap:Header>` + fuel + `</soap:Header>` + body + `</soap:Envelope>`,
	},
	{
		name: "CDATA and entities in the Body",
		in: `<soap:Envelope xmlns:soap=` + ns11 + `><soap:Header/><soap:Body><Note xmlns="urn:x"><![CDATA[<soap:Header>5 < 6 & </soap:Body>]]>` +
			`&amp;&lt;&#x20AC;&#8364;</Note></soap:Body></soap:Envelope>`,
		want: `<soap:Envelope xmlns:soap=` + ns11 + `><soap:Header>` + fuel + `</soap:Header><soap:Body><Note xmlns="urn:x"><![CDATA[<soap:Header>5 < 6 & </soap:Body>]]>` +
			`&amp;&lt;&#x20AC;&#8364;</Note></soap:Body></soap:Envelope>`,
	},
	{
		name: "comment, PI and CDATA in the Header are not credentials",
		in:   `<soap:Envelope xmlns:soap=` + ns11 + `><soap:Header><!-- <fueloauth>x</fueloauth> --><?trace id="7"?><![CDATA[<fueloauth/>]]>` + wsa + `</soap:Header>` + body + `</soap:Envelope>`,
		want: `<soap:Envelope xmlns:soap=` + ns11 + `><soap:Header><!-- <fueloauth>x</fueloauth> --><?trace id="7"?><![CDATA[<fueloauth/>]]>` + wsa + fuel + `</soap:Header>` + body + `</soap:Envelope>`,
	},
	{
		name: "indented envelope",
		in:   "<soap:Envelope xmlns:soap=" + ns11 + ">\n  <soap:Header>\n    " + wsa + "\n  </soap:Header>\n  " + body + "\n</soap:Envelope>\n",
		want: "<soap:Envelope xmlns:soap=" + ns11 + ">\n  <soap:Header>\n    " + wsa + "\n  " + fuel + "</soap:Header>\n  " + body + "\n</soap:Envelope>\n",
	},
	{
		name: "fueloauth without a namespace is replaced",
		in:   `<soap:Envelope xmlns:soap=` + ns11 + `><soap:Header><fueloauth>OLD</fueloauth>` + wsa + `</soap:Header>` + body + `</soap:Envelope>`,
		want: `<soap:Envelope xmlns:soap=` + ns11 + `><soap:Header>` + fuel + wsa + `</soap:Header>` + body + `</soap:Envelope>`,
	},
	{
		name: "h:fueloauth is replaced",
		in:   "<s:Envelope xmlns:s=" + ns11 + ">\n <s:Header>\n  <h:fueloauth xmlns=\"http://exacttarget.com\"\n     xmlns:h=\"http://exacttarget.com\">\n   OLD\n  </h:fueloauth>\n </s:Header>\n <s:Body/>\n</s:Envelope>",
		want: "<s:Envelope xmlns:s=" + ns11 + ">\n <s:Header>\n  " + fuel + "\n </s:Header>\n <s:Body/>\n</s:Envelope>",
	},
	{
		name: "legacy oAuth is replaced",
		in:   `<soap:Envelope xmlns:soap=` + ns11 + `><soap:Header><oAuth xmlns="http://exacttarget.com"><oAuthToken>OLD</oAuthToken></oAuth></soap:Header>` + body + `</soap:Envelope>`,
		want: `<soap:Envelope xmlns:soap=` + ns11 + `><soap:Header>` + fuel + `</soap:Header>` + body + `</soap:Envelope>`,
	},
	{
		name: "WS-Security in a default namespace is replaced",
		in: `<soap:Envelope xmlns:soap=` + ns11 + `><soap:Header><Security xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">` +
			`<UsernameToken><Username>api</Username><Password>OLD</Password></UsernameToken></Security></soap:Header>` + body + `</soap:Envelope>`,
		want: `<soap:Envelope xmlns:soap=` + ns11 + `><soap:Header>` + fuel + `</soap:Header>` + body + `</soap:Envelope>`,
	},
	{
		name: "every credential goes, the first is replaced in place",
		in: `<soap:Envelope xmlns:soap=` + ns11 + `><soap:Header><wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd" soap:mustUnderstand="1"/>` +
			wsa + `<h:fueloauth xmlns:h="http://exacttarget.com">OLD</h:fueloauth><fueloauth/></soap:Header>` + body + `</soap:Envelope>`,
		want: `<soap:Envelope xmlns:soap=` + ns11 + `><soap:Header>` + fuel + wsa + `</soap:Header>` + body + `</soap:Envelope>`,
	},
	{
		name: "look-alikes in other namespaces stay",
		in: `<soap:Envelope xmlns:soap=` + ns11 + `><soap:Header><Security xmlns="urn:other"/><o:oAuth xmlns:o="urn:other">x</o:oAuth>` +
			`<Context xmlns="urn:ctx"><fueloauth>nested, not a Header child</fueloauth></Context></soap:Header>` + body + `</soap:Envelope>`,
		want: `<soap:Envelope xmlns:soap=` + ns11 + `><soap:Header><Security xmlns="urn:other"/><o:oAuth xmlns:o="urn:other">x</o:oAuth>` +
			`<Context xmlns="urn:ctx"><fueloauth>nested, not a Header child</fueloauth></Context>` + fuel + `</soap:Header>` + body + `</soap:Envelope>`,
	},
}

// TestInjectShapes injects FuelOAuth(accessToken) into the envelopes of the
// wild and of the SOAP clients, every way in: InjectBytes, and NewReader
// both read and copied out from a source that returns a byte at a time.
func TestInjectShapes(t *testing.T) {
	c := FuelOAuth(accessToken)
	for _, tt := range slices.Concat(shapes, clientShapes) {
		t.Run(tt.name, func(t *testing.T) {
			got, err := InjectBytes([]byte(tt.in), c)
			if err != nil {
				t.Fatalf("InjectBytes: %v", err)
			}
			if string(got) != tt.want {
				t.Fatalf("InjectBytes:\n got %s\nwant %s", got, tt.want)
			}
			checkInjected(t, []byte(tt.in), got, credential{name: fuelName, text: accessToken})

			var buf bytes.Buffer
			n, err := copyInjected(&buf, iotest.OneByteReader(strings.NewReader(tt.in)), c)
			if err != nil || buf.String() != tt.want || n != int64(len(tt.want)) {
				t.Errorf("NewReader from a one-byte reader, copied = %d, %v:\n%s", n, err, buf.Bytes())
			}

			r, n, err := NewReader(strings.NewReader(tt.in), int64(len(tt.in)), c)
			if err != nil || n != int64(len(tt.want)) {
				t.Fatalf("NewReader = %d, %v; want %d", n, err, len(tt.want))
			}
			if err := iotest.TestReader(r, []byte(tt.want)); err != nil {
				t.Errorf("NewReader's reader: %v", err)
			}
		})
	}
}

// copyInjected copies the envelope read from src, with c injected, to dst,
// as a caller of NewReader does: with io.Copy, which uses the reader's
// WriteTo.
func copyInjected(dst io.Writer, src io.Reader, c Credential) (int64, error) {
	r, _, err := NewReader(src, -1, c)
	if err != nil {
		return 0, err
	}
	return io.Copy(dst, r)
}

var fuelName = xml.Name{Space: uriExactTarget, Local: "fueloauth"}

// checkInjected checks out, the injection of in, with encoding/xml: it is
// well-formed, it has one Header holding exactly the credential want, the
// Header's other children are those of in, in order, and byte for byte, and
// so is the Body.
func checkInjected(t *testing.T, in, out []byte, want credential) {
	t.Helper()
	before, err := readEnvelope(in)
	if err != nil {
		t.Fatalf("the input is not well-formed: %v", err)
	}
	after, err := readEnvelope(out)
	if err != nil {
		t.Fatalf("the output is not well-formed: %v\n%s", err, out)
	}
	if after.headers != 1 {
		t.Errorf("the output has %d Headers, want 1:\n%s", after.headers, out)
	}
	if len(after.creds) != 1 || after.creds[0] != want {
		t.Errorf("the output's Header holds credentials %+v, want just %+v:\n%s", after.creds, want, out)
	}
	if !bytes.Equal(after.body, before.body) {
		t.Errorf("the Body changed:\n got %s\nwant %s", after.body, before.body)
	}
	if len(after.others) != len(before.others) {
		t.Fatalf("the Header's other children changed:\n got %q\nwant %q", after.others, before.others)
	}
	for i := range after.others {
		if !bytes.Equal(after.others[i], before.others[i]) {
			t.Errorf("the Header's child %d changed:\n got %s\nwant %s", i, after.others[i], before.others[i])
		}
	}
}

func TestInjectLargeBodyStreams(t *testing.T) {
	for _, tt := range []struct {
		name   string
		header string
	}{
		{"Header first", `<soap:Header/>`},
		// A Body longer than the look-ahead window is taken to have no
		// Header after it: the Header goes first, as SOAP wants.
		{"no Header", ``},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := paddedEnvelope(tt.header, 4<<20)
			var out bytes.Buffer
			n, err := copyInjected(&out, struct{ io.Reader }{bytes.NewReader(in)}, FuelOAuth(accessToken))
			if err != nil {
				t.Fatal(err)
			}
			if n != int64(out.Len()) {
				t.Errorf("the copy reported %d bytes, wrote %d", n, out.Len())
			}
			checkInjected(t, in, out.Bytes(), credential{name: fuelName, text: accessToken})
		})
	}
}

// paddedEnvelope returns a SOAP 1.1 Create request with header right after
// the Envelope's start tag and a Body of about size bytes.
func paddedEnvelope(header string, size int) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap=` + ns11 + `>` + header +
		`<soap:Body><CreateRequest xmlns="http://exacttarget.com/wsdl/partnerAPI">`)
	const object = `<Objects xsi:type="Subscriber" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><EmailAddress>someone@example.com</EmailAddress><SubscriberKey>someone</SubscriberKey></Objects>`
	for b.Len() < size {
		b.WriteString(object)
	}
	b.WriteString(`</CreateRequest></soap:Body></soap:Envelope>`)
	return b.Bytes()
}

func TestInjectHeaderAfterBody(t *testing.T) {
	const trailer = `<soap:Header><fueloauth>OLD</fueloauth></soap:Header></soap:Envelope>`
	bodyFirst := func(size int) string {
		doc := string(paddedEnvelope("", size))
		return strings.TrimSuffix(doc, "</soap:Envelope>") + trailer
	}

	t.Run("within the window: the Header after the Body", func(t *testing.T) {
		in := bodyFirst(bodyWindow - 1024)
		out, err := InjectBytes([]byte(in), FuelOAuth(accessToken))
		if err != nil {
			t.Fatal(err)
		}
		want := strings.TrimSuffix(in, trailer) + `<soap:Header>` + fuel + `</soap:Header></soap:Envelope>`
		if string(out) != want {
			t.Errorf("the trailing Header did not get the credential: ends %q", out[len(out)-200:])
		}
	})
	t.Run("past the window: a new Header goes first", func(t *testing.T) {
		// As documented: a Body longer than the window is taken to have no
		// Header after it.
		in := bodyFirst(bodyWindow + 1024)
		out, err := InjectBytes([]byte(in), FuelOAuth(accessToken))
		if err != nil {
			t.Fatal(err)
		}
		open := strings.Index(in, "<soap:Body>")
		want := in[:open] + `<soap:Header>` + fuel + `</soap:Header>` + in[open:]
		if string(out) != want {
			t.Errorf("got %q…", out[:open+200])
		}
	})
	t.Run("a Header after the Body longer than maxPrefix", func(t *testing.T) {
		in := string(paddedEnvelope("", 1024))
		in = strings.TrimSuffix(in, "</soap:Envelope>") + `<soap:Header>` + strings.Repeat(`<To xmlns="urn:a">x</To>`, maxPrefix/24) + trailer
		if _, err := InjectBytes([]byte(in), FuelOAuth(accessToken)); !errors.Is(err, ErrTooLarge) {
			t.Errorf("err = %v, want ErrTooLarge", err)
		}
	})
}

func TestInjectMemoryDoesNotGrowWithBody(t *testing.T) {
	for _, tt := range []struct{ name, header string }{
		{"Header first", `<soap:Header/>`},
		{"no Header: the Body is looked past", ``},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := paddedEnvelope(tt.header, 4<<20)
			c := FuelOAuth(accessToken)
			src := bytes.NewReader(in)
			const runs = 50
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for range runs {
				src.Reset(in)
				if _, err := copyInjected(io.Discard, struct{ io.Reader }{src}, c); err != nil {
					t.Fatal(err)
				}
			}
			runtime.ReadMemStats(&after)
			// A Reader, and now and then a scanner with its 32 KiB buffer
			// when the pool has dropped them (the race detector drops a
			// quarter of them), but nothing in proportion to the Body.
			if perOp := (after.TotalAlloc - before.TotalAlloc) / runs; perOp > 32<<10 {
				t.Errorf("injecting into a 4 MiB envelope allocates %d bytes, want at most 32 KiB", perOp)
			}
		})
	}
}

func TestReaderSourceErrors(t *testing.T) {
	boom := errors.New("connection reset")
	in := shapes[0].in

	t.Run("in the prefix: nothing is handed out", func(t *testing.T) {
		var out bytes.Buffer
		src := io.MultiReader(strings.NewReader(in[:40]), iotest.ErrReader(boom))
		if _, err := copyInjected(&out, src, FuelOAuth(accessToken)); !errors.Is(err, boom) {
			t.Errorf("err = %v, want %v", err, boom)
		}
		if out.Len() != 0 {
			t.Errorf("wrote %q before failing", out.Bytes())
		}
	})
	t.Run("after the prefix: the error follows the prefix", func(t *testing.T) {
		doc := []byte(`<soap:Envelope xmlns:soap=` + ns11 + `><soap:Header/><soap:Body>`)
		src := io.MultiReader(bytes.NewReader(doc), iotest.ErrReader(boom))
		r, _, err := NewReader(src, -1, FuelOAuth(accessToken))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if !errors.Is(err, boom) {
			t.Errorf("err = %v, want %v", err, boom)
		}
		want := `<soap:Envelope xmlns:soap=` + ns11 + `><soap:Header>` + fuel + `</soap:Header><soap:Body>`
		if string(got) != want {
			t.Errorf("read %s\nwant %s", got, want)
		}
	})
	t.Run("a failing writer", func(t *testing.T) {
		r, _, err := NewReader(strings.NewReader(in), -1, FuelOAuth(accessToken))
		if err != nil {
			t.Fatal(err)
		}
		n, err := r.(io.WriterTo).WriteTo(failAfter{3})
		if !errors.Is(err, errWriteFailed) || n != 3 {
			t.Errorf("WriteTo = %d, %v; want 3, %v", n, err, errWriteFailed)
		}
	})
}

var errWriteFailed = errors.New("write failed")

// failAfter accepts n bytes of its first write, then fails.
type failAfter struct{ n int }

func (f failAfter) Write(p []byte) (int, error) {
	return min(len(p), f.n), errWriteFailed
}

// TestNewReaderLength checks the length NewReader reports: -1 for a source
// of unknown length, and otherwise the length of what its reader reads.
func TestNewReaderLength(t *testing.T) {
	in := shapes[0].in
	if _, n, err := NewReader(strings.NewReader(in), -1, FuelOAuth(accessToken)); n != -1 || err != nil {
		t.Errorf("NewReader of an unknown length = %d, %v; want -1, nil", n, err)
	}
	r, n, err := NewReader(strings.NewReader(in), int64(len(in)), FuelOAuth(accessToken))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(got)) {
		t.Errorf("NewReader = %d bytes, read %d", n, len(got))
	}
}

func TestInjectBytesLeavesInputAlone(t *testing.T) {
	in := []byte(shapes[len(shapes)-2].in)
	in = append(in[:len(in):len(in)], "spare capacity"...)[:len(in)]
	orig := bytes.Clone(in[:cap(in)])
	if _, err := InjectBytes(in, FuelOAuth(accessToken)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(in[:cap(in)], orig) {
		t.Error("InjectBytes wrote into its input")
	}
}
