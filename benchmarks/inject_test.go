package benchmarks

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/beevik/etree"

	"github.com/tokentrip/tokentrip/envelope"
)

const soapToken = "eyJhbGciOiJIUzI1NiIsImtpZCI6IjQiLCJ2ZXIiOiIxIiwidHlwIjoiSldUIn0.eyJhY2Nlc3NfdG9rZW4iOiJzM2NyZXQiLCJjbGllbnRfaWQiOiJ4In0.sig"

// BenchmarkInject puts a fueloauth header into Marketing Cloud Create
// requests of growing size that carry a Header, read from a plain stream
// (as a request body is) and written whole to io.Discard:
//
//   - tokentrip: envelope.NewReader, copied out with io.Copy;
//   - rawtoken: the fair anchor, encoding/xml's RawToken up to the end of
//     the Header and a raw copy of the rest (rawTokenInject);
//   - etree-full: parse the whole document with etree, add the element to
//     the Header, write the document out;
//   - copy: io.Copy of the envelope as it is, the floor for any injector.
//
// Sub-benchmarks are named size=…/impl=…, so that benchstat can set the
// implementations side by side: benchstat -col /impl.
func BenchmarkInject(b *testing.B) {
	for _, size := range injectSizes {
		doc := createRequest(size.bytes, true)
		b.Run("size="+size.name, func(b *testing.B) {
			b.Run("impl=tokentrip", func(b *testing.B) { benchStream(b, doc, tokentripInject) })
			b.Run("impl=rawtoken", func(b *testing.B) { benchStream(b, doc, rawTokenInject) })
			b.Run("impl=etree-full", func(b *testing.B) { benchStream(b, doc, etreeInject) })
			b.Run("impl=copy", func(b *testing.B) { benchStream(b, doc, plainCopy) })
		})
	}
}

// BenchmarkInjectNoHeader runs the same requests without a Header, as
// SOAP clients that leave authentication to tokentrip send them (gowsdl,
// zeep and node-soap without header values): tokentrip, which rules out a
// Header after the Body with a byte search of the Body's first 16 KiB
// before it puts a new Header first; the rawtoken anchor, which puts one at
// the Body's start tag without looking; and the copy.
func BenchmarkInjectNoHeader(b *testing.B) {
	for _, size := range injectSizes {
		doc := createRequest(size.bytes, false)
		b.Run("size="+size.name, func(b *testing.B) {
			b.Run("impl=tokentrip", func(b *testing.B) { benchStream(b, doc, tokentripInject) })
			b.Run("impl=rawtoken", func(b *testing.B) { benchStream(b, doc, rawTokenInject) })
			b.Run("impl=copy", func(b *testing.B) { benchStream(b, doc, plainCopy) })
		})
	}
}

// manyDeclarations returns an envelope of just under envelope.MaxPrefix
// bytes, all before the Body: decls namespace declarations on the Envelope
// (or, with plain, attributes of the same length) and a Header filled with
// <a/>.
func manyDeclarations(decls int, plain bool) []byte {
	var b bytes.Buffer
	b.WriteString(`<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"`)
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	name := "xmlns:"
	if plain {
		name = "attrs-"
	}
	for i := range decls {
		fmt.Fprintf(&b, ` %s%c%c%c="u"`, name, letters[i%52], letters[i/52%52], letters[i/52/52%52])
	}
	b.WriteString(`><soap:Header>`)
	const tail = `</soap:Header><soap:Body/></soap:Envelope>`
	for b.Len()+len(tail)+4 <= envelope.MaxPrefix {
		b.WriteString(`<a/>`)
	}
	b.WriteString(tail)
	return b.Bytes()
}

var injectSizes = []struct {
	name  string
	bytes int
}{
	{"1KiB", 1 << 10},
	{"64KiB", 64 << 10},
	{"1MiB", 1 << 20},
	{"8MiB", 8 << 20},
}

var soapCred = envelope.FuelOAuth(soapToken)

func tokentripInject(dst io.Writer, src io.Reader) error {
	_, err := io.Copy(dst, envelope.NewReader(src, soapCred))
	return err
}

func plainCopy(dst io.Writer, src io.Reader) error {
	_, err := io.Copy(dst, src)
	return err
}

// benchStream runs inject from a stream of doc into io.Discard.
func benchStream(b *testing.B, doc []byte, inject func(dst io.Writer, src io.Reader) error) {
	r := bytes.NewReader(doc)
	var stream io.Reader = struct{ io.Reader }{r} // hides WriteTo, as a network body would
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(doc)
		if err := inject(io.Discard, stream); err != nil {
			b.Fatal(err)
		}
	}
}

// TestInjectRawTokenAnchorAgrees makes sure the rawtoken anchor does the
// same job as tokentrip: the same bytes out, on every size benchmarked
// below 8 MiB and on the shapes it handles.
func TestInjectRawTokenAnchorAgrees(t *testing.T) {
	type shape struct{ name, doc string }
	var shapes []shape
	for _, size := range injectSizes[:3] {
		shapes = append(shapes,
			shape{"Create, Header, " + size.name, string(createRequest(size.bytes, true))},
			shape{"Create, no Header, " + size.name, string(createRequest(size.bytes, false))})
	}
	const body = `<RetrieveRequestMsg xmlns="http://exacttarget.com/wsdl/partnerAPI"><RetrieveRequest><ObjectType>Subscriber</ObjectType></RetrieveRequest></RetrieveRequestMsg>`
	shapes = append(shapes,
		shape{"soapenv, no declaration, Header", `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Header><To xmlns="urn:a">x</To></soapenv:Header><soapenv:Body>` + body + `</soapenv:Body></soapenv:Envelope>`},
		shape{"SOAP 1.2, env, no Header", `<?xml version="1.0"?><env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"><env:Body>` + body + `</env:Body></env:Envelope>`},
		shape{"default namespace, indented, empty Header", "<Envelope xmlns=\"http://schemas.xmlsoap.org/soap/envelope/\">\n  <Header>\n  </Header>\n  <Body>" + body + "</Body>\n</Envelope>\n"},
	)
	for _, s := range shapes {
		var ours, anchor bytes.Buffer
		if err := tokentripInject(&ours, struct{ io.Reader }{strings.NewReader(s.doc)}); err != nil {
			t.Fatalf("%s: tokentrip: %v", s.name, err)
		}
		if err := rawTokenInject(&anchor, struct{ io.Reader }{strings.NewReader(s.doc)}); err != nil {
			t.Fatalf("%s: rawtoken: %v", s.name, err)
		}
		if !bytes.Equal(ours.Bytes(), anchor.Bytes()) {
			t.Errorf("%s: tokentrip and the rawtoken anchor disagree:\n%.600s\n%.600s", s.name, ours.Bytes(), anchor.Bytes())
		}
		if ours.Len() != len(s.doc)+len(fuelBlock) && ours.Len() != len(s.doc)+len(fuelBlock)+len("<soap:Header></soap:Header>") &&
			ours.Len() != len(s.doc)+len(fuelBlock)+len("<env:Header></env:Header>") {
			t.Errorf("%s: %d bytes in, %d out", s.name, len(s.doc), ours.Len())
		}
	}
}

// TestInjectAnchorsAgree makes sure the etree anchor does the same job:
// tokentrip's output, parsed and written by etree, is the anchor's output.
func TestInjectAnchorsAgree(t *testing.T) {
	for _, header := range []bool{true, false} {
		doc := createRequest(4<<10, header)
		var ours, anchor bytes.Buffer
		if _, err := envelope.Inject(&ours, bytes.NewReader(doc), soapCred); err != nil {
			t.Fatal(err)
		}
		if err := etreeInject(&anchor, bytes.NewReader(doc)); err != nil {
			t.Fatal(err)
		}
		reparsed := etree.NewDocument()
		if err := reparsed.ReadFromBytes(ours.Bytes()); err != nil {
			t.Fatal(err)
		}
		got, err := reparsed.WriteToString()
		if err != nil {
			t.Fatal(err)
		}
		if got != anchor.String() {
			t.Errorf("with Header %t, tokentrip and the etree anchor disagree:\n%s\n%s", header, got, anchor.Bytes())
		}
	}
}

// etreeInject is the straightforward injector: the whole envelope in
// memory as a tree, the block added to its Header, the tree written out.
func etreeInject(dst io.Writer, src io.Reader) error {
	doc := etree.NewDocument()
	if _, err := doc.ReadFrom(src); err != nil {
		return err
	}
	env := doc.Root()
	if env == nil || env.Tag != "Envelope" {
		return errors.New("not a SOAP envelope")
	}
	header := env.SelectElement(env.Space + ":Header")
	if header == nil {
		header = etree.NewElement(env.Space + ":Header")
		env.InsertChildAt(0, header)
	}
	fuel := header.CreateElement("fueloauth")
	fuel.CreateAttr("xmlns", "http://exacttarget.com")
	fuel.SetText(soapToken)
	_, err := doc.WriteTo(dst)
	return err
}

// createRequest returns a SOAP 1.1 Marketing Cloud Create request of about
// size bytes, as a WCF-style client sends it: subscribers in the Body and,
// with header, WS-Addressing in the Header.
func createRequest(size int, header bool) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` +
		`<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing">`)
	if header {
		b.WriteString(`<soap:Header><wsa:Action soap:mustUnderstand="1">Create</wsa:Action>` +
			`<wsa:MessageID>urn:uuid:5d3a4f8e-0c6b-4f7e-9a51-2b8e6d1c3f90</wsa:MessageID>` +
			`<wsa:ReplyTo><wsa:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:Address></wsa:ReplyTo>` +
			`<wsa:To soap:mustUnderstand="1">https://mc563885gzs27c5t9-63k636tzgm.soap.marketingcloudapis.com/Service.asmx</wsa:To></soap:Header>`)
	}
	b.WriteString(`<soap:Body><CreateRequest xmlns="http://exacttarget.com/wsdl/partnerAPI"><Options/>`)
	const tail = `</CreateRequest></soap:Body></soap:Envelope>`
	for i := 0; b.Len()+len(tail) < size; i++ {
		fmt.Fprintf(&b, `<Objects xsi:type="Subscriber"><EmailAddress>subscriber%06d@example.com</EmailAddress>`+
			`<SubscriberKey>subscriber-%06d</SubscriberKey><Attributes><Name>First Name</Name><Value>Ada &amp; Co</Value></Attributes>`+
			`<Lists><ID>%d</ID><Status>Active</Status></Lists></Objects>`, i, i, 1000+i%50)
	}
	b.WriteString(tail)
	return b.Bytes()
}
