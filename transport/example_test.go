package transport_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/tokentrip/tokentrip/envelope"
	"github.com/tokentrip/tokentrip/store"
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

// Two Sources for one credential — in one process here, in many processes with a
// Redis store — share a token through a Store: the second adopts what the first
// fetched.
func ExampleStore() {
	fetches := 0
	provider := fetchFunc(func(context.Context) (transport.Token, error) {
		fetches++
		return transport.Token{AccessToken: fmt.Sprint("token-", fetches), Expiry: time.Now().Add(time.Hour)}, nil
	})
	st := &store.MemoryTokens{}   // across processes: redisstore.New(rdb, redisstore.Options{EncryptionKey: sealKey})
	const key = "billing-bu-5150" // one per credential; the providers derive a hash

	a := transport.NewSource(provider, transport.Settings{Store: st, StoreKey: key})
	b := transport.NewSource(provider, transport.Settings{Store: st, StoreKey: key})
	ta, _ := a.Token(context.Background())
	tb, _ := b.Token(context.Background())
	fmt.Println(ta.AccessToken, tb.AccessToken, "fetches:", fetches)
	// Output: token-1 token-1 fetches: 1
}

// vendor is a Provider with its vendor's rules for tokens it did not fetch itself.
type vendor struct{ fetches int }

func (v *vendor) Fetch(context.Context) (transport.Token, error) {
	v.fetches++
	return transport.Token{AccessToken: fmt.Sprint("fetched-", v.fetches), Expiry: time.Now().Add(time.Hour), RESTInstanceURL: "https://eu.api.example.com/"}, nil
}

// CheckToken refuses instance URLs the vendor never issues.
func (v *vendor) CheckToken(tok transport.Token) error {
	if tok.RESTInstanceURL != "" && !strings.HasSuffix(tok.RESTInstanceURL, ".api.example.com/") {
		return errors.New("vendor: instance URL off the vendor's hosts")
	}
	return nil
}

// A Provider that implements TokenChecker vouches for the tokens a Source would
// adopt from its Store: a token planted there for another host counts as absent, is
// reported, and is overwritten by the token the Source fetches itself.
func ExampleTokenChecker() {
	ctx := context.Background()
	st := &store.MemoryTokens{} // across processes: a Redis store
	const key = "vendor-credential-1"

	// Someone who can write to the store plants a token that names their own host,
	// here through a Source of their own under the same key.
	planter := transport.NewSource(fetchFunc(func(context.Context) (transport.Token, error) {
		return transport.Token{AccessToken: "planted", Expiry: time.Now().Add(time.Hour), RESTInstanceURL: "https://evil.example/"}, nil
	}), transport.Settings{Store: st, StoreKey: key})
	_, _ = planter.Token(ctx)

	src := transport.NewSource(&vendor{}, transport.Settings{Store: st, StoreKey: key, Hook: func(ev transport.Event) {
		if ev.Kind == transport.EventStoreCorrupt {
			fmt.Println("store_corrupt:", ev.Err)
		}
	}})
	tok, _ := src.Token(ctx)
	fmt.Println(tok.AccessToken, tok.RESTInstanceURL)
	// Output:
	// store_corrupt: the stored value is corrupt or forged: vendor: instance URL off the vendor's hosts
	// fetched-1 https://eu.api.example.com/
}

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

// Options.SOAP puts the token into the Header of every SOAP envelope sent to the
// credential's hosts — here Marketing Cloud's fueloauth block, which the mcv1 and
// mcv2 providers set by themselves — instead of an Authorization header. The body
// after the Header streams through as it was.
func ExampleOptions_soap() {
	received := make(chan string, 1)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		received <- fmt.Sprintf("Authorization: %q\n%s", r.Header.Get("Authorization"), body)
	}))
	defer api.Close()

	src := transport.NewSource(fetchFunc(func(context.Context) (transport.Token, error) {
		return transport.Token{AccessToken: "token-1", Expiry: time.Now().Add(20 * time.Minute)}, nil
	}), transport.Settings{})
	client := &http.Client{Transport: transport.New(src, transport.Options{Hosts: []string{api.URL}, SOAP: func(tok transport.Token) envelope.Credential { return envelope.FuelOAuth(tok.AccessToken) }})}
	defer client.CloseIdleConnections()

	msg := `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><RetrieveRequestMsg xmlns="http://exacttarget.com/wsdl/partnerAPI"/></s:Body></s:Envelope>`
	resp, err := client.Post(api.URL+"/Service.asmx", "text/xml; charset=utf-8", strings.NewReader(msg))
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(<-received)
	// Output:
	// Authorization: ""
	// <s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><fueloauth xmlns="http://exacttarget.com">token-1</fueloauth></s:Header><s:Body><RetrieveRequestMsg xmlns="http://exacttarget.com/wsdl/partnerAPI"/></s:Body></s:Envelope>
}

// sendFunc adapts a function to http.RoundTripper.
type sendFunc func(*http.Request) (*http.Response, error)

func (f sendFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// Settings configures a Source; its zero fields take their defaults. Its Hook sees
// every event — the place to feed metrics — and Stats are the counters a
// dashboard polls. Here the server rejects the first token; the Transport drops
// it, fetches a second and replays the call once.
func ExampleSettings() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer token-2" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer api.Close()

	var mu sync.Mutex
	counts := map[transport.EventKind]int{}
	hook := func(ev transport.Event) { // runs synchronously: keep it quick
		mu.Lock()
		counts[ev.Kind]++
		mu.Unlock()
	}
	n := 0
	src := transport.NewSource(fetchFunc(func(context.Context) (transport.Token, error) {
		n++
		return transport.Token{AccessToken: fmt.Sprintf("token-%d", n), Expiry: time.Now().Add(time.Hour)}, nil
	}), transport.Settings{Name: "billing", Hook: hook})
	tr := transport.New(src, transport.Options{Hosts: []string{api.URL}})
	defer tr.CloseIdleConnections()

	resp, err := (&http.Client{Transport: tr}).Get(api.URL + "/data/v1/customobjectdata")
	if err != nil {
		fmt.Println(err)
		return
	}
	resp.Body.Close()
	fmt.Println(resp.Status)
	mu.Lock()
	fmt.Println("events: fetched", counts[transport.EventFetched], "invalidated", counts[transport.EventInvalidated])
	mu.Unlock()
	st := src.Stats()
	fmt.Printf("source: fetches=%d invalidations=%d failures=%d breaker=%s\n", st.Fetches, st.Invalidations, st.Failures, st.Breaker)
	fmt.Printf("transports: replays=%d\n", st.Replays)
	// Output:
	// 200 OK
	// events: fetched 2 invalidated 1
	// source: fetches=2 invalidations=1 failures=0 breaker=closed
	// transports: replays=1
}
