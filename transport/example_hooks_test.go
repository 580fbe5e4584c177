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

// WithHook sees every event of a Source — the place to feed metrics — and Stats
// are the counters a dashboard polls. Here the server rejects the first token; the
// Transport drops it, fetches a second and replays the call once.
func ExampleWithHook() {
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
	src := transport.NewSource(transport.ProviderFunc(func(context.Context) (transport.Token, error) {
		n++
		return transport.Token{AccessToken: fmt.Sprintf("token-%d", n), Expiry: time.Now().Add(time.Hour)}, nil
	}), transport.WithName("billing"), transport.WithHook(hook))
	tr := transport.New(src, transport.WithHosts(api.URL))
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
	fmt.Printf("transport: replays=%d\n", tr.Stats().Replays)
	// Output:
	// 200 OK
	// events: fetched 2 invalidated 1
	// source: fetches=2 invalidations=1 failures=0 breaker=closed
	// transport: replays=1
}
