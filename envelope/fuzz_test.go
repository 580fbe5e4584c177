package envelope

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"testing/iotest"
)

// FuzzInject checks, for any input, that injection never panics, that its
// three entry points agree, that a refusal is a typed error with nothing
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

		out, err := InjectBytes(in, c)
		var streamed bytes.Buffer
		n, errStream := Inject(&streamed, iotest.HalfReader(bytes.NewReader(in)), c)
		if (err == nil) != (errStream == nil) || err != nil && err.Error() != errStream.Error() {
			t.Fatalf("InjectBytes: %v; Inject: %v", err, errStream)
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("refused with an untyped error: %v", err)
			}
			if streamed.Len() != 0 {
				t.Fatalf("Inject wrote %d bytes before refusing", streamed.Len())
			}
			if strings.Contains(err.Error(), accessToken) || strings.Contains(err.Error(), password) {
				t.Fatalf("the error reveals the secret: %v", err)
			}
		} else {
			if !bytes.Equal(streamed.Bytes(), out) || n != int64(len(out)) {
				t.Fatalf("Inject wrote %d bytes:\n%s\nInjectBytes:\n%s", n, streamed.Bytes(), out)
			}
			if got, err := NewReader(bytes.NewReader(in), c).OutputLen(int64(len(in))); got != int64(len(out)) || err != nil {
				t.Fatalf("OutputLen = %d, %v; want %d", got, err, len(out))
			}
		}

		r, notXML := readEnvelope(in)
		switch {
		case notXML != nil:
			// Only the typed error is asked of input that is not XML.
		case err != nil:
			if r.mayRefuse == "" {
				t.Fatalf("refused a well-formed envelope: %v", err)
			}
		case r.headers > 1:
			// Two Headers is not SOAP: the first gets the credential, the
			// second is left as it is.
		default:
			checkInjected(t, in, out, want)
		}
	})
}
