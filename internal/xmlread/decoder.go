package xmlread

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// DefaultLimit is the number of bytes a Decoder reads at most when it is given
// a limit of zero or less.
const DefaultLimit = 64 << 10

// Kind says why a Decoder refused a document.
type Kind uint8

// The kinds of Error.
const (
	// Malformed: not well-formed XML, empty, or cut short.
	Malformed Kind = iota + 1
	// Doctype: the document has a DOCTYPE, which is not read.
	Doctype
	// Encoding: the document declares an encoding other than UTF-8.
	Encoding
	// TooLarge: the answer is not within the limit.
	TooLarge
)

// An Error is a document a Decoder refused: why, at which byte offset, and a
// message that says what is wrong.
type Error struct {
	Kind   Kind
	Offset int64
	Msg    string
}

// Error returns the message.
func (e *Error) Error() string { return e.Msg }

func refuse(kind Kind, off int64, format string, args ...any) *Error {
	return &Error{Kind: kind, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// errLimit is what the limited reader returns once the limit is reached.
var errLimit = errors.New("limit reached")

// A Decoder reads a document with encoding/xml, within a byte limit, keeping
// the depth, the namespace declarations in scope, and the bytes read (so that
// raw inner XML can be sliced out by offset).
type Decoder struct {
	xd    *xml.Decoder
	in    *keepReader
	ns    []xmlns
	depth int
}

// xmlns is a namespace declaration of the open element at depth level.
type xmlns struct {
	level       int
	prefix, uri string
}

// NewDecoder returns a Decoder that reads at most limit bytes of r
// ([DefaultLimit] if limit ≤ 0).
func NewDecoder(r io.Reader, limit int64) *Decoder {
	if limit <= 0 {
		limit = DefaultLimit
	}
	in := &keepReader{r: r, left: limit, limit: limit}
	d := xml.NewDecoder(in)
	d.CharsetReader = func(charset string, _ io.Reader) (io.Reader, error) {
		return nil, refuse(Encoding, 0, "the response declares encoding=%.64q; only UTF-8 is read", charset)
	}
	return &Decoder{xd: d, in: in}
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

// Offset returns the input offset of the end of the token read last.
func (d *Decoder) Offset() int64 { return d.xd.InputOffset() }

// Next returns the next token, keeping the depth and the namespace scope.
func (d *Decoder) Next() (xml.Token, error) {
	tok, err := d.xd.Token()
	if err != nil {
		return nil, d.refusal(err)
	}
	switch t := tok.(type) {
	case xml.StartElement:
		d.depth++
		for _, a := range t.Attr {
			switch {
			case a.Name.Space == "xmlns":
				d.ns = append(d.ns, xmlns{d.depth, a.Name.Local, a.Value})
			case a.Name.Space == "" && a.Name.Local == "xmlns":
				d.ns = append(d.ns, xmlns{d.depth, "", a.Value})
			}
		}
	case xml.EndElement:
		for len(d.ns) > 0 && d.ns[len(d.ns)-1].level == d.depth {
			d.ns = d.ns[:len(d.ns)-1]
		}
		d.depth--
	case xml.Directive:
		if bytes.HasPrefix(t, []byte("DOCTYPE")) {
			return nil, refuse(Doctype, d.Offset(), "the response has a DOCTYPE, which is not read")
		}
	}
	return tok, nil
}

// refusal turns a decoding error into an *Error where it is one.
func (d *Decoder) refusal(err error) error {
	off := d.Offset()
	var e *Error
	var syntax *xml.SyntaxError
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, errLimit):
		return refuse(TooLarge, off, "the answer is not within the first %d bytes; pass a larger limit", d.in.limit)
	case off == 0 && err == io.EOF:
		return refuse(Malformed, off, "the response is empty")
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		return refuse(Malformed, off, "the document ends early")
	case errors.As(err, &syntax):
		return refuse(Malformed, off, "%s", syntax.Msg)
	}
	return err
}

// Root reads up to the root element's start tag.
func (d *Decoder) Root() (xml.StartElement, error) {
	for {
		tok, err := d.Next()
		if err != nil {
			return xml.StartElement{}, err
		}
		if t, ok := tok.(xml.StartElement); ok {
			return t, nil
		}
	}
}

// Skip reads past the end of the element whose start tag was just read.
func (d *Decoder) Skip() error {
	for level := d.depth; d.depth >= level; {
		if _, err := d.Next(); err != nil {
			return err
		}
	}
	return nil
}

// Child reads up to the start tag of the next child of the element being
// read, which it returns; ok is false if that element's end tag comes first,
// and has been read. The child before must have been read through to its end
// tag (with Skip, Text, Inner or Children).
func (d *Decoder) Child() (child xml.StartElement, ok bool, err error) {
	for level := d.depth; ; {
		tok, err := d.Next()
		if err != nil {
			return xml.StartElement{}, false, err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			if d.depth < level {
				return xml.StartElement{}, false, nil
			}
		case xml.StartElement:
			return t, true, nil
		}
	}
}

// Children calls each with the start tag of every child of the element whose
// start tag was just read, and returns after that element's end tag. each must
// read its child through to the child's end tag (with Skip, Text, Inner or
// Children).
func (d *Decoder) Children(each func(child xml.StartElement) error) error {
	for {
		child, ok, err := d.Child()
		if err != nil || !ok {
			return err
		}
		if err := each(child); err != nil {
			return err
		}
	}
}

// Text returns the trimmed character data directly inside the element whose
// start tag was just read, and reads past its end tag.
func (d *Decoder) Text() (string, error) {
	var b strings.Builder
	for level := d.depth; ; {
		tok, err := d.Next()
		if err != nil {
			return "", err
		}
		switch t := tok.(type) {
		case xml.CharData:
			if d.depth == level {
				b.Write(t)
			}
		case xml.EndElement:
			if d.depth < level {
				return strings.TrimSpace(b.String()), nil
			}
		}
	}
}

// QName reads the element just started as text holding a qualified name
// (such as q0:Security) and resolves its prefix with the declarations in
// scope at that element. An undeclared prefix is kept as the Space, as
// encoding/xml does for element names.
func (d *Decoder) QName() (xml.Name, error) {
	// The element's own declarations are popped when Text reads its end
	// tag; they stay in the backing array up to inScope, since no element
	// can be entered after it closes.
	inScope := len(d.ns)
	s, err := d.Text()
	if err != nil {
		return xml.Name{}, err
	}
	prefix, local, found := strings.Cut(s, ":")
	if !found {
		prefix, local = "", s
	}
	for _, b := range slices.Backward(d.ns[:inScope]) {
		if b.prefix == prefix {
			return xml.Name{Space: b.uri, Local: local}, nil
		}
	}
	return xml.Name{Space: prefix, Local: local}, nil
}

// Inner returns a copy of the raw bytes between the start tag just read and
// its end tag, and reads past the end tag.
func (d *Decoder) Inner() ([]byte, error) {
	from := d.Offset()
	for level := d.depth; ; {
		to := d.Offset()
		tok, err := d.Next()
		if err != nil {
			return nil, err
		}
		if _, ok := tok.(xml.EndElement); ok && d.depth < level {
			return bytes.Clone(d.in.kept[from:to]), nil
		}
	}
}
