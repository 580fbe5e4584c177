package envelope

// A binding is a namespace declaration on an open element at depth level
// (the root is level 1). An empty prefix span declares the default namespace.
type binding struct {
	level  int
	prefix span
	ns     nsID
	// hides is, once the bindings are indexed, the index in scanner.ns of
	// the binding of the same prefix that this one hides, or -1.
	hides int32
}

// indexAt is the number of bindings in scope above which the scanner looks
// prefixes up in a map instead of scanning the bindings from the innermost
// out. Envelopes declare from a handful of namespaces to a few dozen
// (node-soap declares every namespace of the WSDL on the Envelope), which
// a scan resolves faster than a map can be built; an envelope that
// declares thousands would otherwise make every element's lookup cost as
// much as all of them.
const indexAt = 64

// declare brings b into scope.
func (s *scanner) declare(b binding) {
	s.ns = append(s.ns, b)
	switch {
	case s.byPrefix != nil:
		s.indexBinding(len(s.ns) - 1)
	case len(s.ns) > indexAt:
		s.byPrefix = make(map[string]int32, 2*len(s.ns))
		for i := range s.ns {
			s.indexBinding(i)
		}
	}
}

// indexBinding enters binding i, the innermost of those indexed so far, into the
// index.
func (s *scanner) indexBinding(i int) {
	b := &s.ns[i]
	key := s.buf[b.prefix.from:b.prefix.to]
	b.hides = -1
	if h, ok := s.byPrefix[string(key)]; ok {
		b.hides = h
	}
	s.byPrefix[string(key)] = int32(i)
}

// resolve returns the namespace bound to prefix in the current scope.
func (s *scanner) resolve(prefix []byte) (nsID, bool) {
	if s.byPrefix != nil {
		i, ok := s.byPrefix[string(prefix)]
		if !ok {
			return 0, false
		}
		return s.ns[i].ns, true
	}
	for i := len(s.ns) - 1; i >= 0; i-- {
		b := s.ns[i]
		if string(s.buf[b.prefix.from:b.prefix.to]) == string(prefix) {
			return b.ns, true
		}
	}
	return 0, false
}

// scopeTo drops the namespace declarations of elements deeper than level.
func (s *scanner) scopeTo(level int) {
	for len(s.ns) > 0 && s.ns[len(s.ns)-1].level > level {
		last := len(s.ns) - 1
		if s.byPrefix != nil {
			b := s.ns[last]
			key := s.buf[b.prefix.from:b.prefix.to]
			if b.hides >= 0 {
				s.byPrefix[string(key)] = b.hides
			} else {
				delete(s.byPrefix, string(key))
			}
		}
		s.ns = s.ns[:last]
	}
}
