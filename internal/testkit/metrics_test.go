package testkit_test

import (
	"testing"

	"github.com/tokentrip/tokentrip/internal/testkit"
)

func TestSample(t *testing.T) {
	const text = `# HELP tokentrip_replays_total Requests replayed.
# TYPE tokentrip_replays_total counter
tokentrip_replays_total{credential="bu-1"} 3
tokentrip_replays_total{credential="bu-10"} 0
tokentrip_proxy_in_flight_requests 2.5
`
	for _, tc := range []struct {
		name string
		want float64
		ok   bool
	}{
		{`tokentrip_replays_total{credential="bu-1"}`, 3, true},
		{`tokentrip_replays_total{credential="bu-10"}`, 0, true},
		{`tokentrip_proxy_in_flight_requests`, 2.5, true},
		{`tokentrip_replays_total{credential="bu-2"}`, 0, false},
		{`tokentrip_replays_total`, 0, false},
	} {
		if got, ok := testkit.Sample(t, text, tc.name); got != tc.want || ok != tc.ok {
			t.Errorf("Sample(%s) = %v, %v; want %v, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
	testkit.WantSamples(t, text, map[string]float64{
		`tokentrip_replays_total{credential="bu-1"}`: 3,
		`tokentrip_proxy_in_flight_requests`:         2.5,
	})
}
