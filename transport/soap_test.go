package transport_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/envelope"
	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/internal/endpoint"
	"github.com/tokentrip/tokentrip/internal/eventrec"
	"github.com/tokentrip/tokentrip/internal/marketingcloud"
	"github.com/tokentrip/tokentrip/internal/providerfunc"
	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/provider/mcv1/mcv1test"
	"github.com/tokentrip/tokentrip/transport"
)

const retrieveEnvelope = `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing">
<soapenv:Header><wsa:Action soapenv:mustUnderstand="1">Retrieve</wsa:Action></soapenv:Header>
<soapenv:Body><RetrieveRequestMsg xmlns="http://exacttarget.com/wsdl/partnerAPI"><RetrieveRequest><ObjectType>Subscriber</ObjectType><Properties>EmailAddress</Properties></RetrieveRequest></RetrieveRequestMsg></soapenv:Body>
</soapenv:Envelope>`

// mcv1Provider fetches legacy tokens from the emulator, as small as a provider gets.
func mcv1Provider(emu *mcv1test.Server) transport.Provider {
	ec := endpoint.NewClient("mcv1", emu.Client(), provider.Retry{MaxRetries: -1}, nil)
	return providerfunc.Func(func(ctx context.Context) (transport.Token, error) {
		body := fmt.Sprintf(`{"clientId":%q,"clientSecret":%q}`, emulator.MCv1ClientID, emulator.MCv1ClientSecret)
		resp, err := ec.Post(ctx, emu.URL+emulator.MCv1TokenPath, "application/json", []byte(body))
		if err != nil {
			return transport.Token{}, err
		}
		var tok struct {
			AccessToken string `json:"accessToken"`
			ExpiresIn   int    `json:"expiresIn"`
		}
		if err := json.Unmarshal(resp.Body, &tok); err != nil || tok.AccessToken == "" {
			return transport.Token{}, &transport.FetchError{Kind: transport.ErrCredentialsRejected, StatusCode: resp.StatusCode}
		}
		return transport.Token{AccessToken: tok.AccessToken, Expiry: time.Now().Add(time.Duration(tok.ExpiresIn) * time.Second)}, nil
	})
}

// lengthCheck records the Content-Length of what is sent and checks the body has it.
type lengthCheck struct {
	base    http.RoundTripper
	lengths []int64
	t       *testing.T
}

func (l *lengthCheck) RoundTrip(req *http.Request) (*http.Response, error) {
	l.lengths = append(l.lengths, req.ContentLength)
	return l.base.RoundTrip(req)
}

func newSOAPClient(t *testing.T, emu *mcv1test.Server, src *transport.Source, cred func(transport.Token) envelope.Credential) (*http.Client, *transport.Transport, *lengthCheck) {
	base := emu.Client().Transport.(*http.Transport).Clone()
	t.Cleanup(base.CloseIdleConnections)
	lc := &lengthCheck{base: base, t: t}
	tr := transport.New(src, transport.Options{Hosts: []string{emu.URL}, Base: lc, SOAP: cred})
	return &http.Client{Transport: tr}, tr, lc
}

// soapRig is the legacy emulator, a Source of its tokens, and a client to it whose
// Transport puts the token into SOAP envelopes as a fueloauth block.
type soapRig struct {
	emu    *mcv1test.Server
	src    *transport.Source
	client *http.Client
	tr     *transport.Transport
	sent   *lengthCheck
}

// newSOAPRig starts a soapRig whose Source has set.
func newSOAPRig(t *testing.T, set transport.Settings) *soapRig {
	emu := mcv1test.NewServer()
	t.Cleanup(emu.Close)
	src := transport.NewSource(mcv1Provider(emu), set)
	client, tr, sent := newSOAPClient(t, emu, src, marketingcloud.FuelOAuth)
	return &soapRig{emu: emu, src: src, client: client, tr: tr, sent: sent}
}

// postSOAP posts the envelope body to url as a SOAP call, and returns the answer
// and its body.
func postSOAP(t *testing.T, client *http.Client, url, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("SOAPAction", "Retrieve")
	resp, err := client.Do(req)
	return resp, readResponse(t, resp, err)
}

func TestSOAPFuelOAuthEndToEnd(t *testing.T) {
	rig := newSOAPRig(t, transport.Settings{})
	emu, src, client, lc := rig.emu, rig.src, rig.client, rig.sent

	resp, body := postSOAP(t, client, emu.URL+"/Service.asmx", retrieveEnvelope)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "<OverallStatus>OK</OverallStatus>") {
		t.Fatalf("status %d body %s", resp.StatusCode, body)
	}
	tok, _ := src.Token(context.Background())
	sent := emu.LastEnvelope()
	block := `<fueloauth xmlns="http://exacttarget.com">` + tok.AccessToken + `</fueloauth>`
	if bytes.Count(sent, []byte("<fueloauth")) != 1 || !bytes.Contains(sent, []byte(block)) {
		t.Fatalf("envelope sent:\n%s", sent)
	}
	if want := int64(len(retrieveEnvelope) + len(block)); lc.lengths[0] != want || int64(len(sent)) != want {
		t.Fatalf("Content-Length %d, body %d, want %d", lc.lengths[0], len(sent), want)
	}
	bodyStart := strings.Index(retrieveEnvelope, "<soapenv:Body>")
	if !bytes.HasSuffix(sent, []byte(retrieveEnvelope[bodyStart:])) {
		t.Fatal("the Body's bytes changed")
	}
	// A REST call through the same Transport still gets a Bearer header.
	rest, err := client.Get(emu.URL + "/hub/v1/campaigns")
	readResponse(t, rest, err)
	if rest.StatusCode != http.StatusOK {
		t.Fatalf("REST through the SOAP transport: %d", rest.StatusCode)
	}
}

func TestSOAPTokenExpiredIsReplayedWithFreshToken(t *testing.T) {
	rig := newSOAPRig(t, transport.Settings{})
	emu, src, client, tr := rig.emu, rig.src, rig.client, rig.tr
	old := mustToken(t, src)
	emu.ExpireToken(old.AccessToken)

	resp, body := postSOAP(t, client, emu.URL+"/Service.asmx", retrieveEnvelope)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d body %s", resp.StatusCode, body)
	}
	fresh, _ := src.Token(context.Background())
	sent := emu.LastEnvelope()
	if fresh.AccessToken == old.AccessToken || !bytes.Contains(sent, []byte(">"+fresh.AccessToken+"<")) || bytes.Count(sent, []byte("<fueloauth")) != 1 {
		t.Fatalf("replayed envelope:\n%s", sent)
	}
	st := emu.Stats()
	if st.TokenRequests != 2 || st.SOAPCalls != 2 || tr.Source().Stats().Replays != 1 {
		t.Fatalf("token requests %d, SOAP calls %d, replays %d; want 2, 2, 1", st.TokenRequests, st.SOAPCalls, tr.Source().Stats().Replays)
	}
}

func TestSOAPNonAuthFaultReachesCallerIntact(t *testing.T) {
	rig := newSOAPRig(t, transport.Settings{})
	emu, client, tr := rig.emu, rig.client, rig.tr
	emu.ThrottleAPICalls(1)
	resp, body := postSOAP(t, client, emu.URL+"/Service.asmx", retrieveEnvelope)
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(body, "Rate Limited") || !strings.HasSuffix(strings.TrimSpace(body), "Envelope>") {
		t.Fatalf("status %d body %s", resp.StatusCode, body)
	}
	if tr.Source().Stats().Replays != 0 || emu.Stats().TokenRequests != 1 {
		t.Fatalf("a throttling fault was treated as a rejection")
	}
}

func TestSOAPMalformedEnvelopeIsNotSent(t *testing.T) {
	rig := newSOAPRig(t, transport.Settings{})
	emu, tr := rig.emu, rig.tr
	cases := map[string]error{
		"not xml":   envelope.ErrMalformed,
		"<a></a>":   envelope.ErrNotEnvelope,
		"<!DOCTYPE": envelope.ErrDoctype,
	}
	for body, want := range cases {
		tb := &trackingBody{Reader: strings.NewReader(body + retrieveEnvelope)}
		req, _ := http.NewRequest(http.MethodPost, emu.URL+"/Service.asmx", tb)
		req.Header.Set("Content-Type", "text/xml")
		_, err := tr.RoundTrip(req)
		var envErr *envelope.Error
		if !errors.Is(err, want) || !errors.As(err, &envErr) || !tb.closed {
			t.Errorf("%q: err %v, body closed %v; want %v", body, err, tb.closed, want)
		}
	}
	if st := emu.Stats(); st.SOAPCalls != 0 {
		t.Fatalf("SOAP calls %d, want none sent", st.SOAPCalls)
	}
}

func TestSOAPUsernameTokenFetchesNoToken(t *testing.T) {
	emu := mcv1test.NewServer()
	defer emu.Close()
	cred := marketingcloud.UsernameToken(envelope.UsernameTokenConfig{Username: emulator.MCAPIUsername, Password: emulator.MCAPIPassword})
	client, _, _ := newSOAPClient(t, emu, nil, cred)
	resp, body := postSOAP(t, client, emu.URL+"/Service.asmx", retrieveEnvelope)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d body %s", resp.StatusCode, body)
	}
	sent := emu.LastEnvelope()
	security := regexp.MustCompile(`<wsse:Security [^>]*soapenv:mustUnderstand="1"[^>]*><wsse:UsernameToken><wsse:Username>` + emulator.MCAPIUsername)
	if !security.Match(sent) || bytes.Count(sent, []byte("<wsse:Security")) != 1 {
		t.Fatalf("envelope sent:\n%s", sent)
	}
	if st := emu.Stats(); st.TokenRequests != 0 {
		t.Fatalf("token requests %d, want 0", st.TokenRequests)
	}
}

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
				body := readResponse(t, resp, err)
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
		authFault  = soapRejection
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
			body := []byte(readResponse(t, resp, err))
			switch {
			case tt.replayed && (resp.StatusCode != http.StatusOK || tr.Source().Stats().Replays != 1 || tokens.requests.Load() != 2):
				t.Errorf("%d, %d replays, %d token requests; want the fault replayed once with a fresh token", resp.StatusCode, tr.Source().Stats().Replays, tokens.requests.Load())
			case !tt.replayed && (resp.StatusCode != http.StatusInternalServerError || !bytes.Equal(body, tt.fault) || tr.Source().Stats().Replays != 0):
				t.Errorf("%d %q, %d replays; want the fault as it came", resp.StatusCode, body, tr.Source().Stats().Replays)
			}
		})
	}
}

// TestSOAPFaultCountsOnlyWhenInjected: an envelope sent with a Content-Type that
// is not SOAP goes out with a Bearer header and no credential inside; Marketing
// Cloud answers with a security fault. That fault is the caller's to see, not a
// rejection of the token: twenty such calls make one token request, drop no token,
// and report one warning event each, which names the media type and nothing secret.
// The same envelope sent as text/xml gets the token injected and is accepted.
func TestSOAPFaultCountsOnlyWhenInjected(t *testing.T) {
	for _, contentType := range []string{"application/xml", "application/xml; charset=utf-8", "application/vnd.example+xml"} {
		t.Run(contentType, func(t *testing.T) {
			events := &eventrec.Recorder{}
			var logged bytes.Buffer
			logger := slog.New(slog.NewJSONHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
			rig := newSOAPRig(t, transport.Settings{Hook: events.Hook, Logger: logger})
			emu, src, client, tr := rig.emu, rig.src, rig.client, rig.tr

			for i := range 20 {
				req, _ := http.NewRequest(http.MethodPost, emu.URL+"/Service.asmx", strings.NewReader(retrieveEnvelope))
				req.Header.Set("Content-Type", contentType)
				resp, err := client.Do(req)
				body := readResponse(t, resp, err)
				if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(body, "security header is not present") {
					t.Fatalf("call %d: %d %s; want the server's fault as it came", i, resp.StatusCode, body)
				}
				if sent := emu.LastEnvelope(); !bytes.Equal(sent, []byte(retrieveEnvelope)) {
					t.Fatalf("call %d: the envelope changed on the way:\n%s", i, sent)
				}
			}
			tok := mustToken(t, src)
			st := emu.Stats()
			t.Logf("FIGURE XML body as %s: 20 calls → %d token requests, %d invalidations, %d not_injected events", contentType, st.TokenRequests, src.Stats().Invalidations, events.Count(transport.EventNotInjected))
			if st.TokenRequests != 1 || src.Stats().Invalidations != 0 || tr.Source().Stats().Replays != 0 || tr.Source().Stats().NotInjected != 20 {
				t.Errorf("token requests %d, invalidations %d, transport %+v; want 1, 0, no replay, 20 not injected", st.TokenRequests, src.Stats().Invalidations, tr.Source().Stats())
			}
			if got := events.Count(transport.EventNotInjected); got != 20 {
				t.Errorf("%d not_injected events, want one per call", got)
			}
			media, _, _ := strings.Cut(contentType, ";")
			for _, ev := range events.Events() {
				if ev.Kind == transport.EventNotInjected && (ev.Err == nil || !strings.Contains(ev.Err.Error(), strconv.Quote(media))) {
					t.Fatalf("event error %v, want one naming %s", ev.Err, media)
				}
			}
			for line := range strings.SplitSeq(strings.TrimSpace(logged.String()), "\n") {
				if strings.Contains(line, tok.AccessToken) || strings.Contains(line, emu.ClientSecret) {
					t.Fatalf("a secret was logged: %s", line)
				}
				if strings.Contains(line, `"msg":"tokentrip: not_injected"`) && !strings.Contains(line, `"level":"WARN"`) {
					t.Errorf("not_injected logged below Warn: %s", line)
				}
			}

			// Sent as SOAP, the same envelope carries the token and is accepted.
			if resp, body := postSOAP(t, client, emu.URL+"/Service.asmx", retrieveEnvelope); resp.StatusCode != http.StatusOK {
				t.Fatalf("as text/xml: %d %s", resp.StatusCode, body)
			}
			if emu.Stats().TokenRequests != 1 {
				t.Errorf("token requests %d, want still 1", emu.Stats().TokenRequests)
			}
		})
	}
}

// TestEmptySOAPBodyIsRefused: a SOAP Content-Type with an empty body, in whatever
// shape net/http allows, is refused with an *envelope.Error; nothing is sent, so
// no Bearer header goes out on it either. GET and HEAD without a body are not SOAP
// calls and go out as usual.
func TestEmptySOAPBodyIsRefused(t *testing.T) {
	empty := []struct {
		name string
		body func() io.Reader
		cl   int64
	}{
		{"http.NoBody", func() io.Reader { return http.NoBody }, 0},
		{"nil body", func() io.Reader { return nil }, 0},
		{"strings.Reader of nothing", func() io.Reader { return strings.NewReader("") }, 0},
		{"stream, length 0 (unknown)", func() io.Reader { return plainReader{strings.NewReader("")} }, 0},
		{"stream, length -1", func() io.Reader { return plainReader{strings.NewReader("")} }, -1},
		{"pipe", func() io.Reader {
			pr, pw := io.Pipe()
			go pw.Close()
			return pr
		}, -1},
	}
	rig := newSOAPRig(t, transport.Settings{})
	emu, tr, sent := rig.emu, rig.tr, rig.sent
	for _, ct := range []string{"text/xml; charset=utf-8", "application/soap+xml"} {
		for _, method := range []string{http.MethodPost, http.MethodPut} {
			for _, e := range empty {
				req, _ := http.NewRequest(method, emu.URL+"/Service.asmx", e.body())
				req.Header.Set("Content-Type", ct)
				req.ContentLength = e.cl
				_, err := tr.RoundTrip(req)
				var envErr *envelope.Error
				if !errors.As(err, &envErr) || !errors.Is(err, envelope.ErrMalformed) {
					t.Errorf("%s %s %s: %v, want an *envelope.Error", method, ct, e.name, err)
				}
			}
		}
	}
	if st := emu.Stats(); st.SOAPCalls != 0 || st.RESTCalls != 0 || len(sent.lengths) != 0 {
		t.Fatalf("SOAP calls %d, REST calls %d, sent %d; want nothing sent", st.SOAPCalls, st.RESTCalls, len(sent.lengths))
	}
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		req, _ := http.NewRequest(method, emu.URL+"/Service.asmx", nil)
		req.Header.Set("Content-Type", "text/xml")
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatalf("%s with a SOAP Content-Type and no body: %v", method, err)
		}
		resp.Body.Close()
	}
	if st := emu.Stats(); st.SOAPCalls != 2 {
		t.Fatalf("SOAP endpoint calls %d, want the GET and the HEAD", st.SOAPCalls)
	}
}
