package emulator

import (
	"net"
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/tokentrip/tokentrip/internal/emulator/emulatortest"
)

// An emulator given a listener on every interface says it is on 127.0.0.1, where a
// client on this machine reaches it (and where tokentrip accepts plain http), not
// on the unspecified address it listens on; a loopback listener keeps its address.
func TestStartURLIsReachable(t *testing.T) {
	for _, tc := range []struct {
		listen   string
		wantHost string // "": the listener's own address
	}{
		{"127.0.0.1:0", ""},
		{"127.0.0.2:0", ""},
		{"[::1]:0", ""},
		{":0", "127.0.0.1"},
		{"0.0.0.0:0", "127.0.0.1"},
		{"[::]:0", "127.0.0.1"},
	} {
		t.Run(tc.listen, func(t *testing.T) {
			ln, err := net.Listen("tcp", tc.listen)
			if err != nil {
				t.Skipf("cannot listen on %s here: %v", tc.listen, err)
			}
			core, mc := NewMarketingCloud(&MCConfig{Config: Config{Listener: ln}})
			var base string
			core.Start(mc.ServeHTTP, false, &base)
			t.Cleanup(core.close)
			u, err := url.Parse(base)
			if err != nil {
				t.Fatal(err)
			}
			want := ln.Addr().String()
			if tc.wantHost != "" {
				want = net.JoinHostPort(tc.wantHost, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
			}
			if u.Scheme != "http" || u.Host != want {
				t.Errorf("URL %s, want http://%s", base, want)
			}
			if r := emulatortest.Send(t, http.DefaultClient, http.MethodGet, base+"/-/counters", "", ""); r.Status != http.StatusOK {
				t.Errorf("GET %s/-/counters: %d %s", base, r.Status, r.Body)
			}
		})
	}
}
