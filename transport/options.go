package transport

import "net/http"

// Option configures a Transport.
type Option func(*Transport)

// WithBase sets the RoundTripper that sends the requests (default: DefaultBase, one
// connection pool shared by every Transport; see it for how to size a pool).
func WithBase(rt http.RoundTripper) Option {
	return func(t *Transport) {
		if rt != nil {
			t.base = rt
		}
	}
}

// WithHosts adds hosts the credential may be sent to: "api.example.com" (exactly that
// host, any port), "127.0.0.1:8080" (that host and port), "*.example.com" (any
// subdomain) or a URL, whose host is taken. The hosts of the token's instance URLs
// are always in scope; every other host gets requests untouched.
func WithHosts(rules ...string) Option {
	return func(t *Transport) { t.hosts = append(t.hosts, newScope(rules)...) }
}

// WithClassifier sets what counts as a rejected credential (default: Unauthorized,
// HTTP 401). Combine verdicts with AnyOf.
func WithClassifier(c Classifier) Option {
	return func(t *Transport) {
		if c != nil {
			t.rejected = c
		}
	}
}

// WithReplayLimit sets the largest body buffered so that a request without GetBody
// can be replayed after a rejection (default DefaultReplayLimit, 1 MiB). A larger
// body is streamed, and its rejection returned to the caller as it came.
func WithReplayLimit(n int64) Option {
	return func(t *Transport) {
		if n >= 0 {
			t.replayMax = n
		}
	}
}

// WithAuthorizer replaces how the credential is put on a request (default: an
// "Authorization: Bearer" header). The SOAP envelope authorizer is one.
func WithAuthorizer(a Authorizer) Option { return func(t *Transport) { t.authorizer = a } }

// Authorizer puts a token on an outgoing request. The request is the Transport's own
// copy with its own header map, so the Authorizer may change its headers and replace
// its Body (closing the old one); the caller's request is never touched.
type Authorizer interface {
	Authorize(req *http.Request, tok Token) error
}

// AuthorizerFunc adapts a function to the Authorizer interface.
type AuthorizerFunc func(req *http.Request, tok Token) error

// Authorize calls f.
func (f AuthorizerFunc) Authorize(req *http.Request, tok Token) error { return f(req, tok) }
