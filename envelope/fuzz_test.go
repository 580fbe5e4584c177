package envelope

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"
)

// FuzzInject checks, for any input, that injection never panics, that its
// entry points agree, that a refusal is a typed error with nothing
// written and no secret in it, and that a well-formed envelope comes out
// well-formed with exactly one credential, its Body and its other Header
// children byte for byte as they were. See the package documentation for a
// longer run.
func FuzzInject(f *testing.F) {
	for _, s := range shapes {
		f.Add([]byte(s.in), false)
		f.Add([]byte(s.in), true)
	}
	for _, s := range []string{
		"", `{"a":1}`, `<a/>`, `<Envelope><Body/></Envelope>`, "\xFF\xFE<\x00",
		`<!DOCTYPE x><soap:Envelope xmlns:soap=` + ns11 + `><soap:Body/></soap:Envelope>`,
		`<?xml version="1.0" encoding="latin1"?><soap:Envelope xmlns:soap=` + ns11 + `><soap:Body/></soap:Envelope>`,
		`<soap:Envelope xmlns:soap=` + ns11 + `><soap:Header><wsa:To>x</wsa:To></soap:Header><soap:Body/></soap:Envelope>`,
		`<soap:Envelope xmlns:soap=` + ns11 + `><soap:Header/><soap:Header><fueloauth/></soap:Header><soap:Body/></soap:Envelope>`,
	} {
		f.Add([]byte(s), false)
	}

	const password = "p&ss<word"
	f.Fuzz(func(t *testing.T, in []byte, userToken bool) {
		c, want := FuelOAuth(accessToken), credential{name: fuelName, text: accessToken}
		if userToken {
			c = UsernameToken(UsernameTokenConfig{Username: "api.user", Password: password})
			want = credential{name: securityName, text: "api.user" + password, mustUnderstand: "1"}
		}

		out, err := injectAllWays(t, in, c, accessToken, password)
		if err == nil {
			checkReadUTF8(t, in, out)
		}
		r, notXML := readEnvelope(in)
		switch {
		case notXML != nil:
			// Only the typed error is asked of input that is not XML.
		case err != nil:
			if r.mayRefuse == "" {
				t.Fatalf("refused a well-formed envelope: %v", err)
			}
		case r.early > 1:
			t.Fatalf("accepted an envelope with %d Headers before its Body", r.early)
		case r.headers > 1:
			// A Header after the Body, when one came first, is not read:
			// the first gets the credential, the other is left as it is.
		default:
			checkInjected(t, in, out, want)
		}
	})
}

// FuzzInjectParts builds envelopes from parts the fuzzer chooses — what
// comes before the root, the Envelope's attributes, the Header's content,
// what lies between the Header and the Body, the Body's content — with the
// Header first or after the Body, so that it reaches the checks on what
// the injector reads: bytes that are not UTF-8, and Headers that appear
// twice. Besides FuzzInject's checks, an accepted envelope's parts before
// its Body must be valid UTF-8 when the Header comes first.
func FuzzInjectParts(f *testing.F) {
	f.Add([]byte(`<?xml version="1.0"?>`), []byte(` xmlns:a="urn:a"`), []byte(`<a:To>x</a:To>`), []byte(``), []byte(`<Ping xmlns="urn:x"/>`), false)
	f.Add([]byte(""), []byte(""), []byte(`<fueloauth>OLD</fueloauth>`), []byte(`<soap:Header/>`), []byte(`x`), false)
	f.Add([]byte("<!-- r\xE9sum\xE9 -->"), []byte(""), []byte(""), []byte(""), []byte(""), false)
	f.Add([]byte(""), []byte(" a=\"\xC0\xBC\""), []byte(""), []byte(""), []byte(""), false)
	f.Add([]byte(""), []byte(""), []byte("<To xmlns=\"urn:a\">\xED\xA0\x80</To>"), []byte(""), []byte(""), true)
	f.Add([]byte(""), []byte(""), []byte(`<fueloauth>OLD</fueloauth>`), []byte(`<soap:Header/>`), []byte(`<Header/>`), true)
	f.Add([]byte(""), []byte(""), []byte(""), []byte("\n<!-- Header -->\n"), []byte("<a>Header</a><a>Body</a>"), true)

	c := FuelOAuth(accessToken)
	f.Fuzz(func(t *testing.T, prolog, attrs, header, between, content []byte, bodyFirst bool) {
		open := `<soap:Envelope xmlns:soap=` + ns11 + string(attrs) + `>`
		hdr := `<soap:Header>` + string(header) + `</soap:Header>`
		body := `<soap:Body>` + string(content) + `</soap:Body>`
		doc := string(prolog) + open + hdr + string(between) + body + `</soap:Envelope>`
		if bodyFirst {
			doc = string(prolog) + open + body + string(between) + hdr + `</soap:Envelope>`
		}
		in := []byte(doc)

		out, err := injectAllWays(t, in, c, accessToken)
		if err != nil {
			return
		}
		checkReadUTF8(t, in, out)
		if !bodyFirst && !utf8.Valid([]byte(string(prolog)+open+hdr+string(between))) &&
			!bytes.Contains([]byte(string(prolog)+open+hdr+string(between)), []byte("Body")) {
			t.Fatalf("accepted bytes that are not UTF-8 before the Body")
		}
		if r, notXML := readEnvelope(in); notXML == nil && r.early > 1 {
			t.Fatalf("accepted an envelope with %d Headers before its Body", r.early)
		}
	})
}

// checkReadUTF8 checks that the input of an accepted injection is valid
// UTF-8 up to where the output first differs from it, unless a Body starts
// there: the injector reads all of that, and refuses what is not UTF-8 in
// the prolog, the Envelope's start tag and the Header.
func checkReadUTF8(t *testing.T, in, out []byte) {
	t.Helper()
	n := 0
	for n < len(in) && n < len(out) && in[n] == out[n] {
		n++
	}
	// The output may agree with the input a few bytes past the point where
	// the block goes, into the middle of a character.
	for n > 0 && n < len(in) && !utf8.RuneStart(in[n]) {
		n--
	}
	if read := in[:n]; !bytes.Contains(read, []byte("Body")) && !utf8.Valid(read) {
		t.Fatalf("accepted an envelope whose first %d bytes are not UTF-8: %q", n, read)
	}
}

// injectAllWays injects c into in with InjectBytes and with NewReader (from a
// source that returns half of what is asked, copied out with io.Copy), and
// fails unless they agree: the same bytes out, of the length NewReader
// reported, or the same refusal, an *Error, with no reader handed out and
// none of secrets in it. It returns InjectBytes' answer.
func injectAllWays(t *testing.T, in []byte, c Credential, secrets ...string) ([]byte, error) {
	t.Helper()
	out, err := InjectBytes(in, c)
	r, n, errStream := NewReader(iotest.HalfReader(bytes.NewReader(in)), int64(len(in)), c)
	if (err == nil) != (errStream == nil) || err != nil && err.Error() != errStream.Error() {
		t.Fatalf("InjectBytes: %v; NewReader: %v", err, errStream)
	}
	if err != nil {
		var e *Error
		if !errors.As(err, &e) {
			t.Fatalf("refused with an untyped error: %v", err)
		}
		if r != nil {
			t.Fatalf("NewReader refused with a reader")
		}
		for _, secret := range secrets {
			if strings.Contains(err.Error(), secret) {
				t.Fatalf("the error reveals the secret: %v", err)
			}
		}
		return nil, err
	}
	var streamed bytes.Buffer
	if m, err := io.Copy(&streamed, r); err != nil || !bytes.Equal(streamed.Bytes(), out) || m != int64(len(out)) || n != int64(len(out)) {
		t.Fatalf("NewReader said %d bytes, copied %d, %v:\n%s\nInjectBytes:\n%s", n, m, err, streamed.Bytes(), out)
	}
	return out, nil
}
