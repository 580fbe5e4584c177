package envelope

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"unicode/utf8"
)

// This file reads envelopes independently of the injector, with
// encoding/xml, so that tests and the fuzzer can check its output.

// A reading is what encoding/xml finds in an envelope.
type reading struct {
	version string   // the Envelope's namespace
	headers int      // Header children of the Envelope
	early   int      // those of them that come before the first Body
	body    []byte   // the raw bytes of the first Body, start to end tag
	others  [][]byte // the raw bytes of the first Header's children that are not credentials
	creds   []credential
	// mayRefuse says why the injector may refuse the document although
	// encoding/xml reads it; "" means it must accept it.
	mayRefuse string
}

// A credential found among the first Header's children.
type credential struct {
	name           xml.Name
	text           string // all character data inside it
	mustUnderstand string // the value of {envelope namespace}mustUnderstand
}

var errNotWellFormed = errors.New("not well-formed")

// readEnvelope reads doc with encoding/xml. It fails if doc is not
// well-formed XML; otherwise it reports what the envelope holds.
func readEnvelope(doc []byte) (reading, error) {
	doc = bytes.TrimPrefix(doc, []byte("\xEF\xBB\xBF"))
	var r reading
	if err := r.checkRaw(doc); err != nil {
		return r, err
	}
	d := xml.NewDecoder(bytes.NewReader(doc))
	var (
		depth, roots   int
		inHeader       bool // inside the first Header
		child          *credential
		childStart     int64
		bodyStart      int64 = -1
		childIsOrdinal bool
	)
	for {
		before := d.InputOffset()
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return r, fmt.Errorf("%w: %v", errNotWellFormed, err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case depth == 1:
				if roots++; roots > 1 {
					return r, fmt.Errorf("%w: two root elements", errNotWellFormed)
				}
				if t.Name.Local == "Envelope" && (t.Name.Space == uriSOAP11 || t.Name.Space == uriSOAP12) {
					r.version = t.Name.Space
				}
			case depth == 2 && r.version != "" && t.Name.Space == r.version:
				switch t.Name.Local {
				case "Header":
					r.headers++
					inHeader = r.headers == 1
					if bodyStart < 0 && r.body == nil {
						r.early++
					}
				case "Body":
					if bodyStart < 0 && r.body == nil {
						bodyStart = before
					}
				}
			case depth == 3 && inHeader:
				childStart = before
				childIsOrdinal = !isCredentialName(t.Name)
				if !childIsOrdinal {
					r.creds = append(r.creds, credential{name: t.Name})
					child = &r.creds[len(r.creds)-1]
					for _, a := range t.Attr {
						if a.Name.Local == "mustUnderstand" && a.Name.Space == r.version {
							child.mustUnderstand = a.Value
						}
					}
				}
			}
		case xml.EndElement:
			depth--
			switch {
			case depth == 2 && inHeader:
				if childIsOrdinal {
					r.others = append(r.others, doc[childStart:d.InputOffset()])
				}
				child = nil
			case depth == 1 && inHeader:
				inHeader = false
			case depth == 1 && bodyStart >= 0:
				r.body, bodyStart = doc[bodyStart:d.InputOffset()], -1
			}
		case xml.CharData:
			if depth == 0 && len(bytes.TrimLeft(t, " \t\r\n")) > 0 {
				return r, fmt.Errorf("%w: text outside the root element", errNotWellFormed)
			}
			if child != nil {
				child.text += string(t)
			}
		}
	}
	if roots == 0 {
		return r, fmt.Errorf("%w: no root element", errNotWellFormed)
	}
	switch {
	case r.mayRefuse != "":
	case !utf8.Valid(doc):
		// encoding/xml lets such bytes through in comments and processing
		// instructions; XML does not.
		r.mayRefuse = "bytes that are not UTF-8"
	case r.version == "":
		r.mayRefuse = "the root is not a SOAP Envelope"
	case r.body == nil:
		r.mayRefuse = "the Envelope has no Body"
	case r.headers > 1:
		r.mayRefuse = "the Envelope has more than one Header"
	}
	return r, nil
}

var encodingDecl = regexp.MustCompile(`encoding\s*=\s*("[^"]*"|'[^']*')`)
var wellFormedDecl = regexp.MustCompile(`^<\?xml(\s+[A-Za-z_:][-\w.:]*\s*=\s*("[^"]*"|'[^']*'))*\s*\?>$`)

// checkRaw notes the documents encoding/xml accepts and XML does not, or
// that the injector refuses on purpose: DOCTYPEs and other declarations,
// an XML declaration that does not come first, is garbled or names another
// encoding, CDATA outside the root, namespace prefixes used undeclared where
// the injector resolves names, and declarations there of no prefix or of a
// reserved one.
func (r *reading) checkRaw(doc []byte) error {
	d := xml.NewDecoder(bytes.NewReader(doc))
	var scopes [][]string // prefixes declared by each open element
	declared := func(prefix string) bool {
		for _, s := range scopes {
			if slices.Contains(s, prefix) {
				return true
			}
		}
		return prefix == "" || prefix == "xml"
	}
	for {
		before := d.InputOffset()
		tok, err := d.RawToken()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%w: %v", errNotWellFormed, err)
		}
		raw := doc[before:d.InputOffset()]
		switch t := tok.(type) {
		case xml.StartElement:
			var s []string
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" {
					s = append(s, a.Name.Local)
				}
				reserved := a.Name.Space == "xmlns" && (a.Name.Local == "xmlns" || a.Name.Local == "xml" && a.Value != uriXML)
				if (reserved || a.Name.Space == "" && a.Name.Local == "xmlns:") && len(scopes) < 3 && r.mayRefuse == "" {
					r.mayRefuse = "a declaration of no prefix or of a reserved one"
				}
			}
			scopes = append(scopes, s)
			if len(scopes) <= 3 && !declared(t.Name.Space) && r.mayRefuse == "" {
				r.mayRefuse = "an undeclared namespace prefix"
			}
		case xml.EndElement:
			if len(scopes) == 0 {
				return fmt.Errorf("%w: an end tag with no start tag", errNotWellFormed)
			}
			scopes = scopes[:len(scopes)-1]
		case xml.CharData:
			if len(scopes) == 0 && bytes.HasPrefix(raw, []byte("<![CDATA[")) {
				return fmt.Errorf("%w: CDATA outside the root element", errNotWellFormed)
			}
		case xml.Directive:
			r.mayRefuse = "a DOCTYPE or other declaration"
		case xml.ProcInst:
			if t.Target != "xml" {
				break
			}
			if before != 0 || !wellFormedDecl.Match(raw) {
				r.mayRefuse = "an XML declaration that is misplaced or garbled"
			}
			for _, m := range encodingDecl.FindAllSubmatch(raw, -1) {
				if enc := m[1][1 : len(m[1])-1]; !bytes.EqualFold(enc, []byte("utf-8")) {
					return fmt.Errorf("%w: encoding %q", errNotWellFormed, enc)
				}
			}
		}
	}
}

func isCredentialName(n xml.Name) bool {
	switch n.Local {
	case "fueloauth":
		return true
	case "oAuth":
		return n.Space == uriExactTarget || n.Space == ""
	case "Security":
		return n.Space == uriWSSE
	}
	return false
}
