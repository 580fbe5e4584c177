package transport_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/tokentrip/tokentrip/transport"
)

// FromOAuth2 makes a Provider of any oauth2.TokenSource — here x/oauth2's
// client-credentials flow against a plain OAuth 2.0 token endpoint — so that its
// tokens get tokentrip's sharing, refresh ahead, and re-fetch and replay on 401.
func ExampleFromOAuth2() {
	var tokenRequests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oauth/token" {
			tokenRequests.Add(1)
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"access_token":"tok-1","token_type":"Bearer","expires_in":3600}`)
			return
		}
		fmt.Fprint(w, r.Header.Get("Authorization"))
	}))
	defer srv.Close()

	cc := clientcredentials.Config{ClientID: "app", ClientSecret: "s3cret", TokenURL: srv.URL + "/oauth/token"}
	src := transport.NewSource(transport.FromOAuth2(cc.TokenSource(context.Background())), transport.Settings{})
	client := &http.Client{Transport: transport.New(src, transport.Options{Hosts: []string{srv.URL}})}
	defer client.CloseIdleConnections()

	for range 3 {
		fmt.Println(get(client, srv.URL+"/api/lists"))
	}
	fmt.Println("token requests:", tokenRequests.Load())
	// Output:
	// Bearer tok-1
	// Bearer tok-1
	// Bearer tok-1
	// token requests: 1
}

// Source.OAuth2 hands a Source to code that takes an oauth2.TokenSource, such as
// oauth2.NewClient or a generated API client, which then shares its token.
func ExampleSource_OAuth2() {
	src := transport.NewSource(fetchFunc(func(context.Context) (transport.Token, error) {
		return transport.Token{AccessToken: "shared-token", Scope: "email_read"}, nil
	}), transport.Settings{})
	var ts oauth2.TokenSource = src.OAuth2()
	tok, err := ts.Token()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tok.AccessToken, tok.TokenType, tok.Valid())
	// Output:
	// shared-token Bearer true
}
