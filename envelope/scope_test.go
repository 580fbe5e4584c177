package envelope

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
)

// manyBindings returns an envelope of about maxPrefix bytes, every one of
// them before the Body: a Header of n small children under an Envelope with
// decls namespace declarations. With plain, the declarations are ordinary
// attributes of the same length, so both envelopes are tokenized alike and
// only the namespace bookkeeping differs.
func manyBindings(decls int, plain bool) (doc []byte, children int) {
	var b bytes.Buffer
	b.WriteString(`<soap:Envelope xmlns:soap=` + ns11)
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	for i := range decls {
		name := "xmlns:"
		if plain {
			name = "attrs-"
		}
		// The leading p keeps the reserved prefixes xml and xmlns out.
		fmt.Fprintf(&b, ` %sp%c%c%c="u"`, name, letters[i%52], letters[i/52%52], letters[i/52/52%52])
	}
	b.WriteString(`><soap:Header>`)
	const tail = `</soap:Header><soap:Body/></soap:Envelope>`
	for b.Len()+len(tail)+4 <= maxPrefix {
		b.WriteString(`<a/>`)
		children++
	}
	b.WriteString(tail)
	return b.Bytes(), children
}

// TestNamespaceLookupStaysLinear: thousands of namespace declarations in
// scope must not make each element's lookup cost as much as all of them.
// Before the bindings were indexed, 35,000 declarations over a Header of
// 139,000 elements took several hundred times as long as the same envelope
// with plain attributes (37 s against 48 ms, on a loaded machine).
func TestNamespaceLookupStaysLinear(t *testing.T) {
	hostile, n := manyBindings(35000, false)
	plain, _ := manyBindings(35000, true)
	if len(hostile) != len(plain) || len(hostile) > maxPrefix {
		t.Fatalf("envelopes of %d and %d bytes", len(hostile), len(plain))
	}
	c := FuelOAuth(accessToken)
	fastest := func(doc []byte) time.Duration {
		best := time.Duration(1<<63 - 1)
		for range 3 {
			start := time.Now()
			out, err := InjectBytes(doc, c)
			best = min(best, time.Since(start))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.HasSuffix(out, []byte(`<a/>`+fuel+`</soap:Header><soap:Body/></soap:Envelope>`)) {
				t.Fatalf("the block is not at the end of the Header: …%s", out[len(out)-120:])
			}
		}
		return best
	}
	p, h := fastest(plain), fastest(hostile)
	ratio := float64(h) / float64(p)
	t.Logf("%d declarations, %d Header children, %d bytes: %v against %v without the declarations (%.1f×)", 35000, n, len(hostile), h, p, ratio)
	// A few times at most: the map costs more than a scan of a handful of
	// bindings, but nothing in proportion to their number.
	if ratio > 8 {
		t.Errorf("namespace lookup costs %.1f× the plain envelope, want at most 8×", ratio)
	}
}

// TestNamespaceScopes checks that prefixes resolve to the innermost
// declaration in scope, with few bindings (scanned) and many (indexed),
// as elements open and close.
func TestNamespaceScopes(t *testing.T) {
	for _, extra := range []int{0, indexAt - 2, indexAt, 3 * indexAt} {
		t.Run(fmt.Sprintf("%d other declarations", extra), func(t *testing.T) {
			var decls strings.Builder
			for i := range extra {
				fmt.Fprintf(&decls, ` xmlns:p%d="urn:p%d"`, i, i)
			}
			// s is bound to SOAP on the Envelope, rebound on the first
			// Header-like child, and SOAP again once it closes: only the
			// second <s:Header> is the Header. The prefix w is declared
			// twice, WS-Security innermost.
			in := `<s:Envelope xmlns:s=` + ns11 + ` xmlns:w="urn:other"` + decls.String() + `>` +
				`<s:Header xmlns:s="urn:not-soap"` + decls.String() + `/>` +
				`<s:Header><w:Security xmlns:w="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">OLD</w:Security><w:Security/></s:Header>` +
				`<s:Body/></s:Envelope>`
			want := `<s:Envelope xmlns:s=` + ns11 + ` xmlns:w="urn:other"` + decls.String() + `>` +
				`<s:Header xmlns:s="urn:not-soap"` + decls.String() + `/>` +
				`<s:Header>` + fuel + `<w:Security/></s:Header>` +
				`<s:Body/></s:Envelope>`
			got, err := InjectBytes([]byte(in), FuelOAuth(accessToken))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}
