package benchmarks

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/beevik/etree"

	"github.com/tokentrip/tokentrip/envelope"
)

const soapToken = "eyJhbGciOiJIUzI1NiIsImtpZCI6IjQiLCJ2ZXIiOiIxIiwidHlwIjoiSldUIn0.eyJhY2Nlc3NfdG9rZW4iOiJzM2NyZXQiLCJjbGllbnRfaWQiOiJ4In0.sig"

// BenchmarkInject puts a fueloauth header into Marketing Cloud Create
// requests of growing size, read from a plain stream (as a request body is)
// and written whole to io.Discard:
//
//   - tokentrip: envelope.NewReader, copied out with io.Copy;
//   - etree-full: parse the whole document with etree, add the element to
//     the Header, write the document out;
//   - copy: io.Copy of the envelope as it is, the floor for any injector.
func BenchmarkInject(b *testing.B) {
	for _, size := range injectSizes {
		doc := createRequest(size.bytes, true)
		b.Run(size.name, func(b *testing.B) {
			b.Run("tokentrip", func(b *testing.B) { benchStream(b, doc, tokentripInject) })
			b.Run("etree-full", func(b *testing.B) { benchStream(b, doc, etreeInject) })
			b.Run("copy", func(b *testing.B) { benchStream(b, doc, plainCopy) })
		})
	}
}

// BenchmarkInjectNoHeader is tokentrip on the same requests without a
// Header, as SOAP clients that leave authentication to tokentrip send them:
// the injector looks up to 16 KiB past the Body's start for a Header that
// might follow the Body before it puts a new one first.
func BenchmarkInjectNoHeader(b *testing.B) {
	for _, size := range injectSizes {
		doc := createRequest(size.bytes, false)
		b.Run(size.name+"/tokentrip", func(b *testing.B) { benchStream(b, doc, tokentripInject) })
	}
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
