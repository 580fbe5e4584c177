package tokentripotel_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	tokentripotel "github.com/tokentrip/tokentrip/otel"
)

// telemetry is an Instruments over in-memory OpenTelemetry SDKs.
type telemetry struct {
	in     *tokentripotel.Instruments
	reader *sdkmetric.ManualReader
	spans  *tracetest.InMemoryExporter
}

func newTelemetry(t *testing.T, attrs ...attribute.KeyValue) *telemetry {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	spans := tracetest.NewInMemoryExporter()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	t.Cleanup(func() { mp.Shutdown(context.Background()); tp.Shutdown(context.Background()) })
	in, err := tokentripotel.New(tokentripotel.Config{MeterProvider: mp, TracerProvider: tp, Attributes: attrs})
	if err != nil {
		t.Fatal(err)
	}
	return &telemetry{in: in, reader: reader, spans: spans}
}

// point is one data point of a collected metric.
type point struct {
	attrs attribute.Set
	value float64 // a sum's or gauge's value, a histogram's count
}

// collect returns the collected metrics' points by metric name.
func (tm *telemetry) collect(t *testing.T) map[string][]point {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := tm.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string][]point{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != tokentripotel.ScopeName {
			t.Errorf("scope %q", sm.Scope.Name)
		}
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				if !d.IsMonotonic {
					t.Errorf("%s: a counter that is not monotonic", m.Name)
				}
				for _, p := range d.DataPoints {
					out[m.Name] = append(out[m.Name], point{p.Attributes, float64(p.Value)})
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					out[m.Name] = append(out[m.Name], point{p.Attributes, float64(p.Value)})
				}
			case metricdata.Histogram[float64]:
				if m.Unit != "s" {
					t.Errorf("%s: unit %q, want s", m.Name, m.Unit)
				}
				for _, p := range d.DataPoints {
					out[m.Name] = append(out[m.Name], point{p.Attributes, float64(p.Count)})
				}
			default:
				t.Errorf("%s: unexpected data %T", m.Name, m.Data)
			}
		}
	}
	return out
}

// total sums a metric's points whose attributes include every one of want.
func total(points []point, want ...attribute.KeyValue) float64 {
	var sum float64
	for _, p := range points {
		ok := true
		for _, kv := range want {
			if v, has := p.attrs.Value(kv.Key); !has || v != kv.Value {
				ok = false
			}
		}
		if ok {
			sum += p.value
		}
	}
	return sum
}
