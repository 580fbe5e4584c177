package acoustictest_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/internal/emulator/emulatortest"
	"github.com/tokentrip/tokentrip/provider/acoustic/acoustictest"
)

const (
	success      = `<Envelope><Body><RESULT><SUCCESS>TRUE</SUCCESS></RESULT></Body></Envelope>`
	sessionFault = `<Envelope><Body><RESULT><SUCCESS>false</SUCCESS></RESULT><Fault><Request/><FaultCode/>` +
		`<FaultString>Session has expired or is invalid</FaultString>` +
		`<detail><error><errorid>145</errorid><module/><class>SP.Admin</class><method/></error></detail></Fault></Body></Envelope>`
)

func TestXMLAPI(t *testing.T) {
	clock := emulatortest.ManualClock()
	srv := acoustictest.NewServer(acoustictest.WithClock(clock.Now))
	defer srv.Close()
	tok := fetchToken(t, srv, defaultForm()).AccessToken

	tests := []struct {
		name, path, contentType, body, auth string
		status                              int
		want                                string
		envelope                            string // what LastEnvelope must return
		reason                              string
	}{
		{
			name: "raw XML", contentType: "text/xml;charset=UTF-8", body: getLists, auth: "Bearer " + tok,
			status: 200, want: success, envelope: getLists,
		},
		{
			name: "form field xml", contentType: "application/x-www-form-urlencoded",
			body: url.Values{"xml": {getLists}}.Encode(), auth: "Bearer " + tok,
			status: 200, want: success, envelope: getLists,
		},
		{
			name: "path in another case", path: "/xmlapi", contentType: "text/xml", body: getLists, auth: "Bearer " + tok,
			status: 200, want: success, envelope: getLists,
		},
		{
			name: "unknown token", contentType: "text/xml", body: getLists, auth: "Bearer at-nope",
			status: 200, want: sessionFault, envelope: getLists, reason: emulator.ReasonInvalidToken,
		},
		{
			name: "no token", contentType: "text/xml", body: getLists,
			status: 200, want: sessionFault, envelope: getLists, reason: emulator.ReasonMissingToken,
		},
		{
			name: "not an envelope", contentType: "text/xml", body: `<GetLists/>`, auth: "Bearer " + tok,
			status: 200, envelope: `<GetLists/>`, reason: emulator.ReasonMalformedEnvelope,
			want: `<Envelope><Body><RESULT><SUCCESS>false</SUCCESS></RESULT><Fault><Request/><FaultCode/><FaultString>Invalid XML request</FaultString></Fault></Body></Envelope>`,
		},
		{
			name: "empty Body", contentType: "text/xml", body: `<Envelope><Body></Body></Envelope>`, auth: "Bearer " + tok,
			status: 200, envelope: `<Envelope><Body></Body></Envelope>`, reason: emulator.ReasonMalformedEnvelope,
			want: `<Envelope><Body><RESULT><SUCCESS>false</SUCCESS></RESULT><Fault><Request/><FaultCode/><FaultString>Invalid XML request</FaultString></Fault></Body></Envelope>`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.ResetStats()
			path := tt.path
			if path == "" {
				path = emulator.AcousticXMLAPIPath
			}
			r := send(t, srv, http.MethodPost, path, tt.contentType, tt.body, emulatortest.Header("Authorization", tt.auth)...)
			emulatortest.WantReply(t, r, tt.status, tt.want)
			emulatortest.WantContentType(t, r, "text/xml;charset=UTF-8")
			if got := string(srv.LastEnvelope()); got != tt.envelope {
				t.Errorf("LastEnvelope = %q, want %q", got, tt.envelope)
			}
			want := map[string]int{}
			if tt.reason != "" {
				want[tt.reason] = 1
			}
			emulatortest.WantRejections(t, srv.Stats().Rejections, want)
			if st := srv.Stats(); st.XMLAPICalls != 1 {
				t.Errorf("XMLAPICalls = %d, want 1", st.XMLAPICalls)
			}
		})
	}

	t.Run("expired token", func(t *testing.T) {
		srv.ResetStats()
		clock.Advance(emulator.AcousticTokenLifetime)
		emulatortest.WantReply(t, xmlCall(t, srv, tok, getLists), 200, sessionFault)
		emulatortest.WantRejections(t, srv.Stats().Rejections, map[string]int{emulator.ReasonExpiredToken: 1})
	})
}

func TestSessionFailureStyles(t *testing.T) {
	tests := []struct {
		name   string
		opts   []acoustictest.Option
		status int
		body   string
	}{
		{"fault", nil, 200, sessionFault},
		{"401", []acoustictest.Option{acoustictest.WithSessionUnauthorized()}, 401, ""},
		{"empty body", []acoustictest.Option{acoustictest.WithSessionEmptyBody()}, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := emulatortest.ManualClock()
			srv := acoustictest.NewServer(append(tt.opts, acoustictest.WithClock(clock.Now))...)
			defer srv.Close()
			tok := fetchToken(t, srv, defaultForm()).AccessToken
			emulatortest.WantReply(t, xmlCall(t, srv, tok, getLists), 200, success)

			clock.Advance(4 * time.Hour)
			emulatortest.WantReply(t, xmlCall(t, srv, tok, getLists), tt.status, tt.body)
			emulatortest.WantRejections(t, srv.Stats().Rejections, map[string]int{emulator.ReasonExpiredToken: 1})
		})
	}
}

// ThrottleAPICalls turns the next calls of either API away with 429, before the
// token is looked at, and only as many as asked.
func TestThrottleAPICalls(t *testing.T) {
	srv := acoustictest.NewServer()
	defer srv.Close()
	tok := fetchToken(t, srv, defaultForm()).AccessToken
	srv.ThrottleAPICalls(3)

	emulatortest.WantReply(t, xmlCall(t, srv, tok, getLists), http.StatusTooManyRequests,
		`<Envelope><Body><RESULT><SUCCESS>false</SUCCESS></RESULT><Fault><Request/><FaultCode/><FaultString>Too many requests for this organization; try again later</FaultString></Fault></Body></Envelope>`)
	emulatortest.WantReply(t, send(t, srv, http.MethodGet, "/rest/databases", "", "", "Authorization", "Bearer "+tok), http.StatusTooManyRequests,
		`{"error":"too_many_requests","error_description":"Too many requests for this organization; try again later."}`)
	emulatortest.WantReply(t, xmlCall(t, srv, "", getLists), http.StatusTooManyRequests,
		`<Envelope><Body><RESULT><SUCCESS>false</SUCCESS></RESULT><Fault><Request/><FaultCode/><FaultString>Too many requests for this organization; try again later</FaultString></Fault></Body></Envelope>`)
	if r := xmlCall(t, srv, tok, getLists); r.Status != http.StatusOK {
		t.Errorf("the fourth call: %d %s", r.Status, r.Body)
	}
	srv.ThrottleAPICalls(1)
	srv.ThrottleAPICalls(0) // cancels
	if r := xmlCall(t, srv, tok, getLists); r.Status != http.StatusOK {
		t.Errorf("after cancelling: %d %s", r.Status, r.Body)
	}
	emulatortest.WantRejections(t, srv.Stats().Rejections, map[string]int{emulator.ReasonThrottled: 3})
	if st := srv.Stats(); st.XMLAPICalls != 4 || st.RESTCalls != 1 || st.ConcurrencyRejections != 0 {
		t.Errorf("stats = %+v", st)
	}
}
