package acoustic_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/tokentrip/tokentrip/internal/testkit"
	"github.com/tokentrip/tokentrip/provider/acoustic"
	"github.com/tokentrip/tokentrip/transport"
)

// TestPodEndpoint: each pod's API host, in any spelling; an unknown pod is a
// configuration error.
func TestPodEndpoint(t *testing.T) {
	want := map[string]string{
		"1":     "api-campaign-us-1.goacoustic.com",
		"2":     "api-campaign-us-2.goacoustic.com",
		"3":     "api-campaign-us-3.goacoustic.com",
		"4":     "api-campaign-us-4.goacoustic.com",
		"5":     "api-campaign-us-5.goacoustic.com",
		"6":     "api-campaign-eu-1.goacoustic.com",
		"7":     "api-campaign-ap-2.goacoustic.com",
		"8":     "api-campaign-ca-1.goacoustic.com",
		"9":     "api-campaign-us-6.goacoustic.com",
		"A":     "api-campaign-ap-1.goacoustic.com",
		"B":     "api-campaign-ap-3.goacoustic.com",
		"PILOT": "api-campaign-pilot.goacoustic.com",
	}
	for pod, host := range want {
		for _, spelling := range []string{pod, strings.ToLower(pod), " " + pod + " "} {
			got, err := acoustic.Config{Pod: spelling}.Endpoint()
			if err != nil || got != "https://"+host {
				t.Errorf("Pod %q: Endpoint() = %q, %v; want https://%s", spelling, got, err, host)
			}
		}
	}
	for _, pod := range []string{"", "0", "10", "C", "us-1", "pilot2"} {
		if got, err := (acoustic.Config{Pod: pod}).Endpoint(); !errors.Is(err, transport.ErrConfig) {
			t.Errorf("Pod %q: Endpoint() = %q, %v; want unknown", pod, got, err)
		}
	}
}

// valid returns a Config that passes Validate, for the cases to break.
func valid() acoustic.Config {
	return acoustic.Config{Pod: "6", ClientID: "client-id", ClientSecret: "client-secret", RefreshToken: "refresh-token"}
}

func TestConfigEndpoint(t *testing.T) {
	cases := []struct {
		pod, base string
		want      string
	}{
		{pod: "6", want: "https://api-campaign-eu-1.goacoustic.com"},
		{pod: "pilot", want: "https://api-campaign-pilot.goacoustic.com"},
		{pod: " b ", want: "https://api-campaign-ap-3.goacoustic.com"},
		{base: "https://api-campaign-us-7.goacoustic.com", want: "https://api-campaign-us-7.goacoustic.com"},
		{base: "HTTPS://api-campaign-us-7.goacoustic.com/", want: "https://api-campaign-us-7.goacoustic.com"},
		{base: "http://127.0.0.1:8080", want: "http://127.0.0.1:8080"},
		{base: "http://localhost:1/", want: "http://localhost:1"},
		{base: "http://[::1]:9", want: "http://[::1]:9"},
	}
	for _, c := range cases {
		cfg := valid()
		cfg.Pod, cfg.BaseURL = c.pod, c.base
		got, err := cfg.Endpoint()
		if err != nil || got != c.want {
			t.Errorf("Pod %q BaseURL %q: Endpoint() = %q, %v; want %q", c.pod, c.base, got, err, c.want)
		}
		if err := cfg.Validate(); err != nil {
			t.Errorf("Pod %q BaseURL %q: Validate() = %v", c.pod, c.base, err)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name   string
		change func(*acoustic.Config)
		field  string
		says   string // a part of the problem
	}{
		{"pod and base", func(c *acoustic.Config) { c.BaseURL = "https://x.goacoustic.com" }, "Pod", "not both"},
		{"neither", func(c *acoustic.Config) { c.Pod = "" }, "Pod", "set Pod"},
		{"unknown pod", func(c *acoustic.Config) { c.Pod = "C" }, "Pod", "1, 2, 3, 4, 5, 6, 7, 8, 9, A, B, PILOT"},
		{"plain http", func(c *acoustic.Config) { c.Pod, c.BaseURL = "", "http://api-campaign-us-1.goacoustic.com" }, "BaseURL", "https"},
		{"other scheme", func(c *acoustic.Config) { c.Pod, c.BaseURL = "", "ftp://127.0.0.1" }, "BaseURL", "https"},
		{"no scheme", func(c *acoustic.Config) { c.Pod, c.BaseURL = "", "api-campaign-us-1.goacoustic.com" }, "BaseURL", "absolute"},
		{"path", func(c *acoustic.Config) { c.Pod, c.BaseURL = "", "https://api-campaign-us-1.goacoustic.com/XMLAPI" }, "BaseURL", "without a path"},
		{"query", func(c *acoustic.Config) { c.Pod, c.BaseURL = "", "https://api-campaign-us-1.goacoustic.com?x=1" }, "BaseURL", "query"},
		{"user info", func(c *acoustic.Config) { c.Pod, c.BaseURL = "", "https://me:hunter2@api-campaign-us-1.goacoustic.com" }, "BaseURL", "user information"},
		{"no client id", func(c *acoustic.Config) { c.ClientID = "" }, "ClientID", "empty"},
		{"no client secret", func(c *acoustic.Config) { c.ClientSecret = "" }, "ClientSecret", "empty"},
		{"no refresh token", func(c *acoustic.Config) { c.RefreshToken = "" }, "RefreshToken", "empty"},
		{"newline", func(c *acoustic.Config) { c.RefreshToken += "\n" }, "RefreshToken", "white space"},
		{"secret from an empty file", func(c *acoustic.Config) { c.ClientSecret = "\n" }, "ClientSecret", "white space"},
		{"secret of spaces", func(c *acoustic.Config) { c.ClientSecret = "   " }, "ClientSecret", "white space"},
		{"secret with a CR LF inside", func(c *acoustic.Config) { c.ClientSecret = "client\r\nsecret" }, "ClientSecret", "control character"},
		{"client id with a space before it", func(c *acoustic.Config) { c.ClientID = " client-id" }, "ClientID", "white space"},
		{"refresh token with a NUL", func(c *acoustic.Config) { c.RefreshToken += "\x00" }, "RefreshToken", "control character"},
		{"base URL with the secret as user info", func(c *acoustic.Config) {
			c.Pod, c.BaseURL = "", "https://client-id:client-secret@api-campaign-us-1.goacoustic.com"
		}, "BaseURL", "user information"},
		{"base URL with a line break inside", func(c *acoustic.Config) { c.Pod, c.BaseURL = "", "https://api-campaign-us-1.goacoustic.com\n/x" }, "BaseURL", "absolute"},
		{"pod as a URL", func(c *acoustic.Config) { c.Pod = "https://api-campaign-us-1.goacoustic.com" }, "Pod", "unknown pod"},
		{"extra host with user info", func(c *acoustic.Config) { c.Transport.Hosts = []string{"hunter2@api.example.com"} }, "Transport.Hosts", "user information"},
		{"bad mode", func(c *acoustic.Config) { c.LimitMode = 7 }, "LimitMode", "Wait or FailFast"},
		{"limiter and max", func(c *acoustic.Config) { c.Limiter, c.MaxInFlight = acoustic.NewSemaphore(3, acoustic.Wait), 3 }, "MaxInFlight", "Limiter"},
		{"limiter and mode", func(c *acoustic.Config) {
			c.Limiter, c.LimitMode = acoustic.NewSemaphore(3, acoustic.Wait), acoustic.FailFast
		}, "LimitMode", "Limiter"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := valid()
			c.change(&cfg)
			testkit.WantConfigError(t, "acoustic", c.field, c.says, []string{"hunter2", "client-secret", "refresh-token"},
				cfg.Validate(), newTransportErr(cfg), newProviderErr(cfg))
		})
	}
}

func newTransportErr(cfg acoustic.Config) error {
	_, err := acoustic.NewTransport(cfg)
	return err
}

func newProviderErr(cfg acoustic.Config) error {
	_, err := acoustic.NewProvider(cfg)
	return err
}
