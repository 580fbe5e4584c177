package mcv2_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"sync"

	"github.com/tokentrip/tokentrip/provider/mcv2"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
	"github.com/tokentrip/tokentrip/store"
	"github.com/tokentrip/tokentrip/transport"
)

// A server-to-server integration: from configuration to an *http.Client in one
// call. Every goroutine shares one token, fetched on first use.
func Example() {
	srv := mcv2test.NewServer() // stands in for Marketing Cloud
	defer srv.Close()

	client, err := mcv2.NewClient(mcv2.Config{
		AuthURL:      srv.URL, // in production: Subdomain: "mc563885gzs27c5t9-63k636tzgm"
		ClientID:     srv.ClientID,
		ClientSecret: srv.ClientSecret,
		AccountID:    "5150",
	})
	if err != nil {
		log.Fatal(err)
	}
	var wg sync.WaitGroup
	statuses := make([]string, 3)
	for i := range statuses {
		wg.Go(func() { statuses[i] = getStatus(client, srv.URL+"/platform/v1/endpoints") })
	}
	wg.Wait()
	fmt.Println(statuses)
	fmt.Println("tokens fetched:", srv.Stats().TokensIssued)
	// Output:
	// [200 OK 200 OK 200 OK]
	// tokens fetched: 1
}

// A token works only in its business unit: one client per business unit.
func Example_businessUnits() {
	srv := mcv2test.NewServer()
	defer srv.Close()

	for _, mid := range []string{"1111", "2222"} {
		client, err := mcv2.NewClient(mcv2.Config{
			AuthURL:      srv.URL,
			ClientID:     srv.ClientID,
			ClientSecret: srv.ClientSecret,
			AccountID:    mid,
		})
		if err != nil {
			log.Fatal(err)
		}
		resp, err := client.Get(srv.URL + "/platform/v1/endpoints")
		if err != nil {
			log.Fatal(err)
		}
		var echo struct {
			AccountID string `json:"accountId"`
		}
		err = json.NewDecoder(resp.Body).Decode(&echo)
		resp.Body.Close()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("client for", mid, "acts in", echo.AccountID)
	}
	// Output:
	// client for 1111 acts in 1111
	// client for 2222 acts in 2222
}

// The tenant's REST and SOAP base URLs come with the token: no extra request.
func ExampleNewTransport() {
	srv := mcv2test.NewServer()
	defer srv.Close()

	tr, err := mcv2.NewTransport(mcv2.Config{
		AuthURL:      srv.URL,
		ClientID:     srv.ClientID,
		ClientSecret: srv.ClientSecret,
	})
	if err != nil {
		log.Fatal(err)
	}
	tok, err := tr.Source().Token(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("REST base is the emulator:", tok.RESTInstanceURL == srv.URL+"/")

	status := getStatus(&http.Client{Transport: tr}, tok.RESTInstanceURL+"asset/v1/content/assets")
	fmt.Println(status, "with", srv.Stats().TokenRequests, "token request")
	// Output:
	// REST base is the emulator: true
	// 200 OK with 1 token request
}

// A web app: the user authorises once, and the Provider renews the access token
// with the rotating refresh token from then on.
func ExampleProvider_Exchange() {
	srv := mcv2test.NewServer()
	defer srv.Close()
	ctx := context.Background()

	p, err := mcv2.NewProvider(mcv2.Config{
		AuthURL:       srv.URL,
		ClientID:      srv.WebAppID,
		ClientSecret:  srv.WebAppSecret,
		RedirectURI:   "https://app.example.com/mc/callback",
		Scope:         []string{"email_read", "offline"},
		RefreshTokens: &store.Memory{}, // store.File or a shared store in production
	})
	if err != nil {
		log.Fatal(err)
	}

	// Login handler: keep state and verifier with the session, redirect the browser.
	state, verifier := rand.Text(), mcv2.NewVerifier()
	login := p.AuthorizeURL(state, mcv2.WithPKCE(verifier))

	// The emulator approves at once and redirects to the callback.
	resp, err := srv.Client().Get(login)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	callback, _ := url.Parse(resp.Header.Get("Location"))

	// Callback handler: check it, redeem the code, call the API.
	cb, err := mcv2.ParseCallback(callback.Query(), state)
	if err != nil {
		log.Fatal(err)
	}
	tok, err := p.Exchange(ctx, cb, mcv2.WithPKCE(verifier))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(getStatus(&http.Client{Transport: p.NewTransport()}, tok.RESTInstanceURL+"platform/v1/endpoints"))
	fmt.Println(srv.Stats().TokenRequestsByGrant)
	// Output:
	// 200 OK
	// map[authorization_code:1]
}

// A callback is checked before its code is redeemed: a forged state or a tssd that
// is not a tenant subdomain is refused.
func ExampleParseCallback() {
	forged, _ := url.ParseQuery("code=c0de&state=guess")
	_, err := mcv2.ParseCallback(forged, "state-kept-in-the-session")
	fmt.Println(err)

	redirected, _ := url.ParseQuery("code=c0de&state=state-kept-in-the-session&tssd=evil.example.com%2F")
	_, err = mcv2.ParseCallback(redirected, "state-kept-in-the-session")
	fmt.Println(errors.Is(err, mcv2.ErrInvalidTSSD))
	// Output:
	// mcv2: callback state does not match
	// true
}

// Failures say what kind they are and what to do next.
func ExampleProvider_Fetch() {
	srv := mcv2test.NewServer(mcv2test.WithLegacyClient("legacy-id", "legacy-secret"))
	defer srv.Close()

	p, err := mcv2.NewProvider(mcv2.Config{AuthURL: srv.URL, ClientID: "legacy-id", ClientSecret: "legacy-secret"})
	if err != nil {
		log.Fatal(err)
	}
	_, err = p.Fetch(context.Background())
	var fe *transport.FetchError
	if errors.As(err, &fe) {
		fmt.Println("configuration problem:", errors.Is(err, transport.ErrConfig))
		fmt.Println("code:", fe.Code)
		fmt.Println("hint:", fe.Hint)
	}
	// Output:
	// configuration problem: true
	// code: invalid_client
	// hint: this client belongs to a legacy installed package, which /v2/token does not serve: use provider/mcv1, or an enhanced package
}

// getStatus sends a GET with client and returns the answer's status.
func getStatus(client *http.Client, url string) string {
	resp, err := client.Get(url)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	return resp.Status
}
