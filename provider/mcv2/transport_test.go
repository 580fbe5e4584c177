package mcv2_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/tokentrip/tokentrip/internal/testkit"
	"github.com/tokentrip/tokentrip/provider/mcv2"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
)

// The credential goes to the tenant's hosts, the AuthURL's host, the configured API
// hosts and the token's instance URLs, and nowhere else.
func TestHostScope(t *testing.T) {
	const instance = "https://mc-instance-0000000000000000000.rest.marketingcloudapis.com/"
	srv := start(t, mcv2test.WithInstanceURLs(instance, instance))
	emulator, _ := url.Parse(srv.URL)
	api := &testkit.Recorder{Redirect: emulator} // every API call reaches the emulator's REST echo
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer foreign.Close()

	cfg := serverConfig(srv)
	cfg.Subdomain = subdomain
	cfg.Transport.Hosts = []string{"api.example.com"}
	cfg.Transport.Base = api
	tr, err := mcv2.NewTransport(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tr.Source().Token(context.Background()) // where callers learn the instance URLs
	if err != nil {
		t.Fatal(err)
	}
	if tok.RESTInstanceURL != instance {
		t.Fatalf("instance URL %q", tok.RESTInstanceURL)
	}
	tests := []struct {
		url  string
		auth bool
	}{
		{"https://" + subdomain + ".rest.marketingcloudapis.com/platform/v1/endpoints", true},
		{"https://" + subdomain + ".soap.marketingcloudapis.com/Service.asmx", true},
		{"https://" + subdomain + ".auth.marketingcloudapis.com/v2/userinfo", true},
		{instance + "asset/v1/content/assets", true},
		{"https://api.example.com/x", true},
		{srv.URL + "/platform/v1/endpoints", true},
		{"https://mc11111111111111111111111111.rest.marketingcloudapis.com/x", false},
		{"https://" + subdomain + ".rest.marketingcloudapis.com.evil.example/x", false},
		{"https://www.example.com/", false},
		{foreign.URL + "/", false},
	}
	client := &http.Client{Transport: tr}
	for _, tt := range tests {
		resp, err := client.Get(tt.url)
		if err != nil {
			t.Fatalf("GET %s: %v", tt.url, err)
		}
		resp.Body.Close()
		sent := api.Sent()
		last := sent[len(sent)-1]
		if last.URL != tt.url {
			t.Fatalf("the base saw %s, want %s", last.URL, tt.url)
		}
		want := ""
		if tt.auth {
			want = "Bearer " + tok.AccessToken
		}
		if last.Authorization != want {
			t.Errorf("%s carried %q, want %q", tt.url, last.Authorization, want)
		}
	}
}

// A SOAP envelope sent through NewClient gets the token as a fueloauth header, and
// an expired token's "Token Expired" fault costs one new token and one replay.
func TestSOAPThroughNewClient(t *testing.T) {
	const envelope = `<?xml version="1.0" encoding="utf-8"?>` +
		`<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">` +
		`<soap:Header><Action xmlns="http://schemas.xmlsoap.org/ws/2004/08/addressing">Retrieve</Action></soap:Header>` +
		`<soap:Body><RetrieveRequestMsg xmlns="http://exacttarget.com/wsdl/partnerAPI"><RetrieveRequest>` +
		`<ObjectType>Subscriber</ObjectType><Properties>EmailAddress</Properties></RetrieveRequest></RetrieveRequestMsg></soap:Body>` +
		`</soap:Envelope>`
	srv := start(t)
	tr, err := mcv2.NewTransport(serverConfig(srv))
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: tr}
	call := func() int {
		t.Helper()
		resp, err := client.Post(srv.URL+"/Service.asmx", "text/xml; charset=utf-8", strings.NewReader(envelope))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}

	if status := call(); status != http.StatusOK {
		t.Fatalf("SOAP call: %d", status)
	}
	first, _ := tr.Source().Current()
	if sent := string(srv.LastEnvelope()); !strings.Contains(sent, `<fueloauth xmlns="http://exacttarget.com">`+first.AccessToken+`</fueloauth>`) {
		t.Fatalf("envelope sent without the token:\n%s", sent)
	}

	srv.ExpireToken(first.AccessToken)
	if status := call(); status != http.StatusOK {
		t.Fatalf("SOAP call with an expired token: %d, want 200 after a replay", status)
	}
	st := srv.Stats()
	if st.TokenRequests != 2 || st.SOAPCalls != 3 || st.Rejections["expired_token"] != 1 {
		t.Errorf("emulator %+v, want 2 token requests, 3 SOAP calls, 1 expired token", st)
	}
	if now, _ := tr.Source().Current(); !strings.Contains(string(srv.LastEnvelope()), now.AccessToken) || now.AccessToken == first.AccessToken {
		t.Error("the replay did not carry the new token")
	}
}
