package resilience_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tokentrip/tokentrip/internal/endpoint"
	"github.com/tokentrip/tokentrip/internal/httpx"
	"github.com/tokentrip/tokentrip/transport"
)

const (
	kib = 1 << 10
	mib = 1 << 20
)

// TestTokenResponseReadIsBounded: a token endpoint that answers with ten mebibytes
// gets at most endpoint.MaxTokenResponse (1 MiB) of it read, whatever the status,
// and the fetch fails with ErrEndpoint.
func TestTokenResponseReadIsBounded(t *testing.T) {
	for _, status := range []int{http.StatusOK, http.StatusUnauthorized, http.StatusInternalServerError} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			t.Parallel()
			answer := filler(`{"accessToken":"`, 10*mib)
			hostile := newRecordingServer(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				_, _ = w.Write(answer) // fails once the client has read enough and gone
			})
			counted := &countingTransport{}
			h := newHarness(t, mcv1Vendor, setup{settings: func(s *settings) {
				s.AuthURL = hostile.URL
				counted.next = s.HTTPClient.Transport
				s.HTTPClient = &http.Client{Transport: counted}
				s.Retry.MaxRetries = -1
			}})

			_, err := h.tr.Source().Token(t.Context())

			reads := counted.reads()
			t.Logf("FIGURE token answer %d of 10 MiB: read %d bytes (bound %d); error: %v", status, reads, endpoint.MaxTokenResponse, err)
			wantKind(t, "fetch", err, transport.ErrEndpoint)
			if len(reads) != 1 || reads[0] > endpoint.MaxTokenResponse+1 {
				t.Errorf("read %v bytes of the answer, want one answer read to at most %d", reads, endpoint.MaxTokenResponse+1)
			}
		})
	}
}

// TestFaultSniffIsBounded: an API answers an error with ten mebibytes. Deciding
// whether it is an auth fault reads at most httpx.MaxFaultSniff (64 KiB) before
// the caller has the response, and the caller still reads every byte; a rejected
// response that is replayed is drained no further than 64 KiB either.
func TestFaultSniffIsBounded(t *testing.T) {
	tests := []struct {
		name        string
		request     func(url string) *http.Request
		status      int
		body        string // the start of the body, filled up to 10 MiB
		wantReplays uint64
	}{
		{"SOAP 500", postSOAP, http.StatusInternalServerError,
			`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode>s:Server</faultcode><faultstring>Server busy</faultstring><detail>`, 0},
		{"REST 500", getREST, http.StatusInternalServerError, `{"message":"`, 0},
		{"REST 401, replayed", getREST, http.StatusUnauthorized, `{"message":"`, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			answer := filler(tt.body, 10*mib)
			huge := newRecordingServer(t, func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tt.status)
				_, _ = w.Write(answer)
			})
			counted := &countingTransport{}
			h := newHarness(t, mcv1Vendor, setup{settings: func(s *settings) {
				s.Transport.Hosts = []string{huge.URL}
				counted.next = s.Transport.Base
				s.Transport.Base = counted
			}})

			resp, err := h.client.Do(tt.request(huge.URL).WithContext(t.Context()))
			if err != nil {
				t.Fatal(err)
			}
			beforeCaller := counted.reads()
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}

			t.Logf("FIGURE %s, 10 MiB body: read %v bytes before the caller got the response (bound %d); caller read %d bytes; %d replays",
				tt.name, beforeCaller, httpx.MaxFaultSniff, len(got), h.tr.Source().Stats().Replays)
			if resp.StatusCode != tt.status || !bytes.Equal(got, answer) {
				t.Errorf("caller got %d with %d bytes, want %d with the whole 10 MiB body intact", resp.StatusCode, len(got), tt.status)
			}
			if len(beforeCaller) != int(tt.wantReplays)+1 || h.tr.Source().Stats().Replays != tt.wantReplays {
				t.Fatalf("%d responses, %d replays; want %d replays", len(beforeCaller), h.tr.Source().Stats().Replays, tt.wantReplays)
			}
			for _, n := range beforeCaller {
				if n > httpx.MaxFaultSniff {
					t.Errorf("read %d bytes of a response before the caller had it, want at most %d", n, httpx.MaxFaultSniff)
				}
			}
		})
	}
}

// TestReplayBufferIsBounded: to replay a request whose body cannot be produced
// again, the Transport keeps at most its replay limit of it (plus the one byte that
// tells it the body is larger). A body within the limit is replayed whole after a
// rejection; a larger one is streamed once and its rejection returned as it came.
func TestReplayBufferIsBounded(t *testing.T) {
	tests := []struct {
		name       string
		size       int
		limit      int64 // 0: the default, defaultReplayLimit
		wantReplay bool
	}{
		{"32 KiB body, 64 KiB limit", 32 * kib, 64 * kib, true},
		{"1 MiB body, 64 KiB limit", mib, 64 * kib, false},
		{"2 MiB body, default limit", 2 * mib, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var opts transport.Options
			limit := int64(defaultReplayLimit)
			if tt.limit > 0 {
				opts, limit = transport.Options{ReplayLimit: tt.limit}, tt.limit
			}
			var callerBody atomic.Int64 // bytes read from the caller's body
			var readAtSend []int64      // callerBody when each attempt went out
			var mu sync.Mutex
			h := newHarness(t, mcv1Vendor, setup{
				transport: opts,
				settings: func(s *settings) {
					next := s.Transport.Base
					s.Transport.Base = roundTripFunc(func(req *http.Request) (*http.Response, error) {
						mu.Lock()
						readAtSend = append(readAtSend, callerBody.Load())
						mu.Unlock()
						return next.RoundTrip(req)
					})
				},
			})
			mustSucceed(t, "first call", h.rest(t.Context()))
			used, _ := h.tr.Source().Current()
			h.srv.RevokeToken(used.AccessToken)
			mu.Lock()
			readAtSend = nil
			mu.Unlock()

			// A reader of no type net/http knows: the request has no GetBody.
			body := io.NopCloser(&countingReader{r: bytes.NewReader(bytes.Repeat([]byte("x"), tt.size)), n: &callerBody})
			o := send(t.Context(), h.client, http.MethodPost, h.url+"/data/v1/async", "application/octet-stream", body)

			mu.Lock()
			first := readAtSend[0]
			mu.Unlock()
			t.Logf("FIGURE replay buffer, %s: %d bytes buffered before sending (limit %d); answer %d; replays %d, unreplayable %d",
				tt.name, first, limit, o.status, h.tr.Source().Stats().Replays, h.tr.Source().Stats().Unreplayable)
			if first > limit+1 {
				t.Errorf("%d bytes of the body were read before it was sent, want at most %d", first, limit+1)
			}
			if !tt.wantReplay {
				if o.err != nil || o.status != http.StatusUnauthorized || h.tr.Source().Stats().Unreplayable != 1 || h.tr.Source().Stats().Replays != 0 {
					t.Errorf("got %v, replays %d, unreplayable %d; want the 401 as it came", o, h.tr.Source().Stats().Replays, h.tr.Source().Stats().Unreplayable)
				}
				return
			}
			var echo struct{ BodyLength int }
			if !o.ok() || json.Unmarshal(o.body, &echo) != nil || echo.BodyLength != tt.size || h.tr.Source().Stats().Replays != 1 {
				t.Errorf("got %v, replays %d; want the whole body replayed once and accepted", o, h.tr.Source().Stats().Replays)
			}
		})
	}
}

// postSOAP and getREST make a SOAP or a REST request to the server at url.
func postSOAP(url string) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, url+mcSOAPPath, strings.NewReader(soapEnvelope))
	req.Header.Set("Content-Type", soapType)
	return req
}

func getREST(url string) *http.Request {
	req, _ := http.NewRequest(http.MethodGet, url+mcRESTPath, nil)
	return req
}

// filler returns prefix followed by 'a's, size bytes in all.
func filler(prefix string, size int) []byte {
	b := bytes.Repeat([]byte("a"), size)
	copy(b, prefix)
	return b
}

// countingTransport counts how much of each response body has been read.
type countingTransport struct {
	next http.RoundTripper

	mu     sync.Mutex
	bodies []*atomic.Int64
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	n := new(atomic.Int64)
	c.mu.Lock()
	c.bodies = append(c.bodies, n)
	c.mu.Unlock()
	resp.Body = struct {
		io.Reader
		io.Closer
	}{&countingReader{r: resp.Body, n: n}, resp.Body}
	return resp, nil
}

// reads returns how many bytes of each response have been read so far.
func (c *countingTransport) reads() []int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]int64, len(c.bodies))
	for i, n := range c.bodies {
		out[i] = n.Load()
	}
	return out
}

// countingReader adds what it reads to n.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	k, err := c.r.Read(p)
	c.n.Add(int64(k))
	return k, err
}

// roundTripFunc adapts a function to http.RoundTripper.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
