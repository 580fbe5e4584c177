package benchmarks

import (
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tokentrip/tokentrip/pool"
	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/provider/acoustic"
	"github.com/tokentrip/tokentrip/provider/mcv1"
	"github.com/tokentrip/tokentrip/provider/mcv2"
	"github.com/tokentrip/tokentrip/transport"
)

// poolCredentials is how many credentials BenchmarkPoolCredentials holds.
const poolCredentials = 10_000

// BenchmarkPoolCredentials holds 10,000 credentials — a third each mcv1, mcv2 and
// Acoustic, with production-shaped settings and one shared base transport — and
// reports the live heap per credential (B/cred, after a GC) and the goroutines per
// credential (goroutines/cred) at four stages:
//
//   - configs: the anchor, the provider Configs alone in a map — the least any
//     program that knows its credentials holds;
//   - pool: the same credentials in a pool.Pool before first use;
//   - built: every credential's Transport built (Source, breaker, limiter), no
//     token yet — what building eagerly would cost;
//   - warm: after one call each, with a 1 KiB access token per credential.
//
// Token endpoints and APIs are answered in memory, so that the heap measured is
// tokentrip's alone. Run it with -benchtime=1x: one iteration builds 10,000.
func BenchmarkPoolCredentials(b *testing.B) {
	for _, stage := range []string{"configs", "pool", "built", "warm"} {
		b.Run(stage, func(b *testing.B) {
			for range b.N {
				measurePool(b, stage)
			}
		})
	}
}

// measurePool builds the credentials up to stage and reports their cost.
func measurePool(b *testing.B, stage string) {
	b.Helper()
	wire := &fakeWire{}
	base := http.RoundTripper(wire)
	tokenClient := &http.Client{Transport: wire}

	heap0, g0 := heapAndGoroutines()
	configs := make(map[string]any, poolCredentials)
	for i := range poolCredentials {
		configs["cred-"+strconv.Itoa(i)] = credentialConfig(i, base, tokenClient)
	}
	var p pool.Pool
	if stage != "configs" {
		for name, cfg := range configs {
			if err := p.Add(name, builderOf(cfg)); err != nil {
				b.Fatal(err)
			}
		}
		configs = nil // the pool holds them now
	}
	if stage == "built" || stage == "warm" {
		for i := range poolCredentials {
			tr, err := p.Transport("cred-" + strconv.Itoa(i))
			if err != nil {
				b.Fatal(err)
			}
			if stage == "warm" {
				callOnce(b, tr, i)
			}
		}
	}
	heap1, g1 := heapAndGoroutines()
	runtime.KeepAlive(configs)
	runtime.KeepAlive(&p)
	b.ReportMetric(float64(heap1-heap0)/poolCredentials, "B/cred")
	b.ReportMetric(float64(g1-g0)/poolCredentials, "goroutines/cred")
	if stage == "warm" {
		if n := wire.tokens.Load(); n != poolCredentials {
			b.Fatalf("%d token requests for %d credentials", n, poolCredentials)
		}
	} else if n := wire.tokens.Load(); n != 0 {
		b.Fatalf("%d token requests before first use", n)
	}
}

// heapAndGoroutines returns the live heap after a full collection, and the goroutine count.
func heapAndGoroutines() (uint64, int) {
	runtime.GC()
	runtime.GC() // finalizers queued by the first collection
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc, runtime.NumGoroutine()
}

// credentialConfig is credential i's Config, with settings of production length:
// a 28-character subdomain, 24-character client ids and secrets, 9-digit MIDs.
func credentialConfig(i int, base http.RoundTripper, tokenClient *http.Client) any {
	id := fmt.Sprintf("%024x", i)
	secret := fmt.Sprintf("s%023x", i*7919)
	sub := fmt.Sprintf("mc%026x", i)
	switch i % 3 {
	case 0:
		return mcv1.Config{Subdomain: sub, ClientID: id, ClientSecret: secret, Common: provider.Common{HTTPClient: tokenClient, Transport: transport.Options{Base: base}}}
	case 1:
		return mcv2.Config{
			Subdomain:    sub,
			ClientID:     id,
			ClientSecret: secret,
			AccountID:    strconv.Itoa(100000000 + i),
			Common:       provider.Common{HTTPClient: tokenClient, Transport: transport.Options{Base: base}},
		}
	default:
		return acoustic.Config{
			Pod:          "6",
			ClientID:     id,
			ClientSecret: secret,
			RefreshToken: fmt.Sprintf("r%039x", i),
			Common:       provider.Common{HTTPClient: tokenClient, Transport: transport.Options{Base: base}},
		}
	}
}

// builderOf is the pool.Builder of a credential's Config.
func builderOf(cfg any) pool.Builder {
	switch c := cfg.(type) {
	case mcv1.Config:
		return func() (*transport.Transport, error) { return mcv1.NewTransport(c) }
	case mcv2.Config:
		return func() (*transport.Transport, error) { return mcv2.NewTransport(c) }
	default:
		a := c.(acoustic.Config)
		return func() (*transport.Transport, error) { return acoustic.NewTransport(a) }
	}
}

// callOnce sends one API call through credential i's Transport.
func callOnce(b *testing.B, tr *transport.Transport, i int) {
	b.Helper()
	target := fmt.Sprintf("https://mc%026x.rest.marketingcloudapis.com/hub/v1/campaigns", i)
	if i%3 == 2 {
		target = "https://api-campaign-eu-1.goacoustic.com/rest/databases"
	}
	resp, err := (&http.Client{Transport: tr}).Get(target)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	// The fake API echoes the Authorization header it saw.
	if seen := resp.Header.Get("X-Seen-Authorization"); resp.StatusCode != http.StatusOK ||
		!strings.HasPrefix(seen, "Bearer ") || len(seen) != len("Bearer ")+1024 {
		b.Fatalf("credential %d: HTTP %d, an Authorization of %d bytes; want 200 and a 1 KiB bearer token", i, resp.StatusCode, len(seen))
	}
}

// fakeWire answers the three providers' token endpoints with a new 1 KiB access
// token each time, and every other request with 200, in memory.
type fakeWire struct{ tokens atomic.Int64 }

func (f *fakeWire) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		req.Body.Close()
	}
	resp := &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Body: http.NoBody, Request: req,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
	var body string
	switch path := req.URL.Path; {
	case strings.HasSuffix(path, "/v1/requestToken"):
		body = `{"accessToken":"` + f.token() + `","expiresIn":3600}`
	case strings.HasSuffix(path, "/v2/token"):
		host := strings.TrimSuffix(req.URL.Host, ".auth.marketingcloudapis.com")
		body = `{"access_token":"` + f.token() + `","token_type":"Bearer","expires_in":1079,"scope":"email_read",` +
			`"rest_instance_url":"https://` + host + `.rest.marketingcloudapis.com/","soap_instance_url":"https://` + host + `.soap.marketingcloudapis.com/"}`
	case path == "/oauth/token":
		body = `{"access_token":"` + f.token() + `","token_type":"bearer","expires_in":14399}`
	default:
		resp.Header.Set("X-Seen-Authorization", req.Header.Get("Authorization"))
		return resp, nil
	}
	resp.Header.Set("Content-Type", "application/json")
	resp.Body = io.NopCloser(strings.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}

// token is a new access token of 1 KiB.
func (f *fakeWire) token() string {
	n := f.tokens.Add(1)
	t := strconv.FormatInt(n, 36) + "."
	return t + strings.Repeat("x", 1024-len(t))
}
