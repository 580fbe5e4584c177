package transport_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/tokentrip/tokentrip/transport"
)

// fetchFunc adapts a function to transport.Provider, the examples' token endpoint.
// A real Provider makes one token-endpoint exchange per Fetch.
type fetchFunc func(context.Context) (transport.Token, error)

func (f fetchFunc) Fetch(ctx context.Context) (transport.Token, error) { return f(ctx) }

// get returns the body of GET url, or the error.
func get(client *http.Client, url string) string {
	resp, err := client.Get(url)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// A Transport puts the Source's token on requests for its hosts and leaves every
// other request alone.
func Example() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, r.Header.Get("Authorization"))
	}))
	defer api.Close()

	fetches := 0
	src := transport.NewSource(fetchFunc(func(context.Context) (transport.Token, error) {
		fetches++
		return transport.Token{AccessToken: "token-1", Expiry: time.Now().Add(20 * time.Minute)}, nil
	}), transport.Settings{})
	client := &http.Client{Transport: transport.New(src, transport.Options{Hosts: []string{api.URL}})}
	defer client.CloseIdleConnections()

	for range 3 {
		fmt.Println(get(client, api.URL+"/hub/v1/campaigns"))
	}
	fmt.Println("token fetches:", fetches)
	// Output:
	// Bearer token-1
	// Bearer token-1
	// Bearer token-1
	// token fetches: 1
}

// Errors say what kind of failure happened, so callers can decide what to do.
func ExampleFetchError() {
	src := transport.NewSource(fetchFunc(func(context.Context) (transport.Token, error) {
		return transport.Token{}, &transport.FetchError{
			Kind: transport.ErrCredentialsRejected, Provider: "mcv2", StatusCode: 401,
			Code: "invalid_client", Hint: "check the client id and secret",
		}
	}), transport.Settings{})
	_, err := src.Token(context.Background())
	fmt.Println(errors.Is(err, transport.ErrCredentialsRejected))
	fmt.Println(err)
	// Output:
	// true
	// mcv2: credentials rejected (HTTP 401): invalid_client — check the client id and secret
}

// Invalidate drops a token only if it is still the current one, so a burst of
// rejections of one token costs one new fetch.
func ExampleSource_Invalidate() {
	n := 0
	src := transport.NewSource(fetchFunc(func(context.Context) (transport.Token, error) {
		n++
		return transport.Token{AccessToken: fmt.Sprint("token-", n), Expiry: time.Now().Add(time.Hour)}, nil
	}), transport.Settings{})
	ctx := context.Background()
	used, _ := src.Token(ctx)
	for range 100 {
		src.Invalidate(used)
	}
	fresh, _ := src.Token(ctx)
	fmt.Println(used.AccessToken, "→", fresh.AccessToken, "after", src.Stats().Fetches, "fetches")
	// Output: token-1 → token-2 after 2 fetches
}
