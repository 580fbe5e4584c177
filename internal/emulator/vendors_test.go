package emulator_test

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
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
	// start starts a server on clock, over TLS or not. With others, the server
	// registers, besides its default client, one it refuses or another one.
	start                func(tls bool, clock func() time.Time, others bool) (*emulator.Controls, string)
	tokenPath, tokenType string
	token                func(edit ...string) string // a token request's body for the default client, edited: key, value…
	secretKey            string                      // the key of the client secret in that body
	apiAnswers
	lifetime time.Duration
	// tls checks what a server over TLS says of itself besides its URL.
	tls func(t *testing.T, s *server)
}

// apiAnswers is an API call to which a test adds the token, and how the vendor
// answers it: a success, a revoked or expired token, a call ThrottleAPICalls
// throttles.
type apiAnswers struct {
	api             request
	success         string
	dead, throttled answer
}

// marketingCloudAPI is REST, as both Marketing Cloud emulators serve it.
var marketingCloudAPI = apiAnswers{
	api:       request{http.MethodGet, restCall, "", ""},
	success:   `{"ok":true,"method":"GET","path":"/platform/v1/endpoints","bodyLength":0}`,
	dead:      answer{http.StatusUnauthorized, emulatortest.MCNotAuthorized, "WWW-Authenticate", mcWWWAuth},
	throttled: answer{http.StatusTooManyRequests, mcRateLimited, "Retry-After", "5"},
}

// server is a started emulator as these tests see it.
type server struct {
	*emulator.Controls
	url string
	v   *vendor
}

const (
	mcRateLimited = `{"message":"Rate limit exceeded","errorcode":50100,"documentation":"https://developer.salesforce.com/docs/atlas.en-us.mc-apis.meta/mc-apis/error-handling.htm"}`
	mcWWWAuth     = `Bearer realm="example.com", error="invalid_token"`
	getLists      = `<Envelope><Body><GetLists><VISIBILITY>1</VISIBILITY><LIST_TYPE>2</LIST_TYPE></GetLists></Body></Envelope>`
	sessionFault  = `<Envelope><Body><RESULT><SUCCESS>false</SUCCESS></RESULT><Fault><Request/><FaultCode/>` +
		`<FaultString>Session has expired or is invalid</FaultString>` +
		`<detail><error><errorid>145</errorid><module/><class>SP.Admin</class><method/></error></detail></Fault></Body></Envelope>`
	restCall = "/platform/v1/endpoints"
)

var vendors = []*vendor{
	{
		name: "mcv1",
		start: func(tls bool, clock func() time.Time, others bool) (*emulator.Controls, string) {
			srv := launch(tls, others, mcv1test.NewServer, mcv1test.NewTLSServer, mcv1test.WithClock(clock),
				mcv1test.WithClient(emulator.MCv1ClientID, emulator.MCv1ClientSecret), mcv1test.WithEnhancedClient("enhanced", "e-secret"))
			return srv.Controls, srv.URL
		},
		tokenPath: emulator.MCv1TokenPath, tokenType: "application/json", secretKey: "clientSecret",
		token: func(edit ...string) string {
			return jsonObject(append([]string{"clientId", emulator.MCv1ClientID, "clientSecret", emulator.MCv1ClientSecret}, edit...))
		},
		apiAnswers: marketingCloudAPI,
		lifetime:   emulator.MCv1TokenLifetime,
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
		start: func(tls bool, clock func() time.Time, others bool) (*emulator.Controls, string) {
			srv := launch(tls, others, mcv2test.NewServer, mcv2test.NewTLSServer, mcv2test.WithClock(clock),
				mcv2test.WithClient(emulator.MCv2ClientID, emulator.MCv2ClientSecret),
				mcv2test.WithWebApp(emulator.MCv2WebAppID, emulator.MCv2WebAppSecret), mcv2test.WithLegacyClient("legacy", "legacy-secret"))
			return srv.Controls, srv.URL
		},
		tokenPath: emulator.MCv2TokenPath, tokenType: "application/json", secretKey: "client_secret",
		token: func(edit ...string) string {
			return jsonObject(append([]string{"grant_type", "client_credentials",
				"client_id", emulator.MCv2ClientID, "client_secret", emulator.MCv2ClientSecret}, edit...))
		},
		apiAnswers: marketingCloudAPI,
		lifetime:   emulator.MCv2TokenLifetime,
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
		start: func(tls bool, clock func() time.Time, others bool) (*emulator.Controls, string) {
			srv := launch(tls, others, acoustictest.NewServer, acoustictest.NewTLSServer, acoustictest.WithClock(clock),
				acoustictest.WithClient(emulator.AcousticClientID, emulator.AcousticClientSecret, emulator.AcousticRefreshToken),
				acoustictest.WithClient("other", "other-secret", "other-rt"))
			return srv.Controls, srv.URL
		},
		tokenPath: emulator.AcousticTokenPath, tokenType: "application/x-www-form-urlencoded", secretKey: "client_secret",
		token: func(edit ...string) string {
			form := url.Values{"grant_type": {"refresh_token"}, "client_id": {emulator.AcousticClientID},
				"client_secret": {emulator.AcousticClientSecret}, "refresh_token": {emulator.AcousticRefreshToken}}
			for i := 0; i+1 < len(edit); i += 2 {
				form.Set(edit[i], edit[i+1])
			}
			return form.Encode()
		},
		apiAnswers: apiAnswers{
			api:     request{http.MethodPost, emulator.AcousticXMLAPIPath, "text/xml;charset=UTF-8", getLists},
			success: `<Envelope><Body><RESULT><SUCCESS>TRUE</SUCCESS></RESULT></Body></Envelope>`,
			dead:    answer{status: http.StatusOK, body: sessionFault},
			throttled: answer{status: http.StatusTooManyRequests,
				body: `<Envelope><Body><RESULT><SUCCESS>false</SUCCESS></RESULT><Fault><Request/><FaultCode/><FaultString>Too many requests for this organization; try again later</FaultString></Fault></Body></Envelope>`},
		},
		lifetime: emulator.AcousticTokenLifetime,
		tls:      func(*testing.T, *server) {},
	},
}

// launch starts a server of one package on clock, over TLS or not, and with
// others registered if asked.
func launch[S, O any](tls, withOthers bool, plain, overTLS func(...O) S, clock O, others ...O) S {
	opts := []O{clock}
	if withOthers {
		opts = append(opts, others...)
	}
	if tls {
		return overTLS(opts...)
	}
	return plain(opts...)
}

// jsonObject is a JSON object of key, value string pairs, in order; a key given
// again replaces its value where it first stood, and a value "-" drops the key.
func jsonObject(kv []string) string {
	var keys []string
	values := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		if _, ok := values[kv[i]]; !ok {
			keys = append(keys, kv[i])
		}
		values[kv[i]] = kv[i+1]
	}
	var b strings.Builder
	for _, k := range keys {
		if values[k] == "-" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "%q:%q", k, values[k])
	}
	return "{" + b.String() + "}"
}

// eachVendor runs f for each vendor, in a subtest named after it.
func eachVendor(t *testing.T, f func(t *testing.T, s *server, clock *manualclock.Clock)) {
	for _, v := range vendors {
		t.Run(v.name, func(t *testing.T) { v.run(t, false, f) })
	}
}

// run runs f with a server of v on a manual clock, and closes the server after.
func (v *vendor) run(t *testing.T, tls bool, f func(t *testing.T, s *server, clock *manualclock.Clock)) {
	v.runWith(t, tls, false, f)
}

// runWith is run, with others registered if asked (see vendor.start).
func (v *vendor) runWith(t *testing.T, tls, others bool, f func(t *testing.T, s *server, clock *manualclock.Clock)) {
	clock := emulatortest.ManualClock()
	controls, url := v.start(tls, clock.Now, others)
	s := &server{Controls: controls, url: url, v: v}
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

// token is a token request for the default client, its body edited (see
// vendor.token).
func (s *server) token(edit ...string) request {
	return request{http.MethodPost, s.v.tokenPath, s.v.tokenType, s.v.token(edit...)}
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

// wantOK fails the test unless r is the vendor's answer to a successful API call.
func (s *server) wantOK(t *testing.T, what string, r emulatortest.Reply) {
	t.Helper()
	if r.Status != http.StatusOK || r.Body != s.v.success {
		t.Errorf("%s: %d %s, want 200 %s", what, r.Status, r.Body, s.v.success)
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
		s.wantOK(t, "a second before expiry", s.call(t, tok))
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
		s.wantOK(t, "untouched token", s.call(t, kept))
		s.wantRejections(t, map[string]int{emulator.ReasonRevokedToken: 1, emulator.ReasonExpiredToken: 1})
	})
}

// FailTokenRequests fails the next n token requests in the vendor's format, with
// Retry-After in whole seconds rounded up, and then lets requests through.
func TestFailTokenRequests(t *testing.T) {
	tests := []struct {
		vendor               string
		n, status            int
		retryAfter           time.Duration
		wantHeader, wantBody string
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
		s.wantOK(t, "released call", <-done)
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
		s.wantOK(t, "API call", s.call(t, tok))
		if took := time.Since(began); took < delay {
			t.Errorf("API call took %v, want at least %v", took, delay)
		}
	})
}

// ResetStats sets every counter back to zero.
func TestResetStats(t *testing.T) {
	eachVendor(t, func(t *testing.T, s *server, _ *manualclock.Clock) {
		s.call(t, s.fetch(t))
		s.send(t, s.token(s.v.secretKey, "wrong"), "")
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
				s.wantOK(t, "API call over TLS", s.call(t, s.fetch(t)))
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
		s.wantOK(t, "after the throttled call", s.call(t, tok))
		s.ThrottleAPICalls(1)
		s.ThrottleAPICalls(0)
		s.wantOK(t, "after cancelling", s.call(t, tok))
		s.wantRejections(t, map[string]int{emulator.ReasonThrottled: 1})
	})
}

// Token requests the endpoint refuses get the vendor's error, are counted once
// under their reason, and issue nothing.
func TestTokenErrors(t *testing.T) {
	m1, m2, ac := vendorNamed("mcv1").token, vendorNamed("mcv2").token, vendorNamed("acoustic").token
	const (
		form           = "application/x-www-form-urlencoded"
		mcNotFound     = `{"errorcode":404,"message":"Not Found","documentation":""}`
		v1Unauthorized = `{"message":"Unauthorized","errorcode":1,"documentation":""}`
		v1BadRequest   = `{"message":"Bad Request","errorcode":400,"documentation":""}`
		v1Enhanced     = `{"message":"This client id belongs to an enhanced installed package; request its tokens from /v2/token.","errorcode":10007,"documentation":""}`
		v2Client       = "Client authentication failed. Make sure that the client ID and client secret are valid."
		v2Grant        = "The grant type is not supported. Use client_credentials, authorization_code or refresh_token."
		v2Unauthorized = "This client is not authorized to use this grant type."
		v2Request      = "The request body must be a JSON object (Content-Type: application/json)."
		acRequest      = `{"error":"invalid_request","error_description":"The body must be application/x-www-form-urlencoded."}`
		acClient       = `{"error":"invalid_client","error_description":"Bad client credentials."}`
		acGrant        = `{"error":"invalid_grant","error_description":"Invalid refresh token."}`
	)
	v2 := func(code, description string) string {
		return `{"error":"` + code + `","error_description":"` + description + `","error_uri":"` + emulator.MCErrorDocs + `"}`
	}
	tests := []struct {
		vendor, name     string
		method, path, ct string // default: POST to the token endpoint, in its media type; ct "none" sends none
		body             string
		status           int
		want, reason     string
	}{
		{"mcv1", "wrong secret", "", "", "", m1("clientSecret", "nope"), 401, v1Unauthorized, emulator.ReasonInvalidClient},
		{"mcv1", "unknown client", "", "", "", m1("clientId", "nobody"), 401, v1Unauthorized, emulator.ReasonInvalidClient},
		{"mcv1", "no credentials", "", "", "", `{}`, 401, v1Unauthorized, emulator.ReasonInvalidClient},
		{"mcv1", "enhanced package", "", "", "", m1("clientId", "enhanced", "clientSecret", "e-secret"), 401, v1Enhanced, emulator.ReasonWrongPackage},
		{"mcv1", "refresh token never issued", "", "", "", m1("refreshToken", "rt-forged"), 401, v1Unauthorized, emulator.ReasonInvalidGrant},
		{"mcv1", "body not JSON", "", "", "", `clientId=x`, 400, v1BadRequest, emulator.ReasonBadRequest},
		{"mcv1", "form content type", "", "", form, m1(), 400, v1BadRequest, emulator.ReasonBadRequest},
		{"mcv1", "wrong path", "", "/v1/requestTokens", "", m1(), 404, mcNotFound, emulator.ReasonNotFound},
		{"mcv1", "GET on the token path", http.MethodGet, "", "", "", 404, mcNotFound, emulator.ReasonNotFound},
		{"mcv1", "v2 endpoint on a legacy server", "", "/v2/token", "", m1(), 404, mcNotFound, emulator.ReasonNotFound},
		{"mcv2", "wrong secret", "", "", "", m2("client_secret", "nope"), 401, v2("invalid_client", v2Client), emulator.ReasonInvalidClient},
		{"mcv2", "unknown client", "", "", "", m2("client_id", "nobody", "client_secret", "x"), 401, v2("invalid_client", v2Client), emulator.ReasonInvalidClient},
		{"mcv2", "legacy package", "", "", "", m2("client_id", "legacy", "client_secret", "legacy-secret"), 401,
			v2("invalid_client", "This client is not eligible for OAuth 2.0: it belongs to a legacy installed package, whose tokens come from /v1/requestToken."),
			emulator.ReasonWrongPackage},
		{"mcv2", "unsupported grant", "", "", "", m2("grant_type", "password"), 400, v2("unsupported_grant_type", v2Grant), emulator.ReasonUnsupportedGrant},
		{"mcv2", "no grant", "", "", "", m2("grant_type", "-"), 400, v2("unsupported_grant_type", v2Grant), emulator.ReasonUnsupportedGrant},
		{"mcv2", "server-to-server client with a code", "", "", "", m2("grant_type", "authorization_code", "code", "x", "redirect_uri", "https://app.example/cb"),
			400, v2("unauthorized_client", v2Unauthorized), emulator.ReasonUnauthorizedClient},
		{"mcv2", "web app with client credentials", "", "", "", m2("client_id", emulator.MCv2WebAppID, "client_secret", emulator.MCv2WebAppSecret),
			400, v2("unauthorized_client", v2Unauthorized), emulator.ReasonUnauthorizedClient},
		{"mcv2", "unknown refresh token", "", "", "",
			m2("grant_type", "refresh_token", "refresh_token", "rt-x", "client_id", emulator.MCv2WebAppID, "client_secret", emulator.MCv2WebAppSecret),
			400, v2("invalid_grant", "The refresh token is invalid, expired, already used or issued to another client."), emulator.ReasonInvalidGrant},
		{"mcv2", "form-encoded body", "", "", form, "grant_type=client_credentials&client_id=" + emulator.MCv2ClientID + "&client_secret=" + emulator.MCv2ClientSecret,
			400, v2("invalid_request", v2Request), emulator.ReasonBadRequest},
		{"mcv2", "not JSON", "", "", "", `{"grant_type":`, 400, v2("invalid_request", v2Request), emulator.ReasonBadRequest},
		{"mcv2", "wrong path", "", "/v2/tokens", "", `{}`, 404, mcNotFound, emulator.ReasonNotFound},
		{"mcv2", "v1 endpoint on an enhanced server", "", "/v1/requestToken", "", `{}`, 404, mcNotFound, emulator.ReasonNotFound},
		{"mcv2", "GET on the token path", http.MethodGet, "", "none", "", 404, mcNotFound, emulator.ReasonNotFound},
		{"acoustic", "JSON body", "", "", "application/json", `{"grant_type":"refresh_token"}`, 400, acRequest, emulator.ReasonBadRequest},
		{"acoustic", "no content type", "", "", "none", ac(), 400, acRequest, emulator.ReasonBadRequest},
		{"acoustic", "client_credentials grant", "", "", "", ac("grant_type", "client_credentials"), 400,
			`{"error":"unsupported_grant_type","error_description":"Only the refresh_token grant is supported."}`, emulator.ReasonUnsupportedGrant},
		{"acoustic", "wrong secret", "", "", "", ac("client_secret", "nope"), 401, acClient, emulator.ReasonInvalidClient},
		{"acoustic", "unknown client", "", "", "", ac("client_id", "nobody"), 401, acClient, emulator.ReasonInvalidClient},
		{"acoustic", "unknown refresh token", "", "", "", ac("refresh_token", "nope"), 400, acGrant, emulator.ReasonInvalidGrant},
		{"acoustic", "another application's refresh token", "", "", "", ac("refresh_token", "other-rt"), 400, acGrant, emulator.ReasonInvalidGrant},
	}
	for _, tt := range tests {
		v := vendorNamed(tt.vendor)
		t.Run(tt.vendor+"/"+tt.name, func(t *testing.T) {
			v.runWith(t, false, true, func(t *testing.T, s *server, _ *manualclock.Clock) {
				r := request{cmp.Or(tt.method, http.MethodPost), cmp.Or(tt.path, v.tokenPath), cmp.Or(tt.ct, v.tokenType), tt.body}
				if r.contentType == "none" {
					r.contentType = ""
				}
				emulatortest.WantReply(t, s.send(t, r, ""), tt.status, tt.want)
				s.wantRejections(t, map[string]int{tt.reason: 1})
				requests := 1 // a request that reached the token endpoint, answered or not
				if tt.status == http.StatusNotFound {
					requests = 0
				}
				if st := s.Stats(); st.TokenRequests != requests || st.TokensIssued != 0 {
					t.Errorf("stats = %+v, want %d token requests and no token", st, requests)
				}
			})
		})
	}
}

// A REST call is echoed when its bearer token is valid, and refused as its
// vendor refuses it otherwise.
func TestREST(t *testing.T) {
	echo := func(method, path string, n int) string {
		return fmt.Sprintf(`{"ok":true,"method":%q,"path":%q,"bodyLength":%d}`, method, path, n)
	}
	const (
		acUnauthorized = `{"error":"unauthorized","error_description":"A bearer access token is required."}`
		acInvalid      = `{"error":"invalid_token","error_description":"Invalid access token."}`
		acNotFound     = `{"error":"not_found","error_description":"No endpoint at this path."}`
		acWWWAuth      = `Bearer realm="oauth", error="invalid_token"`
	)
	tests := []struct {
		vendor, name, method, path, body string
		auth                             string // TOKEN stands for a valid token
		status                           int
		want, wwwAuth, reason            string
		calls                            int // REST calls counted
	}{
		{"mcv1", "GET with a token", "GET", restCall, "", "Bearer TOKEN", 200, echo("GET", restCall, 0), "", "", 1},
		{"mcv1", "POST echoes the body length", "POST", "/hub/v1/dataevents/key:x/rowset", `[{"a":1}]`, "Bearer TOKEN", 200,
			echo("POST", "/hub/v1/dataevents/key:x/rowset", 9), "", "", 1},
		{"mcv1", "scheme is case-insensitive", "DELETE", "/rest/x", "", "bearer TOKEN", 200, echo("DELETE", "/rest/x", 0), "", "", 1},
		{"mcv1", "no Authorization", "GET", restCall, "", "", 401, emulatortest.MCNotAuthorized, mcWWWAuth, emulator.ReasonMissingToken, 1},
		{"mcv1", "Basic instead of Bearer", "GET", restCall, "", "Basic TOKEN", 401, emulatortest.MCNotAuthorized, mcWWWAuth, emulator.ReasonMissingToken, 1},
		{"mcv1", "unknown token", "GET", restCall, "", "Bearer at-nope", 401, emulatortest.MCNotAuthorized, mcWWWAuth, emulator.ReasonInvalidToken, 1},
		{"acoustic", "with a token", "POST", "/rest/databases/123/contacts", "{}", "Bearer TOKEN", 200,
			echo("POST", "/rest/databases/123/contacts", 2), "", "", 1},
		{"acoustic", "without a token", "POST", "/rest/databases", "{}", "", 401, acUnauthorized, `Bearer realm="oauth"`, emulator.ReasonMissingToken, 1},
		{"acoustic", "unknown token", "POST", "/rest/databases", "{}", "Bearer at-nope", 401, acInvalid, acWWWAuth, emulator.ReasonInvalidToken, 1},
		{"acoustic", "not an endpoint", "POST", "/databases", "{}", "Bearer TOKEN", 404, acNotFound, "", emulator.ReasonNotFound, 0},
	}
	for _, tt := range tests {
		t.Run(tt.vendor+"/"+tt.name, func(t *testing.T) {
			vendorNamed(tt.vendor).run(t, false, func(t *testing.T, s *server, _ *manualclock.Clock) {
				auth := strings.ReplaceAll(tt.auth, "TOKEN", s.fetch(t))
				s.ResetStats()
				r := emulatortest.Send(t, s.Client(), tt.method, s.url+tt.path, "application/json", tt.body,
					emulatortest.Header("Authorization", auth)...)
				wantAnswer(t, r, answer{tt.status, tt.want, "WWW-Authenticate", tt.wwwAuth})
				want := map[string]int{}
				if tt.reason != "" {
					want[tt.reason] = 1
				}
				s.wantRejections(t, want)
				if st := s.Stats(); st.RESTCalls != tt.calls {
					t.Errorf("RESTCalls = %d, want %d", st.RESTCalls, tt.calls)
				}
			})
		})
	}
}

// The SOAP API and the XML API take POST only.
func TestAPIsTakePOST(t *testing.T) {
	path := map[string]string{"mcv1": "/Service.asmx", "mcv2": "/Service.asmx", "acoustic": emulator.AcousticXMLAPIPath}
	eachVendor(t, func(t *testing.T, s *server, _ *manualclock.Clock) {
		r := s.send(t, request{http.MethodGet, path[s.v.name], "", ""}, "")
		if r.Status != http.StatusMethodNotAllowed || r.Header.Get("Allow") != "POST" {
			t.Errorf("GET %s: %d, Allow %q", path[s.v.name], r.Status, r.Header.Get("Allow"))
		}
	})
}

// A Server's credential fields hold the documented defaults, or the first of each
// kind its options registered, which is what it accepts.
func TestServerCredentials(t *testing.T) {
	v1 := mcv1test.NewServer()
	v1own := mcv1test.NewServer(mcv1test.WithEnhancedClient("e", "e-secret"), mcv1test.WithClient("a", "a-secret"),
		mcv1test.WithClient("b", "b-secret"), mcv1test.WithAPIUser("u", "u-password"), mcv1test.WithAPIUser("w", "w-password"))
	v1enhanced := mcv1test.NewServer(mcv1test.WithEnhancedClient("e", "e-secret"))
	v2 := mcv2test.NewServer()
	v2own := mcv2test.NewServer(mcv2test.WithPublicApp("p"), mcv2test.WithWebApp("w", "w-secret"), mcv2test.WithClient("c", "c-secret"),
		mcv2test.WithAPIUser("u", "u-password"))
	v2web := mcv2test.NewServer(mcv2test.WithWebApp("w", "w-secret"))
	ac := acoustictest.NewServer()
	acOwn := acoustictest.NewServer(acoustictest.WithClient("a", "a-secret", "rt-1"), acoustictest.WithClient("a", "a-secret", "rt-2"))
	for _, c := range []interface{ Close() }{v1, v1own, v1enhanced, v2, v2own, v2web, ac, acOwn} {
		defer c.Close()
	}
	tests := []struct {
		name      string
		got, want []string
	}{
		{"mcv1 defaults", []string{v1.ClientID, v1.ClientSecret, v1.APIUsername, v1.APIPassword},
			[]string{"tokentrip-mcv1-client-id", "tokentrip-mcv1-client-secret", "tokentrip-api-user", "tokentrip-api-password"}},
		{"mcv1 options", []string{v1own.ClientID, v1own.ClientSecret, v1own.APIUsername, v1own.APIPassword},
			[]string{"a", "a-secret", "u", "u-password"}},
		{"mcv1 enhanced client only", []string{v1enhanced.ClientID, v1enhanced.ClientSecret}, []string{"", ""}},
		{"mcv2 defaults", []string{v2.ClientID, v2.ClientSecret, v2.WebAppID, v2.WebAppSecret, v2.PublicAppID,
			v2.APIUsername, v2.APIPassword, v2.Scope, v2.AccountID},
			[]string{"tokentrip-mcv2-client-id", "tokentrip-mcv2-client-secret", "tokentrip-mcv2-web-app-id", "tokentrip-mcv2-web-app-secret",
				"tokentrip-mcv2-public-app-id", "tokentrip-api-user", "tokentrip-api-password", "email_read email_write email_send", "100000001"}},
		{"mcv2 options", []string{v2own.ClientID, v2own.ClientSecret, v2own.WebAppID, v2own.WebAppSecret, v2own.PublicAppID, v2own.APIUsername},
			[]string{"c", "c-secret", "w", "w-secret", "p", "u"}},
		{"mcv2 web app only", []string{v2web.ClientID, v2web.ClientSecret, v2web.WebAppID, v2web.PublicAppID}, []string{"", "", "w", ""}},
		{"acoustic defaults", []string{ac.ClientID, ac.ClientSecret, ac.RefreshToken},
			[]string{"tokentrip-acoustic-client-id", "tokentrip-acoustic-client-secret", "tokentrip-acoustic-refresh-token"}},
		{"acoustic options", []string{acOwn.ClientID, acOwn.ClientSecret, acOwn.RefreshToken}, []string{"a", "a-secret", "rt-1"}},
	}
	for _, tt := range tests {
		if !slices.Equal(tt.got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, tt.got, tt.want)
		}
	}

	// The fields are what the servers accept: a token for each client, a SOAP
	// call for each first API user.
	for _, r := range []struct {
		name, url, path, contentType, body string
		client                             *http.Client
	}{
		{"mcv1", v1own.URL, emulator.MCv1TokenPath, "application/json",
			jsonObject([]string{"clientId", v1own.ClientID, "clientSecret", v1own.ClientSecret}), v1own.Client()},
		{"mcv2", v2own.URL, emulator.MCv2TokenPath, "application/json", jsonObject([]string{"grant_type", "client_credentials",
			"client_id", v2own.ClientID, "client_secret", v2own.ClientSecret}), v2own.Client()},
		{"acoustic", acOwn.URL, emulator.AcousticTokenPath, "application/x-www-form-urlencoded", url.Values{"grant_type": {"refresh_token"},
			"client_id": {acOwn.ClientID}, "client_secret": {acOwn.ClientSecret}, "refresh_token": {acOwn.RefreshToken}}.Encode(), acOwn.Client()},
	} {
		emulatortest.Decode[struct{}](t, emulatortest.Send(t, r.client, http.MethodPost, r.url+r.path, r.contentType, r.body))
	}
	for _, u := range []struct {
		url, username, password string
		client                  *http.Client
	}{
		{v1own.URL, v1own.APIUsername, v1own.APIPassword, v1own.Client()},
		{v1own.URL, "w", "w-password", v1own.Client()},
		{v2.URL, v2.APIUsername, v2.APIPassword, v2.Client()},
	} {
		envelope := `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Header>` +
			`<wsse:Security xmlns:wsse="` + emulator.WSSENS + `"><wsse:UsernameToken><wsse:Username>` + u.username +
			`</wsse:Username><wsse:Password>` + u.password + `</wsse:Password></wsse:UsernameToken></wsse:Security>` +
			`</soap:Header><soap:Body><RetrieveRequestMsg xmlns="http://exacttarget.com/wsdl/partnerAPI"/></soap:Body></soap:Envelope>`
		if r := emulatortest.Send(t, u.client, http.MethodPost, u.url+"/Service.asmx", "text/xml", envelope); r.Status != http.StatusOK {
			t.Errorf("SOAP as %s: %d %s", u.username, r.Status, r.Body)
		}
	}
}
