package transport

import (
	"net/http"

	"github.com/tokentrip/tokentrip/envelope"
)

// Options configures a Transport. Every knob is documented here, with its default;
// the zero value of a field takes that default, so Options{} sends a Bearer token
// to the token's instance hosts and nowhere else. New reads the Options once.
type Options struct {
	// Base sends the requests (default: DefaultBase, one connection pool shared
	// by every Transport; see it for how to size a pool).
	Base http.RoundTripper

	// Hosts are the hosts the credential may be sent to: "api.example.com"
	// (exactly that host, any port), "127.0.0.1:8080" (that host and port),
	// "*.example.com" (any subdomain) or a URL, whose host is taken. The hosts of
	// the token's instance URLs are always in scope; every other host gets
	// requests untouched.
	Hosts []string

	// Rejected decides whether a response means the credential was rejected, in
	// which case the Transport drops the token, fetches a new one and replays the
	// request once (default: Unauthorized, HTTP 401). A func that reads the body
	// must leave it whole for the caller: read a bounded prefix and put it back in
	// front of the rest.
	Rejected func(*http.Response) bool

	// ReplayLimit is the largest body buffered so that a request without GetBody
	// can be replayed after a rejection (default 1 MiB). A larger body is
	// streamed, and its rejection returned to the caller as it came. Negative
	// buffers nothing: only requests with GetBody (or without a body) are
	// replayed, as a proxy that streams every body wants.
	ReplayLimit int64

	// Authorize, when set, replaces how the credential is put on a request
	// (default: an "Authorization: Bearer" header). The request is the
	// Transport's own copy with its own header map: Authorize may change its
	// headers and replace its Body (closing the old one); the caller's request is
	// never touched. An error ends the request, unsent.
	Authorize func(req *http.Request, tok Token) error

	// SOAP, when set, makes the Transport put the credential into the Header of
	// SOAP envelopes instead of an Authorization header: SOAP returns the header
	// block that carries a token (a Marketing Cloud <fueloauth>, a WS-Security
	// UsernameToken, …), and is called once per token. A SOAP envelope is a
	// request whose Content-Type is text/xml or application/soap+xml, with a body
	// or a method other than GET and HEAD. SOAP auth faults (HTTP 500 with "Token
	// Expired", "Login Failed" or a WS-Security fault code) then count as
	// rejections too, replayed once with a fresh token injected into the original
	// body. A fault counts only when the Transport injected its token into that
	// envelope: one sent as application/xml goes out with a Bearer header and no
	// credential inside, its fault is returned as it came, and the Source reports
	// EventNotInjected. The body is streamed: only the part up to the end of the
	// Header is read before sending. An envelope that cannot be injected, an empty
	// body among them, is refused with an *envelope.Error and not sent; so is a
	// compressed one (a Content-Encoding other than identity), of kind
	// envelope.ErrEncoding. Default: none, every request gets the Bearer header.
	SOAP func(Token) envelope.Credential
}

// defaultReplayLimit is Options.ReplayLimit's default.
const defaultReplayLimit = 1 << 20

// Unauthorized is the default of Options.Rejected: HTTP 401.
func Unauthorized(resp *http.Response) bool { return resp.StatusCode == http.StatusUnauthorized }
