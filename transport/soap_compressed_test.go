package transport_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tokentrip/tokentrip/envelope"
	"github.com/tokentrip/tokentrip/internal/marketingcloud"
	"github.com/tokentrip/tokentrip/transport"
)

const compressedEnvelope = `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><Ping xmlns="urn:x"/></s:Body></s:Envelope>`

func gzipped(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := io.WriteString(zw, s); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestCompressedSOAPRequest: the credential cannot go into a compressed envelope
// (node-soap's forceGzip sends one). Such a request is refused before anything
// is sent, with an *envelope.Error of kind ErrEncoding that names the
// Content-Encoding, rather than with a parse error about the compressed bytes or,
// for a body that is not compressed after all, a credential the server cannot
// read. Identity, or no Content-Encoding, gets the credential as ever.
func TestCompressedSOAPRequest(t *testing.T) {
	tokens := newTokenServer(t, nil)
	var arrived atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Add(1)
		body, _ := io.ReadAll(r.Body)
		if !bytes.Contains(body, []byte("<fueloauth")) {
			http.Error(w, "no credential", http.StatusBadRequest)
			return
		}
		io.WriteString(w, "accepted")
	}))
	defer srv.Close()
	tests := []struct {
		encoding string
		body     []byte
		refused  bool
	}{
		{encoding: "gzip", body: gzipped(t, compressedEnvelope), refused: true},
		{encoding: "GZIP", body: gzipped(t, compressedEnvelope), refused: true},
		{encoding: "x-gzip", body: gzipped(t, compressedEnvelope), refused: true},
		{encoding: "br", body: []byte{0x1b, 0x2a, 0x00}, refused: true},
		// Declared compressed, sent plain: the server would decompress garbage.
		{encoding: "deflate", body: []byte(compressedEnvelope), refused: true},
		{encoding: "identity, gzip", body: gzipped(t, compressedEnvelope), refused: true},
		{encoding: "identity", body: []byte(compressedEnvelope)},
		{encoding: "", body: []byte(compressedEnvelope)},
	}
	for _, tt := range tests {
		t.Run("Content-Encoding="+tt.encoding, func(t *testing.T) {
			src := transport.NewSource(tokens.provider(), transport.Settings{})
			tr := transport.New(src, transport.Options{Hosts: []string{srv.URL}, SOAP: marketingcloud.FuelOAuth})
			before := arrived.Load()
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/Service.asmx", bytes.NewReader(tt.body))
			req.Header.Set("Content-Type", "text/xml; charset=utf-8")
			if tt.encoding != "" {
				req.Header.Set("Content-Encoding", tt.encoding)
			}
			resp, err := tr.RoundTrip(req)
			if !tt.refused {
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("%d %s", resp.StatusCode, body)
				}
				return
			}
			var envErr *envelope.Error
			if !errors.As(err, &envErr) || !errors.Is(err, envelope.ErrEncoding) {
				t.Fatalf("err %v, want an *envelope.Error of kind ErrEncoding", err)
			}
			if !strings.Contains(envErr.Msg, "Content-Encoding") {
				t.Errorf("the message %q does not name the Content-Encoding", envErr.Msg)
			}
			if n := arrived.Load() - before; n != 0 {
				t.Errorf("%d requests reached the server", n)
			}
		})
	}
}

// TestCompressedSOAPFault: a caller that asks for compressed answers itself
// (Accept-Encoding: gzip) gets them as they came, and net/http leaves them
// compressed; an auth fault among them must still be told apart from any other
// fault, and replayed once with a fresh token.
func TestCompressedSOAPFault(t *testing.T) {
	const (
		authFault = `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault>` +
			`<faultcode>soap:Client</faultcode><faultstring>Token Expired</faultstring></soap:Fault></soap:Body></soap:Envelope>`
		otherFault = `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault>` +
			`<faultcode>soap:Server</faultcode><faultstring>Rate Limited</faultstring></soap:Fault></soap:Body></soap:Envelope>`
	)
	tests := []struct {
		name     string
		fault    []byte
		encoding string
		replayed bool
	}{
		{name: "auth fault, gzip", fault: gzipped(t, authFault), encoding: "gzip", replayed: true},
		{name: "auth fault, x-gzip", fault: gzipped(t, authFault), encoding: "x-gzip", replayed: true},
		{name: "auth fault, plain", fault: []byte(authFault), replayed: true},
		{name: "auth fault, identity", fault: []byte(authFault), encoding: "identity", replayed: true},
		{name: "auth fault, br", fault: []byte{0x1b, 0x2a, 0x00}, encoding: "br"},
		{name: "other fault, gzip", fault: gzipped(t, otherFault), encoding: "gzip"},
		{name: "auth fault, gzip cut short", fault: gzipped(t, authFault)[:20], encoding: "gzip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tokens := newTokenServer(t, nil)
			var calls atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				if calls.Add(1) > 1 {
					io.WriteString(w, "accepted")
					return
				}
				w.Header().Set("Content-Type", "text/xml; charset=utf-8")
				if tt.encoding != "" {
					w.Header().Set("Content-Encoding", tt.encoding)
				}
				w.WriteHeader(http.StatusInternalServerError)
				w.Write(tt.fault)
			}))
			defer srv.Close()
			src := transport.NewSource(tokens.provider(), transport.Settings{})
			tr := transport.New(src, transport.Options{Hosts: []string{srv.URL}, SOAP: marketingcloud.FuelOAuth})
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/Service.asmx", strings.NewReader(compressedEnvelope))
			req.Header.Set("Content-Type", "text/xml; charset=utf-8")
			req.Header.Set("Accept-Encoding", "gzip")
			resp, err := tr.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			switch {
			case tt.replayed && (resp.StatusCode != http.StatusOK || tr.Source().Stats().Replays != 1 || tokens.requests.Load() != 2):
				t.Errorf("%d, %d replays, %d token requests; want the fault replayed once with a fresh token", resp.StatusCode, tr.Source().Stats().Replays, tokens.requests.Load())
			case !tt.replayed && (resp.StatusCode != http.StatusInternalServerError || !bytes.Equal(body, tt.fault) || tr.Source().Stats().Replays != 0):
				t.Errorf("%d %q, %d replays; want the fault as it came", resp.StatusCode, body, tr.Source().Stats().Replays)
			}
		})
	}
}
