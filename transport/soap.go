package transport

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/tokentrip/tokentrip/envelope"
)

// MaxFaultSniff bounds how much of an error response is read to decide whether it is
// a SOAP auth fault. The caller still receives the whole body.
const MaxFaultSniff = 64 << 10

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
// requests with a body whose Content-Type is text/xml or application/soap+xml —
// instead of an Authorization header, and count SOAP auth faults (HTTP 500 with
// "Token Expired", "Login Failed" or a WS-Security fault code) as rejections, which
// are replayed once with a fresh token injected into the original body. The body is
// streamed: only the part up to the end of the Header is read before sending. An
// envelope that cannot be injected is refused with an *envelope.Error and not sent.
func WithSOAP(cred SOAPCredential) Option {
	return func(t *Transport) {
		if cred != nil {
			t.soap = &soapAuthorizer{cred: cred}
		}
	}
}

// soapAuthorizer injects the credential into SOAP bodies; the Transport gives it only
// requests that IsSOAPRequest accepts.
type soapAuthorizer struct {
	cred SOAPCredential
	last atomic.Pointer[builtCredential] // the block of the latest token, built once
}

type builtCredential struct {
	token string
	cred  envelope.Credential
}

func (a *soapAuthorizer) Authorize(req *http.Request, tok Token) error {
	cred := a.credential(tok)
	body, n, err := injected(req.Body, req.ContentLength, cred)
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
			body, _, err := injected(orig, n, cred)
			return body, err
		}
	}
	return nil
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
// so a refusal comes before anything is sent. It returns the length of the output
// (-1 when srcLen is unknown). On error it has closed body.
func injected(body io.ReadCloser, srcLen int64, cred envelope.Credential) (io.ReadCloser, int64, error) {
	r := envelope.NewReader(body, cred)
	n, err := r.OutputLen(srcLen)
	if err != nil {
		_ = body.Close()
		return nil, 0, err
	}
	return &peekedBody{Reader: r, Closer: body}, n, nil
}

// IsSOAPRequest reports whether req carries a SOAP envelope: it has a body and its
// Content-Type is text/xml or application/soap+xml.
func IsSOAPRequest(req *http.Request) bool {
	if req.Body == nil || req.Body == http.NoBody {
		return false
	}
	// The media type alone, compared without allocating: this runs on every request
	// of a SOAP-enabled Transport.
	ct, _, _ := strings.Cut(req.Header.Get("Content-Type"), ";")
	ct = strings.TrimSpace(ct)
	return strings.EqualFold(ct, "text/xml") || strings.EqualFold(ct, "application/soap+xml")
}

// SOAPAuthFault is the Classifier of SOAP auth faults: an HTTP 500 whose body is a
// SOAP fault that envelope.Fault.IsAuth accepts. It reads at most MaxFaultSniff bytes
// and leaves the body whole for the caller.
func SOAPAuthFault(resp *http.Response) bool {
	if resp.StatusCode != http.StatusInternalServerError {
		return false
	}
	peek, err := PeekBody(resp, MaxFaultSniff)
	if err != nil || len(peek) == 0 {
		return false
	}
	fault, err := envelope.ParseFault(bytes.NewReader(peek), MaxFaultSniff)
	return err == nil && fault.IsAuth()
}
