package transport_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/tokentrip/tokentrip/envelope"
	"github.com/tokentrip/tokentrip/internal/marketingcloud"
	"github.com/tokentrip/tokentrip/internal/providerfunc"
	"github.com/tokentrip/tokentrip/transport"
)

// The body matrix: every shape of request body a caller can hand to net/http, sent
// through a SOAP-enabled Transport as REST and as SOAP, accepted at once or rejected
// and replayed, against a loopback server that checks every byte that arrives and
// how it was framed.

// bodyShape builds a request body of one kind.
type bodyShape struct {
	name string
	// reader makes a fresh reader of data; nil for the kinds without a reader (nil,
	// http.NoBody).
	reader func(data []byte, str string) io.Reader
	noBody bool // http.NoBody rather than nil, when reader is nil
}

// plainReader hides every method but Read, as a caller's own reader does.
type plainReader struct{ r io.Reader }

func (p plainReader) Read(b []byte) (int, error) { return p.r.Read(b) }

var bodyShapes = []bodyShape{
	{name: "bytes.Buffer", reader: func(d []byte, _ string) io.Reader { return bytes.NewBuffer(d) }},
	{name: "bytes.Reader", reader: func(d []byte, _ string) io.Reader { return bytes.NewReader(d) }},
	{name: "strings.Reader", reader: func(_ []byte, s string) io.Reader { return strings.NewReader(s) }},
	{name: "NopCloser", reader: func(d []byte, _ string) io.Reader { return io.NopCloser(plainReader{bytes.NewReader(d)}) }},
	{name: "Pipe", reader: func(d []byte, _ string) io.Reader {
		pr, pw := io.Pipe()
		go func() {
			_, err := pw.Write(d)
			pw.CloseWithError(err)
		}()
		return pr
	}},
	{name: "NoBody", noBody: true},
	{name: "nil"},
}

// Ways the caller states the body's length.
const (
	lengthKnown   = "known"
	lengthZero    = "0-with-body" // net/http: unknown
	lengthUnknown = "-1"
)

// matrixCase is one row of the matrix.
type matrixCase struct {
	api     string // "REST" or "SOAP"
	shape   bodyShape
	length  string
	getBody bool
	size    int
	replay  bool // the server rejects the first token
}

func (c matrixCase) name() string {
	send := "first"
	if c.replay {
		send = "replay"
	}
	return fmt.Sprintf("%s/%s/len=%s/GetBody=%t/size=%d/%s", c.api, c.shape.name, c.length, c.getBody, c.size, send)
}

// matrixCases lists every meaningful combination: the kinds without a reader have
// size 0 only, and a known length of 0 is the same as 0 with a body.
func matrixCases(sizes []int) []matrixCase {
	var cases []matrixCase
	for _, api := range []string{"REST", "SOAP"} {
		for _, replay := range []bool{false, true} {
			for _, shape := range bodyShapes {
				if shape.reader == nil {
					getBodies := []bool{false, true}
					if !shape.noBody {
						getBodies = []bool{false}
					}
					for _, gb := range getBodies {
						cases = append(cases, matrixCase{api: api, shape: shape, length: lengthKnown, getBody: gb, replay: replay})
					}
					continue
				}
				for _, size := range sizes {
					for _, length := range []string{lengthKnown, lengthZero, lengthUnknown} {
						if size == 0 && length == lengthKnown {
							continue
						}
						for _, gb := range []bool{false, true} {
							cases = append(cases, matrixCase{api: api, shape: shape, length: length, getBody: gb, size: size, replay: replay})
						}
					}
				}
			}
		}
	}
	return cases
}

// matrixData holds the payloads: random bytes for REST, and for SOAP an envelope
// of exactly the size asked for, with a WS-Addressing header block before which
// the credential must appear; each also as a string, for strings.Reader.
type matrixData struct {
	rest    []byte
	restStr string
	soap    map[int][]byte
	soapStr map[int]string
}

const (
	soapHead = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header>` +
		`<a:Action xmlns:a="http://www.w3.org/2005/08/addressing">Create</a:Action></s:Header>` +
		`<s:Body><CreateRequest xmlns="http://exacttarget.com/wsdl/partnerAPI"><Objects><Data>`
	soapTail = `</Data></Objects></CreateRequest></s:Body></s:Envelope>`
)

func newMatrixData(sizes []int) matrixData {
	largest := 0
	for _, s := range sizes {
		largest = max(largest, s)
	}
	d := matrixData{rest: make([]byte, largest), soap: map[int][]byte{}, soapStr: map[int]string{}}
	_, _ = rand.NewChaCha8([32]byte{1, 2, 3}).Read(d.rest)
	d.restStr = string(d.rest)
	// Text of a prime length, so that no two stretches of the Body line up.
	const text = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 \n"
	for _, size := range sizes {
		if size == 0 {
			d.soap[0] = nil
			continue
		}
		env := make([]byte, size)
		n := copy(env, soapHead)
		for n < size-len(soapTail) {
			n += copy(env[n:size-len(soapTail)], text)
		}
		copy(env[n:], soapTail)
		d.soap[size], d.soapStr[size] = env, string(env)
	}
	return d
}

func fuelBlock(tok string) string {
	return `<fueloauth xmlns="http://exacttarget.com">` + tok + `</fueloauth>`
}

// wantSOAP is what must arrive for env sent with tok: env with the credential as
// the last child of its Header, and nothing else changed.
func wantSOAP(env []byte, tok string) [][]byte {
	at := bytes.Index(env, []byte("</s:Header>"))
	return [][]byte{env[:at], []byte(fuelBlock(tok)), env[at:]}
}

// byteCheck is an io.Writer that compares what is written with the pieces it
// expects, byte by byte, without keeping what it was given.
type byteCheck struct {
	want    [][]byte
	written int
	diff    int // offset of the first difference, -1 if none
}

func (c *byteCheck) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if len(c.want) == 0 {
			if c.diff < 0 {
				c.diff = c.written
			}
			c.written += len(p)
			return n, nil
		}
		m := min(len(p), len(c.want[0]))
		if c.diff < 0 && !bytes.Equal(p[:m], c.want[0][:m]) {
			for i := range m {
				if p[i] != c.want[0][i] {
					c.diff = c.written + i
					break
				}
			}
		}
		c.written += m
		p, c.want[0] = p[m:], c.want[0][m:]
		if len(c.want[0]) == 0 {
			c.want = c.want[1:]
		}
	}
	return n, nil
}

// problem describes how the bytes differ, "" when they do not.
func (c *byteCheck) problem() string {
	short := 0
	for _, w := range c.want {
		short += len(w)
	}
	switch {
	case c.diff >= 0:
		return fmt.Sprintf("the bytes differ from offset %d (%d arrived)", c.diff, c.written)
	case short > 0:
		return fmt.Sprintf("%d bytes arrived, %d fewer than sent", c.written, short)
	}
	return ""
}

// arrival is what the matrix server saw of one request.
type arrival struct {
	problem       string // "" when every byte and header was as expected
	contentLength int64  // -1 when chunked
	chunked       bool
}

// matrixServer checks each request against the case named in its X-Case header.
type matrixServer struct {
	*httptest.Server
	mu    sync.Mutex
	cases map[string]*caseState
}

type caseState struct {
	api      string
	want     []byte   // the caller's bytes
	tokens   []string // the token expected on the n-th arrival
	reject   bool     // answer the first arrival as a rejection
	arrived  int      // requests that came in
	arrivals []arrival
}

const (
	restRejection = `{"errorcode":0,"message":"Not Authorized"}`
	soapRejection = `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault>` +
		`<faultcode>soap:Client</faultcode><faultstring>Token Expired</faultstring></soap:Fault></soap:Body></soap:Envelope>`
)

func newMatrixServer(t *testing.T) *matrixServer {
	ms := &matrixServer{cases: map[string]*caseState{}}
	ms.Server = httptest.NewServer(http.HandlerFunc(ms.serve))
	t.Cleanup(ms.Close)
	return ms
}

func (ms *matrixServer) serve(w http.ResponseWriter, r *http.Request) {
	ms.mu.Lock()
	c := ms.cases[r.Header.Get("X-Case")]
	n := -1
	if c != nil {
		n = c.arrived
		c.arrived++
	}
	ms.mu.Unlock()
	if c == nil {
		http.Error(w, "unknown case", http.StatusBadRequest)
		return
	}
	a := arrival{contentLength: r.ContentLength, chunked: len(r.TransferEncoding) == 1 && r.TransferEncoding[0] == "chunked"}
	if n >= len(c.tokens) {
		a.problem = "one arrival too many"
		n = len(c.tokens) - 1
	}
	check := &byteCheck{want: [][]byte{c.want}, diff: -1}
	if c.api == "SOAP" {
		check.want = wantSOAP(c.want, c.tokens[n])
	}
	_, err := io.Copy(check, r.Body)
	switch auth := r.Header.Get("Authorization"); {
	case a.problem != "":
	case err != nil:
		a.problem = "reading the body: " + err.Error()
	case c.api == "REST" && auth != "Bearer "+c.tokens[n]:
		a.problem = "Authorization " + strconv.Quote(auth)
	case c.api == "SOAP" && auth != "":
		a.problem = "a SOAP call carried an Authorization header"
	default:
		a.problem = check.problem()
	}
	ms.mu.Lock()
	c.arrivals = append(c.arrivals, a)
	ms.mu.Unlock()
	switch {
	case c.reject && n == 0 && c.api == "REST":
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, restRejection)
	case c.reject && n == 0:
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		io.WriteString(w, soapRejection)
	default:
		io.WriteString(w, "accepted")
	}
}

// TestBodyMatrix: the Transport sends exactly the caller's bytes plus the
// credential, with a correct Content-Length when the length is known (stated by
// the caller, or found by buffering the body for a replay) and chunked framing
// when it is not, on the first send and on the replay, for REST and SOAP. A body
// it cannot replay gets the rejection back as it came; an empty SOAP body is
// refused before anything is sent.
func TestBodyMatrix(t *testing.T) {
	const limit = transport.DefaultReplayLimit
	sizes := []int{0, 1 << 10, limit - 1, limit + 1, 8 << 20}
	data := newMatrixData(sizes)
	srv := newMatrixServer(t)
	base := srv.Client().Transport.(*http.Transport).Clone()
	t.Cleanup(base.CloseIdleConnections)

	cases := matrixCases(sizes)
	t.Logf("FIGURE body matrix: %d cases", len(cases))
	for i, c := range cases {
		t.Run(c.name(), func(t *testing.T) {
			id := strconv.Itoa(i)
			// Tokens of different lengths, so a replayed envelope's length must be
			// worked out anew.
			tokens := []string{"first-" + id, "the-second-token-" + id + "-is-longer"}
			want, wantStr := data.rest[:c.size], data.restStr[:c.size]
			if c.api == "SOAP" {
				want, wantStr = data.soap[c.size], data.soapStr[c.size]
			}
			state := &caseState{api: c.api, want: want, tokens: tokens, reject: c.replay}
			srv.mu.Lock()
			srv.cases[id] = state
			srv.mu.Unlock()

			issued := 0
			src := transport.NewSource(providerfunc.Func(func(context.Context) (transport.Token, error) {
				issued++
				return transport.Token{AccessToken: tokens[min(issued, 2)-1]}, nil
			}), transport.Settings{})
			tr := transport.New(src, transport.Options{Hosts: []string{srv.URL}, Base: base, SOAP: marketingcloud.FuelOAuth})
			req := c.request(t, srv.URL, id, want, wantStr)
			wantCL, wantHeaders := req.ContentLength, len(req.Header)

			resp, err := (&http.Client{Transport: tr}).Do(req)

			if req.ContentLength != wantCL || len(req.Header) != wantHeaders || req.Header.Get("Authorization") != "" {
				t.Errorf("the caller's request changed: ContentLength %d, header %v", req.ContentLength, req.Header)
			}
			srv.mu.Lock()
			arrivals := state.arrivals
			srv.mu.Unlock()
			if c.api == "SOAP" && c.size == 0 {
				var envErr *envelope.Error
				if !errors.As(err, &envErr) || !errors.Is(err, envelope.ErrMalformed) || len(arrivals) != 0 || issued > 1 {
					t.Fatalf("err %v, %d requests sent; want an *envelope.Error and nothing sent", err, len(arrivals))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()

			replayable := c.shape.reader == nil || c.getBody || c.size <= limit
			known := c.shape.reader == nil || c.length == lengthKnown || (!c.getBody && c.size <= limit)
			wantArrivals := 1
			if c.replay && replayable {
				wantArrivals = 2
			}
			if len(arrivals) != wantArrivals {
				t.Fatalf("%d requests arrived, want %d", len(arrivals), wantArrivals)
			}
			for n, a := range arrivals {
				if a.problem != "" {
					t.Errorf("request %d: %s", n+1, a.problem)
				}
				wantLen := int64(len(want))
				if c.api == "SOAP" {
					wantLen += int64(len(fuelBlock(tokens[n])))
				}
				switch {
				case known && (a.chunked || a.contentLength != wantLen):
					t.Errorf("request %d: Content-Length %d, chunked %t; want Content-Length %d", n+1, a.contentLength, a.chunked, wantLen)
				case !known && !a.chunked:
					t.Errorf("request %d: Content-Length %d; want chunked", n+1, a.contentLength)
				}
			}
			st := tr.Source().Stats()
			switch {
			case c.replay && !replayable:
				wantStatus, wantBody := http.StatusUnauthorized, restRejection
				if c.api == "SOAP" {
					wantStatus, wantBody = http.StatusInternalServerError, soapRejection
				}
				if resp.StatusCode != wantStatus || string(body) != wantBody || st.Unreplayable != 1 || st.Replays != 0 {
					t.Errorf("status %d, body %q, stats %+v; want the rejection as it came", resp.StatusCode, body, st)
				}
			case resp.StatusCode != http.StatusOK || string(body) != "accepted":
				t.Errorf("status %d, body %q; want accepted", resp.StatusCode, body)
			case st.Replays != uint64(wantArrivals-1):
				t.Errorf("stats %+v, want %d replays", st, wantArrivals-1)
			}
		})
	}
}

// request builds the case's request the way a caller does: http.NewRequest, then
// the ContentLength and GetBody the case asks for.
func (c matrixCase) request(t *testing.T, url, id string, data []byte, str string) *http.Request {
	t.Helper()
	var body io.Reader
	switch {
	case c.shape.reader != nil:
		body = c.shape.reader(data, str)
	case c.shape.noBody:
		body = http.NoBody
	}
	req, err := http.NewRequest(http.MethodPost, url+"/api/"+c.api, body)
	if err != nil {
		t.Fatal(err)
	}
	if c.api == "SOAP" {
		req.Header.Set("Content-Type", "text/xml; charset=utf-8")
		req.Header.Set("SOAPAction", "Create")
	} else {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	req.Header.Set("X-Case", id)
	if c.shape.reader == nil {
		if !c.getBody {
			req.GetBody = nil
		} else {
			req.GetBody = func() (io.ReadCloser, error) { return http.NoBody, nil }
		}
		return req
	}
	if req.Body == http.NoBody { // http.NewRequest's choice for an empty known reader
		req.Body = io.NopCloser(c.shape.reader(data, str))
	}
	switch c.length {
	case lengthKnown:
		req.ContentLength = int64(len(data))
	case lengthZero:
		req.ContentLength = 0
	case lengthUnknown:
		req.ContentLength = -1
	}
	req.GetBody = nil
	if c.getBody {
		req.GetBody = func() (io.ReadCloser, error) {
			r := c.shape.reader(data, str)
			if rc, ok := r.(io.ReadCloser); ok {
				return rc, nil
			}
			return io.NopCloser(r), nil
		}
	}
	return req
}
