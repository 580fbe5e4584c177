package emulator

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator/emulatortest"
)

func control(t *testing.T, url, method, path, body string) (int, string, http.Header) {
	t.Helper()
	r := emulatortest.Send(t, http.DefaultClient, method, url+path, "", body)
	return r.Status, r.Body, r.Header
}

// Each control endpoint does what its Controls method does, answers JSON, and
// refuses what it cannot do with a status and a message that says why.
func TestControlEndpoints(t *testing.T) {
	type state = controlState
	tests := []struct {
		name         string
		method, path string
		body         string
		status       int
		want         string // the whole answer
		check        func(t *testing.T, s state)
	}{
		{name: "index", method: "GET", path: "/-/", status: 200, want: ""},
		{name: "index without the slash", method: "GET", path: "/-", status: 200, want: ""},
		{name: "counters", method: "GET", path: "/-/counters", status: 200,
			want: `{"token_requests":0,"token_requests_by_grant":{},"tokens_issued":0,"rest_calls":1,"soap_calls":0,"xmlapi_calls":0,"max_concurrent":1,"concurrency_rejections":0,"rejections":{"missing_token":1}}`},
		{name: "reset counters", method: "DELETE", path: "/-/counters", status: 200,
			want: `{"token_requests":0,"token_requests_by_grant":{},"tokens_issued":0,"rest_calls":0,"soap_calls":0,"xmlapi_calls":0,"max_concurrent":0,"concurrency_rejections":0,"rejections":{}}`},
		{name: "expire one token", method: "POST", path: "/-/expire", body: `{"token":"TOKEN"}`, status: 200, want: `{"expired":1}`,
			check: func(t *testing.T, s state) { wantVerdict(t, s, Expired) }},
		{name: "expire every access token", method: "POST", path: "/-/expire", body: ``, status: 200, want: `{"expired":2}`,
			check: func(t *testing.T, s state) { wantVerdict(t, s, Expired) }},
		{name: "expire an unknown token", method: "POST", path: "/-/expire", body: `{"token":"at-nope"}`, status: 404,
			want: `{"error":"this server issued no such token"}`, check: func(t *testing.T, s state) { wantVerdict(t, s, Valid) }},
		{name: "expire by client", method: "POST", path: "/-/expire", body: `{"client_id":"c"}`, status: 400,
			want: `{"error":"expire takes a token, not a client_id"}`},
		{name: "revoke one token", method: "POST", path: "/-/revoke", body: `{"token":"TOKEN"}`, status: 200, want: `{"revoked":1}`,
			check: func(t *testing.T, s state) { wantVerdict(t, s, Revoked) }},
		{name: "revoke every access token", method: "POST", path: "/-/revoke", body: `{}`, status: 200, want: `{"revoked":2}`,
			check: func(t *testing.T, s state) { wantVerdict(t, s, Revoked) }},
		{name: "revoke a client", method: "POST", path: "/-/revoke", body: `{"client_id":"c"}`, status: 200, want: `{"revoked_client":"c"}`,
			check: func(t *testing.T, s state) {
				wantVerdict(t, s, Revoked)
				if _, reason := s.core.Clients.Authenticate("c", "s"); reason != ReasonRevokedClient {
					t.Errorf("client after revoke: %q", reason)
				}
			}},
		{name: "revoke an unknown client", method: "POST", path: "/-/revoke", body: `{"client_id":"nobody"}`, status: 404,
			want: `{"error":"no client \"nobody\" is registered"}`},
		{name: "revoke both", method: "POST", path: "/-/revoke", body: `{"client_id":"c","token":"TOKEN"}`, status: 400,
			want: `{"error":"revoke takes a token or a client_id, not both"}`, check: func(t *testing.T, s state) { wantVerdict(t, s, Valid) }},
		{name: "restore a client", method: "POST", path: "/-/restore", body: `{"client_id":"c"}`, status: 200, want: `{"restored_client":"c"}`},
		{name: "restore without a client", method: "POST", path: "/-/restore", body: `{}`, status: 400, want: `{"error":"restore takes a client_id"}`},
		{name: "throttle API calls", method: "POST", path: "/-/throttle", body: `{"api_calls":2}`, status: 200,
			want: `{"api_calls":2,"token_requests":null,"status":429,"retry_after":""}`,
			check: func(t *testing.T, s state) {
				for i, want := range []bool{true, true, false} {
					if got := s.core.Faults.NextThrottled(); got != want {
						t.Errorf("call %d throttled = %v, want %v", i, got, want)
					}
				}
			}},
		{name: "fail token requests", method: "POST", path: "/-/throttle", body: `{"token_requests":1,"status":503,"retry_after":"1500ms"}`, status: 200,
			want: `{"api_calls":null,"token_requests":1,"status":503,"retry_after":"1500ms"}`,
			check: func(t *testing.T, s state) {
				f, ok := s.core.Faults.NextTokenFailure()
				if !ok || f != (Failure{Status: 503, RetryAfter: 1500 * time.Millisecond}) {
					t.Errorf("queued failure = %+v, %v", f, ok)
				}
				if _, ok := s.core.Faults.NextTokenFailure(); ok {
					t.Error("a second failure was queued")
				}
			}},
		{name: "throttle nothing", method: "POST", path: "/-/throttle", body: `{}`, status: 400,
			want: `{"error":"throttle takes api_calls, token_requests or both"}`},
		{name: "throttle with a success status", method: "POST", path: "/-/throttle", body: `{"token_requests":1,"status":200}`, status: 400,
			want: `{"error":"status 200 is not an HTTP error status"}`},
		{name: "throttle with a bad retry_after", method: "POST", path: "/-/throttle", body: `{"token_requests":1,"retry_after":"soon"}`, status: 400,
			want: `{"error":"retry_after: \"soon\" is not a duration such as 250ms or 2s"}`},
		{name: "set latencies", method: "POST", path: "/-/latency", body: `{"token":"250ms","api":"1s"}`, status: 200, want: `{"token":"250ms","api":"1s"}`,
			check: func(t *testing.T, s state) {
				if time.Duration(s.core.tokenLatency.Load()) != 250*time.Millisecond || time.Duration(s.core.apiLatency.Load()) != time.Second {
					t.Errorf("latencies %v, %v", time.Duration(s.core.tokenLatency.Load()), time.Duration(s.core.apiLatency.Load()))
				}
			}},
		{name: "read latencies", method: "GET", path: "/-/latency", status: 200, want: `{"token":"0s","api":"0s"}`},
		{name: "negative latency", method: "POST", path: "/-/latency", body: `{"api":"-1s"}`, status: 400,
			want: `{"error":"api: \"-1s\" is not a duration such as 250ms or 2s"}`},
		{name: "misspelt field", method: "POST", path: "/-/latency", body: `{"tokens":"1s"}`, status: 400,
			want: `{"error":"the body must be a JSON object of this endpoint's fields: json: unknown field \"tokens\""}`},
		{name: "not JSON", method: "POST", path: "/-/expire", body: `token=x`, status: 400,
			want: `{"error":"the body must be a JSON object of this endpoint's fields: invalid character 'o' in literal true (expecting 'r')"}`},
		{name: "body too large", method: "POST", path: "/-/expire", body: `{"token":"` + strings.Repeat("x", 70<<10) + `"}`, status: 400,
			want: `{"error":"the body is over 65536 bytes"}`},
		{name: "wrong method", method: "GET", path: "/-/expire", status: 405, want: `{"error":"/-/expire takes POST"}`},
		// A method is matched whole, not as a part of the allowed list.
		{name: "part of GET", method: "ET", path: "/-/counters", status: 405, want: `{"error":"/-/counters takes GET, DELETE"}`},
		{name: "part of DELETE", method: "LETE", path: "/-/counters", status: 405, want: `{"error":"/-/counters takes GET, DELETE"}`},
		{name: "one letter of the list", method: "T", path: "/-/latency", status: 405, want: `{"error":"/-/latency takes GET, POST"}`,
			check: func(t *testing.T, s state) { wantLatencies(t, s, 0, 0) }},
		{name: "part of POST", method: "OS", path: "/-/expire", status: 405, want: `{"error":"/-/expire takes POST"}`,
			check: func(t *testing.T, s state) { wantVerdict(t, s, Valid) }},
		{name: "lower case", method: "get", path: "/-/counters", status: 405, want: `{"error":"/-/counters takes GET, DELETE"}`},
		// One JSON object, nothing else: a second value or a null would otherwise
		// be dropped or read as {}, which acts on every token.
		{name: "a second object", method: "POST", path: "/-/expire", body: `{} {"token":"TOKEN"}`, status: 400,
			want:  `{"error":"the body must be one JSON object, with nothing after it"}`,
			check: func(t *testing.T, s state) { wantVerdict(t, s, Valid) }},
		{name: "text after the object", method: "POST", path: "/-/revoke", body: `{"token":"TOKEN"} and more`, status: 400,
			want:  `{"error":"the body must be one JSON object, with nothing after it"}`,
			check: func(t *testing.T, s state) { wantVerdict(t, s, Valid) }},
		{name: "whitespace after the object", method: "POST", path: "/-/revoke", body: "{\"token\":\"TOKEN\"}\r\n\t ", status: 200,
			want: `{"revoked":1}`, check: func(t *testing.T, s state) { wantVerdict(t, s, Revoked) }},
		{name: "null", method: "POST", path: "/-/revoke", body: `null`, status: 400,
			want:  `{"error":"the body must be a JSON object of this endpoint's fields, not null"}`,
			check: func(t *testing.T, s state) { wantVerdict(t, s, Valid) }},
		{name: "an array", method: "POST", path: "/-/expire", body: `[{"token":"TOKEN"}]`, status: 400,
			want: `{"error":"the body must be a JSON object of this endpoint's fields, not an array"}`},
		{name: "a string", method: "POST", path: "/-/restore", body: `"c"`, status: 400,
			want: `{"error":"the body must be a JSON object of this endpoint's fields, not a string"}`},
		{name: "a number", method: "POST", path: "/-/throttle", body: `5`, status: 400,
			want: `{"error":"the body must be a JSON object of this endpoint's fields, not a number"}`},
		{name: "truncated", method: "POST", path: "/-/expire", body: `{"token":"TOKEN"`, status: 400,
			want: `{"error":"the body must be a JSON object of this endpoint's fields: unexpected EOF"}`},
		{name: "negative api_calls", method: "POST", path: "/-/throttle", body: `{"api_calls":-5}`, status: 400,
			want:  `{"error":"api_calls: -5 is negative; 0 cancels what is queued"}`,
			check: func(t *testing.T, s state) { wantQueued(t, s, false, false) }},
		{name: "negative token_requests", method: "POST", path: "/-/throttle", body: `{"api_calls":1,"token_requests":-1}`, status: 400,
			want:  `{"error":"token_requests: -1 is negative; 0 cancels what is queued"}`,
			check: func(t *testing.T, s state) { wantQueued(t, s, false, false) }},
		{name: "zero cancels", method: "POST", path: "/-/throttle", body: `{"api_calls":0,"token_requests":0}`, status: 200,
			want: `{"api_calls":0,"token_requests":0,"status":429,"retry_after":""}`, check: func(t *testing.T, s state) { wantQueued(t, s, false, false) }},
		{name: "unknown control", method: "GET", path: "/-/clock", status: 404, want: `{"error":"no control endpoint at /-/clock; GET /-/ lists them"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			core, url, tok := mcServer(t)
			core.Clients.Add(Client{ID: "c", Secret: "s"})
			now := core.Now()
			core.Tokens.Add(Token{Kind: AccessToken, ClientID: "c", IssuedAt: now, ExpiresAt: now.Add(time.Hour)})
			core.Tokens.Add(Token{Kind: RefreshToken, ClientID: "c", IssuedAt: now, ExpiresAt: now.Add(time.Hour)})
			control(t, url, "GET", "/anything", "") // one REST call, so that the counters hold something

			status, body, header := control(t, url, tt.method, tt.path, strings.ReplaceAll(tt.body, "TOKEN", tok))
			if status != tt.status || (tt.want != "" && body != tt.want) {
				t.Errorf("got %d %s\nwant %d %s", status, body, tt.status, tt.want)
			}
			if ct := header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if want := allowed[strings.TrimSuffix(tt.path, "/")]; status == 405 && header.Get("Allow") != want {
				t.Errorf("Allow %q", header.Get("Allow"))
			}
			if tt.check != nil {
				tt.check(t, state{core, tok})
			}
			if st := core.Controls().Stats(); st.RESTCalls > 1 || st.TokenRequests != 0 {
				t.Errorf("a control request was counted: %+v", st)
			}
		})
	}
}

// controlState is what a control endpoint test looks at afterwards.
type controlState struct {
	core  *Core
	token string // an access token issued before the control request
}

// wantVerdict fails the test unless the state's token has verdict v.
func wantVerdict(t *testing.T, s controlState, v Verdict) {
	t.Helper()
	if _, got := s.core.Tokens.Check(s.token, AccessToken); got != v {
		t.Errorf("token verdict %v, want %v", got, v)
	}
}

// wantLatencies fails the test unless the token and API latencies are these.
func wantLatencies(t *testing.T, s controlState, token, api time.Duration) {
	t.Helper()
	if got := time.Duration(s.core.tokenLatency.Load()); got != token {
		t.Errorf("token latency %v, want %v", got, token)
	}
	if got := time.Duration(s.core.apiLatency.Load()); got != api {
		t.Errorf("API latency %v, want %v", got, api)
	}
}

// wantQueued fails the test unless an API call would (or would not) be throttled
// and a token request failed. It takes what it finds from the queues.
func wantQueued(t *testing.T, s controlState, throttled, tokenFailure bool) {
	t.Helper()
	if got := s.core.Faults.NextThrottled(); got != throttled {
		t.Errorf("API call throttled = %v, want %v", got, throttled)
	}
	if _, got := s.core.Faults.NextTokenFailure(); got != tokenFailure {
		t.Errorf("token request failed = %v, want %v", got, tokenFailure)
	}
}

// Close cuts a request delayed by a latency short instead of waiting it out.
func TestCloseCutsLatencyShort(t *testing.T) {
	core, url, tok := mcServer(t)
	ctl := core.Controls()
	ctl.SetAPILatency(time.Hour)
	ctl.HoldAPICalls() // Close releases it, and the call goes on to its latency
	errc := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, url+"/x", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			err = errors.New("answered: " + resp.Status)
		}
		errc <- err
	}()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := ctl.WaitAPICallsHeld(ctx, 1); err != nil {
		t.Fatal(err)
	}
	closed := make(chan struct{})
	go func() { core.close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close waited for the latency")
	}
	if err := <-errc; err == nil || strings.HasPrefix(err.Error(), "answered") {
		t.Errorf("the delayed call: %v, want its connection cut", err)
	}
}
