package acoustic_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/tokentrip/tokentrip/provider/acoustic"
	"github.com/tokentrip/tokentrip/provider/acoustic/acoustictest"
	"github.com/tokentrip/tokentrip/transport"
)

// TestRESTThroughNewClient: a REST call carries "Authorization: Bearer <token>"
// with a capital B, and after the token is revoked one call is refused, the token
// fetched again and the call replayed.
func TestRESTThroughNewClient(t *testing.T) {
	srv, clock := newEmulator(t)
	rec := &recorder{}
	cfg := configFor(srv, clock)
	cfg.Transport.Base = rec
	client := newClient(t, cfg)

	get := func() reply {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/rest/databases/123", nil)
		return do(t, client, req)
	}
	r := get()
	var echo struct {
		OK   bool   `json:"ok"`
		Path string `json:"path"`
	}
	if err := json.Unmarshal([]byte(r.body), &echo); err != nil || r.status != 200 || !echo.OK || echo.Path != "/rest/databases/123" {
		t.Fatalf("REST call: %d %s", r.status, r.body)
	}
	tok, _ := client.Transport.(*transport.Transport).Source().Current()
	if got := rec.requests()[0].authorization; got != "Bearer "+tok.AccessToken {
		t.Errorf("Authorization %q, want \"Bearer \" and the token", got)
	}

	srv.RevokeToken(tok.AccessToken)
	srv.ResetStats()
	if r := get(); r.status != 200 {
		t.Fatalf("call after revocation: %d %s", r.status, r.body)
	}
	st := srv.Stats()
	if st.RESTCalls != 2 || st.TokenRequests != 1 || st.TokensIssued != 1 || st.Rejections[acoustictest.ReasonRevokedToken] != 1 {
		t.Errorf("after revocation: %+v; want the call refused once, one new token, and the replay accepted", st)
	}
	if got := client.Transport.(*transport.Transport).Source().Stats().Replays; got != 1 {
		t.Errorf("%d replays, want 1", got)
	}
}

// unreplayable hides a body's type, so that net/http sets no GetBody and the
// Transport has to buffer the body to replay it.
type unreplayable struct{ io.Reader }

// TestXMLAPIReplay: each way the XML API rejects a token, for each way a body can
// be sent, gets one new token and one replay of the very same envelope.
func TestXMLAPIReplay(t *testing.T) {
	modes := []struct {
		name string
		mode acoustictest.SessionFailure
	}{
		{"fault 145", acoustictest.SessionFault},
		{"401", acoustictest.SessionUnauthorized},
		{"empty 200", acoustictest.SessionEmptyBody},
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
				srv, clock := newEmulator(t, acoustictest.WithSessionFailure(m.mode))
				tr, err := acoustic.NewTransport(configFor(srv, clock))
				if err != nil {
					t.Fatal(err)
				}
				client := &http.Client{Transport: tr}
				if r := postXML(t, client, srv.URL, getLists); r.status != 200 || r.body != xmlSuccess {
					t.Fatalf("warm-up call: %d %q", r.status, r.body)
				}
				tok, _ := tr.Source().Current()
				srv.ExpireToken(tok.AccessToken)
				srv.ResetStats()

				req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/XMLAPI", b.body())
				req.Header.Set("Content-Type", b.contentType)
				if r := do(t, client, req); r.status != 200 || r.body != xmlSuccess {
					t.Fatalf("call with an expired token: %d %q, want the replay's success", r.status, r.body)
				}
				st := srv.Stats()
				if st.XMLAPICalls != 2 || st.TokenRequests != 1 || st.TokensIssued != 1 || st.Rejections[acoustictest.ReasonExpiredToken] != 1 {
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
	if r := postXML(t, client, srv.URL, getLists); r.status != 200 {
		t.Fatalf("warm-up call: %d %s", r.status, r.body)
	}
	srv.ResetStats()
	r := postXML(t, client, srv.URL, `<Envelope><Body></Body></Envelope>`)
	want := `<Envelope><Body><RESULT><SUCCESS>false</SUCCESS></RESULT><Fault><Request/><FaultCode/><FaultString>Invalid XML request</FaultString></Fault></Body></Envelope>`
	if r.status != 200 || r.body != want {
		t.Errorf("got %d %q, want the fault as sent: %q", r.status, r.body, want)
	}
	if st := srv.Stats(); st.XMLAPICalls != 1 || st.TokenRequests != 0 {
		t.Errorf("emulator: %+v, want one call and no token request", st)
	}
	if s := tr.Source().Stats(); s.Replays != 0 {
		t.Errorf("%d replays, want none", s.Replays)
	}
}

// TestHostScope: the token goes to the org's host only — not to another server on
// the same loopback address, another pod, or any other host.
func TestHostScope(t *testing.T) {
	t.Run("base URL", func(t *testing.T) {
		srv, clock := newEmulator(t)
		var mu sync.Mutex
		var foreignAuth []string
		foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			foreignAuth = append(foreignAuth, r.Header.Get("Authorization"))
			mu.Unlock()
		}))
		defer foreign.Close()
		client := newClient(t, configFor(srv, clock))

		if r := postXML(t, client, srv.URL, getLists); r.status != 200 || r.body != xmlSuccess {
			t.Fatalf("call to the org: %d %s", r.status, r.body)
		}
		for _, path := range []string{"/XMLAPI", "/rest/databases"} {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, foreign.URL+path, strings.NewReader(getLists))
			if r := do(t, client, req); r.status != 200 {
				t.Fatalf("call to the foreign server: %d", r.status)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if len(foreignAuth) != 2 || foreignAuth[0] != "" || foreignAuth[1] != "" {
			t.Errorf("the foreign server saw Authorization %q, want two requests without one", foreignAuth)
		}
	})

	t.Run("pod", func(t *testing.T) {
		srv, clock := newEmulator(t)
		target, _ := url.Parse(srv.URL)
		tokens := &recorder{target: target}
		api := &recorder{target: target}
		cfg := configFor(srv, clock)
		cfg.BaseURL, cfg.Pod = "", "6"
		cfg.HTTPClient = &http.Client{Transport: tokens}
		cfg.Transport.Base = api
		client := newClient(t, cfg)

		for _, u := range []string{
			"https://api-campaign-eu-1.goacoustic.com/XMLAPI",
			"https://API-Campaign-EU-1.goacoustic.com:443/rest/databases",
			"https://api-campaign-us-1.goacoustic.com/XMLAPI",
			"https://example.com/XMLAPI",
		} {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, u, strings.NewReader(getLists))
			do(t, client, req)
		}
		if got := tokens.requests(); len(got) != 1 || got[0].url != "https://api-campaign-eu-1.goacoustic.com/oauth/token" {
			t.Errorf("token requests %v, want one to pod 6's host", got)
		}
		got := api.requests()
		if len(got) != 4 {
			t.Fatalf("API requests %v", got)
		}
		for i, withToken := range []bool{true, true, false, false} {
			if has := strings.HasPrefix(got[i].authorization, "Bearer at-"); has != withToken {
				t.Errorf("%s: Authorization %q, want a token: %v", got[i].url, got[i].authorization, withToken)
			}
		}

		req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, "http://api-campaign-eu-1.goacoustic.com/XMLAPI", strings.NewReader(getLists))
		if _, err := client.Do(req); !errors.Is(err, transport.ErrInsecureScheme) {
			t.Errorf("plain http to the pod: %v, want ErrInsecureScheme", err)
		}
	})
}

// TestHookSeesEvents: Config.Hook receives the Source's events, for metrics.
func TestHookSeesEvents(t *testing.T) {
	srv, clock := newEmulator(t)
	cfg := configFor(srv, clock)
	var mu sync.Mutex
	var kinds []transport.EventKind
	cfg.Source.Hook = func(ev transport.Event) {
		mu.Lock()
		kinds = append(kinds, ev.Kind)
		mu.Unlock()
	}
	client := newClient(t, cfg)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/rest/databases", nil)
	if r := do(t, client, req); r.status != 200 {
		t.Fatalf("REST call: %d %s", r.status, r.body)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(kinds) != 1 || kinds[0] != transport.EventFetched {
		t.Fatalf("hook saw %v, want one fetched event", kinds)
	}
}
