package envelope

import "io"

// Inject copies the envelope read from src to dst with c in its Header, and
// returns the number of bytes written. It reads the envelope up to its
// Body's start tag (at most [MaxPrefix] bytes), writes that part with the
// credential spliced into the Header, and copies the rest through without
// parsing it.
//
// If the envelope is refused, the error is an [*Error] and nothing has been
// written to dst. An error from src or dst, or from making the credential
// (a zero Credential, a failing nonce source), is returned as it is.
func Inject(dst io.Writer, src io.Reader, c Credential) (int64, error) {
	return NewReader(src, c).WriteTo(dst)
}

// InjectBytes returns a copy of the envelope doc with c in its Header, in a
// single allocation of the exact output size. doc is not modified. It
// refuses the same envelopes as Inject.
func InjectBytes(doc []byte, c Credential) ([]byte, error) {
	s := newScanner(nil, doc)
	defer s.free()
	if err := s.scan(c); err != nil {
		return nil, err
	}
	out := make([]byte, 0, s.outLen)
	for i := range s.out {
		out = append(out, s.piece(i)...)
	}
	return out, nil
}

// A Reader reads an envelope from its source with a credential injected, for
// use as a request body: the scan happens on the first Read, WriteTo or
// OutputLen, after which the Reader hands out the rewritten prefix and then
// reads straight from the source. Its buffer comes from a pool and goes back
// once the prefix has been read, so a Reader costs the same for any Body.
//
// A Reader is not safe for concurrent use.
type Reader struct {
	src  io.Reader
	cred Credential
	s    *scanner // the planned prefix; nil before the scan and once it is read
	err  error    // the scan's refusal, returned from then on
	done bool     // the scan has happened
	grow int64    // output length less input length
	next int      // the output piece being read
	off  int      // how much of it has been read
}

// NewReader returns a Reader of the envelope in src with c in its Header.
// Nothing is read from src until the Reader is used.
func NewReader(src io.Reader, c Credential) *Reader {
	return &Reader{src: src, cred: c}
}

// prepare scans the prefix, once.
func (r *Reader) prepare() error {
	if r.done {
		return r.err
	}
	r.done = true
	s := newScanner(r.src, nil)
	if err := s.scan(r.cred); err != nil {
		s.free()
		r.err = err
		return err
	}
	r.s, r.grow = s, int64(s.outLen-len(s.buf))
	return nil
}

// OutputLen scans the envelope's prefix, if that has not happened yet, and
// returns the length of the output given the length of the input: srcLen
// plus the bytes the credential adds, less those of any credential it
// replaces. It returns -1 if srcLen is negative (unknown). A refusal is
// returned here, before anything is sent, and again by every later call.
func (r *Reader) OutputLen(srcLen int64) (int64, error) {
	if err := r.prepare(); err != nil {
		return 0, err
	}
	if srcLen < 0 {
		return -1, nil
	}
	return srcLen + r.grow, nil
}

// Read reads the injected envelope.
func (r *Reader) Read(p []byte) (int, error) {
	if err := r.prepare(); err != nil {
		return 0, err
	}
	n := 0
	for r.s != nil && n < len(p) {
		if r.next == len(r.s.out) {
			r.release()
			break
		}
		b := r.s.piece(r.next)
		m := copy(p[n:], b[r.off:])
		n += m
		if r.off += m; r.off == len(b) {
			r.next, r.off = r.next+1, 0
		}
	}
	if n > 0 || len(p) == 0 {
		return n, nil
	}
	return r.src.Read(p)
}

// WriteTo writes the injected envelope to w, copying the part after the
// prefix with the Reader's pooled buffer (or with src's WriteTo or w's
// ReadFrom, when they have them).
func (r *Reader) WriteTo(w io.Writer) (int64, error) {
	if err := r.prepare(); err != nil {
		return 0, err
	}
	var n int64
	if r.s == nil {
		return io.Copy(w, r.src)
	}
	for ; r.next < len(r.s.out); r.next, r.off = r.next+1, 0 {
		m, err := w.Write(r.s.piece(r.next)[r.off:])
		n += int64(m)
		if err != nil {
			r.off += m
			return n, err
		}
	}
	m, err := io.CopyBuffer(w, r.src, r.s.buf[:cap(r.s.buf)])
	r.release()
	return n + m, err
}

// release returns the scanner to the pool once its prefix is read.
func (r *Reader) release() {
	r.s.free()
	r.s = nil
}
