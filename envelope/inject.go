package envelope

import "io"

// NewReader reads the envelope in src up to its Body's start tag (at most
// 1 MiB of it) and returns a reader of the envelope with c in its Header,
// for use as a request body: the rewritten prefix, then the rest of src,
// read straight through without being parsed, so the cost does not grow
// with the Body. n is the length of what r reads given srcLen, the length of
// src: srcLen plus the bytes the credential adds, less those of any
// credential it replaces; it is -1 if srcLen is negative (unknown).
//
// If the envelope is refused, the error is an [*Error] and r is nil; since
// the check happens here, nothing of a refused envelope is ever sent. An
// error from src, or from making the credential (a zero Credential, a
// failing nonce source), is returned as it is.
//
// r holds a buffer from a pool until the prefix has been read from it, and
// is not safe for concurrent use. Copied out with io.Copy, it writes the
// prefix and copies the rest with that buffer.
func NewReader(src io.Reader, srcLen int64, c Credential) (r io.Reader, n int64, err error) {
	s := newScanner(src, nil)
	if err := s.scan(c); err != nil {
		s.free()
		return nil, 0, err
	}
	n = -1
	if srcLen >= 0 {
		n = srcLen + int64(s.outLen-len(s.buf))
	}
	return &reader{src: src, s: s}, n, nil
}

// InjectBytes returns a copy of the envelope doc with c in its Header, in a
// single allocation of the exact output size. doc is not modified. It
// refuses the same envelopes as NewReader, with the same errors.
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

// A reader hands out the output prefix a scanner planned, then reads
// straight from the source. Its scanner goes back to the pool once the
// prefix has been read.
type reader struct {
	src  io.Reader
	s    *scanner // the planned prefix; nil once it is read
	next int      // the output piece being read
	off  int      // how much of it has been read
}

// Read reads the injected envelope.
func (r *reader) Read(p []byte) (int, error) {
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
// prefix with the reader's pooled buffer (or with src's WriteTo or w's
// ReadFrom, when they have them).
func (r *reader) WriteTo(w io.Writer) (int64, error) {
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
func (r *reader) release() {
	r.s.free()
	r.s = nil
}
