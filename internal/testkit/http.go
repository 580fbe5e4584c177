package testkit

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// Sent is one request as a Recorder saw it.
type Sent struct {
	Method        string
	URL           string
	ContentType   string
	Authorization string
	Body          string
}

// Recorder is an http.RoundTripper that records each request, then sends it on
// to Next (nil: http.DefaultTransport). With Redirect set it sends every request
// to that base URL's scheme and host instead, the way a test DNS would, so that a
// request for a vendor's real host reaches an emulator. Use it as a token client's
// transport or as a Transport's base.
type Recorder struct {
	Next     http.RoundTripper
	Redirect *url.URL

	mu   sync.Mutex
	sent []Sent
}

// RoundTrip records req and sends it on with its body intact.
func (r *Recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		_ = req.Body.Close()
	}
	r.mu.Lock()
	r.sent = append(r.sent, Sent{
		Method:        req.Method,
		URL:           req.URL.String(),
		ContentType:   req.Header.Get("Content-Type"),
		Authorization: req.Header.Get("Authorization"),
		Body:          string(body),
	})
	r.mu.Unlock()
	out := req.Clone(req.Context())
	if req.Body != nil {
		out.Body = io.NopCloser(bytes.NewReader(body))
	}
	if r.Redirect != nil {
		out.URL.Scheme, out.URL.Host, out.Host = r.Redirect.Scheme, r.Redirect.Host, ""
	}
	next := r.Next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(out)
}

// Sent returns the requests recorded so far.
func (r *Recorder) Sent() []Sent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Sent(nil), r.sent...)
}

// Client is an *http.Client over the Recorder, for a provider's token requests.
func (r *Recorder) Client() *http.Client { return &http.Client{Transport: r} }

// WantAbsent fails the test when text, a rendering, an error or a log (what),
// shows any of the non-empty secrets.
func WantAbsent(t testing.TB, what, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%s shows the secret %q: %s", what, s, text)
		}
	}
}

// Started registers s (a test server, an emulator) to close when the test ends,
// and returns it.
func Started[S interface{ Close() }](t testing.TB, s S) S {
	t.Cleanup(s.Close)
	return s
}
