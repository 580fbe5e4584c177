package proxy

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

const soapEnvelope = `<?xml version="1.0" encoding="utf-8"?>
<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header/><soap:Body><RetrieveRequestMsg xmlns="http://exacttarget.com/wsdl/partnerAPI"><RetrieveRequest><ObjectType>Subscriber</ObjectType></RetrieveRequest></RetrieveRequestMsg></soap:Body></soap:Envelope>`

// compress returns data compressed as coding says.
func compress(t *testing.T, coding string, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	var w io.WriteCloser
	switch coding {
	case "gzip":
		w = gzip.NewWriter(&buf)
	case "zlib":
		w = zlib.NewWriter(&buf)
	case "raw deflate":
		w, _ = flate.NewWriter(&buf, flate.DefaultCompression)
	default:
		t.Fatalf("coding %q", coding)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// chunked hides a body's length, as a client streaming it does.
type chunked struct{ io.Reader }

// Compressed request bodies (Apache CXF's GZIP feature, WCF compression) are
// decompressed, take their credential and go upstream uncompressed; compressions
// the proxy cannot undo are refused with a message that names them.
func TestCompressedBodies(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.MaxDecompressed = 256 << 10 })
	bomb := compress(t, "gzip", bytes.Repeat([]byte("<a/>"), 1<<20)) // 4 MiB from a few KiB
	for _, tc := range []struct {
		name     string
		encoding string
		body     []byte
		status   int
		want     string // in the answer, for refusals
	}{
		{"gzip", "gzip", compress(t, "gzip", []byte(soapEnvelope)), http.StatusOK, ""},
		{"x-gzip", "x-gzip", compress(t, "gzip", []byte(soapEnvelope)), http.StatusOK, ""},
		{"gzip, any case", "GZip", compress(t, "gzip", []byte(soapEnvelope)), http.StatusOK, ""},
		{"deflate (zlib)", "deflate", compress(t, "zlib", []byte(soapEnvelope)), http.StatusOK, ""},
		{"deflate (raw, as .NET sends it)", "deflate", compress(t, "raw deflate", []byte(soapEnvelope)), http.StatusOK, ""},
		{"identity", "identity", []byte(soapEnvelope), http.StatusOK, ""},
		{"brotli", "br", []byte("\x1b\x00\x00"), http.StatusUnsupportedMediaType, `Content-Encoding "br" are not supported`},
		{"zstd", "zstd", []byte("\x28\xb5\x2f\xfd"), http.StatusUnsupportedMediaType, "compressed with gzip or deflate alone"},
		{"two codings", "gzip, gzip", compress(t, "gzip", compress(t, "gzip", []byte(soapEnvelope))), http.StatusUnsupportedMediaType, `"gzip, gzip"`},
		{"not gzip at all", "gzip", []byte(soapEnvelope), http.StatusBadRequest, "not valid for its Content-Encoding"},
		{"truncated gzip", "gzip", compress(t, "gzip", []byte(soapEnvelope))[:40], http.StatusBadRequest, "Content-Encoding"},
		{"decompression bomb", "gzip", bomb, http.StatusRequestEntityTooLarge, "decompresses to more than"},
	} {
		for _, length := range []string{"known length", "chunked"} {
			t.Run(tc.name+", "+length, func(t *testing.T) {
				before := len(f.up.got())
				req := request{method: "POST", target: "/Service.asmx", header: []string{
					"Content-Type", "text/xml; charset=utf-8", "Content-Encoding", tc.encoding, "SOAPAction", "Retrieve"}}.build()
				req.Body = io.NopCloser(bytes.NewReader(tc.body))
				req.ContentLength = int64(len(tc.body))
				if length == "chunked" {
					req.Body, req.ContentLength = io.NopCloser(chunked{bytes.NewReader(tc.body)}), -1
				}
				w := serve(f.h, req)
				if w.Code != tc.status {
					t.Fatalf("HTTP %d, want %d: %s", w.Code, tc.status, w.Body)
				}
				got := f.up.got()[before:]
				if tc.status != http.StatusOK {
					if len(got) != 0 {
						t.Errorf("a refused body reached the upstream")
					}
					if !strings.Contains(w.Body.String(), tc.want) {
						t.Errorf("answer %q lacks %q", w.Body, tc.want)
					}
					return
				}
				if len(got) != 1 {
					t.Fatalf("the upstream received %d requests", len(got))
				}
				s := got[0]
				if ce := s.Header.Get("Content-Encoding"); ce != "" && ce != "identity" {
					t.Errorf("the upstream got Content-Encoding %q, want none", ce)
				}
				if n := strings.Count(string(s.Body), "<fueloauth"); n != 1 || !strings.Contains(string(s.Body), "<ObjectType>Subscriber</ObjectType>") {
					t.Errorf("the upstream got %d fueloauth in:\n%s", n, s.Body)
				}
			})
		}
	}
}

// A body the proxy keeps is replayed with the new token after a rejection: known
// length, chunked and compressed alike. One larger than the replay limit is
// streamed once, and its rejection passed on as it came.
func TestReplayBodies(t *testing.T) {
	big := strings.Repeat("x", 100<<10)
	for _, tc := range []struct {
		name     string
		body     []byte
		chunked  bool
		encoding string
		replayed bool
	}{
		{"known length", []byte(`{"keys":{"id":"1"}}`), false, "", true},
		{"chunked", []byte(`{"keys":{"id":"2"}}`), true, "", true},
		{"gzip", compress(t, "gzip", []byte(`{"keys":{"id":"3"}}`)), false, "gzip", true},
		{"exactly the limit, chunked", bytes.Repeat([]byte("y"), 64<<10), true, "", true},
		{"over the limit", []byte(big), false, "", false},
		{"over the limit, chunked", []byte(big), true, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A proxy of its own: a token fetched right after a rejection and rejected
			// too would be a rejection that persists, which the Source keeps.
			f := newFixture(t, func(o *Options) { o.ReplayLimit = 64 << 10 })
			f.rejectCurrentToken(t)
			fetches, before := f.fetches.Load(), len(f.up.got())

			req := request{method: "POST", target: "/rest/hub/v1/dataevents", header: []string{"Content-Type", "application/json", "Content-Encoding", tc.encoding}}.build()
			req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(tc.body)), int64(len(tc.body))
			if tc.chunked {
				req.Body, req.ContentLength = io.NopCloser(chunked{bytes.NewReader(tc.body)}), -1
			}
			w := serve(f.h, req)
			got := f.up.got()[before:]
			want := tc.body
			if tc.encoding == "gzip" {
				zr, _ := gzip.NewReader(bytes.NewReader(tc.body))
				want, _ = io.ReadAll(zr)
			}
			if tc.replayed {
				if w.Code != http.StatusOK || len(got) != 2 || f.fetches.Load() != fetches+1 {
					t.Fatalf("HTTP %d after %d sends and %d fetches; want 200 after a replay with one new token", w.Code, len(got), f.fetches.Load()-fetches)
				}
			} else {
				if w.Code != http.StatusUnauthorized || len(got) != 1 {
					t.Fatalf("HTTP %d after %d sends; want the 401 as it came, after one send", w.Code, len(got))
				}
				// The rejected token is dropped all the same: the next request fetches.
				if _, ok := f.tr.Source().Current(); ok {
					t.Errorf("the rejected token is still cached")
				}
			}
			for i, s := range got {
				if !bytes.Equal(s.Body, want) {
					t.Errorf("send %d carried %d bytes, want the %d of the body", i+1, len(s.Body), len(want))
				}
			}
		})
	}
}

// Past --max-in-flight, and past --max-buffered bytes of bodies held, requests are
// answered 503 at once, and they get through again once room is made.
func TestCaps(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   Options
		body   string // of the second request
		reason string
	}{
		{"in flight", Options{MaxInFlight: 1}, "", refusedBusy},
		{"buffered bytes", Options{MaxBuffered: 48 << 10, ReplayLimit: 32 << 10}, strings.Repeat("b", 32<<10), refusedBuffer},
		{"buffered bytes, chunked", Options{MaxBuffered: 48 << 10, ReplayLimit: 32 << 10}, "chunked" + strings.Repeat("b", 20<<10), refusedBuffer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(o *Options) {
				o.MaxInFlight, o.MaxBuffered, o.ReplayLimit = tc.opts.MaxInFlight, tc.opts.MaxBuffered, tc.opts.ReplayLimit
			})
			release := f.up.holdRequests()
			defer release()
			first := make(chan int, 1)
			go func() {
				req := request{method: "POST", target: "/rest/first", body: strings.Repeat("a", 30<<10)}.build()
				first <- serve(f.h, req).Code
			}()
			select {
			case <-f.up.arrived:
			case <-time.After(30 * time.Second):
				t.Fatal("the first request did not reach the upstream")
			}
			second := func() *http.Request {
				r := request{method: "POST", target: "/rest/second", body: tc.body}.build()
				if rest, ok := strings.CutPrefix(tc.body, "chunked"); ok {
					r.Body, r.ContentLength = io.NopCloser(chunked{strings.NewReader(rest)}), -1
				}
				return r
			}
			w := serve(f.h, second())
			if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
				t.Fatalf("with the first request held: HTTP %d (Retry-After %q), want 503 with Retry-After", w.Code, w.Header().Get("Retry-After"))
			}
			if n, _ := metric(t, f.h, `tokentrip_proxy_refused_total{reason="`+tc.reason+`"}`); n != 1 {
				t.Errorf("refusals for %s: %v, want 1", tc.reason, n)
			}
			if n, _ := metric(t, f.h, "tokentrip_proxy_in_flight_requests"); n != 1 {
				t.Errorf("in flight: %v, want 1", n)
			}
			release()
			if code := <-first; code != http.StatusOK {
				t.Fatalf("the first request: HTTP %d", code)
			}
			if w := serve(f.h, second()); w.Code != http.StatusOK {
				t.Fatalf("once the first is done: HTTP %d, want 200: %s", w.Code, w.Body)
			}
			if f.h.budget.used.Load() != 0 || f.h.gate.inside.Load() != 0 {
				t.Errorf("after every request: %d bytes and %d places still held", f.h.budget.used.Load(), f.h.gate.inside.Load())
			}
		})
	}
}

// A body that fits the buffers on its own is never refused as "busy", whatever
// its framing: at the smallest budget the command accepts (--max-buffered 1MiB,
// the replay limit), chunked and compressed bodies, which grow their buffer
// before the proxy knows whether to keep or stream them, get through with every
// byte, while nothing else is held.
func TestBodyAloneFitsTheBudget(t *testing.T) {
	for _, tc := range []struct {
		name        string
		maxBuffered int64
		size        int
		framing     string // "length", "chunked" or "gzip"
	}{
		{"smallest budget, chunked, kept for a replay", 1 << 20, 900 << 10, "chunked"},
		{"smallest budget, chunked, streamed", 1 << 20, 1536 << 10, "chunked"},
		{"smallest budget, chunked, just over a half", 1 << 20, 512<<10 + 1, "chunked"},
		{"smallest budget, gzip to 3 MiB", 1 << 20, 3 << 20, "gzip"},
		{"smallest budget, gzip to 700 KiB", 1 << 20, 700 << 10, "gzip"},
		{"smallest budget, Content-Length of the limit", 1 << 20, 1 << 20, "length"},
		{"default budget, chunked, streamed", 0, 1536 << 10, "chunked"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(o *Options) { o.MaxBuffered = tc.maxBuffered })
			body := bytes.Repeat([]byte("0123456789abcdef"), tc.size/16+1)[:tc.size]
			req := request{method: "POST", target: "/rest/upload"}.build()
			switch tc.framing {
			case "length":
				req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
			case "chunked":
				req.Body, req.ContentLength = io.NopCloser(chunked{bytes.NewReader(body)}), -1
			case "gzip":
				z := compress(t, "gzip", body)
				req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(z)), int64(len(z))
				req.Header.Set("Content-Encoding", "gzip")
			}
			w := serve(f.h, req)
			if w.Code != http.StatusOK {
				t.Fatalf("HTTP %d, want 200: %s", w.Code, w.Body)
			}
			got := f.up.got()
			if len(got) != 1 {
				t.Fatalf("the upstream received %d requests, want 1", len(got))
			}
			if !bytes.Equal(got[0].Body, body) {
				t.Fatalf("the upstream received %d bytes, want the %d sent", len(got[0].Body), len(body))
			}
			if n := f.h.budget.used.Load(); n != 0 {
				t.Errorf("%d bytes still reserved", n)
			}
		})
	}
}

// deadlineErr is the error a server's connection returns past its read deadline.
type deadlineErr struct{}

func (deadlineErr) Error() string   { return "i/o timeout" }
func (deadlineErr) Timeout() bool   { return true }
func (deadlineErr) Temporary() bool { return true }

// failingBody sends some bytes, then fails as a client's connection does: the
// server cancels the request's context, and the read returns err.
type failingBody struct {
	sent   bool
	cancel context.CancelFunc
	err    error
}

func (b *failingBody) Read(p []byte) (int, error) {
	if !b.sent {
		b.sent = true
		return copy(p, "{\"rows\":["), nil
	}
	if b.cancel != nil {
		b.cancel()
	}
	return 0, b.err
}

func (b *failingBody) Close() error { return nil }

// A streamed body (too large to keep for a replay) that stops arriving is the
// client's fault: past --read-timeout the client, still connected, gets 408 —
// even though the server has cancelled the request's context by then — and not
// the access log's 499, which is no status to put on the wire. A client that
// hung up is logged 499.
func TestStreamedBodyFailures(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		cancel bool // the server cancels the context, as it does on a read error
		status int
	}{
		{"read deadline, context cancelled", deadlineErr{}, true, http.StatusRequestTimeout},
		{"read deadline, context alive", deadlineErr{}, false, http.StatusRequestTimeout},
		{"client hung up", io.ErrUnexpectedEOF, true, StatusClientGone},
		{"broken body, context alive", io.ErrUnexpectedEOF, false, http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, func(o *Options) { o.ReplayLimit = 1 << 10 })
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			b := &failingBody{err: tc.err}
			if tc.cancel {
				b.cancel = cancel
			}
			req := request{method: "POST", target: "/rest/upload"}.build().WithContext(ctx)
			req.Body, req.ContentLength = b, 10<<20 // announced, never sent
			w := serve(f.h, req)
			if w.Code != tc.status {
				t.Fatalf("HTTP %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			if n := f.h.gate.inside.Load(); n != 0 {
				t.Errorf("%d places still held", n)
			}
		})
	}
}
