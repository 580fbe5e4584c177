package provider_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/provider/mcv2"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
	"github.com/tokentrip/tokentrip/store"
	"github.com/tokentrip/tokentrip/transport"
)

// Every provider's Config embeds a Common: the Source's settings (here a Store
// shared by two Transports, and a hook) and the Transport's (here one more host
// the credential may go to) are set the same way for mcv1, mcv2 and acoustic.
func ExampleCommon() {
	shared := &store.MemoryTokens{} // across processes: a store/redis Store
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Println("api.example saw a token:", strings.HasPrefix(r.Header.Get("Authorization"), "Bearer "))
	}))
	defer api.Close()
	mc := mcv2test.NewServer() // stands in for Marketing Cloud
	defer mc.Close()

	cfg := mcv2.Config{AuthURL: mc.URL, ClientID: mc.ClientID, ClientSecret: mc.ClientSecret}
	cfg.Source.Store = shared
	cfg.Source.Hook = func(ev transport.Event) {
		if ev.Kind == transport.EventFetched {
			fmt.Println("fetched by", strings.SplitN(ev.Source, "/", 2)[0]) // "mcv2/<short hash>", never the client id
		}
	}
	cfg.Transport.Hosts = []string{api.URL} // joins the tenant's hosts

	for range 2 { // two Transports, one token between them
		client, err := mcv2.NewClient(cfg)
		if err != nil {
			log.Fatal(err)
		}
		resp, err := client.Get(api.URL + "/v1/things")
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
	}
	fmt.Println("token requests:", mc.Stats().TokenRequests)
	// Output:
	// fetched by mcv2
	// api.example saw a token: true
	// api.example saw a token: true
	// token requests: 1
}

// Retry says how a token request is retried: here a token endpoint that fails
// twice with 503 is asked three times, a millisecond apart, and the call succeeds.
func ExampleRetry() {
	mc := mcv2test.NewServer()
	defer mc.Close()
	mc.FailTokenRequests(2, http.StatusServiceUnavailable, 0)

	p, err := mcv2.NewProvider(mcv2.Config{
		AuthURL:      mc.URL,
		ClientID:     mc.ClientID,
		ClientSecret: mc.ClientSecret,
		Common:       provider.Common{Retry: provider.Retry{MaxRetries: 2, WaitMin: time.Millisecond, WaitMax: time.Millisecond}},
	})
	if err != nil {
		log.Fatal(err)
	}
	tok, err := p.Fetch(context.Background())
	fmt.Println(tok.AccessToken != "", err, "after", mc.Stats().TokenRequests, "token requests")
	// Output: true <nil> after 3 token requests
}
