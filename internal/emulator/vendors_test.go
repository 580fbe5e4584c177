package emulator_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/internal/emulator/emulatortest"
	"github.com/tokentrip/tokentrip/internal/manualclock"
	"github.com/tokentrip/tokentrip/provider/acoustic/acoustictest"
	"github.com/tokentrip/tokentrip/provider/mcv1/mcv1test"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
)

// The tests in this file drive the controls every emulator shares through each of
// the three emulator packages, and hold each to its vendor's wire format.

// request is an HTTP request a test sends to an emulator.
type request struct{ method, path, contentType, body string }

// answer is how an emulator answers a request: its status, its whole body and,
// when name is set, a header it carries.
type answer struct {
	status      int
	body        string
	name, value string
}

// vendor is one emulator package: how to start it, ask it for a token and call
// its API, and how it answers what every emulator answers in its own format.
type vendor struct {
	name string
	// start starts a server on clock, over TLS or not.
	start                func(tls bool, clock func() time.Time) *server
	tokenPath, tokenType string  // where and in what a token request goes
	api                  request // an API call, to which a test adds the token
	lifetime             time.Duration
	dead                 answer // an API call with a revoked or expired token
	throttled            answer // an API call throttled by ThrottleAPICalls
	// tls checks what a server over TLS says of itself besides its URL.
	tls func(t *testing.T, s *server)
}

// server is a started emulator as these tests see it: its shared controls, its
// URL and what a token request for its own client sends.
type server struct {
	*emulator.Controls
	url    string
	v      *vendor
	secret string
	body   func(secret string) string // a token request's body for the client with secret
}

const (
	mcNotAuthorized = `{"documentation":"https://developer.salesforce.com/docs/atlas.en-us.mc-apis.meta/mc-apis/error-handling.htm","errorcode":0,"message":"Not Authorized"}`
	mcRateLimited   = `{"message":"Rate limit exceeded","errorcode":50100,"documentation":"https://developer.salesforce.com/docs/atlas.en-us.mc-apis.meta/mc-apis/error-handling.htm"}`
	mcWWWAuth       = `Bearer realm="example.com", error="invalid_token"`
	getLists        = `<Envelope><Body><GetLists><VISIBILITY>1</VISIBILITY><LIST_TYPE>2</LIST_TYPE></GetLists></Body></Envelope>`
	sessionFault    = `<Envelope><Body><RESULT><SUCCESS>false</SUCCESS></RESULT><Fault><Request/><FaultCode/>` +
		`<FaultString>Session has expired or is invalid</FaultString>` +
		`<detail><error><errorid>145</errorid><module/><class>SP.Admin</class><method/></error></detail></Fault></Body></Envelope>`
	restCall = "/platform/v1/endpoints"
)

var vendors = []*vendor{
	{
		name: "mcv1",
		start: func(tls bool, clock func() time.Time) *server {
			srv := start(tls, mcv1test.NewServer, mcv1test.NewTLSServer, mcv1test.WithClock(clock))
			return &server{Controls: srv.Controls, url: srv.URL, secret: srv.ClientSecret, body: func(secret string) string {
				return `{"clientId":"` + srv.ClientID + `","clientSecret":"` + secret + `"}`
			}}
		},
		tokenPath: emulator.MCv1TokenPath, tokenType: "application/json",
		api:       request{http.MethodGet, restCall, "", ""},
		lifetime:  emulator.MCv1TokenLifetime,
		dead:      answer{http.StatusUnauthorized, mcNotAuthorized, "WWW-Authenticate", mcWWWAuth},
		throttled: answer{http.StatusTooManyRequests, mcRateLimited, "Retry-After", "5"},
		tls: func(t *testing.T, s *server) {
			// A SOAP fault names the https endpoint as its actor.
			r := s.send(t, request{http.MethodPost, "/Service.asmx", "text/xml",
				`<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header>` +
					`<fueloauth xmlns="http://exacttarget.com">at-never-issued</fueloauth></soap:Header><soap:Body/></soap:Envelope>`}, "")
			if !strings.Contains(r.Body, "<faultactor>"+s.url+"/Service.asmx</faultactor>") {
				t.Errorf("fault actor is not the https endpoint:\n%s", r.Body)
			}
		},
	},
	{
		name: "mcv2",
		start: func(tls bool, clock func() time.Time) *server {
			srv := start(tls, mcv2test.NewServer, mcv2test.NewTLSServer, mcv2test.WithClock(clock))
			return &server{Controls: srv.Controls, url: srv.URL, secret: srv.ClientSecret, body: func(secret string) string {
				return `{"grant_type":"client_credentials","client_id":"` + srv.ClientID + `","client_secret":"` + secret + `"}`
			}}
		},
		tokenPath: emulator.MCv2TokenPath, tokenType: "application/json",
		api:       request{http.MethodGet, restCall, "", ""},
		lifetime:  emulator.MCv2TokenLifetime,
		dead:      answer{http.StatusUnauthorized, mcNotAuthorized, "WWW-Authenticate", mcWWWAuth},
		throttled: answer{http.StatusTooManyRequests, mcRateLimited, "Retry-After", "5"},
		tls: func(t *testing.T, s *server) {
			// Tokens point REST and SOAP at the https URL.
			tok := emulatortest.Decode[struct {
				REST string `json:"rest_instance_url"`
				SOAP string `json:"soap_instance_url"`
			}](t, s.send(t, s.token(), ""))
			if tok.REST != s.url+"/" || tok.SOAP != s.url+"/" {
				t.Errorf("instance URLs %s, %s; want %s/", tok.REST, tok.SOAP, s.url)
			}
		},
	},
	{
		name: "acoustic",
		start: func(tls bool, clock func() time.Time) *server {
			srv := start(tls, acoustictest.NewServer, acoustictest.NewTLSServer, acoustictest.WithClock(clock))
			return &server{Controls: srv.Controls, url: srv.URL, secret: srv.ClientSecret, body: func(secret string) string {
				return url.Values{"grant_type": {"refresh_token"}, "client_id": {srv.ClientID},
					"client_secret": {secret}, "refresh_token": {srv.RefreshToken}}.Encode()
			}}
		},
		tokenPath: emulator.AcousticTokenPath, tokenType: "application/x-www-form-urlencoded",
		api:      request{http.MethodPost, emulator.AcousticXMLAPIPath, "text/xml;charset=UTF-8", getLists},
		lifetime: emulator.AcousticTokenLifetime,
		dead:     answer{status: http.StatusOK, body: sessionFault},
		throttled: answer{status: http.StatusTooManyRequests,
			body: `<Envelope><Body><RESULT><SUCCESS>false</SUCCESS></RESULT><Fault><Request/><FaultCode/><FaultString>Too many requests for this organization; try again later</FaultString></Fault></Body></Envelope>`},
		tls: func(*testing.T, *server) {},
	},
}

// start starts a server of one package with opt, over TLS or not.
func start[S, O any](tls bool, plain, overTLS func(...O) S, opt O) S {
	if tls {
		return overTLS(opt)
	}
	return plain(opt)
}

// eachVendor runs f for each vendor, in a subtest named after it.
func eachVendor(t *testing.T, f func(t *testing.T, s *server, clock *manualclock.Clock)) {
	for _, v := range vendors {
		t.Run(v.name, func(t *testing.T) { v.run(t, false, f) })
	}
}

// run runs f with a server of v on a manual clock, and closes the server after.
func (v *vendor) run(t *testing.T, tls bool, f func(t *testing.T, s *server, clock *manualclock.Clock)) {
	clock := emulatortest.ManualClock()
	s := v.start(tls, clock.Now)
	s.v = v
	defer s.Close()
	f(t, s, clock)
}

// vendorNamed returns the vendor of that name.
func vendorNamed(name string) *vendor {
	for _, v := range vendors {
		if v.name == name {
			return v
		}
	}
	panic("no vendor " + name)
}

// token is a token request for the server's own client.
func (s *server) token() request {
	return request{http.MethodPost, s.v.tokenPath, s.v.tokenType, s.body(s.secret)}
}

// send sends r to s, with an "Authorization: Bearer" header when token is set.
func (s *server) send(t *testing.T, r request, token string) emulatortest.Reply {
	t.Helper()
	var header []string
	if token != "" {
		header = []string{"Authorization", "Bearer " + token}
	}
	return emulatortest.Send(t, s.Client(), r.method, s.url+r.path, r.contentType, r.body, header...)
}

// fetch asks for a token and returns it, failing the test unless it gets one.
func (s *server) fetch(t *testing.T) string {
	t.Helper()
	tok := emulatortest.Decode[struct {
		Legacy string `json:"accessToken"` // mcv1's name
		OAuth  string `json:"access_token"`
	}](t, s.send(t, s.token(), ""))
	return tok.Legacy + tok.OAuth
}

// call makes the API call with token.
func (s *server) call(t *testing.T, token string) emulatortest.Reply {
	t.Helper()
	return s.send(t, s.v.api, token)
}

// wantOK fails the test unless r is a 200 that is no fault.
func wantOK(t *testing.T, what string, r emulatortest.Reply) {
	t.Helper()
	if r.Status != http.StatusOK || r.Body == sessionFault {
		t.Errorf("%s: %d %s, want a success", what, r.Status, r.Body)
	}
}

// wantAnswer fails the test unless r is a.
func wantAnswer(t *testing.T, r emulatortest.Reply, a answer) {
	t.Helper()
	emulatortest.WantReply(t, r, a.status, a.body)
	if a.name != "" && r.Header.Get(a.name) != a.value {
		t.Errorf("%s = %q, want %q", a.name, r.Header.Get(a.name), a.value)
	}
}

// wantRejections fails the test unless s counted exactly these rejections.
func (s *server) wantRejections(t *testing.T, want map[string]int) {
	t.Helper()
	emulatortest.WantRejections(t, s.Stats().Rejections, want)
}

// An access token works until the clock reaches its expiry, and is refused from
// then on as each vendor refuses an expired token.
func TestTokensExpireByTheClock(t *testing.T) {
	eachVendor(t, func(t *testing.T, s *server, clock *manualclock.Clock) {
		tok := s.fetch(t)
		clock.Advance(s.v.lifetime - time.Second)
		wantOK(t, "a second before expiry", s.call(t, tok))
		clock.Advance(time.Second)
		wantAnswer(t, s.call(t, tok), s.v.dead)
		s.wantRejections(t, map[string]int{emulator.ReasonExpiredToken: 1})
	})
}

// RevokeToken and ExpireToken kill one token each, report whether the server
// issued it, and leave the others working.
func TestRevokeAndExpireToken(t *testing.T) {
	eachVendor(t, func(t *testing.T, s *server, _ *manualclock.Clock) {
		// Acoustic answers with the current token until it is gone, so each token
		// is fetched after the one before is killed.
		revoked := s.fetch(t)
		if !s.RevokeToken(revoked) {
			t.Fatal("RevokeToken did not find the token")
		}
		expired := s.fetch(t)
		if !s.ExpireToken(expired) {
			t.Fatal("ExpireToken did not find the token")
		}
		kept := s.fetch(t)
		if s.RevokeToken("at-never-issued") || s.ExpireToken("at-never-issued") {
			t.Error("RevokeToken or ExpireToken of an unknown token reported success")
		}
		wantAnswer(t, s.call(t, revoked), s.v.dead)
		wantAnswer(t, s.call(t, expired), s.v.dead)
		wantOK(t, "untouched token", s.call(t, kept))
		s.wantRejections(t, map[string]int{emulator.ReasonRevokedToken: 1, emulator.ReasonExpiredToken: 1})
	})
}

// FailTokenRequests fails the next n token requests in the vendor's format, with
// Retry-After in whole seconds rounded up, and then lets requests through.
func TestFailTokenRequests(t *testing.T) {
	tests := []struct {
		vendor     string
		n, status  int
		retryAfter time.Duration
		wantHeader string
		wantBody   string
	}{
		{"mcv1", 2, 503, 7 * time.Second, "7", `{"message":"Service Unavailable","errorcode":503,"documentation":""}`},
		{"mcv1", 2, 429, 1500 * time.Millisecond, "2", `{"message":"Too Many Requests","errorcode":429,"documentation":""}`},
		{"mcv1", 2, 500, 0, "", `{"message":"Internal Server Error","errorcode":500,"documentation":""}`},
		{"mcv2", 1, 429, 5 * time.Second, "5",
			`{"error":"temporarily_unavailable","error_description":"Too Many Requests","error_uri":"` + emulator.MCErrorDocs + `"}`},
		{"acoustic", 1, 503, 30 * time.Second, "30", `{"error":"temporarily_unavailable","error_description":"Service Unavailable"}`},
	}
	for _, tt := range tests {
		t.Run(tt.vendor+"/"+http.StatusText(tt.status), func(t *testing.T) {
			vendorNamed(tt.vendor).run(t, false, func(t *testing.T, s *server, _ *manualclock.Clock) {
				s.FailTokenRequests(tt.n, tt.status, tt.retryAfter)
				for range tt.n {
					wantAnswer(t, s.send(t, s.token(), ""), answer{tt.status, tt.wantBody, "Retry-After", tt.wantHeader})
				}
				s.fetch(t)
				if st := s.Stats(); st.TokenRequests != tt.n+1 || st.TokensIssued != 1 {
					t.Errorf("stats = %+v", st)
				}
				s.wantRejections(t, map[string]int{emulator.ReasonInjectedFailure: tt.n})
			})
		})
	}
}

// Held token requests are counted but unanswered until released; then each gets
// a token: a new one from Marketing Cloud, the current one from Acoustic.
func TestHoldTokenRequests(t *testing.T) {
	distinct := map[string]int{"mcv1": 3, "mcv2": 4, "acoustic": 1}
	eachVendor(t, func(t *testing.T, s *server, _ *manualclock.Clock) {
		n := map[string]int{"mcv1": 3, "mcv2": 4, "acoustic": 5}[s.v.name]
		s.HoldTokenRequests()
		var wg sync.WaitGroup
		tokens := make([]string, n)
		for i := range n {
			wg.Go(func() { tokens[i] = s.fetch(t) })
		}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		if err := s.WaitTokenRequestsHeld(ctx, n); err != nil {
			t.Fatal(err)
		}
		if st := s.Stats(); st.TokenRequests != n || st.TokensIssued != 0 {
			t.Errorf("while held: stats = %+v, want %d requests and no token", st, n)
		}
		s.ReleaseTokenRequests()
		wg.Wait()
		got := map[string]bool{}
		for _, tok := range tokens {
			got[tok] = true
		}
		if st := s.Stats(); len(got) != distinct[s.v.name] || st.TokensIssued != distinct[s.v.name] || st.TokenRequests != n {
			t.Errorf("after release: %d distinct tokens, stats %+v; want %d", len(got), st, distinct[s.v.name])
		}
	})
}

// A held API call is unanswered until released, and then succeeds.
func TestHoldAPICalls(t *testing.T) {
	eachVendor(t, func(t *testing.T, s *server, _ *manualclock.Clock) {
		tok := s.fetch(t)
		s.HoldAPICalls()
		done := make(chan emulatortest.Reply)
		go func() { done <- s.call(t, tok) }()
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		if err := s.WaitAPICallsHeld(ctx, 1); err != nil {
			t.Fatal(err)
		}
		select {
		case r := <-done:
			t.Fatalf("held call answered: %d %s", r.Status, r.Body)
		default:
		}
		s.ReleaseAPICalls()
		wantOK(t, "released call", <-done)
	})
}

// Close lets held requests go instead of hanging.
func TestCloseReleasesHeldRequests(t *testing.T) {
	eachVendor(t, func(t *testing.T, s *server, _ *manualclock.Clock) {
		s.HoldTokenRequests()
		done := make(chan error)
		go func() {
			resp, err := s.Client().Post(s.url+s.v.tokenPath, s.v.tokenType, nil)
			if err == nil {
				resp.Body.Close()
			}
			done <- err
		}()
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		if err := s.WaitTokenRequestsHeld(ctx, 1); err != nil {
			t.Fatal(err)
		}
		s.Close() // must not hang
		<-done
	})
}

// The latencies delay token requests and API calls.
func TestLatency(t *testing.T) {
	const delay = 30 * time.Millisecond
	eachVendor(t, func(t *testing.T, s *server, _ *manualclock.Clock) {
		s.SetTokenLatency(delay)
		s.SetAPILatency(delay)
		began := time.Now()
		tok := s.fetch(t)
		if took := time.Since(began); took < delay {
			t.Errorf("token request took %v, want at least %v", took, delay)
		}
		began = time.Now()
		wantOK(t, "API call", s.call(t, tok))
		if took := time.Since(began); took < delay {
			t.Errorf("API call took %v, want at least %v", took, delay)
		}
	})
}

// ResetStats sets every counter back to zero.
func TestResetStats(t *testing.T) {
	eachVendor(t, func(t *testing.T, s *server, _ *manualclock.Clock) {
		s.call(t, s.fetch(t))
		s.send(t, request{http.MethodPost, s.v.tokenPath, s.v.tokenType, s.body("wrong")}, "")
		if st := s.Stats(); st.TokenRequests != 2 || st.TokensIssued != 1 || st.Rejections[emulator.ReasonInvalidClient] != 1 {
			t.Fatalf("before reset: %+v", st)
		}
		s.ResetStats()
		st := s.Stats()
		if st.TokenRequests != 0 || st.TokensIssued != 0 || len(st.Rejections) != 0 || len(st.TokenRequestsByGrant) != 0 ||
			st.RESTCalls+st.SOAPCalls+st.XMLAPICalls != 0 || st.MaxConcurrent != 0 {
			t.Errorf("after reset: %+v", st)
		}
	})
}

// A TLS server works as a plain one, and says https wherever it names itself.
func TestTLSServer(t *testing.T) {
	for _, v := range vendors {
		t.Run(v.name, func(t *testing.T) {
			v.run(t, true, func(t *testing.T, s *server, _ *manualclock.Clock) {
				if !strings.HasPrefix(s.url, "https://") {
					t.Fatalf("URL = %s", s.url)
				}
				wantOK(t, "API call over TLS", s.call(t, s.fetch(t)))
				v.tls(t, s)
			})
		})
	}
}

// ThrottleAPICalls answers the next API calls as the vendor throttles, then lets
// calls through; 0 cancels what is queued.
func TestThrottleAPICalls(t *testing.T) {
	eachVendor(t, func(t *testing.T, s *server, _ *manualclock.Clock) {
		tok := s.fetch(t)
		s.ThrottleAPICalls(1)
		wantAnswer(t, s.call(t, tok), s.v.throttled)
		wantOK(t, "after the throttled call", s.call(t, tok))
		s.ThrottleAPICalls(1)
		s.ThrottleAPICalls(0)
		wantOK(t, "after cancelling", s.call(t, tok))
		s.wantRejections(t, map[string]int{emulator.ReasonThrottled: 1})
	})
}
