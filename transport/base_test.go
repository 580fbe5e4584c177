package transport_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/tokentrip/tokentrip/transport"
)

// TestDefaultBaseReusesConnections: a crowd of callers whose calls overlap finds
// its connections waiting for it on every round after the first, up to the pool's
// 128 per host, where a plain clone of http.DefaultTransport keeps 2 and opens new
// ones for the rest; and the credentials of an application share one pool. The
// server holds each round's calls until all have arrived, so that each one needs a
// connection of its own.
func TestDefaultBaseReusesConnections(t *testing.T) {
	plain := func() http.RoundTripper { return http.DefaultTransport.(*http.Transport).Clone() }
	cases := []struct {
		name     string
		base     func() http.RoundTripper // per credential; nil: the Transport's default
		creds    int                      // round i calls with credential i mod creds
		callers  int
		wantMore bool // later rounds open new connections
	}{
		{"default, 1 caller", nil, 1, 1, false},
		{"default, 32 callers", nil, 1, 32, false},
		{"default, 100 callers", nil, 1, 100, false},
		{"default, 128 callers", nil, 1, 128, false},
		{"default, 100 callers, another credential each round", nil, 3, 100, false},
		{"http.DefaultTransport clone, 100 callers", plain, 1, 100, true},
		{"a clone per credential, 8 callers, another credential each round", plain, 3, 8, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ts := newTokenServer(t, nil)
			arrived := make(chan struct{})
			var release chan struct{}
			var mu sync.Mutex
			api, conns := newConnCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				hold := release
				mu.Unlock()
				arrived <- struct{}{}
				<-hold
				if r.Header.Get("Authorization") == "" {
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				fmt.Fprint(w, `{"ok":true}`)
			})
			clients := make([]*http.Client, c.creds)
			for i := range clients {
				opts := transport.Options{Hosts: []string{api.URL}}
				if c.base != nil {
					base := c.base()
					t.Cleanup(base.(*http.Transport).CloseIdleConnections)
					opts.Base = base
				}
				clients[i] = &http.Client{Transport: transport.New(transport.NewSource(ts.provider(), transport.Settings{}), opts)}
			}

			var opened []int64
			for round := range 3 {
				client := clients[round%c.creds]
				before := conns.Load()
				mu.Lock()
				release = make(chan struct{})
				mu.Unlock()
				errs := make(chan error, c.callers)
				for range c.callers {
					go func() {
						resp, err := client.Get(api.URL + "/api")
						if err == nil {
							// Read to the end: the connection is back in the pool when
							// the read returns.
							_, err = io.Copy(io.Discard, resp.Body)
							resp.Body.Close()
							if resp.StatusCode != http.StatusOK {
								err = fmt.Errorf("status %d", resp.StatusCode)
							}
						}
						errs <- err
					}()
				}
				for range c.callers {
					<-arrived
				}
				close(release)
				for range c.callers {
					if err := <-errs; err != nil {
						t.Fatal(err)
					}
				}
				opened = append(opened, conns.Load()-before)
			}
			if opened[0] != int64(c.callers) {
				t.Fatalf("first round opened %d connections for %d overlapping calls", opened[0], c.callers)
			}
			later := opened[1] + opened[2]
			if got := later > 0; got != c.wantMore {
				t.Fatalf("connections opened per round: %v", opened)
			}
		})
	}
}

// TestCloseIdleConnectionsOfTheSharedPool: as documented, CloseIdleConnections on a
// Transport over DefaultBase closes the idle connections of every Transport over it
// (their next calls open new ones and succeed); one over a base of its own closes
// only its own.
func TestCloseIdleConnectionsOfTheSharedPool(t *testing.T) {
	for _, tt := range []struct {
		name          string
		ownBase       bool
		wantReconnect bool // the other credential's next call opens a connection
	}{
		{"both on DefaultBase", false, true},
		{"the closer on a base of its own", true, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTokenServer(t, nil)
			api, conns := newConnCountingServer(t, func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprint(w, `{"ok":true}`)
			})
			closerOpts := transport.Options{Hosts: []string{api.URL}}
			if tt.ownBase {
				own := http.DefaultTransport.(*http.Transport).Clone()
				t.Cleanup(own.CloseIdleConnections)
				closerOpts.Base = own
			}
			closer := transport.New(transport.NewSource(ts.provider(), transport.Settings{}), closerOpts)
			other := transport.New(transport.NewSource(ts.provider(), transport.Settings{}), transport.Options{Hosts: []string{api.URL}})
			t.Cleanup(other.CloseIdleConnections)
			call := func(tr *transport.Transport) {
				resp, err := (&http.Client{Transport: tr}).Get(api.URL + "/api")
				readResponse(t, resp, err)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("status %d", resp.StatusCode)
				}
			}
			call(other)
			call(closer)
			before := conns.Load()
			closer.CloseIdleConnections()
			call(other)
			if reconnected := conns.Load() > before; reconnected != tt.wantReconnect {
				t.Fatalf("the other credential reconnected: %t, want %t", reconnected, tt.wantReconnect)
			}
		})
	}
}

// newConnCountingServer starts a test server with handler, and counts the
// connections opened to it.
func newConnCountingServer(t *testing.T, handler http.HandlerFunc) (*httptest.Server, *atomic.Int64) {
	conns := new(atomic.Int64)
	srv := httptest.NewUnstartedServer(handler)
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, conns
}
