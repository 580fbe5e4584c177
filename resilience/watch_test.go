package resilience_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// secretSet collects every secret value a test used or was issued.
type secretSet struct {
	mu     sync.Mutex
	values map[string]bool
}

func newSecretSet(values ...string) *secretSet {
	s := &secretSet{values: map[string]bool{}}
	s.add(values...)
	return s
}

func (s *secretSet) add(values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range values {
		if v != "" {
			s.values[v] = true
		}
	}
}

func (s *secretSet) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.values))
	for v := range s.values {
		out = append(out, v)
	}
	slices.Sort(out)
	return out
}

// leaks returns, for each text that contains one of secrets, where it was found.
func leaks(secrets []string, texts map[string]string) []string {
	var found []string
	for where, text := range texts {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				found = append(found, fmt.Sprintf("%s shows a secret starting %.6q", where, s))
			}
		}
	}
	slices.Sort(found)
	return found
}

// tokenFields are the members of token answers that carry a credential, in the
// spellings of the three vendors.
var tokenFields = []string{"accessToken", "refreshToken", "legacyToken", "access_token", "refresh_token"}

// tokenTap is the token client's http.RoundTripper: it sends each token request on,
// keeps the credentials of every answer in secrets, and notes when each request left
// and its answer came back.
type tokenTap struct {
	next    http.RoundTripper
	secrets *secretSet

	mu        sync.Mutex
	exchanges []exchange
}

// exchange is one token request as the client saw it.
type exchange struct {
	sent, answered time.Time
	status         int
}

func (tt *tokenTap) RoundTrip(req *http.Request) (*http.Response, error) {
	sent := time.Now()
	resp, err := tt.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	var fields map[string]any
	if json.Unmarshal(body, &fields) == nil {
		for _, name := range tokenFields {
			if v, ok := fields[name].(string); ok {
				tt.secrets.add(v)
			}
		}
	}
	tt.mu.Lock()
	tt.exchanges = append(tt.exchanges, exchange{sent: sent, answered: time.Now(), status: resp.StatusCode})
	tt.mu.Unlock()
	return resp, nil
}

func (tt *tokenTap) seen() []exchange {
	tt.mu.Lock()
	defer tt.mu.Unlock()
	return slices.Clone(tt.exchanges)
}

// recordingServer is a loopback server that keeps every request it receives as
// text — the request line, the headers and the body — and answers with handler
// (nil: 204 No Content).
type recordingServer struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string
}

func newRecordingServer(t *testing.T, handler http.HandlerFunc) *recordingServer {
	rs := &recordingServer{}
	rs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s\n", r.Method, r.URL)
		for k, vs := range r.Header {
			fmt.Fprintf(&b, "%s: %s\n", k, strings.Join(vs, ", "))
		}
		b.WriteString("\n")
		b.Write(body)
		rs.mu.Lock()
		rs.seen = append(rs.seen, b.String())
		rs.mu.Unlock()
		if handler == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		handler(w, r)
	}))
	t.Cleanup(rs.Close)
	return rs
}

func (rs *recordingServer) requests() []string {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return append([]string(nil), rs.seen...)
}

// offlineNetwork is a base RoundTripper that sends nothing: it notes each request's
// host and whether it carried a Bearer header ("-" if not), and answers 200.
type offlineNetwork struct {
	mu  sync.Mutex
	log []string
}

func (n *offlineNetwork) RoundTrip(req *http.Request) (*http.Response, error) {
	auth := "-"
	if strings.HasPrefix(req.Header.Get("Authorization"), "Bearer ") {
		auth = "Bearer"
	}
	n.mu.Lock()
	n.log = append(n.log, req.URL.Hostname()+" "+auth)
	n.mu.Unlock()
	if req.Body != nil {
		req.Body.Close()
	}
	return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: http.NoBody, Request: req}, nil
}

func (n *offlineNetwork) sent() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.log...)
}
