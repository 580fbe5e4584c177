package resilience_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// logLine is one line of the harness's JSON log.
type logLine struct {
	Level    string `json:"level"`
	Msg      string `json:"msg"`
	Provider string `json:"provider"`
	Source   string `json:"source"`
	Attempt  int    `json:"attempt"`
	Attempts int    `json:"attempts"`
	Status   int    `json:"status"`
	Error    string `json:"error"`
}

// logStyle is the one style of tokentrip's log lines: "tokentrip: " and a
// lower-case name; what varies goes into attributes.
var logStyle = regexp.MustCompile(`^tokentrip: [a-z]+(_[a-z]+)*$`)

// dnsFailure is a token endpoint whose host name does not resolve.
type dnsFailure struct{}

func (dnsFailure) RoundTrip(req *http.Request) (*http.Response, error) {
	return (&http.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) {
		return nil, &net.DNSError{Err: "no such host", Name: req.URL.Hostname(), IsNotFound: true}
	}}).RoundTrip(req)
}

// TestLogsOfRetriesAndGivingUp fetches a token of each provider, at Debug level,
// while the token endpoint fails: a transient failure that retries fix, one that
// outlasts them, and a host name that never resolves. A retry is a Debug line, only
// giving up is a Warn, nothing is an Error; every line has one style and names the
// provider, and no line holds the client id or a secret.
func TestLogsOfRetriesAndGivingUp(t *testing.T) {
	tests := []struct {
		name        string
		fault       func(h *harness)
		dns         bool
		wantOK      bool
		wantRetries int // "tokentrip: retrying" lines, all Debug
		wantStatus  int // the status the retries and giving up report (0: an error)
	}{
		{name: "503 twice then a token", fault: func(h *harness) { h.srv.FailTokenRequests(2, http.StatusServiceUnavailable, 0) }, wantOK: true, wantRetries: 2, wantStatus: 503},
		{name: "429 once then a token", fault: func(h *harness) { h.srv.FailTokenRequests(1, http.StatusTooManyRequests, 0) }, wantOK: true, wantRetries: 1, wantStatus: 429},
		{name: "503 past the retries", fault: func(h *harness) { h.srv.FailTokenRequests(100, http.StatusServiceUnavailable, 0) }, wantRetries: 4, wantStatus: 503},
		{name: "host name does not resolve", dns: true, wantRetries: 4},
	}
	for _, v := range vendors {
		for _, tt := range tests {
			t.Run(v.name+" "+tt.name, func(t *testing.T) {
				t.Parallel()
				h := newHarness(t, v, setup{settings: func(s *settings) {
					if tt.dns {
						s.HTTPClient = &http.Client{Transport: dnsFailure{}}
					}
				}})
				if tt.fault != nil {
					tt.fault(h)
				}
				out := h.rest(t.Context())
				if out.ok() != tt.wantOK {
					t.Fatalf("call: %v, want success %v", out, tt.wantOK)
				}

				var lines []logLine
				byMsg := map[string][]logLine{}
				for _, raw := range strings.Split(strings.TrimSpace(h.logs.String()), "\n") {
					var l logLine
					if err := json.Unmarshal([]byte(raw), &l); err != nil {
						t.Fatalf("log line is not JSON: %q", raw)
					}
					lines = append(lines, l)
					byMsg[l.Msg] = append(byMsg[l.Msg], l)
					if !logStyle.MatchString(l.Msg) {
						t.Errorf("message %q is not in the style %s", l.Msg, logStyle)
					}
					if l.Level == "ERROR" {
						t.Errorf("an Error line: %s", raw)
					}
					if l.Provider == "" && l.Source == "" {
						t.Errorf("line names neither provider nor source: %s", raw)
					}
					if l.Provider != "" && l.Provider != v.name || l.Source != "" && !strings.HasPrefix(l.Source, v.name) {
						t.Errorf("line names another provider: %s", raw)
					}
				}
				if found := leaks(append(h.secrets.list(), v.clientID), map[string]string{"log": h.logs.String()}); len(found) > 0 {
					t.Errorf("the log holds the client id or a secret: %v\n%s", found, h.logs.String())
				}

				retries := byMsg["tokentrip: retrying"]
				if len(retries) != tt.wantRetries {
					t.Errorf("%d retry lines, want %d", len(retries), tt.wantRetries)
				}
				for i, l := range retries {
					if l.Level != "DEBUG" || l.Attempt != i+2 || l.Status != tt.wantStatus || (tt.wantStatus == 0) != (l.Error != "") {
						t.Errorf("retry line %d: %+v; want DEBUG, attempt %d, status %d", i, l, i+2, tt.wantStatus)
					}
				}
				gaveUp, failed, fetched := byMsg["tokentrip: gave_up"], byMsg["tokentrip: fetch_failed"], byMsg["tokentrip: fetched"]
				if tt.wantOK {
					if len(gaveUp)+len(failed) != 0 || len(fetched) != 1 || fetched[0].Level != "DEBUG" {
						t.Errorf("a fetch that retries fixed: gave_up %v, fetch_failed %v, fetched %v", gaveUp, failed, fetched)
					}
				} else {
					if len(gaveUp) != 1 || gaveUp[0].Level != "WARN" || gaveUp[0].Attempts != tt.wantRetries+1 || gaveUp[0].Status != tt.wantStatus {
						t.Errorf("giving up: %+v; want one WARN after %d attempts, status %d", gaveUp, tt.wantRetries+1, tt.wantStatus)
					}
					if tt.dns && (len(gaveUp) != 1 || !strings.Contains(gaveUp[0].Error, "no such host")) {
						t.Errorf("giving up does not say why: %+v", gaveUp)
					}
					if len(failed) != 1 || failed[0].Level != "WARN" {
						t.Errorf("fetch_failed: %+v; want one WARN", failed)
					}
				}
				t.Logf("FIGURE %s %s: %d log lines, %d Debug retries, %d Warn", v.name, tt.name, len(lines), len(retries), len(gaveUp)+len(failed))
			})
		}
	}
}
