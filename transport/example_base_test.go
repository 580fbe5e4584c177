package transport_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/tokentrip/tokentrip/transport"
)

// The credentials of many tenants send through one shared pool, DefaultBase. A
// RoundTripper of your own can wrap it, here one that counts what goes out.
func ExampleDefaultBase() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, r.Header.Get("Authorization"))
	}))
	defer api.Close()

	sent := 0
	counting := sendFunc(func(r *http.Request) (*http.Response, error) {
		sent++
		return transport.DefaultBase().RoundTrip(r)
	})
	for _, tenant := range []string{"tenant-a", "tenant-b", "tenant-c"} {
		src := transport.NewSource(fetchFunc(func(context.Context) (transport.Token, error) {
			return transport.Token{AccessToken: tenant + "-token", Expiry: time.Now().Add(time.Hour)}, nil
		}), transport.Settings{})
		client := &http.Client{Transport: transport.New(src, transport.Options{Hosts: []string{api.URL}, Base: counting})}
		fmt.Println(get(client, api.URL))
	}
	fmt.Println("requests through the shared pool:", sent)
	// Output:
	// Bearer tenant-a-token
	// Bearer tenant-b-token
	// Bearer tenant-c-token
	// requests through the shared pool: 3
}

// Options configures a Transport; its zero fields take their defaults. Here a client
// with up to 300 calls in flight to one host over HTTP/1.1 sizes a pool of its own
// (Base), so that every call finds an idle connection when it comes back.
func ExampleOptions() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, r.Header.Get("Authorization"))
	}))
	defer api.Close()

	base := http.DefaultTransport.(*http.Transport).Clone()
	base.MaxIdleConnsPerHost = 300
	base.MaxIdleConns = 300
	defer base.CloseIdleConnections()

	src := transport.NewSource(fetchFunc(func(context.Context) (transport.Token, error) {
		return transport.Token{AccessToken: "token-1", Expiry: time.Now().Add(time.Hour)}, nil
	}), transport.Settings{})
	client := &http.Client{Transport: transport.New(src, transport.Options{Hosts: []string{api.URL}, Base: base})}
	fmt.Println(get(client, api.URL))
	// Output: Bearer token-1
}

// sendFunc adapts a function to http.RoundTripper.
type sendFunc func(*http.Request) (*http.Response, error)

func (f sendFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
