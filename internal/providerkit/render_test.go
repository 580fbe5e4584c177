package providerkit

import "testing"

func TestCleanURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"api.example.com", "api.example.com"},
		{"u:pw@host.example.com", "[REDACTED]@host.example.com"},
		{"https://u:pw@api.example.com/p?k=q#f", "https://REDACTED@api.example.com/p?REDACTED#REDACTED"},
		{"https://auth.example.com:port", "[unparsable URL]"},
	}
	for _, tt := range tests {
		if got := CleanURL(tt.in); got != tt.want {
			t.Errorf("CleanURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
