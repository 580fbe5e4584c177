package proxy

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// Errors of a request body, each answered with its own status.
var (
	// errBodyTooLarge: a compressed body decompresses to more than MaxDecompressed.
	errBodyTooLarge = errors.New("the request body decompresses to more than the proxy accepts")
	// errBodyMalformed: a compressed body that does not decompress.
	errBodyMalformed = errors.New("the request body is not valid for its Content-Encoding")
)

// bodyChunk is the first buffer for a body of unknown length; buffers double from it.
const bodyChunk = 32 << 10

// body is a request's body on its way through the proxy: decompressed and, when it
// fits, buffered so that the Transport can replay it. It remembers the error it
// returned, so that a failed forward can be blamed on the client's body rather
// than on the upstream.
type body struct {
	rc       io.ReadCloser // what the upstream gets (until buffered)
	orig     io.Closer     // the client's body
	err      error         // the first error a read returned, other than io.EOF
	reserved int64         // budget bytes held until the request ends
}

// Read implements io.Reader and keeps the first error.
func (b *body) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err != nil && err != io.EOF && b.err == nil {
		b.err = err
	}
	return n, err
}

// Close closes the decompressor, if any, and the client's body.
func (b *body) Close() error {
	if b.rc != b.orig {
		_ = b.rc.Close()
	}
	return b.orig.Close()
}

// prepareBody makes r's body ready to forward: a gzip or deflate body is
// decompressed (at most maxDecompressed bytes) and sent uncompressed, so that a SOAP
// envelope can take its credential; a body of at most replayLimit bytes is read
// into a buffer counted against the budget and given a GetBody, so that the
// Transport can replay it after a rejection. A larger body is streamed, once.
//
// It returns the body (nil when r has none) or why r must be refused. The caller
// gives the body's reservation back when the request is over.
func (h *Handler) prepareBody(r *http.Request) (*body, *refusal) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	b := &body{rc: r.Body, orig: r.Body}
	if ref := h.decode(r, b); ref != nil {
		return b, ref
	}
	n := r.ContentLength
	if n > h.replayLimit {
		r.Body = b // streamed as it comes: too large to keep for a replay
		return b, nil
	}
	buf, over, ref := h.buffer(b, n)
	if ref != nil {
		return b, ref
	}
	if over {
		// Larger than a replay may hold: send what was read, then the rest, once.
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(buf), b), b}
		r.ContentLength = -1
		return b, nil
	}
	r.Body = io.NopCloser(bytes.NewReader(buf))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf)), nil }
	r.ContentLength = int64(len(buf))
	r.TransferEncoding = nil
	_ = b.Close()
	return b, nil
}

// decode puts a decompressor in front of b for a gzip or deflate body. Any other
// Content-Encoding is refused: the upstream would get bytes the proxy cannot read,
// and a SOAP envelope could not take its credential.
func (h *Handler) decode(r *http.Request, b *body) *refusal {
	var codings []string
	for _, v := range r.Header.Values("Content-Encoding") {
		for c := range strings.SplitSeq(v, ",") {
			if c = strings.ToLower(strings.TrimSpace(c)); c != "" && c != "identity" {
				codings = append(codings, c)
			}
		}
	}
	if len(codings) == 0 {
		return nil
	}
	unsupported := &refusal{http.StatusUnsupportedMediaType, refusedEncoding,
		"request bodies compressed with Content-Encoding " + strconv.Quote(clip(strings.Join(codings, ", "))) +
			" are not supported: send the body uncompressed, or compressed with gzip or deflate alone"}
	if len(codings) > 1 {
		return unsupported
	}
	var dec io.ReadCloser
	switch codings[0] {
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(b.rc)
		if err != nil {
			return h.bodyRefusal(fmt.Errorf("%w (gzip): %w", errBodyMalformed, err))
		}
		dec = zr
	case "deflate":
		// HTTP's deflate is zlib-wrapped; some clients send the raw stream.
		br := bufio.NewReader(b.rc)
		if hdr, err := br.Peek(2); err == nil && hdr[0]&0x0f == 8 && (uint16(hdr[0])<<8|uint16(hdr[1]))%31 == 0 {
			zr, err := zlib.NewReader(br)
			if err != nil {
				return h.bodyRefusal(fmt.Errorf("%w (deflate): %w", errBodyMalformed, err))
			}
			dec = zr
		} else {
			dec = flate.NewReader(br)
		}
	default:
		return unsupported
	}
	b.rc = &capped{ReadCloser: malformedOnError{dec}, left: h.maxDecompressed}
	r.Header.Del("Content-Encoding")
	r.Header.Del("Content-Length")
	r.ContentLength = -1
	return nil
}

// buffer reads b, of n bytes (-1: unknown), into memory reserved from the budget.
// over reports a body longer than replayLimit, of which buf holds the start.
func (h *Handler) buffer(b *body, n int64) (buf []byte, over bool, ref *refusal) {
	if n >= 0 {
		if !h.budget.take(n) {
			return nil, false, busyBuffers
		}
		b.reserved = n
		buf = make([]byte, n)
		if _, err := io.ReadFull(b, buf); err != nil {
			return nil, false, h.bodyRefusal(err)
		}
		return buf, false, nil
	}
	for {
		if len(buf) == cap(buf) {
			if int64(len(buf)) > h.replayLimit {
				return buf, true, nil
			}
			size := min(max(2*int64(cap(buf)), bodyChunk), h.replayLimit+1)
			// Reserve only the growth: the reservation follows the buffer, so that
			// a body that fits the budget alone is never refused as "busy".
			if !h.budget.take(size - b.reserved) {
				return nil, false, busyBuffers
			}
			b.reserved = size
			buf = append(make([]byte, 0, size), buf...)
		}
		m, err := b.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		switch {
		case err == io.EOF:
			return buf, false, nil
		case err != nil:
			return nil, false, h.bodyRefusal(err)
		}
	}
}

// busyBuffers refuses a body while the buffers already hold MaxBuffered bytes.
var busyBuffers = &refusal{http.StatusServiceUnavailable, refusedBuffer,
	"the proxy is holding as many request bodies as it may; try again shortly"}

// bodyRefusal is the answer to a body that failed while the proxy read it.
func (h *Handler) bodyRefusal(err error) *refusal {
	var ne net.Error
	switch {
	case errors.Is(err, errBodyTooLarge):
		return &refusal{http.StatusRequestEntityTooLarge, refusedTooLarge,
			fmt.Sprintf("%v (%d bytes)", errBodyTooLarge, h.maxDecompressed)}
	case errors.As(err, &ne) && ne.Timeout():
		return &refusal{http.StatusRequestTimeout, "", "the request body did not arrive in time (--read-timeout)"}
	case errors.Is(err, errBodyMalformed):
		return &refusal{http.StatusBadRequest, refusedEncoding, err.Error()}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &refusal{http.StatusBadRequest, "", "the request body ended early"}
	default:
		return &refusal{http.StatusBadRequest, "", "reading the request body: " + err.Error()}
	}
}

// capped fails a read past its limit with errBodyTooLarge.
type capped struct {
	io.ReadCloser
	left int64
}

// Read implements io.Reader.
func (c *capped) Read(p []byte) (int, error) {
	if c.left <= 0 {
		// One byte more tells a body of exactly the limit from a longer one.
		var one [1]byte
		if n, err := c.ReadCloser.Read(one[:]); n > 0 {
			return 0, errBodyTooLarge
		} else if err != nil {
			return 0, err
		}
		return 0, nil
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.ReadCloser.Read(p)
	c.left -= int64(n)
	return n, err
}

// malformedOnError marks a decompressor's errors (other than io.EOF) as
// errBodyMalformed, unless they come from the connection (a timeout, a reset).
type malformedOnError struct{ io.ReadCloser }

// Read implements io.Reader.
func (m malformedOnError) Read(p []byte) (int, error) {
	n, err := m.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		var ne net.Error
		if !errors.As(err, &ne) {
			err = fmt.Errorf("%w: %w", errBodyMalformed, err)
		}
	}
	return n, err
}
