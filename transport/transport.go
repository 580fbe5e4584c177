package transport

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// ErrInsecureScheme is returned, and the request not sent, when a request for a host
// in the credential's scope uses plain http to a host that is not loopback.
var ErrInsecureScheme = errors.New("refusing to send a credential over plain http")

// Transport is an http.RoundTripper that authenticates the requests bound for its
// credential's hosts with a token from its Source, and replays a request once when
// the server rejects the token. Requests for any other host pass through untouched.
//
// Every request goes out with exactly the caller's bytes plus the credential, on the
// first send and on the replay alike, framed with a correct Content-Length or, when
// the length is unknown, chunked.
//
// When a replay with a fresh token is rejected too, the rejection persists: the
// server refuses this request whatever the token (a path or business unit the
// credential may not use), or refuses every token (credentials revoked for the API).
// The Source then keeps that token and returns later rejections of it as they came,
// without fetching again, until its backoff has passed; each such round counts
// toward the breaker until a request with the token is accepted. Fresh tokens that
// a replay showed to work, refused again on the next calls (an API answering 401
// and 200 in turn, two processes invalidating each other's tokens), are treated
// the same way from the second in a row.
type Transport struct {
	src        *Source
	base       http.RoundTripper
	hosts      scope
	rejected   func(*http.Response) bool
	replayMax  int64
	authorizer func(req *http.Request, tok Token) error // Options.Authorize; nil: the precomputed Bearer header
	soap       *soapAuthorizer                          // Options.SOAP: SOAP bodies get the credential in their Header
}

// New returns a Transport that authenticates with tokens from src, configured by o
// (see Options for every field and its default). A nil src suits a static
// credential (an Options.SOAP that ignores the token, such as a WS-Security
// UsernameToken): no token is fetched, and a rejection is returned as it came,
// since retrying the same credential cannot help.
func New(src *Source, o Options) *Transport {
	t := &Transport{
		src:        src,
		base:       o.Base,
		hosts:      newScope(o.Hosts),
		rejected:   o.Rejected,
		replayMax:  o.ReplayLimit,
		authorizer: o.Authorize,
	}
	switch {
	case t.replayMax == 0:
		t.replayMax = defaultReplayLimit
	case t.replayMax < 0:
		t.replayMax = 0
	}
	if t.rejected == nil {
		t.rejected = Unauthorized
	}
	if o.SOAP != nil {
		t.soap = &soapAuthorizer{cred: o.SOAP}
	}
	if t.base == nil {
		t.base = DefaultBase()
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
	body, n, again, err := replayableBody(req, t.replayMax)
	if err != nil {
		return nil, err
	}
	out, e, how, err := t.prepare(req, body, n, again)
	if err != nil {
		return nil, err
	}
	if how == sentWithoutEnvelope {
		t.warnNotInjected(out)
	}
	resp, err := t.base.RoundTrip(out)
	if err != nil {
		return resp, err
	}
	if !t.isRejected(resp, how) {
		if t.src != nil && t.src.watch.Load() == e {
			t.src.accepted(e)
		}
		return resp, nil
	}
	if t.src == nil {
		return resp, nil // a static credential: asking again cannot help
	}
	if t.src.persists(e) {
		// A fresh token was rejected like this one: fetching again would only
		// cost a token request. The caller gets the rejection as it came.
		t.src.stats.persisted.Add(1)
		return resp, nil
	}
	if again == nil {
		// The caller gets the rejection as it came, but the next request must not
		// carry the rejected token again.
		t.src.stats.unreplayable.Add(1)
		t.src.dropRejected(e)
		return resp, nil
	}
	return t.replay(req, resp, e, n, again)
}

// replay runs after a rejection: drop the token that was used, take a fresh one
// (shared with every other rejected request) and send the request once more.
func (t *Transport) replay(req *http.Request, rejected *http.Response, used *entry, n int64, again func() (io.ReadCloser, error)) (*http.Response, error) {
	discard(rejected)
	t.src.dropRejected(used)
	body, err := again()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errBodyRead, err)
	}
	out, e, how, err := t.prepare(req, body, n, again)
	if err != nil {
		return nil, err
	}
	t.src.stats.replays.Add(1)
	t.src.emit(Event{Kind: EventReplayed, Expiry: e.tok.Expiry})
	resp, err := t.base.RoundTrip(out)
	if err != nil {
		return resp, err
	}
	if t.isRejected(resp, how) {
		t.src.stats.rejectedAgain.Add(1)
		t.src.rejectedAgain(e)
		return resp, nil
	}
	t.src.replayAccepted(used, e)
	return resp, nil
}

// isRejected applies the verdict: Options.Rejected, and for an envelope that
// carries the Transport's token, soapAuthFault.
func (t *Transport) isRejected(resp *http.Response, how applied) bool {
	return t.rejected(resp) || (how == injectedEnvelope && soapAuthFault(resp))
}

// warnNotInjected reports an XML body that went out with a Bearer header but no
// credential in it, because its Content-Type does not say SOAP. It names the media
// type only: nothing of the body or the token.
func (t *Transport) warnNotInjected(out *http.Request) {
	if t.src == nil {
		return
	}
	t.src.stats.notInjected.Add(1)
	ct, _, _ := strings.Cut(out.Header.Get("Content-Type"), ";")
	ct = strings.TrimSpace(ct)
	if len(ct) > 80 {
		ct = ct[:80]
	}
	t.src.emit(Event{Kind: EventNotInjected, Err: &notInjectedError{contentType: ct}})
}

// notInjectedError explains an EventNotInjected: an XML body went out through a
// SOAP-enabled Transport without the credential in its envelope, because its
// Content-Type is not a SOAP one.
type notInjectedError struct {
	contentType string // the request's media type, e.g. "application/xml"
}

func (e *notInjectedError) Error() string {
	return fmt.Sprintf("an XML body sent as %q went out without the credential in its envelope; "+
		"send SOAP envelopes as text/xml or application/soap+xml", e.contentType)
}

// noToken stands for the token of a Transport without a Source.
var noToken = &entry{}

// applied says how the credential went on a request.
type applied uint8

const (
	bearerHeader        applied = iota // the Authorization header (or nothing: no Source)
	injectedEnvelope                   // into a SOAP envelope
	sentWithoutEnvelope                // an XML body not declared SOAP: Bearer header only
	byAuthorizer                       // Options.Authorize's
)

// prepare takes a token and returns the copy of req to send with it, the token's
// entry and how the credential went on. n is the body's length, -1 if unknown. On
// error it has closed body.
func (t *Transport) prepare(req *http.Request, body io.ReadCloser, n int64, again func() (io.ReadCloser, error)) (*http.Request, *entry, applied, error) {
	e := noToken
	if t.src != nil {
		var err error
		if e, err = t.src.entry(req.Context()); err != nil {
			closeReader(body)
			return nil, nil, 0, err
		}
	}
	out, how, err := t.authorize(req, body, n, again, e)
	return out, e, how, err
}

// authorize returns the copy of req to send: its own header map, body and
// credential; again, when not nil, produces the body anew (for net/http's own
// retries). On error it has closed body.
func (t *Transport) authorize(req *http.Request, body io.ReadCloser, n int64, again func() (io.ReadCloser, error), e *entry) (*http.Request, applied, error) {
	out := new(http.Request)
	*out = *req
	out.Header = make(http.Header, len(req.Header)+1)
	for k, v := range req.Header {
		out.Header[k] = v
	}
	out.Body, out.ContentLength, out.GetBody = body, n, again
	how := bearerHeader
	if t.soap != nil {
		switch mediaKindOf(out) {
		case soapMedia:
			if err := t.soap.Authorize(out, e.tok); err != nil {
				return nil, 0, err // Authorize closed the body
			}
			return out, injectedEnvelope, nil
		case xmlMedia:
			how = sentWithoutEnvelope
		}
	}
	switch {
	case t.authorizer != nil:
		if err := t.authorizer(out, e.tok); err != nil {
			closeReader(out.Body)
			return nil, 0, err
		}
		if how == bearerHeader {
			how = byAuthorizer
		}
	case e.tok.AccessToken != "":
		out.Header["Authorization"] = e.bearer[:]
	}
	return out, how, nil // no Source: a static SOAP credential, nothing for other requests
}

func (t *Transport) inScope(req *http.Request) bool {
	return t.hosts.match(req.URL) || (t.src != nil && t.src.instanceHosts().match(req.URL))
}

// CloseIdleConnections closes the idle connections of the base RoundTripper and of
// the provider's token endpoint client, where they have such a method. An
// http.Client with this Transport calls it from its own CloseIdleConnections.
// Without Options.Base the base is DefaultBase, whose pool every such Transport shares:
// this closes the idle connections of all of them, as closing http.DefaultTransport's
// does for every client on it (they open new ones as needed). To retire one
// credential's connections alone, give its Transport a base of its own.
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
