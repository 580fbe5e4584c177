package benchmarks

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/marketingcloud"
	"github.com/tokentrip/tokentrip/internal/providerfunc"
	"github.com/tokentrip/tokentrip/internal/proxy"
	"github.com/tokentrip/tokentrip/transport"
)

// proxyClients is how many clients send requests at once, as in the load that
// showed the proxy churning connections.
const proxyClients = 20

// BenchmarkProxy sends REST calls from proxyClients concurrent clients through a
// proxy to a loopback upstream: tokentrip's proxy handler exactly as "tokentrip
// proxy" serves it (guards, caps, metrics, access log, a warm token), and a bare
// httputil.ReverseProxy that sets a fixed Authorization header over a transport
// with the same connection pool. It reports req/s, the p50 and p99 latency, and
// the upstream connections opened after warm-up.
func BenchmarkProxy(b *testing.B) {
	var newConns atomic.Int64
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"items":[{"id":1,"name":"spring campaign"}],"count":1,"page":1}`)
	}))
	up.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			newConns.Add(1)
		}
	}
	up.Start()
	defer up.Close()
	upURL, _ := url.Parse(up.URL + "/")
	const token = "eyJhbGciOiJIUzI1NiJ9.proxy-benchmark-token"

	for _, c := range []struct {
		name  string
		front func(b *testing.B) (base string, stop func())
	}{
		{"tokentrip", func(b *testing.B) (string, func()) {
			src := transport.NewSource(providerfunc.Func(func(context.Context) (transport.Token, error) {
				return transport.Token{AccessToken: token, Expiry: time.Now().Add(time.Hour)}, nil
			}), transport.Settings{})
			if _, err := src.Token(context.Background()); err != nil { // a warm token
				b.Fatal(err)
			}
			base := proxy.NewUpstreamTransport(0)
			tr := transport.New(src, transport.Options{Hosts: []string{up.URL}, Base: base, ReplayLimit: -1, SOAP: marketingcloud.FuelOAuth})
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			h, err := proxy.New(proxy.Options{
				Listen: ln.Addr().String(),
				Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), // the access log, formatted and dropped
			}, &proxy.Backend{
				Name:      "mcv1",
				Router:    proxy.NewRouter(proxy.RouterConfig{Provider: proxy.ProviderMCv1, Source: src, REST: upURL, SOAP: upURL.JoinPath("Service.asmx")}),
				Transport: tr,
			})
			if err != nil {
				b.Fatal(err)
			}
			srv := proxy.NewServer(h, nil)
			go func() { _ = srv.Serve(ln) }()
			return "http://" + ln.Addr().String() + "/rest", func() { _ = srv.Close(); base.CloseIdleConnections() }
		}},
		{"httputil", func(b *testing.B) (string, func()) {
			base := http.DefaultTransport.(*http.Transport).Clone()
			base.MaxIdleConnsPerHost = proxy.DefaultMaxInFlight
			rp := &httputil.ReverseProxy{
				Rewrite: func(pr *httputil.ProxyRequest) {
					pr.SetURL(upURL)
					pr.Out.Header.Set("Authorization", "Bearer "+token)
				},
				Transport: base,
			}
			front := httptest.NewServer(rp)
			return front.URL, func() { front.Close(); base.CloseIdleConnections() }
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			base, stop := c.front(b)
			defer stop()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: proxyClients}}
			defer client.CloseIdleConnections()
			target := base + "/hub/v1/campaigns?page=1"
			// Warm-up, until a round opens no upstream connection: every client's
			// connection, the upstream pool at its steady size, the token. (At the end
			// of an answer, a client may send its next request a moment before the
			// proxy's upstream connection is back in the pool, so the pool settles a
			// little above the number of clients.)
			for round := 0; round < 20; round++ {
				before := newConns.Load()
				drive(b, client, target, proxyClients*50, nil)
				if newConns.Load() == before {
					break
				}
			}
			conns := newConns.Load()
			lat := make([]time.Duration, b.N)
			b.ResetTimer()
			start := time.Now()
			drive(b, client, target, b.N, lat)
			elapsed := time.Since(start)
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
			b.ReportMetric(float64(lat[b.N/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[b.N*99/100].Microseconds()), "p99-µs")
			b.ReportMetric(float64(newConns.Load()-conns), "new-upstream-conns")
		})
	}
}

// drive sends n GET requests to target from proxyClients goroutines, recording
// each one's latency in lat when it is not nil.
func drive(b *testing.B, client *http.Client, target string, n int, lat []time.Duration) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range proxyClients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t0 := time.Now()
				resp, err := client.Get(target)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("HTTP %d", resp.StatusCode)
					return
				}
				if lat != nil {
					lat[i] = time.Since(t0)
				}
			}
		})
	}
	wg.Wait()
}
