package testkit

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// Sample returns the value of the sample named name — with its labels, as the
// Prometheus text format prints them — in text, and whether text has it.
func Sample(t testing.TB, text, name string) (float64, bool) {
	t.Helper()
	for line := range strings.Lines(text) {
		if v, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			return f, true
		}
	}
	return 0, false
}

// WantSamples fails the test unless text has every sample of want (named with
// its labels, as in Sample) with its value.
func WantSamples(t testing.TB, text string, want map[string]float64) {
	t.Helper()
	for _, name := range slices.Sorted(maps.Keys(want)) {
		if got, ok := Sample(t, text, name); !ok || got != want[name] {
			t.Errorf("%s = %v (present %v), want %v", name, got, ok, want[name])
		}
	}
}
