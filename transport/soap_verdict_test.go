package transport_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/tokentrip/tokentrip/envelope"
	"github.com/tokentrip/tokentrip/internal/eventrec"
	"github.com/tokentrip/tokentrip/internal/marketingcloud"
	"github.com/tokentrip/tokentrip/provider/mcv1/mcv1test"
	"github.com/tokentrip/tokentrip/transport"
)

// TestSOAPFaultCountsOnlyWhenInjected: an envelope sent with a Content-Type that
// is not SOAP goes out with a Bearer header and no credential inside; Marketing
// Cloud answers with a security fault. That fault is the caller's to see, not a
// rejection of the token: twenty such calls make one token request, drop no token,
// and report one warning event each, which names the media type and nothing secret.
// The same envelope sent as text/xml gets the token injected and is accepted.
func TestSOAPFaultCountsOnlyWhenInjected(t *testing.T) {
	for _, contentType := range []string{"application/xml", "application/xml; charset=utf-8", "application/vnd.example+xml"} {
		t.Run(contentType, func(t *testing.T) {
			emu := mcv1test.NewServer()
			defer emu.Close()
			events := &eventrec.Recorder{}
			var logged bytes.Buffer
			logger := slog.New(slog.NewJSONHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
			src := transport.NewSource(mcv1Provider(emu), transport.Settings{Hook: events.Hook, Logger: logger})
			client, tr, _ := newSOAPClient(t, emu, src, marketingcloud.FuelOAuth)

			for i := range 20 {
				req, _ := http.NewRequest(http.MethodPost, emu.URL+"/Service.asmx", strings.NewReader(retrieveEnvelope))
				req.Header.Set("Content-Type", contentType)
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(string(body), "security header is not present") {
					t.Fatalf("call %d: %d %s; want the server's fault as it came", i, resp.StatusCode, body)
				}
				if sent := emu.LastEnvelope(); !bytes.Equal(sent, []byte(retrieveEnvelope)) {
					t.Fatalf("call %d: the envelope changed on the way:\n%s", i, sent)
				}
			}
			tok, _ := src.Token(context.Background())
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
	emu := mcv1test.NewServer()
	defer emu.Close()
	src := transport.NewSource(mcv1Provider(emu), transport.Settings{})
	_, tr, sent := newSOAPClient(t, emu, src, marketingcloud.FuelOAuth)
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
