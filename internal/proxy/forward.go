package proxy

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"sync"

	"github.com/tokentrip/tokentrip/envelope"
	"github.com/tokentrip/tokentrip/transport"
)

// StatusClientGone is the access log's status for a request whose client hung up
// before the answer came (the customary 499).
const StatusClientGone = 499

// reverseProxy forwards requests, whose target and Transport ServeHTTP has
// resolved, through that Transport. One serves every Backend.
func (h *Handler) reverseProxy() http.Handler {
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			st := pr.In.Context().Value(stateKey{}).(*state)
			u := *st.target
			u.RawQuery = pr.In.URL.RawQuery
			pr.Out.URL = &u
			pr.Out.Host = ""
			// The proxy supplies the credential: whatever the local client sent is
			// dropped rather than forwarded.
			pr.Out.Header.Del("Authorization")
			pr.Out.Header.Del("Proxy-Authorization")
			// Without the client's Accept-Encoding, the base transport negotiates
			// compression itself and decompresses the answer, so that the verdict
			// can read a SOAP fault or an XML API error out of it; the hop to the
			// local client is loopback, where size does not matter.
			pr.Out.Header.Del("Accept-Encoding")
		},
		ModifyResponse: func(resp *http.Response) error {
			// ServeHTTP has set the proxy's own: the upstream's would be added to them.
			for _, name := range browserSafeHeaders {
				resp.Header.Del(name)
			}
			return nil
		},
		Transport:    viaBackend{},
		BufferPool:   copyBuffers,
		ErrorLog:     slog.NewLogLogger(h.logger.Handler(), slog.LevelDebug),
		ErrorHandler: h.forwardError,
	}
}

// browserSafe sets, on every answer, the headers that keep a browser from turning
// an answer against the proxy. The proxy's origin holds the credential: an HTML
// page or a script that an upstream returns (an error page that reflects the path,
// a file a user uploaded) would run in that origin and call through the proxy as
// same-origin requests. A sandboxed document has an opaque origin (its requests
// carry Origin: null, which the guard refuses) and runs no script; nosniff keeps
// JSON from being taken for HTML or a script; and the same-origin resource policy
// keeps other sites from embedding the answers. API clients ignore all three. The
// upstream's own values are dropped.
func browserSafe(h http.Header) {
	h.Set("Content-Security-Policy", "sandbox")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
}

// browserSafeHeaders are the headers browserSafe sets.
var browserSafeHeaders = []string{"Content-Security-Policy", "X-Content-Type-Options", "Cross-Origin-Resource-Policy"}

// viaBackend sends each request through the Transport of the Backend that
// ServeHTTP chose for it.
type viaBackend struct{}

// RoundTrip implements http.RoundTripper.
func (viaBackend) RoundTrip(req *http.Request) (*http.Response, error) {
	return req.Context().Value(stateKey{}).(*state).tr.RoundTrip(req)
}

// forwardError answers a request the Transport could not complete.
func (h *Handler) forwardError(w http.ResponseWriter, req *http.Request, err error) {
	st := req.Context().Value(stateKey{}).(*state)
	if st.body != nil && st.body.err != nil && isTimeout(st.body.err) {
		// The client's body stopped arriving (--read-timeout): the server has
		// cancelled the request's context too, but the client is still there and
		// gets a 408, not the log's 499.
		h.refuse(st.rec, h.bodyRefusal(st.body.err))
		return
	}
	if req.Context().Err() != nil {
		// The local client went away; there is no one to answer.
		st.rec.err = req.Context().Err()
		w.WriteHeader(StatusClientGone)
		return
	}
	if st.body != nil && st.body.err != nil {
		// The client's body failed on the way (a timeout, a broken stream): the
		// client's fault, not the upstream's.
		ref := h.bodyRefusal(st.body.err)
		h.refuse(st.rec, ref)
		return
	}
	st.rec.err = err
	http.Error(w, "tokentrip proxy: "+err.Error(), upstreamStatus(err))
}

// isTimeout reports whether err is a network timeout, such as a read deadline.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// upstreamStatus is the status for a request that failed on the way out: 400 for
// an envelope the credential cannot be injected into, 503 while token fetches are
// paused, 502 otherwise.
func upstreamStatus(err error) int {
	var envErr *envelope.Error
	var retry *transport.RetryError
	switch {
	case errors.As(err, &envErr):
		return http.StatusBadRequest
	case errors.As(err, &retry): // an open breaker or a backoff
		return http.StatusServiceUnavailable
	default:
		return http.StatusBadGateway
	}
}

// copyBuffers are the reverse proxies' buffers for copying answers, shared so that
// each answer does not allocate its own 32 KiB.
var copyBuffers = &bufferPool{pool: sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}}

// bufferPool is an httputil.BufferPool over a sync.Pool.
type bufferPool struct{ pool sync.Pool }

// Get returns a buffer.
func (p *bufferPool) Get() []byte { return *p.pool.Get().(*[]byte) }

// Put returns a buffer to the pool.
func (p *bufferPool) Put(b []byte) { p.pool.Put(&b) }
