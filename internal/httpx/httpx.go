// Package httpx holds the small HTTP rules that transport, the providers and the
// CLI share: bounded peeks at a response body and which hosts count as loopback.
// Users never call it: the public packages apply these rules for them.
package httpx

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
)

// MaxFaultSniff bounds how much of an error response is read to decide whether it
// is an auth fault (a SOAP fault, an XML API error). The caller still receives the
// whole body.
const MaxFaultSniff = 64 << 10

// PeekBody reads up to limit bytes of resp.Body and puts them back in front of the
// rest, so the caller still reads the whole body. The bytes returned are the peeked
// prefix: the whole body when it is shorter than limit.
func PeekBody(resp *http.Response, limit int64) ([]byte, error) {
	if resp.Body == nil || resp.Body == http.NoBody {
		return nil, nil
	}
	buf, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	resp.Body = &ReadCloser{Reader: io.MultiReader(bytes.NewReader(buf), resp.Body), Closer: resp.Body}
	return buf, err
}

// ReadCloser is a body read through Reader and closed by Closer: a peeked prefix
// followed by the rest, or a rewritten stream, closing the original body.
type ReadCloser struct {
	io.Reader
	io.Closer
}

// IsLoopback reports whether host is localhost or a loopback address: the only
// hosts a credential may reach over plain http.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
