package tokentripotel_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	tokentripotel "github.com/tokentrip/tokentrip/otel"
	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/provider/mcv2"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
	"github.com/tokentrip/tokentrip/transport"
)

// Example composes the adapter with otelhttp against the mcv2 emulator: the
// Source's events become tokentrip's metrics and fetch spans, and otelhttp, set as
// the provider's Base under the Transport, gives every API attempt a client span —
// so a call whose token was revoked shows its rejected attempt and its replay.
// In a service, leave the providers nil to use the global ones.
func Example() {
	srv := mcv2test.NewServer()
	defer srv.Close()
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))

	in, err := tokentripotel.New(tokentripotel.Config{MeterProvider: mp, TracerProvider: tp})
	if err != nil {
		panic(err)
	}
	tr, err := mcv2.NewTransport(mcv2.Config{
		AuthURL:      srv.URL, // an emulator; in production, Subdomain
		ClientID:     srv.ClientID,
		ClientSecret: srv.ClientSecret,
		Common: provider.Common{
			HTTPClient: srv.Client(),
			Source:     transport.Settings{Hook: in.Hook}, // fetches, failures, invalidations, replays, breaker changes
			Transport: transport.Options{Base: otelhttp.NewTransport(srv.Client().Transport, // a client span per attempt
				otelhttp.WithTracerProvider(tp), otelhttp.WithMeterProvider(mp))},
		},
	})
	if err != nil {
		panic(err)
	}
	reg, err := in.Observe(tr.Source()) // refreshes ahead and the breaker's state
	if err != nil {
		panic(err)
	}
	defer reg.Unregister()
	client := &http.Client{Transport: tr}

	get := func() {
		resp, err := client.Get(srv.URL + "/platform/v1/endpoints")
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
	}
	get()
	used, _ := tr.Source().Current()
	srv.RevokeToken(used.AccessToken)
	get() // 401, a new token, the replay

	for _, s := range spans.GetSpans() {
		status := ""
		for _, kv := range s.Attributes {
			if kv.Key == "http.response.status_code" {
				status = kv.Value.String()
			}
		}
		fmt.Println(strings.TrimSpace(s.Name + " " + status))
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		panic(err)
	}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != tokentripotel.ScopeName {
			continue
		}
		for _, m := range sm.Metrics {
			if sum, ok := m.Data.(metricdata.Sum[int64]); ok && m.Name == tokentripotel.MetricFetches {
				fmt.Println(m.Name, sum.DataPoints[0].Value)
			}
		}
	}
	// Output:
	// tokentrip.token.fetch
	// HTTP GET 200
	// HTTP GET 401
	// tokentrip.token.fetch
	// HTTP GET 200
	// tokentrip.token.fetches 2
}
