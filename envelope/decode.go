package envelope

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"slices"
	"strings"
)

// DefaultLimit is the number of bytes ParseFault and ParseXMLAPIResult read
// at most when they are given a limit of zero or less.
const DefaultLimit = 64 << 10

// A parser reads a response with encoding/xml, within a byte limit, keeping
// the depth, the namespace declarations in scope, and the bytes read (so
// that raw inner XML can be sliced out by offset).
type parser struct {
	d     *xml.Decoder
	in    *keepReader
	ns    []xmlns
	depth int
}

// xmlns is a namespace declaration of the open element at depth level.
type xmlns struct {
	level       int
	prefix, uri string
}

func newParser(r io.Reader, limit int64) *parser {
	if limit <= 0 {
		limit = DefaultLimit
	}
	in := &keepReader{r: r, left: limit, limit: limit}
	d := xml.NewDecoder(in)
	d.CharsetReader = func(charset string, _ io.Reader) (io.Reader, error) {
		return nil, newError(ErrEncoding, 0, "the response declares encoding=%q; only UTF-8 is read", clip([]byte(charset)))
	}
	return &parser{d: d, in: in}
}

// keepReader reads at most limit bytes from r and keeps them.
type keepReader struct {
	r           io.Reader
	left, limit int64
	kept        []byte
}

func (k *keepReader) Read(p []byte) (int, error) {
	if k.left <= 0 {
		return 0, errLimit
	}
	p = p[:min(int64(len(p)), k.left)]
	n, err := k.r.Read(p)
	k.left -= int64(n)
	k.kept = append(k.kept, p[:n]...)
	return n, err
}

// next returns the next token, keeping the depth and the namespace scope.
func (p *parser) next() (xml.Token, error) {
	tok, err := p.d.Token()
	if err != nil {
		return nil, p.refusal(err)
	}
	switch t := tok.(type) {
	case xml.StartElement:
		p.depth++
		for _, a := range t.Attr {
			switch {
			case a.Name.Space == "xmlns":
				p.ns = append(p.ns, xmlns{p.depth, a.Name.Local, a.Value})
			case a.Name.Space == "" && a.Name.Local == "xmlns":
				p.ns = append(p.ns, xmlns{p.depth, "", a.Value})
			}
		}
	case xml.EndElement:
		for len(p.ns) > 0 && p.ns[len(p.ns)-1].level == p.depth {
			p.ns = p.ns[:len(p.ns)-1]
		}
		p.depth--
	case xml.Directive:
		if bytes.HasPrefix(t, []byte("DOCTYPE")) {
			return nil, newError(ErrDoctype, int(p.d.InputOffset()), "the response has a DOCTYPE, which is not read")
		}
	}
	return tok, nil
}

// refusal turns a decoding error into an *Error where it is one.
func (p *parser) refusal(err error) error {
	off := int(p.d.InputOffset())
	var e *Error
	var syntax *xml.SyntaxError
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, errLimit):
		return newError(ErrTooLarge, off, "the answer is not within the first %d bytes; pass a larger limit", p.in.limit)
	case off == 0 && err == io.EOF:
		return newError(ErrMalformed, off, "the response is empty")
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		return newError(ErrMalformed, off, "the document ends early")
	case errors.As(err, &syntax):
		return newError(ErrMalformed, off, "%s", syntax.Msg)
	}
	return err
}

// root reads up to the root element's start tag.
func (p *parser) root() (xml.StartElement, error) {
	for {
		tok, err := p.next()
		if err != nil {
			return xml.StartElement{}, err
		}
		if t, ok := tok.(xml.StartElement); ok {
			return t, nil
		}
	}
}

// skip reads past the end of the element whose start tag was just read.
func (p *parser) skip() error {
	for level := p.depth; p.depth >= level; {
		if _, err := p.next(); err != nil {
			return err
		}
	}
	return nil
}

// children calls each with the start tag of every child of the element whose start
// tag was just read, and returns after that element's end tag. each must read its
// child through to the child's end tag (with skip, text, inner or children).
func (p *parser) children(each func(child xml.StartElement) error) error {
	for level := p.depth; ; {
		tok, err := p.next()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			if p.depth < level {
				return nil
			}
		case xml.StartElement:
			if err := each(t); err != nil {
				return err
			}
		}
	}
}

// text returns the trimmed character data directly inside the element whose
// start tag was just read, and reads past its end tag.
func (p *parser) text() (string, error) {
	var b strings.Builder
	for level := p.depth; ; {
		tok, err := p.next()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.CharData:
			if p.depth == level {
				b.Write(t)
			}
		case xml.EndElement:
			if p.depth < level {
				return strings.TrimSpace(b.String()), nil
			}
		}
	}
}

// qname reads the element just started as text holding a qualified name
// (such as q0:Security) and resolves its prefix with the declarations in
// scope at that element. An undeclared prefix is kept as the Space, as
// encoding/xml does for element names.
func (p *parser) qname() (xml.Name, error) {
	// The element's own declarations are popped when text reads its end
	// tag; they stay in the backing array up to inScope, since no element
	// can be entered after it closes.
	inScope := len(p.ns)
	s, err := p.text()
	if err != nil {
		return xml.Name{}, err
	}
	prefix, local, found := strings.Cut(s, ":")
	if !found {
		prefix, local = "", s
	}
	for _, b := range slices.Backward(p.ns[:inScope]) {
		if b.prefix == prefix {
			return xml.Name{Space: b.uri, Local: local}, nil
		}
	}
	return xml.Name{Space: prefix, Local: local}, nil
}

// inner returns a copy of the raw bytes between the start tag just read and
// its end tag, and reads past the end tag.
func (p *parser) inner() ([]byte, error) {
	from := p.d.InputOffset()
	for level := p.depth; ; {
		to := p.d.InputOffset()
		tok, err := p.next()
		if err != nil {
			return nil, err
		}
		if _, ok := tok.(xml.EndElement); ok && p.depth < level {
			return bytes.Clone(p.in.kept[from:to]), nil
		}
	}
}
