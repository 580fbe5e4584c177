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

// SOAPCredential makes the envelope header block that carries a token.
type SOAPCredential func(Token) envelope.Credential

// FuelOAuth is the SOAPCredential of Marketing Cloud OAuth tokens:
// <fueloauth xmlns="http://exacttarget.com">token</fueloauth>.
func FuelOAuth(tok Token) envelope.Credential { return envelope.FuelOAuth(tok.AccessToken) }

// UsernameToken is the SOAPCredential of a Marketing Cloud API user: a WS-Security
// UsernameToken. It is static, so pair it with a nil Source: no token is fetched.
func UsernameToken(cfg envelope.UsernameTokenConfig) SOAPCredential {
	cred := envelope.UsernameToken(cfg)
	return func(Token) envelope.Credential { return cred }
}

// WithSOAP makes the Transport put the credential into the Header of SOAP envelopes —
// requests whose Content-Type is text/xml or application/soap+xml, with a body or a
// method other than GET and HEAD — instead of an Authorization header, and count SOAP
// auth faults (HTTP 500 with "Token Expired", "Login Failed" or a WS-Security fault
// code) as rejections, which are replayed once with a fresh token injected into the
// original body. A fault counts only when the Transport injected its token into that
// envelope: one sent as application/xml goes out with a Bearer header and no
// credential inside, its fault is returned as it came, and the Source reports
// EventNotInjected. The body is streamed: only the part up to the end of the Header
// is read before sending. An envelope that cannot be injected, an empty body among
// them, is refused with an *envelope.Error and not sent; so is a compressed one
// (a Content-Encoding other than identity), of kind envelope.ErrEncoding.
func WithSOAP(cred SOAPCredential) Option {
	return func(t *Transport) {
		if cred != nil {
			t.soap = &soapAuthorizer{cred: cred}
		}
	}
}

// soapAuthorizer injects the credential into SOAP bodies; the Transport gives it only
// requests that mediaKindOf finds to be SOAP.
type soapAuthorizer struct {
	cred SOAPCredential
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
	// The length of the input as net/http reads it: a client request's 0 with a
	// body means "unknown", and the output's length is then unknown too.
	srcLen := req.ContentLength
	if srcLen == 0 && req.Body != nil && req.Body != http.NoBody {
		srcLen = -1
	}
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
	return &peekedBody{Reader: r, Closer: body}, n, nil
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

// SOAPAuthFault is the Classifier of SOAP auth faults: an HTTP 500 whose body is a
// SOAP fault that envelope.Fault.IsAuth accepts. It reads at most 64 KiB
// and leaves the body whole for the caller. A body that is still gzip-compressed
// (the caller asked for it with Accept-Encoding, so net/http left it so) is read
// through gzip; the caller gets the compressed bytes as they came.
func SOAPAuthFault(resp *http.Response) bool {
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
