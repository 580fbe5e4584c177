package mcv2_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
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
