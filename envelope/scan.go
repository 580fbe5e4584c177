package envelope

import (
	"bytes"
	"errors"
	"io"
	"sync"
)

// maxPrefix is the most bytes of an envelope that injection reads before it
// knows where the credential goes and that no second Header comes before
// the Body (normally up to the Body's start tag). An envelope whose Header
// ends later, or whose Body starts later, is refused with ErrTooLarge.
const maxPrefix = 1 << 20

const (
	// bodyWindow is how far past the start of a Body that comes before any
	// Header the scanner looks for a Header after it. It is small: every
	// envelope without a Header pays for a byte search of it (and for
	// tokenizing it, when the bytes "Header" occur there), and a Header
	// after the Body comes from small envelopes. It also fits in the first
	// read, so looking does not grow the buffer.
	bodyWindow = 16 << 10
	// firstRead is the size of a new scanner's buffer: the first read from
	// the source, and later the buffer that copies the rest of it.
	firstRead = 32 << 10
	// maxPooled keeps buffers grown by a rare large prefix out of the pool.
	maxPooled = 64 << 10
	// maxPooledItems does the same for the slices of attributes, open
	// elements, bindings and pieces.
	maxPooledItems = 1 << 10
)

// Conditions the tokenizer meets; scan turns them into *Error values.
var (
	errEOF   = errors.New("end of input")
	errLimit = errors.New("limit reached")
)

// A span is a range of bytes in the scanner's buffer, or in its extra buffer
// when it is an output piece marked extra.
type span struct{ from, to int }

// A piece is one part of the output prefix.
type piece struct {
	span
	extra bool // in scanner.extra rather than scanner.buf
}

type tokenKind uint8

const (
	tokText    tokenKind = iota
	tokStart             // <name …>
	tokEmpty             // <name …/>
	tokEnd               // </name>
	tokComment           // <!-- … -->
	tokPI                // <?target … ?>
	tokCDATA             // <![CDATA[ … ]]>
	tokDoctype           // <!DOCTYPE (not read any further)
)

// A token is one lexical unit of XML: buf[start:end]. name is the element
// name of a tag or the target of a processing instruction.
type token struct {
	kind       tokenKind
	start, end int
	name       span
}

type attr struct{ name, value span }

// nsID names the namespaces the scanner tells apart.
type nsID uint8

const (
	nsNone nsID = iota // no namespace
	nsOther
	nsSOAP11
	nsSOAP12
	nsWSSE
	nsET // ExactTarget
)

// A scanner tokenizes the prefix of an envelope, up to the point where the
// credential goes, and plans the output prefix as pieces of its buffer and of
// extra (the bytes it adds). Nothing past the plan is ever tokenized.
type scanner struct {
	src   io.Reader // nil when buf holds the whole document
	buf   []byte    // the input read so far, or the whole document
	own   []byte    // the scanner's own buffer, kept in the pool
	eof   bool      // src is exhausted
	limit int       // no token may reach this offset
	pos   int       // where the next token starts

	attrs    []attr           // the attributes of the last start tag
	open     []span           // names of the open elements, root first
	ns       []binding        // namespace declarations in scope at depth ≤ 3
	byPrefix map[string]int32 // when there are many: the innermost binding of each prefix
	creds    []span           // credential elements found in the Header
	blockAt  span             // where the block goes, when the Header holds no credential
	extra    []byte           // bytes the output adds: the block, maybe a Header
	out      []piece          // the output prefix
	outLen   int              // its length
}

var scanners = sync.Pool{New: func() any { return new(scanner) }}

// newScanner returns a scanner reading src, or reading doc when src is nil.
func newScanner(src io.Reader, doc []byte) *scanner {
	s := scanners.Get().(*scanner)
	s.src, s.eof, s.limit, s.pos = src, src == nil, maxPrefix, 0
	switch {
	case src == nil:
		s.buf = doc
	case s.own == nil:
		s.buf = make([]byte, 0, firstRead)
	default:
		s.buf = s.own[:0]
	}
	return s
}

// free returns s to the pool; neither s nor its buffers may be used after.
func (s *scanner) free() {
	if s.src != nil {
		// buf is the scanner's own, perhaps grown: keep it unless it grew
		// large for a rare envelope.
		s.own = s.buf[:0]
		if cap(s.own) > maxPooled {
			s.own = nil
		}
	}
	s.src, s.buf, s.byPrefix = nil, nil, nil
	s.attrs, s.open, s.ns, s.creds = keep(s.attrs), keep(s.open), keep(s.ns), keep(s.creds)
	s.extra, s.out, s.outLen = s.extra[:0], keep(s.out), 0
	if cap(s.extra) > maxPooled {
		s.extra = nil
	}
	scanners.Put(s)
}

// keep empties a scanner's slice for its next use, or drops it if a rare
// envelope made it large.
func keep[T any](s []T) []T {
	if cap(s) > maxPooledItems {
		return nil
	}
	return s[:0]
}

// piece returns the bytes of output piece i.
func (s *scanner) piece(i int) []byte {
	p := s.out[i]
	if p.extra {
		return s.extra[p.from:p.to]
	}
	return s.buf[p.from:p.to]
}

// fill reads from src until buf holds at least n bytes.
func (s *scanner) fill(n int) error {
	if n > s.limit {
		return errLimit
	}
	for empty := 0; len(s.buf) < n; {
		if s.eof {
			return errEOF
		}
		if len(s.buf) == cap(s.buf) {
			grown := make([]byte, len(s.buf), min(max(2*cap(s.buf), n), maxPrefix))
			copy(grown, s.buf)
			s.buf = grown
		}
		m, err := s.src.Read(s.buf[len(s.buf):cap(s.buf)])
		s.buf = s.buf[:len(s.buf)+m]
		switch {
		case err == io.EOF:
			s.eof = true
		case err != nil:
			return err
		case m == 0:
			if empty++; empty == 100 {
				return io.ErrNoProgress
			}
		}
	}
	return nil
}

// at returns buf[i], reading more input if need be.
func (s *scanner) at(i int) (byte, error) {
	if i >= s.limit {
		return 0, errLimit
	}
	if i >= len(s.buf) {
		if err := s.fill(i + 1); err != nil {
			return 0, err
		}
	}
	return s.buf[i], nil
}

// index returns the offset of the first sep at or after from.
func (s *scanner) index(from int, sep string) (int, error) {
	for {
		end := min(len(s.buf), s.limit)
		if from < end {
			var i int
			if len(sep) == 1 {
				i = bytes.IndexByte(s.buf[from:end], sep[0])
			} else {
				i = bytes.Index(s.buf[from:end], []byte(sep))
			}
			if i >= 0 {
				return from + i, nil
			}
			from = max(from, end-len(sep)+1)
		}
		if err := s.fill(end + 1); err != nil {
			return 0, err
		}
	}
}

// hasPrefix reports whether the input at i starts with lit.
func (s *scanner) hasPrefix(i int, lit string) (bool, error) {
	if _, err := s.at(i + len(lit) - 1); err != nil {
		return false, err
	}
	return string(s.buf[i:i+len(lit)]) == lit, nil
}

// space returns the offset of the first non-whitespace byte at or after i.
func (s *scanner) space(i int) (int, error) { return s.skipClass(i, classSpace) }

// name returns the end of the XML name that starts at i.
func (s *scanner) name(i int) (int, error) {
	if b, err := s.at(i); err != nil {
		return 0, err
	} else if class[b]&classNameStart == 0 {
		return 0, s.malformed(i, "expected a name")
	}
	return s.skipClass(i+1, className)
}

// skipClass returns the offset of the first byte at or after i that is not
// in the class c, reading more input as it goes.
func (s *scanner) skipClass(i int, c uint8) (int, error) {
	for {
		for end := min(len(s.buf), s.limit); i < end; i++ {
			if class[s.buf[i]]&c == 0 {
				return i, nil
			}
		}
		if _, err := s.at(i); err != nil {
			return 0, err
		}
	}
}

// next reads the token at s.pos. A text token may end at the end of the
// input; any other token cut short is errEOF.
func (s *scanner) next() (token, error) {
	start := s.pos
	b, err := s.at(start)
	if err != nil {
		return token{}, err
	}
	if b != '<' {
		end, err := s.index(start, "<")
		if err == errEOF {
			end, err = len(s.buf), nil
		}
		return token{kind: tokText, start: start, end: end}, err
	}
	if b, err = s.at(start + 1); err != nil {
		return token{}, err
	}
	switch b {
	case '/':
		return s.endTag(start)
	case '?':
		return s.procInst(start)
	case '!':
		return s.bang(start)
	}
	return s.startTag(start)
}

func (s *scanner) startTag(start int) (token, error) {
	nameEnd, err := s.name(start + 1)
	if err != nil {
		return token{}, err
	}
	t := token{kind: tokStart, start: start, name: span{start + 1, nameEnd}}
	s.attrs = s.attrs[:0]
	for i := nameEnd; ; {
		// Attributes without whitespace between them are let through, as
		// encoding/xml lets them: this is not a validator.
		j, err := s.space(i)
		if err != nil {
			return t, err
		}
		switch s.buf[j] {
		case '>':
			t.end = j + 1
			return t, nil
		case '/':
			if b, err := s.at(j + 1); err != nil || b != '>' {
				return t, s.orMalformed(err, j, "expected '>' after '/' in a tag")
			}
			t.kind, t.end = tokEmpty, j+2
			return t, nil
		}
		an, err := s.name(j)
		if err != nil {
			return t, err
		}
		eq, err := s.space(an)
		if err != nil {
			return t, err
		}
		if s.buf[eq] != '=' {
			return t, s.malformed(eq, "expected '=' after an attribute name")
		}
		q, err := s.space(eq + 1)
		if err != nil {
			return t, err
		}
		quote := s.buf[q]
		if quote != '"' && quote != '\'' {
			return t, s.malformed(q, "expected a quoted attribute value")
		}
		closing := `"`
		if quote == '\'' {
			closing = `'`
		}
		v, err := s.index(q+1, closing)
		if err != nil {
			return t, err
		}
		if bytes.IndexByte(s.buf[q+1:v], '<') >= 0 {
			return t, s.malformed(q+1, "'<' in an attribute value must be written &lt;")
		}
		s.attrs = append(s.attrs, attr{name: span{j, an}, value: span{q + 1, v}})
		i = v + 1
	}
}

func (s *scanner) endTag(start int) (token, error) {
	nameEnd, err := s.name(start + 2)
	if err != nil {
		return token{}, err
	}
	gt, err := s.space(nameEnd)
	if err != nil {
		return token{}, err
	}
	if s.buf[gt] != '>' {
		return token{}, s.malformed(gt, "expected '>' to close an end tag")
	}
	return token{kind: tokEnd, start: start, end: gt + 1, name: span{start + 2, nameEnd}}, nil
}

func (s *scanner) procInst(start int) (token, error) {
	nameEnd, err := s.name(start + 2)
	if err != nil {
		return token{}, err
	}
	end, err := s.index(nameEnd, "?>")
	if err != nil {
		return token{}, err
	}
	return token{kind: tokPI, start: start, end: end + 2, name: span{start + 2, nameEnd}}, nil
}

func (s *scanner) bang(start int) (token, error) {
	for _, k := range [...]struct {
		open, close string
		kind        tokenKind
	}{
		{"<!--", "-->", tokComment},
		{"<![CDATA[", "]]>", tokCDATA},
		{"<!DOCTYPE", "", tokDoctype},
	} {
		ok, err := s.hasPrefix(start, k.open)
		if err != nil && err != errEOF {
			return token{}, err
		}
		if !ok {
			continue
		}
		if k.kind == tokDoctype {
			return token{kind: tokDoctype, start: start, end: start + len(k.open)}, nil
		}
		end, err := s.index(start+len(k.open), k.close)
		return token{kind: k.kind, start: start, end: end + len(k.close)}, err
	}
	return token{}, s.malformed(start, "expected a comment or CDATA section after '<!'")
}

func (s *scanner) malformed(at int, msg string) error {
	return newError(ErrMalformed, at, "%s", msg)
}

// orMalformed returns err if there is one, or a malformed-XML error.
func (s *scanner) orMalformed(err error, at int, msg string) error {
	if err != nil {
		return err
	}
	return s.malformed(at, msg)
}

// The classes of bytes the tokenizer tells apart.
const (
	classSpace     = 1 << iota // XML whitespace
	classNameStart             // may begin a name
	className                  // may continue a name
)

// class holds the classes of every byte. Bytes of multi-byte UTF-8
// characters count as name characters, leaving the finer rules for names
// to the parsers downstream.
var class = func() (t [256]uint8) {
	for c := range 256 {
		switch {
		case c == ' ', c == '\t', c == '\n', c == '\r':
			t[c] = classSpace
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c == ':', c >= 0x80:
			t[c] = classNameStart | className
		case c >= '0' && c <= '9', c == '-', c == '.':
			t[c] = className
		}
	}
	return t
}()

func isSpace(b byte) bool { return class[b]&classSpace != 0 }

func allSpace(b []byte) bool {
	for _, c := range b {
		if !isSpace(c) {
			return false
		}
	}
	return true
}
