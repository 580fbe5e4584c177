package acoustic_test

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/internal/emulator/emulatortest"
	"github.com/tokentrip/tokentrip/internal/testkit"
	"github.com/tokentrip/tokentrip/provider/acoustic"
	"github.com/tokentrip/tokentrip/provider/acoustic/acoustictest"
	"github.com/tokentrip/tokentrip/transport"
)

// unreplayable hides a body's type, so that net/http sets no GetBody and the
// Transport has to buffer the body to replay it.
type unreplayable struct{ io.Reader }

// TestXMLAPIReplay: each way the XML API rejects a token, for each way a body can
// be sent, gets one new token and one replay of the very same envelope.
func TestXMLAPIReplay(t *testing.T) {
	modes := []struct {
		name string
		opts []acoustictest.Option
	}{
		{"fault 145", nil},
		{"401", []acoustictest.Option{acoustictest.WithSessionUnauthorized()}},
		{"empty 200", []acoustictest.Option{acoustictest.WithSessionEmptyBody()}},
	}
	form := url.Values{"xml": {getLists}}.Encode()
	bodies := []struct {
		name        string
		contentType string
		body        func() io.Reader
	}{
		{"raw XML", "text/xml;charset=UTF-8", func() io.Reader { return strings.NewReader(getLists) }},
		{"raw XML, buffered", "text/xml;charset=UTF-8", func() io.Reader { return unreplayable{strings.NewReader(getLists)} }},
		{"xml= form", "application/x-www-form-urlencoded", func() io.Reader { return strings.NewReader(form) }},
		{"xml= form, buffered", "application/x-www-form-urlencoded", func() io.Reader { return unreplayable{strings.NewReader(form)} }},
	}
	for _, m := range modes {
		for _, b := range bodies {
			t.Run(m.name+"/"+b.name, func(t *testing.T) {
				srv, clock := newEmulator(t, m.opts...)
				tr, err := acoustic.NewTransport(configFor(srv, clock))
				if err != nil {
					t.Fatal(err)
				}
				client := &http.Client{Transport: tr}
				if r := postXML(t, client, srv.URL, getLists); r.Status != 200 || r.Body != xmlSuccess {
					t.Fatalf("warm-up call: %d %q", r.Status, r.Body)
				}
				tok, _ := tr.Source().Current()
				srv.ExpireToken(tok.AccessToken)
				srv.ResetStats()

				req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/XMLAPI", b.body())
				req.Header.Set("Content-Type", b.contentType)
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				got, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 || string(got) != xmlSuccess {
					t.Fatalf("call with an expired token: %d %q (%v), want the replay's success", resp.StatusCode, got, err)
				}
				st := srv.Stats()
				if st.XMLAPICalls != 2 || st.TokenRequests != 1 || st.TokensIssued != 1 || st.Rejections[emulator.ReasonExpiredToken] != 1 {
					t.Errorf("emulator: %+v; want the call refused once, one new token, the replay accepted", st)
				}
				if got := string(srv.LastEnvelope()); got != getLists {
					t.Errorf("the replay carried %q, want the original envelope", got)
				}
				if s := tr.Source().Stats(); s.Replays != 1 || s.Unreplayable != 0 {
					t.Errorf("transport: %+v, want one replay", s)
				}
			})
		}
	}
}

// TestXMLAPIErrorReachesCaller: an XML API fault that is not about the token comes
// back to the caller untouched, without a token request or a replay.
func TestXMLAPIErrorReachesCaller(t *testing.T) {
	srv, clock := newEmulator(t)
	tr, err := acoustic.NewTransport(configFor(srv, clock))
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: tr}
	if r := postXML(t, client, srv.URL, getLists); r.Status != 200 {
		t.Fatalf("warm-up call: %d %s", r.Status, r.Body)
	}
	srv.ResetStats()
	r := postXML(t, client, srv.URL, `<Envelope><Body></Body></Envelope>`)
	want := `<Envelope><Body><RESULT><SUCCESS>false</SUCCESS></RESULT><Fault><Request/><FaultCode/><FaultString>Invalid XML request</FaultString></Fault></Body></Envelope>`
	if r.Status != 200 || r.Body != want {
		t.Errorf("got %d %q, want the fault as sent: %q", r.Status, r.Body, want)
	}
	if st := srv.Stats(); st.XMLAPICalls != 1 || st.TokenRequests != 0 {
		t.Errorf("emulator: %+v, want one call and no token request", st)
	}
	if s := tr.Source().Stats(); s.Replays != 0 {
		t.Errorf("%d replays, want none", s.Replays)
	}
}

// TestHostScope: the token goes to the org's pod host only — not to another pod or
// any other host, nor over plain http. (A foreign server on the same loopback
// address gets none either: provider.TestCredentialStaysOnItsHosts.)
func TestHostScope(t *testing.T) {
	t.Run("pod", func(t *testing.T) {
		srv, clock := newEmulator(t)
		target, _ := url.Parse(srv.URL)
		tokens := &testkit.Recorder{Redirect: target}
		api := &testkit.Recorder{Redirect: target}
		cfg := configFor(srv, clock)
		cfg.BaseURL, cfg.Pod = "", "6"
		cfg.HTTPClient = tokens.Client()
		cfg.Transport.Base = api
		client := newClient(t, cfg)

		for _, u := range []string{
			"https://api-campaign-eu-1.goacoustic.com/XMLAPI",
			"https://API-Campaign-EU-1.goacoustic.com:443/rest/databases",
			"https://api-campaign-us-1.goacoustic.com/XMLAPI",
			"https://example.com/XMLAPI",
		} {
			emulatortest.Send(t, client, http.MethodPost, u, "", getLists)
		}
		if got := tokens.Sent(); len(got) != 1 || got[0].URL != "https://api-campaign-eu-1.goacoustic.com/oauth/token" {
			t.Errorf("token requests %v, want one to pod 6's host", got)
		}
		got := api.Sent()
		if len(got) != 4 {
			t.Fatalf("API requests %v", got)
		}
		for i, withToken := range []bool{true, true, false, false} {
			if has := strings.HasPrefix(got[i].Authorization, "Bearer at-"); has != withToken {
				t.Errorf("%s: Authorization %q, want a token: %v", got[i].URL, got[i].Authorization, withToken)
			}
		}

		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://api-campaign-eu-1.goacoustic.com/XMLAPI", strings.NewReader(getLists))
		if _, err := client.Do(req); !errors.Is(err, transport.ErrInsecureScheme) {
			t.Errorf("plain http to the pod: %v, want ErrInsecureScheme", err)
		}
	})
}
