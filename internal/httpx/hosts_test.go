package httpx_test

import (
	"net/url"
	"testing"

	"github.com/tokentrip/tokentrip/internal/httpx"
)

// TestHostsAgreeWithScope checks the rules a limiter or proxy wrapping a Transport
// matches with: the same forms transport.Options.Hosts takes.
func TestHostsAgreeWithScope(t *testing.T) {
	h := httpx.NewHosts("*.goacoustic.com", "127.0.0.1:9000")
	for raw, want := range map[string]bool{
		"https://api-campaign-us-1.goacoustic.com/XMLAPI": true,
		"https://goacoustic.com/":                         false,
		"http://127.0.0.1:9000/rest":                      true,
		"http://127.0.0.1:9001/rest":                      false,
	} {
		u, _ := url.Parse(raw)
		if got := h.Match(u); got != want {
			t.Errorf("%s: %v, want %v", raw, got, want)
		}
	}
	if httpx.NewHosts().Match(&url.URL{Host: "x"}) || h.Match(nil) {
		t.Error("an empty set or a nil URL matched")
	}
}
