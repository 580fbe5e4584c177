package emulator

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestReadBodyIsBounded(t *testing.T) {
	const limit = 1 << 10
	tests := []struct {
		size int
		want int
	}{
		{limit, http.StatusOK},
		{limit + 1, http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(make([]byte, tt.size)))
		if b, err := readBody(rec, req, limit); err == nil {
			if len(b) != tt.size {
				t.Errorf("read %d bytes of %d", len(b), tt.size)
			}
			rec.WriteHeader(http.StatusOK)
		}
		if rec.Code != tt.want {
			t.Errorf("%d bytes: status %d, want %d", tt.size, rec.Code, tt.want)
		}
	}
}

func TestBearerToken(t *testing.T) {
	tests := []struct {
		header string
		want   string
		ok     bool
	}{
		{"Bearer abc", "abc", true},
		{"bearer abc", "abc", true},
		{"BEARER  abc ", "abc", true},
		{"Bearer ", "", false},
		{"Basic abc", "", false},
		{"abc", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Authorization", tt.header)
		if got, ok := BearerToken(req); got != tt.want || ok != tt.ok {
			t.Errorf("BearerToken(%q) = %q, %v; want %q, %v", tt.header, got, ok, tt.want, tt.ok)
		}
	}
}

func TestRetryAfterAndRemainingSeconds(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "", -time.Second: "", time.Second: "1", 1001 * time.Millisecond: "2", time.Minute: "60"} {
		h := http.Header{}
		SetRetryAfter(h, d)
		if got := h.Get("Retry-After"); got != want {
			t.Errorf("SetRetryAfter(%v) = %q, want %q", d, got, want)
		}
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for expiry, want := range map[time.Time]int{
		now.Add(time.Hour):                   3600,
		now.Add(time.Hour - time.Nanosecond): 3599,
		now:                                  0,
		now.Add(-time.Hour):                  0,
	} {
		if got := RemainingSeconds(now, expiry); got != want {
			t.Errorf("RemainingSeconds(%v) = %d, want %d", expiry.Sub(now), got, want)
		}
	}
}
