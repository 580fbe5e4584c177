package marketingcloud

import (
	"slices"
	"strings"
	"testing"
)

func TestSubdomainProblem(t *testing.T) {
	const good = "mc563885gzs27c5t9-63k636tzgm"
	tests := []struct{ in, want string }{
		{good, ""},
		{good + ".auth.marketingcloudapis.com", "give only the subdomain"},
		{"https://" + good, "give only the subdomain"},
		{strings.ToUpper(good), "lower-case"},
		{"mc563885gzs27c5t9_63k636tzgm", "lower-case"},
		{"xx563885gzs27c5t9-63k636tzgm", `start with "mc"`},
		{"mc563885", "28 characters"},
		{good + "x", "28 characters"},
		{"", `start with "mc"`},
	}
	for _, tt := range tests {
		got := SubdomainProblem(tt.in)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("SubdomainProblem(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseAuthURL(t *testing.T) {
	const tokenPath = "/v2/token"
	tests := []struct{ in, base, problem string }{
		{"https://auth.example.com", "https://auth.example.com", ""},
		{"HTTPS://auth.example.com/", "https://auth.example.com", ""},
		{"https://auth.example.com/v2/token", "https://auth.example.com", ""},
		{"https://auth.example.com/v2/token/", "https://auth.example.com", ""},
		{"https://auth.example.com/mc/v2/token", "https://auth.example.com/mc", ""},
		{"https://auth.example.com/v1/requestToken", "https://auth.example.com/v1/requestToken", ""},
		{"http://127.0.0.1:8080//", "http://127.0.0.1:8080", ""},
		{"http://localhost:8080/mc/", "http://localhost:8080/mc", ""},
		{"http://[::1]:8080", "http://[::1]:8080", ""},

		{"http://auth.example.com", "", "https"},
		{"ftp://127.0.0.1", "", "https"},
		{"auth.example.com", "", "absolute"},
		{"/v2/token", "", "absolute"},
		{"https://id:pw@auth.example.com", "", "user info"},
		{"https://auth.example.com/?legacy=1", "", QueryProblem},
		{"https://auth.example.com/?", "", QueryProblem},
		{"https://auth.example.com/#x", "", "fragment"},
		{"https://auth.example.com:port", "", "not a URL"},
	}
	for _, tt := range tests {
		base, problem := ParseAuthURL(tt.in, tokenPath)
		if base != tt.base || (tt.problem == "") != (problem == "") || !strings.Contains(problem, tt.problem) {
			t.Errorf("ParseAuthURL(%q) = %q, %q; want %q, %q", tt.in, base, problem, tt.base, tt.problem)
		}
		if strings.Contains(problem, "pw") {
			t.Errorf("ParseAuthURL(%q): problem %q quotes the URL", tt.in, problem)
		}
	}
}

func TestTenantHosts(t *testing.T) {
	const sub = "mc563885gzs27c5t9-63k636tzgm"
	want := []string{sub + ".auth.marketingcloudapis.com", sub + ".rest.marketingcloudapis.com", sub + ".soap.marketingcloudapis.com"}
	if got := TenantHosts(sub); !slices.Equal(got, want) {
		t.Errorf("TenantHosts = %q, want %q", got, want)
	}
	if got := AuthBase(sub); got != "https://"+want[0] {
		t.Errorf("AuthBase = %q", got)
	}
}
