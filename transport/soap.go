package transport

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/tokentrip/tokentrip/envelope"
	"github.com/tokentrip/tokentrip/internal/httpx"
)

// soapAuthorizer injects the credential into SOAP bodies; the Transport gives it only
// requests that mediaKindOf finds to be SOAP.
type soapAuthorizer struct {
	cred func(Token) envelope.Credential
	last atomic.Pointer[builtCredential] // the block of the latest token, built once
}

type builtCredential struct {
	token string
	cred  envelope.Credential
}

func (a *soapAuthorizer) Authorize(req *http.Request, tok Token) error {
	if enc, ok := compressedBody(req.Header); ok {
		closeReader(req.Body)
		return &envelope.Error{Kind: envelope.ErrEncoding, Msg: fmt.Sprintf(
			"the envelope is sent with Content-Encoding %q, and the credential can only go into an uncompressed one; send it without Content-Encoding", enc)}
	}
	cred := a.credential(tok)
	// The length of the input, -1 when unknown (replayableBody has read a client
	// request's 0 with a body as net/http does): the output's is then unknown too.
	srcLen := req.ContentLength
	body, n, err := injected(req.Body, srcLen, cred)
	if err != nil {
		return err
	}
	req.Body, req.ContentLength = body, n
	if getBody := req.GetBody; getBody != nil {
		req.GetBody = func() (io.ReadCloser, error) {
			orig, err := getBody()
			if err != nil {
				return nil, err
			}
			body, _, err := injected(orig, srcLen, cred)
			return body, err
		}
	}
	return nil
}

// compressedBody reports whether the request's Content-Encoding says the body is
// encoded (anything but identity), and returns the header, clipped for a message.
func compressedBody(h http.Header) (string, bool) {
	for _, v := range h.Values("Content-Encoding") {
		for coding := range strings.SplitSeq(v, ",") {
			if c := strings.TrimSpace(coding); c != "" && !strings.EqualFold(c, "identity") {
				if len(v) > 40 {
					v = v[:40] + "…"
				}
				return v, true
			}
		}
	}
	return "", false
}

func (a *soapAuthorizer) credential(tok Token) envelope.Credential {
	if b := a.last.Load(); b != nil && b.token == tok.AccessToken {
		return b.cred
	}
	b := &builtCredential{token: tok.AccessToken, cred: a.cred(tok)}
	a.last.Store(b)
	return b.cred
}

// injected wraps body in a streaming injector and scans the envelope's prefix now,
// so a refusal comes before anything is sent: an empty body (nil, http.NoBody or
// a stream that ends at once) is refused like any input that is not an envelope.
// It returns the length of the output (-1 when srcLen is unknown). On error it
// has closed body.
func injected(body io.ReadCloser, srcLen int64, cred envelope.Credential) (io.ReadCloser, int64, error) {
	if body == nil {
		body = http.NoBody
	}
	r, n, err := envelope.NewReader(body, srcLen, cred)
	if err != nil {
		_ = body.Close()
		return nil, 0, err
	}
	return &httpx.ReadCloser{Reader: r, Closer: body}, n, nil
}

// mediaKind sorts requests by what a SOAP-enabled Transport does with them.
type mediaKind uint8

const (
	otherMedia mediaKind = iota // REST: the Bearer header
	soapMedia                   // the credential goes into the envelope
	xmlMedia                    // an XML body that is not declared SOAP: Bearer, and a warning
)

// mediaKindOf reads the request's media type without allocating: it runs on every
// request of a SOAP-enabled Transport.
func mediaKindOf(req *http.Request) mediaKind {
	v := req.Header["Content-Type"]
	if len(v) == 0 {
		return otherMedia
	}
	ct, _, _ := strings.Cut(v[0], ";")
	ct = strings.TrimSpace(ct)
	hasBody := req.Body != nil && req.Body != http.NoBody
	switch {
	case strings.EqualFold(ct, "text/xml") || strings.EqualFold(ct, "application/soap+xml"):
		if !hasBody && (req.Method == http.MethodGet || req.Method == http.MethodHead) {
			return otherMedia
		}
		return soapMedia
	case hasBody && (strings.EqualFold(ct, "application/xml") || hasSuffixFold(ct, "+xml")):
		return xmlMedia
	}
	return otherMedia
}

func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && strings.EqualFold(s[len(s)-len(suffix):], suffix)
}

// soapAuthFault is the verdict on SOAP auth faults: an HTTP 500 whose body is a
// SOAP fault that envelope.Fault.IsAuth accepts. It reads at most 64 KiB
// and leaves the body whole for the caller. A body that is still gzip-compressed
// (the caller asked for it with Accept-Encoding, so net/http left it so) is read
// through gzip; the caller gets the compressed bytes as they came.
func soapAuthFault(resp *http.Response) bool {
	if resp.StatusCode != http.StatusInternalServerError {
		return false
	}
	peek, err := httpx.PeekBody(resp, httpx.MaxFaultSniff)
	if err != nil || len(peek) == 0 {
		return false
	}
	var r io.Reader = bytes.NewReader(peek)
	switch enc := resp.Header.Values("Content-Encoding"); {
	case len(enc) == 0 || len(enc) == 1 && strings.EqualFold(enc[0], "identity"):
	case len(enc) > 1 || !strings.EqualFold(enc[0], "gzip") && !strings.EqualFold(enc[0], "x-gzip"):
		return false // an encoding this classifier cannot read
	default:
		zr, err := gzip.NewReader(r)
		if err != nil {
			return false
		}
		r = zr
	}
	fault, err := envelope.ParseFault(r, httpx.MaxFaultSniff)
	return err == nil && fault.IsAuth()
}
