package transport

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
)

// ErrInsecureScheme is returned, and the request not sent, when a request for a host
// in the credential's scope uses plain http to a host that is not loopback.
var ErrInsecureScheme = errors.New("tokentrip: refusing to send a credential over plain http")

// Transport is an http.RoundTripper that authenticates the requests bound for its
// credential's hosts with a token from its Source, and replays a request once when
// the server rejects the token. Requests for any other host pass through untouched.
type Transport struct {
	src        *Source
	base       http.RoundTripper
	hosts      scope
	rejected   Classifier
	replayMax  int64
	authorizer Authorizer      // WithAuthorizer; nil: the precomputed Bearer header
	soap       *soapAuthorizer // WithSOAP: SOAP bodies get the credential in their Header

	// Only the cold paths count: a shared counter on every request would cost more
	// than the rest of the hot path.
	replays, unreplayable atomic.Uint64
}

// New returns a Transport that authenticates with tokens from src. A nil src suits a
// static credential (WithSOAP(UsernameToken(…))): no token is fetched, and a
// rejection is returned as it came, since retrying the same credential cannot help.
func New(src *Source, opts ...Option) *Transport {
	t := &Transport{src: src, rejected: Unauthorized, replayMax: DefaultReplayLimit}
	for _, o := range opts {
		o(t)
	}
	if t.base == nil {
		t.base = DefaultBase()
	}
	if t.soap != nil {
		t.rejected = AnyOf(t.rejected, SOAPAuthFault)
	}
	return t
}

// Source returns the Source the Transport takes its tokens from.
func (t *Transport) Source() *Source { return t.src }

// RoundTrip implements http.RoundTripper. It never modifies req, and closes its body
// on every path.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL == nil || !t.inScope(req) {
		return t.base.RoundTrip(req)
	}
	if !secureScheme(req.URL) {
		closeBody(req)
		return nil, fmt.Errorf("%w to %s", ErrInsecureScheme, req.URL.Host)
	}
	body, again, err := replayableBody(req, t.replayMax)
	if err != nil {
		return nil, err
	}
	out, e, err := t.prepare(req, body, again)
	if err != nil {
		return nil, err
	}
	resp, err := t.base.RoundTrip(out)
	if err != nil || !t.rejected(resp) {
		return resp, err
	}
	if t.src == nil {
		return resp, nil // a static credential: asking again cannot help
	}
	if again == nil {
		// The caller gets the rejection as it came, but the next request must not
		// carry the rejected token again.
		t.unreplayable.Add(1)
		t.src.Invalidate(e.tok)
		return resp, nil
	}
	return t.replay(req, resp, e.tok, again)
}

// replay runs after a rejection: drop the token that was used, take a fresh one
// (shared with every other rejected request) and send the request once more.
func (t *Transport) replay(req *http.Request, rejected *http.Response, used Token, again func() (io.ReadCloser, error)) (*http.Response, error) {
	discard(rejected)
	t.src.Invalidate(used)
	body, err := again()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBodyRead, err)
	}
	out, _, err := t.prepare(req, body, again)
	if err != nil {
		return nil, err
	}
	t.replays.Add(1)
	return t.base.RoundTrip(out)
}

// noToken stands for the token of a Transport without a Source.
var noToken = &entry{}

func (t *Transport) entry(req *http.Request) (*entry, error) {
	if t.src == nil {
		return noToken, nil
	}
	return t.src.entry(req.Context())
}

// prepare takes a token and returns the copy of req to send with it, and the token's
// entry. On error it has closed body.
func (t *Transport) prepare(req *http.Request, body io.ReadCloser, again func() (io.ReadCloser, error)) (*http.Request, *entry, error) {
	e, err := t.entry(req)
	if err != nil {
		closeReader(body)
		return nil, nil, err
	}
	out, err := t.authorize(req, body, again, e)
	return out, e, err
}

// authorize returns the copy of req to send: its own header map, body and
// credential; again, when not nil, produces the body anew (for net/http's own
// retries). On error it has closed body.
func (t *Transport) authorize(req *http.Request, body io.ReadCloser, again func() (io.ReadCloser, error), e *entry) (*http.Request, error) {
	out := new(http.Request)
	*out = *req
	out.Header = make(http.Header, len(req.Header)+1)
	for k, v := range req.Header {
		out.Header[k] = v
	}
	out.Body, out.GetBody = body, again
	var a Authorizer
	switch {
	case t.soap != nil && IsSOAPRequest(out):
		a = t.soap
	case t.authorizer != nil:
		a = t.authorizer
	case e.tok.AccessToken != "":
		out.Header["Authorization"] = e.bearer[:]
		return out, nil
	default:
		return out, nil // no Source: a static SOAP credential, nothing for other requests
	}
	if err := a.Authorize(out, e.tok); err != nil {
		closeReader(out.Body)
		return nil, err
	}
	return out, nil
}

func (t *Transport) inScope(req *http.Request) bool {
	return t.hosts.match(req.URL) || (t.src != nil && t.src.instanceHosts().match(req.URL))
}

// CloseIdleConnections closes the idle connections of the base RoundTripper and of
// the provider's token endpoint client, where they have such a method. An
// http.Client with this Transport calls it from its own CloseIdleConnections.
func (t *Transport) CloseIdleConnections() {
	type closer interface{ CloseIdleConnections() }
	if c, ok := t.base.(closer); ok {
		c.CloseIdleConnections()
	}
	if t.src != nil {
		if c, ok := t.src.provider.(closer); ok {
			c.CloseIdleConnections()
		}
	}
}

// TransportStats is a snapshot of what a Transport has done.
type TransportStats struct {
	Replays      uint64 // requests replayed after a rejection
	Unreplayable uint64 // rejections returned as they were because the body could not be replayed
}

// Stats returns a snapshot of the Transport's counters.
func (t *Transport) Stats() TransportStats {
	return TransportStats{
		Replays:      t.replays.Load(),
		Unreplayable: t.unreplayable.Load(),
	}
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

func closeReader(rc io.ReadCloser) {
	if rc != nil {
		_ = rc.Close()
	}
}
