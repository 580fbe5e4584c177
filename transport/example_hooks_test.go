package transport_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/tokentrip/tokentrip/transport"
)

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
