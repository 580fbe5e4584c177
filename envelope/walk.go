package envelope

import (
	"bytes"
	"cmp"
	"errors"
	"strconv"
	"unicode/utf8"
)

// scan reads the envelope's prefix and plans the output prefix: s.out
// covers every byte of s.buf, with c's block spliced into the Header.
func (s *scanner) scan(c Credential) error {
	err := s.walk(c)
	switch {
	case err == errEOF:
		return newError(ErrMalformed, len(s.buf),
			"the input ends early, before the Envelope's Header or Body is complete (truncated?); send the whole envelope")
	case err == errLimit:
		return newError(ErrTooLarge, s.limit,
			"neither the end of the Header nor the Body's start tag is within the first %d bytes; keep large content out of the Header and what comes before the Body", maxPrefix)
	}
	return err
}

func (s *scanner) walk(c Credential) error {
	root, err := s.prolog()
	if err != nil {
		return err
	}
	ns, local, err := s.enter(root)
	if err != nil {
		return err
	}
	v := soapVersion(ns)
	if v == 0 || string(local) != "Envelope" {
		return newError(ErrNotEnvelope, root.start,
			"the root element is <%s>, not a SOAP 1.1 or 1.2 Envelope; only SOAP envelopes can carry the credential", clip(s.buf[root.name.from:root.name.to]))
	}
	if root.kind == tokEmpty {
		return newError(ErrNotEnvelope, root.start, "the Envelope is empty; a SOAP envelope needs a Body")
	}
	past, err := s.children(c, root, v)
	switch {
	case err == errNoHeader, err == errLimit && past == seekHeader:
		// No Header follows the Body, or the Body is too long to look past:
		// the Header goes first, where SOAP wants it.
		err = s.newHeader(c, root, v)
	case err == errLimit && past == seekSecond:
		// A Header after the Body, and nothing more to see in the window.
		err = nil
	}
	if err != nil {
		return err
	}
	s.plan()
	return nil
}

// errNoHeader: the Envelope ended after its Body without a Header.
var errNoHeader = errors.New("no Header")

// pastBody says what the scanner is looking for past the Body's start tag,
// which it reads only when the Body comes before any Header.
type pastBody uint8

const (
	notPast    pastBody = iota // nothing: it has not read past the Body's start
	seekHeader                 // a Header after the Body
	seekSecond                 // a second Header, after the one after the Body
)

// children reads the Envelope's children up to its Body, and splices c
// into its Header. A second Header is refused. When the Body comes first,
// it goes on looking for a Header after the Body (unless a look at the
// bytes rules one out), within bodyWindow bytes of the Body's start, and
// reports what it was looking for when it fails.
func (s *scanner) children(c Credential, root token, v version) (past pastBody, err error) {
	body := -1 // the offset of the Body's start tag, when it comes first
	header := false
	for {
		t, err := s.next()
		if err != nil {
			return past, err
		}
		s.pos = t.end
		switch t.kind {
		case tokEnd:
			if err := s.leave(t); err != nil {
				return past, err
			}
			switch past {
			case seekHeader:
				return past, errNoHeader
			case seekSecond:
				return past, nil
			}
			return past, newError(ErrNotEnvelope, t.start, "the Envelope has no Body")
		case tokStart, tokEmpty:
			ns, local, err := s.enter(t)
			if err != nil {
				return past, err
			}
			if soapVersion(ns) == v {
				switch string(local) {
				case "Header":
					if header {
						return past, newError(ErrNotEnvelope, t.start,
							"the Envelope has a second Header; SOAP allows one, and a server may take its credential from either: merge them into one")
					}
					header = true
					s.limit = maxPrefix
					if err := s.header(c, t, v); err != nil {
						return notPast, err
					}
					if body < 0 {
						continue // on to the Body, to make sure no Header comes before it
					}
					if err := s.validUTF8(t.start, s.pos); err != nil {
						return notPast, err
					}
					past, s.limit = seekSecond, min(maxPrefix, body+bodyWindow)
					continue
				case "Body":
					switch {
					case header && body < 0:
						// The Header came first: the prefix ends here.
						return past, s.validUTF8(0, t.end)
					case header:
						return past, nil
					case body < 0:
						body = t.start
						if err := s.validUTF8(0, t.end); err != nil {
							return past, err
						}
						if none, err := s.noHeaderAfter(root, t); err != nil || none {
							return past, cmp.Or(err, errNoHeader)
						}
						past, s.limit = seekHeader, min(maxPrefix, t.start+bodyWindow)
					}
				}
			}
			if err := s.skip(t); err != nil {
				return past, err
			}
		default:
			if err := s.misc(t); err != nil {
				return past, err
			}
		}
	}
}

// noHeaderAfter reports whether a look at the bytes rules out a Header
// after the Body whose start tag is body: none starts within bodyWindow
// bytes of the Body's start, since the name Header does not occur there
// (a name cannot be written with references, whatever its prefix), and
// either the input goes on past the window or it ends with the Envelope's
// end tag. Any other input is left for the tokenizer to judge.
func (s *scanner) noHeaderAfter(root, body token) (bool, error) {
	end := min(maxPrefix, body.start+bodyWindow)
	err := s.fill(end)
	if err != nil && err != errEOF {
		return false, err
	}
	if bytes.Contains(s.buf[body.end:min(end, len(s.buf))], []byte("Header")) {
		return false, nil
	}
	if err == nil {
		return true, nil
	}
	// The input ends within the window: unless it ends with the Envelope's
	// end tag, it may be cut short, which the tokenizer will tell.
	rest, ok := bytes.CutSuffix(bytes.TrimRight(s.buf[body.end:], " \t\r\n"), []byte(">"))
	if !ok {
		return false, nil
	}
	rest, ok = bytes.CutSuffix(bytes.TrimRight(rest, " \t\r\n"), s.buf[root.name.from:root.name.to])
	return ok && bytes.HasSuffix(rest, []byte("</")), nil
}

// validUTF8 refuses the input in buf[from:to] if it is not valid UTF-8.
func (s *scanner) validUTF8(from, to int) error {
	b := s.buf[from:to]
	if utf8.Valid(b) {
		return nil
	}
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return newError(ErrEncoding, from+i, "the envelope has a byte sequence that is not UTF-8; send it as UTF-8")
		}
		i += n
	}
	return nil
}

// prolog reads up to and including the root's start tag.
func (s *scanner) prolog() (token, error) {
	b0, err0 := s.at(0)
	b1, err1 := s.at(1)
	switch {
	case err0 == errEOF:
		return token{}, newError(ErrMalformed, 0, "the input is empty; expected a SOAP envelope")
	case err0 != nil:
		return token{}, err0
	case err1 == nil && (b0 == 0xFE && b1 == 0xFF || b0 == 0xFF && b1 == 0xFE):
		return token{}, newError(ErrEncoding, 0, "the input starts with a UTF-16 byte order mark; send the envelope as UTF-8")
	case err1 == nil && (b0 == 0 && b1 == '<' || b0 == '<' && b1 == 0):
		return token{}, newError(ErrEncoding, 0, "the input looks like UTF-16; send the envelope as UTF-8")
	}
	if ok, err := s.hasPrefix(0, "\xEF\xBB\xBF"); err != nil && err != errEOF {
		return token{}, err
	} else if ok {
		s.pos = 3 // a UTF-8 byte order mark, kept as it is
	}
	docStart := s.pos
	for {
		t, err := s.next()
		if err != nil {
			if err == errEOF && s.pos == len(s.buf) {
				return t, newError(ErrMalformed, s.pos, "the input has no root element; expected a SOAP envelope")
			}
			return t, err
		}
		s.pos = t.end
		switch t.kind {
		case tokStart, tokEmpty:
			return t, nil
		case tokText:
			if !allSpace(s.buf[t.start:t.end]) {
				return t, newError(ErrMalformed, t.start, "the input is not XML: it has text before the root element; expected a SOAP envelope")
			}
		case tokPI:
			if string(s.buf[t.name.from:t.name.to]) == "xml" {
				if t.start != docStart {
					return t, s.malformed(t.start, "the XML declaration must come first in the document")
				}
				if err := s.checkDecl(t); err != nil {
					return t, err
				}
			}
		case tokDoctype:
			return t, newError(ErrDoctype, t.start, "the document has a DOCTYPE; remove it (SOAP does not allow one, and its entities are a denial-of-service risk)")
		case tokEnd, tokCDATA:
			return t, s.malformed(t.start, "expected the root element's start tag")
		}
	}
}

// checkDecl refuses an XML declaration whose encoding is not UTF-8.
func (s *scanner) checkDecl(t token) error {
	enc, ok := pseudoAttr(s.buf[t.name.to:t.end-2], "encoding")
	if !ok {
		return s.malformed(t.start, "the XML declaration is malformed")
	}
	if enc != nil && !bytes.EqualFold(enc, []byte("utf-8")) {
		return newError(ErrEncoding, t.start,
			"the XML declaration says encoding=%q; convert the envelope to UTF-8 and declare encoding=\"UTF-8\" (or none)", clip(enc))
	}
	return nil
}

// pseudoAttr returns the value of the pseudo-attribute key in the content of
// an XML declaration (nil if absent); ok is false if the content is garbled.
func pseudoAttr(content []byte, key string) (value []byte, ok bool) {
	for {
		content = bytes.TrimLeft(content, " \t\r\n")
		if len(content) == 0 {
			return value, true
		}
		name, rest, found := bytes.Cut(content, []byte("="))
		if !found {
			return nil, false
		}
		rest = bytes.TrimLeft(rest, " \t\r\n")
		if len(rest) == 0 || (rest[0] != '"' && rest[0] != '\'') {
			return nil, false
		}
		v, after, found := bytes.Cut(rest[1:], rest[:1])
		if !found {
			return nil, false
		}
		if string(bytes.TrimRight(name, " \t\r\n")) == key {
			value = v
		}
		content = after
	}
}

// misc checks a token that is neither a tag nor, at the prolog, text.
func (s *scanner) misc(t token) error {
	switch t.kind {
	case tokDoctype:
		return s.malformed(t.start, "a DOCTYPE may only come before the root element")
	case tokPI:
		if string(s.buf[t.name.from:t.name.to]) == "xml" {
			return s.malformed(t.start, "the XML declaration must come first in the document")
		}
	}
	return nil
}

// enter records the element whose start tag is t: its name joins the open
// elements (unless it is empty) and its namespace declarations come into
// scope. It returns the element's namespace and local name.
func (s *scanner) enter(t token) (nsID, []byte, error) {
	level := len(s.open) + 1
	if t.kind == tokStart {
		s.open = append(s.open, t.name)
	}
	for _, a := range s.attrs {
		name := s.buf[a.name.from:a.name.to]
		switch {
		case string(name) == "xmlns":
			s.declare(binding{level: level, ns: s.classify(a.value)})
		case bytes.HasPrefix(name, []byte("xmlns:")):
			if err := s.checkPrefixDecl(a); err != nil {
				return 0, nil, err
			}
			s.declare(binding{level: level, prefix: span{a.name.from + 6, a.name.to}, ns: s.classify(a.value)})
		}
	}
	prefix, local := splitName(s.buf[t.name.from:t.name.to])
	if bytes.IndexByte(local, ':') >= 0 && len(prefix) > 0 {
		return 0, nil, s.malformed(t.start, "an element name has more than one ':'")
	}
	if ns, ok := s.resolve(prefix); ok {
		return ns, local, nil
	}
	switch string(prefix) {
	case "":
		return nsNone, local, nil
	case "xml":
		return nsOther, local, nil
	}
	return 0, nil, newError(ErrMalformed, t.start, "the namespace prefix %q is not declared", clip(prefix))
}

// checkPrefixDecl refuses an xmlns:… declaration that XML namespaces forbid
// and that parsers read differently: one with no prefix (taken by some as the
// default namespace, by others as a plain attribute), one of the prefix xmlns,
// and one binding the prefix xml to any namespace but its own (which
// encoding/xml ignores, resolving xml: as ever). Left through, they would make
// the injector see a Header where the server sees none.
func (s *scanner) checkPrefixDecl(a attr) error {
	switch prefix := s.buf[a.name.from+6 : a.name.to]; {
	case len(prefix) == 0:
		return s.malformed(a.name.from, "xmlns: declares no prefix; write xmlns=\"…\" for a default namespace")
	case string(prefix) == "xmlns":
		return s.malformed(a.name.from, "the prefix xmlns cannot be declared")
	case string(prefix) == "xml":
		var tmp [64]byte
		if uri, ok := unescape(tmp[:0], s.buf[a.value.from:a.value.to]); !ok || string(uri) != uriXML {
			return s.malformed(a.name.from, "the prefix xml is bound to "+uriXML+" and can be bound to no other namespace")
		}
	}
	return nil
}

// leave closes the innermost open element with end tag t.
func (s *scanner) leave(t token) error {
	top := s.open[len(s.open)-1]
	if !bytes.Equal(s.buf[top.from:top.to], s.buf[t.name.from:t.name.to]) {
		return s.malformed(t.start, "an end tag does not match its start tag")
	}
	s.open = s.open[:len(s.open)-1]
	s.scopeTo(len(s.open))
	return nil
}

// skip reads past the content and end tag of the element whose start tag t
// was just entered. Namespaces below it are not tracked: nothing there is
// looked at.
func (s *scanner) skip(t token) error {
	level := len(s.open)
	if t.kind == tokEmpty {
		s.scopeTo(level)
		return nil
	}
	for len(s.open) >= level {
		t, err := s.next()
		if err != nil {
			return err
		}
		s.pos = t.end
		switch t.kind {
		case tokStart:
			s.open = append(s.open, t.name)
		case tokEnd:
			if err := s.leave(t); err != nil {
				return err
			}
		default:
			if err := s.misc(t); err != nil {
				return err
			}
		}
	}
	return nil
}

// header reads the Header whose start tag is t, notes the credentials among
// its children, and sets the output up with c's block in place of the first
// of them, or as the Header's last child if there are none.
func (s *scanner) header(c Credential, t token, v version) error {
	prefix := s.prefixOf(t.name)
	if t.kind == tokEmpty {
		// <P:Header …/> becomes <P:Header …>block</P:Header>.
		s.scopeTo(1)
		s.extra = append(s.extra, '>')
		if err := s.block(c, prefix, v); err != nil {
			return err
		}
		s.extra = append(append(append(s.extra, "</"...), s.buf[t.name.from:t.name.to]...), '>')
		s.blockAt = span{t.end - 2, t.end}
		return nil
	}
	for {
		ch, err := s.next()
		if err != nil {
			return err
		}
		s.pos = ch.end
		switch ch.kind {
		case tokStart, tokEmpty:
			ns, local, err := s.enter(ch)
			if err != nil {
				return err
			}
			if err := s.skip(ch); err != nil {
				return err
			}
			if isCredential(ns, local) {
				s.creds = append(s.creds, span{ch.start, s.pos})
			}
		case tokEnd:
			if err := s.leave(ch); err != nil {
				return err
			}
			s.blockAt = span{ch.start, ch.start}
			return s.block(c, prefix, v)
		default:
			if err := s.misc(ch); err != nil {
				return err
			}
		}
	}
}

// newHeader sets the output up with a new Header, holding c's block, as the
// first child of the Envelope whose start tag is root.
func (s *scanner) newHeader(c Credential, root token, v version) error {
	prefix := s.prefixOf(root.name)
	s.extra = headerTag(s.extra, prefix, false)
	if err := s.block(c, prefix, v); err != nil {
		return err
	}
	s.extra = headerTag(s.extra, prefix, true)
	s.blockAt = span{root.end, root.end}
	return nil
}

// headerTag appends the start tag <prefix:Header>, or the end tag.
func headerTag(dst, prefix []byte, end bool) []byte {
	dst = append(dst, '<')
	if end {
		dst = append(dst, '/')
	}
	if len(prefix) > 0 {
		dst = append(append(dst, prefix...), ':')
	}
	return append(dst, "Header>"...)
}

// block appends c's block to the bytes the output adds.
func (s *scanner) block(c Credential, prefix []byte, v version) (err error) {
	s.extra, err = c.appendBlock(s.extra, prefix, v)
	return err
}

// plan lays the output prefix out as buf with extra in place of the first
// credential the Header holds, and the others left out; with no credential
// there, extra goes at s.blockAt.
func (s *scanner) plan() {
	at, cuts := s.blockAt, []span(nil)
	if len(s.creds) > 0 {
		at, cuts = s.creds[0], s.creds[1:]
	}
	s.emit(piece{span: span{0, at.from}})
	s.emit(piece{span: span{0, len(s.extra)}, extra: true})
	from := at.to
	for _, cut := range cuts {
		s.emit(piece{span: span{from, cut.from}})
		from = cut.to
	}
	s.emit(piece{span: span{from, len(s.buf)}})
}

// emit adds p to the output prefix, unless it is empty.
func (s *scanner) emit(p piece) {
	if p.from < p.to {
		s.out = append(s.out, p)
		s.outLen += p.to - p.from
	}
}

// prefixOf returns the namespace prefix of an element name, or nil.
func (s *scanner) prefixOf(name span) []byte {
	prefix, _ := splitName(s.buf[name.from:name.to])
	return prefix
}

// splitName splits a qualified name at its first colon, as encoding/xml
// does: a name with no colon, or with one at either end, has no prefix.
func splitName(q []byte) (prefix, local []byte) {
	prefix, local, found := bytes.Cut(q, []byte(":"))
	if !found || len(prefix) == 0 || len(local) == 0 {
		return nil, q
	}
	return prefix, local
}

// isCredential reports whether a Header child is a credential to replace:
// fueloauth in any namespace, a legacy ExactTarget oAuth, or a WS-Security
// Security element.
func isCredential(ns nsID, local []byte) bool {
	switch string(local) {
	case "fueloauth":
		return true
	case "oAuth":
		return ns == nsET || ns == nsNone
	case "Security":
		return ns == nsWSSE
	}
	return false
}

func soapVersion(ns nsID) version {
	switch ns {
	case nsSOAP11:
		return soap11
	case nsSOAP12:
		return soap12
	}
	return 0
}

// classify tells which namespace an attribute value names, decoding any
// character or entity references in it.
func (s *scanner) classify(value span) nsID {
	raw := s.buf[value.from:value.to]
	if len(raw) == 0 {
		return nsNone
	}
	var tmp [128]byte
	uri, ok := unescape(tmp[:0], raw)
	if !ok {
		return nsOther
	}
	switch string(uri) {
	case uriSOAP11:
		return nsSOAP11
	case uriSOAP12:
		return nsSOAP12
	case uriWSSE:
		return nsWSSE
	case uriExactTarget:
		return nsET
	}
	return nsOther
}

// clip shortens a name from the input for an error message.
func clip(b []byte) string {
	const max = 64
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}

// unescape appends raw to dst with its character and predefined entity
// references decoded; ok is false if a reference is malformed.
func unescape(dst, raw []byte) (_ []byte, ok bool) {
	for {
		amp := bytes.IndexByte(raw, '&')
		if amp < 0 {
			return append(dst, raw...), true
		}
		dst = append(dst, raw[:amp]...)
		ref, rest, found := bytes.Cut(raw[amp+1:], []byte(";"))
		if !found {
			return dst, false
		}
		raw = rest
		switch string(ref) {
		case "amp":
			dst = append(dst, '&')
		case "lt":
			dst = append(dst, '<')
		case "gt":
			dst = append(dst, '>')
		case "quot":
			dst = append(dst, '"')
		case "apos":
			dst = append(dst, '\'')
		default:
			r, ok := charRef(ref)
			if !ok {
				return dst, false
			}
			dst = utf8.AppendRune(dst, r)
		}
	}
}

// charRef decodes the body of a character reference: #123 or #x7B.
func charRef(ref []byte) (rune, bool) {
	if len(ref) < 2 || ref[0] != '#' {
		return 0, false
	}
	base, digits := 10, ref[1:]
	if digits[0] == 'x' {
		base, digits = 16, digits[1:]
	}
	n, err := strconv.ParseUint(string(digits), base, 32)
	if err != nil || !utf8.ValidRune(rune(n)) {
		return 0, false
	}
	return rune(n), true
}
