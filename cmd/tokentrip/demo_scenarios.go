package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tokentrip/tokentrip/envelope"
	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/internal/marketingcloud"
	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/provider/acoustic"
	"github.com/tokentrip/tokentrip/provider/mcv1"
	"github.com/tokentrip/tokentrip/provider/mcv2"
	"github.com/tokentrip/tokentrip/transport"
)

// Sizes of the crowds the scenarios send.
const (
	stampedeCallers = 1000
	refreshCallers  = 200
	stormCallers    = 100
	breakerRounds   = 8
	breakerCallers  = 25
	acousticCallers = 50
	breakerMaxAsks  = 5 // the most token requests a revoked credential may cause
	soapCalls       = 3
	staleToken      = "stale-token-left-in-the-envelope"
)

// scenarios lists the demo's scenarios in the order they run.
func scenarios() []scenario {
	return []scenario{
		{"cold stampede", "1,000 goroutines call a cold mcv2 Transport at once",
			"1,000 callers → 1 token request", mcv2Session(clientStampede, 64, "/hub/v1/campaigns"), coldStampede},
		{"refresh ahead", "200 callers cross the refresh point while the refresh is held at the endpoint",
			"0 callers blocked at the refresh point", warmed(mcv2Session(clientRefresh, 0, "/data/v1/customobjectdata/key/orders/rowset")), refreshAhead},
		{"401 storm", "100 calls in flight when the server expires their token",
			"100 rejected → 1 re-fetch, 100 replays", warmed(mcv2Session(clientStorm, 0, "/messaging/v1/email/messages")), unauthorizedStorm},
		{"SOAP fueloauth", "an mcv1 SOAP envelope that still carries a stale fueloauth",
			"accepted, exactly 1 fueloauth block", mcv1Session(clientSOAP, "/Service.asmx"), soapFuelOAuth},
		{"SOAP UsernameToken", "SOAP calls as an API user, no Source at all",
			"accepted, 0 token requests", nil, soapUsernameToken},
		{`"Token Expired" replay`, "a SOAP call whose token the server has expired",
			"1 replay, 2 token requests", mcv2Session(clientReplay, 0, "/Service.asmx"), tokenExpiredReplay},
		{"breaker, revoked client", "8 rounds of 25 calls, a minute apart, after the client is revoked",
			"≤ 5 token requests, then fail fast", warmed(mcv1Session(clientBreaker, "/address/v1/validateEmail")), breakerOnRevoked},
		{"Acoustic 3-hour rule", "ask for a token again at 2 h, then call past 3 h",
			"< 3 h: no new mint; > 3 h: 1 mint", warmed(acousticSession(refresh3h)), acousticThreeHours},
		{"Acoustic 10-in-flight cap", "50 XML API calls at once while the emulator holds them",
			"≤ 10 in flight, 0 rejected", nil, acousticInFlightCap},
	}
}

// coldStampede: a thousand goroutines ask a Transport that has no token yet. The
// token endpoint holds the first request until every goroutine has started.
func coldStampede(ctx context.Context, d *demo, s *session) outcome {
	d.mc2.HoldTokenRequests()
	cr := startCrowd(stampedeCallers, func() error { return s.do(ctx) })
	defer cr.finish(d.mc2.ReleaseTokenRequests)
	cr.launched.Wait()
	if err := d.mc2.WaitTokenRequestsHeld(ctx, 1); err != nil {
		return failed("no token request arrived: %v", err)
	}
	d.mc2.ReleaseTokenRequests()
	cr.done.Wait()

	st := d.mc2.Stats()
	ok := cr.ok.Load()
	o := outcome{measured: fmt.Sprintf("%s; %d/%d OK", plural(st.TokenRequests, "token request"), ok, stampedeCallers)}
	o.check(st.TokenRequests == 1, "want 1 token request, measured %d", st.TokenRequests)
	o.check(ok == stampedeCallers, "want %d calls to succeed, %d did (first error: %v)", stampedeCallers, ok, cr.firstErr())
	return o
}

// refreshAhead: callers cross a token's refresh point while the refresh it starts
// is held at the token endpoint. None of them may wait for it; after the old
// token's expiry the refreshed one serves everyone.
func refreshAhead(ctx context.Context, d *demo, s *session) outcome {
	first, _ := s.tr.Source().Current()

	// Four minutes before expiry: past the refresh point (five minutes before),
	// and the token still good.
	d.clock.Advance(emulator.MCv2TokenLifetime - 4*time.Minute)
	d.mc2.HoldTokenRequests()
	cr := startCrowd(refreshCallers, func() error { return s.do(ctx) })
	defer cr.finish(d.mc2.ReleaseTokenRequests)
	cr.waitAtMost(ctx, 5*time.Second)
	servedDuringRefresh := cr.finished.Load()
	if err := d.mc2.WaitTokenRequestsHeld(ctx, 1); err != nil {
		return failed("no refresh reached the endpoint: %v", err)
	}
	d.mc2.ReleaseTokenRequests()
	cr.done.Wait()
	s.tr.Source().Wait()
	second, _ := s.tr.Source().Current()

	// Past the first token's expiry: the refreshed token serves everyone.
	d.clock.Advance(5 * time.Minute)
	after := startCrowd(refreshCallers, func() error { return s.do(ctx) })
	after.done.Wait()

	st, ss := d.mc2.Stats(), s.tr.Source().Stats()
	blocked := refreshCallers - servedDuringRefresh
	okAfter := after.ok.Load()
	o := outcome{measured: fmt.Sprintf("%d/%d blocked; %s ahead; %s; %d/%d OK after expiry",
		blocked, refreshCallers, plural(int(ss.RefreshesAhead), "refresh"), plural(st.TokenRequests, "token request"), okAfter, refreshCallers)}
	o.check(blocked == 0, "want no caller waiting for the refresh, %d did", blocked)
	o.check(cr.ok.Load() == refreshCallers, "want every call at the refresh point to succeed, %d did (first error: %v)", cr.ok.Load(), cr.firstErr())
	o.check(ss.RefreshesAhead == 1, "want 1 background refresh, measured %d", ss.RefreshesAhead)
	o.check(st.TokenRequests == 2, "want 2 token requests (first and refresh), measured %d", st.TokenRequests)
	o.check(second.AccessToken != first.AccessToken, "the refresh did not replace the token")
	o.check(okAfter == refreshCallers, "want every call past the old expiry to succeed, %d did (first error: %v)", okAfter, after.firstErr())
	return o
}

// unauthorizedStorm: a hundred calls are held at the server, their token is
// expired under them, and all are answered 401 at once. One re-fetch must serve
// all their replays.
func unauthorizedStorm(ctx context.Context, d *demo, s *session) outcome {
	used, _ := s.tr.Source().Current()
	d.mc2.ResetStats()

	d.mc2.HoldAPICalls()
	cr := startCrowd(stormCallers, func() error { return s.do(ctx) })
	defer cr.finish(d.mc2.ReleaseAPICalls)
	if err := d.mc2.WaitAPICallsHeld(ctx, stormCallers); err != nil {
		return failed("calls did not arrive: %v", err)
	}
	d.mc2.ExpireToken(used.AccessToken)
	d.mc2.ReleaseAPICalls()
	cr.done.Wait()

	st, ts := d.mc2.Stats(), s.tr.Source().Stats()
	rejected := st.Rejections[emulator.ReasonExpiredToken]
	ok := cr.ok.Load()
	o := outcome{measured: fmt.Sprintf("%d × 401 → %s, %s; %d/%d OK",
		rejected, plural(st.TokenRequests, "token request"), plural(int(ts.Replays), "replay"), ok, stormCallers)}
	o.check(rejected == stormCallers, "want %d calls rejected as expired, measured %d", stormCallers, rejected)
	o.check(st.TokenRequests == 1, "want 1 re-fetch, measured %d token requests", st.TokenRequests)
	o.check(ts.Replays == stormCallers, "want %d replays, measured %d", stormCallers, ts.Replays)
	o.check(ok == stormCallers, "want %d calls to succeed, %d did (first error: %v)", stormCallers, ok, cr.firstErr())
	return o
}

// soapFuelOAuth: a SOAP envelope that already carries a stale fueloauth goes
// through an mcv1 Transport. The emulator must accept it and see one
// fueloauth block: the current token, the stale one gone.
func soapFuelOAuth(ctx context.Context, d *demo, s *session) outcome {
	status, err := soapCall(ctx, s.client, s.url, retrieveEnvelope(true))
	if err != nil {
		return failed("SOAP call: %v", err)
	}
	tok, _ := s.tr.Source().Current()
	got := d.mc1.LastEnvelope()
	blocks := countElements(got, "fueloauth")
	stale := bytes.Contains(got, []byte(staleToken))
	current := tok.AccessToken != "" && bytes.Contains(got, []byte(tok.AccessToken))
	st := d.mc1.Stats()

	gone := "gone"
	if stale {
		gone = "still there"
	}
	o := outcome{measured: fmt.Sprintf("HTTP %d; %s, stale one %s; %s", status, plural(blocks, "fueloauth block"), gone, plural(st.TokenRequests, "token request"))}
	o.check(status == http.StatusOK, "want 200 from the emulator, got %d", status)
	o.check(blocks == 1, "want exactly 1 fueloauth block in the envelope received, measured %d", blocks)
	o.check(!stale, "the stale fueloauth reached the server")
	o.check(current, "the envelope received does not carry the current token")
	o.check(st.TokenRequests == 1, "want 1 token request, measured %d", st.TokenRequests)
	o.check(rejections(st.Rejections) == 0, "the emulator refused %d request(s): %v", rejections(st.Rejections), st.Rejections)
	return o
}

// soapUsernameToken: SOAP calls as an API user, through a Transport with no
// Source: the credential is a WS-Security UsernameToken and no token is fetched.
func soapUsernameToken(ctx context.Context, d *demo, _ *session) outcome {
	tr := transport.New(nil, transport.Options{Hosts: []string{d.mc1.URL}, SOAP: marketingcloud.UsernameToken(envelope.UsernameTokenConfig{
		Username: emulator.MCAPIUsername,
		Password: emulator.MCAPIPassword,
		Nonce:    true,
	})})
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	ok := 0
	for range soapCalls {
		status, err := soapCall(ctx, client, d.mc1.URL+"/Service.asmx", retrieveEnvelope(false))
		if err != nil {
			return failed("SOAP call: %v", err)
		}
		if status == http.StatusOK {
			ok++
		}
	}
	got := d.mc1.LastEnvelope()
	blocks := countElements(got, "UsernameToken")
	st := d.mc1.Stats()
	o := outcome{measured: fmt.Sprintf("%d/%d OK; %s; %s", ok, soapCalls, plural(blocks, "UsernameToken block"), plural(st.TokenRequests, "token request"))}
	o.check(ok == soapCalls, "want %d SOAP calls accepted, %d were", soapCalls, ok)
	o.check(blocks == 1, "want exactly 1 UsernameToken in the envelope received, measured %d", blocks)
	o.check(st.TokenRequests == 0, "want no token request, measured %d", st.TokenRequests)
	return o
}

// tokenExpiredReplay: the server expires the token behind the Source's back; the
// next SOAP call gets a "Token Expired" fault, and the Transport replays it once
// with a new token.
func tokenExpiredReplay(ctx context.Context, d *demo, s *session) outcome {
	first, err := soapCall(ctx, s.client, s.url, retrieveEnvelope(false))
	if err != nil {
		return failed("first SOAP call: %v", err)
	}
	used, _ := s.tr.Source().Current()
	d.mc2.ExpireToken(used.AccessToken)
	second, err := soapCall(ctx, s.client, s.url, retrieveEnvelope(false))
	if err != nil {
		return failed("SOAP call after the expiry: %v", err)
	}
	st, ts := d.mc2.Stats(), s.tr.Source().Stats()
	faults := st.Rejections[emulator.ReasonExpiredToken]
	o := outcome{measured: fmt.Sprintf("%s → %s, %s; HTTP %d", plural(faults, "fault"), plural(int(ts.Replays), "replay"), plural(st.TokenRequests, "token request"), second)}
	o.check(first == http.StatusOK, "want the first call accepted, got HTTP %d", first)
	o.check(faults == 1, "want 1 \"Token Expired\" fault, measured %d", faults)
	o.check(ts.Replays == 1, "want 1 replay, measured %d", ts.Replays)
	o.check(st.TokenRequests == 2, "want 2 token requests, measured %d", st.TokenRequests)
	o.check(second == http.StatusOK, "want the replayed call accepted, got HTTP %d", second)
	return o
}

// breakerOnRevoked: the client is revoked while its token is cached. Rounds of
// calls a minute apart (so that the Source's backoff never holds them back) must
// cost at most a handful of token requests before the breaker opens, and fail fast
// from then on.
func breakerOnRevoked(ctx context.Context, d *demo, s *session) outcome {
	d.mc1.RevokeClient(clientBreaker)
	defer d.mc1.RestoreClient(clientBreaker)
	d.mc1.ResetStats()

	var rejected, open, backoff, other, ok atomic.Int64
	for range breakerRounds {
		cr := startCrowd(breakerCallers, func() error {
			err := s.do(ctx)
			var retry *transport.RetryError
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, transport.ErrCircuitOpen):
				open.Add(1)
			case errors.As(err, &retry):
				backoff.Add(1)
			case errors.Is(err, transport.ErrCredentialsRejected):
				rejected.Add(1)
			default:
				other.Add(1)
			}
			return err
		})
		cr.done.Wait()
		d.clock.Advance(time.Minute)
	}
	st := d.mc1.Stats()
	total := int64(breakerRounds * breakerCallers)
	fast := open.Load() + backoff.Load()
	state := s.tr.Source().Stats().Breaker
	o := outcome{measured: fmt.Sprintf("%s for %d failed calls; %d refused at once; breaker %s",
		plural(st.TokenRequests, "token request"), total-ok.Load(), fast, state)}
	o.check(st.TokenRequests >= 1 && st.TokenRequests <= breakerMaxAsks, "want 1 to %d token requests, measured %d", breakerMaxAsks, st.TokenRequests)
	o.check(ok.Load() == 0, "%d calls succeeded with revoked credentials", ok.Load())
	o.check(other.Load() == 0, "%d calls failed with an unexpected error", other.Load())
	o.check(open.Load() > 0, "no call was refused by an open breaker")
	o.check(state == "open", "want the breaker open, it is %s", state)
	return o
}

// acousticThreeHours: Acoustic mints a new token only once the current one is
// three hours old. Asked again at two hours it answers with the same token; the
// Transport itself does not ask before three hours, and asks once after.
func acousticThreeHours(ctx context.Context, d *demo, s *session) outcome {
	first, _ := s.tr.Source().Current()

	d.clock.Advance(2 * time.Hour)
	probe, err := acoustic.NewProvider(d.acousticConfig(refresh3h, nil))
	if err != nil {
		return failed("%v", err)
	}
	again, err := probe.Fetch(ctx)
	if err != nil {
		return failed("asking again at 2 h: %v", err)
	}
	inside := startCrowd(acousticCallers, func() error { return s.do(ctx) })
	inside.done.Wait()
	stInside := d.ac.Stats()

	d.clock.Advance(time.Hour + time.Minute)
	after := startCrowd(acousticCallers, func() error { return s.do(ctx) })
	after.done.Wait()
	s.tr.Source().Wait()
	second, _ := s.tr.Source().Current()
	stAfter := d.ac.Stats()

	same := again.AccessToken == first.AccessToken
	mintsInside := stInside.TokensIssued - 1 // less the first token
	asksInside := stInside.TokenRequests - 2 // less the first fetch and the probe
	mintsAfter := stAfter.TokensIssued - stInside.TokensIssued
	sameWord := "same token"
	if !same {
		sameWord = "a different token"
	}
	o := outcome{measured: fmt.Sprintf("2 h: %s, %s, %s; 3 h 01: %s",
		sameWord, plural(mintsInside, "mint"), plural(asksInside, "ask"), plural(mintsAfter, "mint"))}
	o.check(same, "asked again inside 3 h, the emulator answered with a different token")
	o.check(mintsInside == 0, "want no mint inside 3 h, measured %d", mintsInside)
	o.check(asksInside == 0, "want the Transport not to ask inside 3 h, it asked %d times", asksInside)
	o.check(mintsAfter == 1, "want 1 mint after 3 h, measured %d", mintsAfter)
	o.check(second.AccessToken != first.AccessToken, "the token was not renewed after 3 h")
	o.check(inside.ok.Load()+after.ok.Load() == 2*acousticCallers, "want every call to succeed, %d did (first error: %v)",
		inside.ok.Load()+after.ok.Load(), errors.Join(inside.firstErr(), after.firstErr()))
	return o
}

// acousticInFlightCap: fifty XML API calls at once while the emulator holds every
// call it receives. The Transport's limiter must let ten through and queue the
// rest, so that the emulator, which rejects an eleventh, rejects none.
func acousticInFlightCap(ctx context.Context, d *demo, _ *session) outcome {
	lim := &countingLimiter{Limiter: acoustic.NewLimiter(acoustic.DefaultMaxInFlight, acoustic.Wait)}
	tr, err := acoustic.NewTransport(d.acousticConfig(refreshCap, lim))
	if err != nil {
		return failed("%v", err)
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	url := d.ac.URL + "/XMLAPI"
	if err := xmlCall(ctx, client, url); err != nil {
		return failed("first call: %v", err)
	}
	d.ac.ResetStats()

	reached := lim.arm(acousticCallers)
	d.ac.HoldAPICalls()
	cr := startCrowd(acousticCallers, func() error { return xmlCall(ctx, client, url) })
	defer cr.finish(d.ac.ReleaseAPICalls)
	if err := d.ac.WaitAPICallsHeld(ctx, acoustic.DefaultMaxInFlight); err != nil {
		return failed("calls did not arrive: %v", err)
	}
	select {
	case <-reached:
	case <-ctx.Done():
		return failed("not every call reached the limiter: %v", ctx.Err())
	}
	queued := lim.waiting()
	d.ac.ReleaseAPICalls()
	cr.done.Wait()

	st := d.ac.Stats()
	ok := cr.ok.Load()
	o := outcome{measured: fmt.Sprintf("peak %d in flight, %d queued, %d rejected; %d/%d OK",
		st.MaxConcurrent, queued, st.ConcurrencyRejections, ok, acousticCallers)}
	o.check(st.MaxConcurrent <= acoustic.DefaultMaxInFlight, "want at most %d in flight, measured %d", acoustic.DefaultMaxInFlight, st.MaxConcurrent)
	o.check(st.ConcurrencyRejections == 0, "the emulator rejected %d calls over its cap", st.ConcurrencyRejections)
	o.check(queued == acousticCallers-acoustic.DefaultMaxInFlight, "want %d calls queued in the limiter, measured %d",
		acousticCallers-acoustic.DefaultMaxInFlight, queued)
	o.check(ok == acousticCallers, "want %d calls to succeed, %d did (first error: %v)", acousticCallers, ok, cr.firstErr())
	return o
}

// mcv1Session opens a session for a legacy package's client against the demo's
// emulator, whose calls are REST calls to path.
func mcv1Session(client, path string) opener {
	return func(_ context.Context, d *demo) (*session, error) {
		return open(d.mc1.URL+path, restCall, mcv1.NewTransport, mcv1.Config{AuthURL: d.mc1.URL, ClientID: client, ClientSecret: demoSecret, Common: d.common(0)})
	}
}

// mcv2Session opens a session for an enhanced package's client against the demo's
// emulator, over connections capped at conns (0: no cap), whose calls are REST
// calls to path.
func mcv2Session(client string, conns int, path string) opener {
	return func(_ context.Context, d *demo) (*session, error) {
		return open(d.mc2.URL+path, restCall, mcv2.NewTransport, mcv2.Config{AuthURL: d.mc2.URL, ClientID: client, ClientSecret: demoSecret, Common: d.common(conns)})
	}
}

// acousticSession opens a session for a user's refresh token against the demo's
// emulator, whose calls are XML API calls.
func acousticSession(refreshToken string) opener {
	return func(_ context.Context, d *demo) (*session, error) {
		return open(d.ac.URL+"/XMLAPI", xmlCall, acoustic.NewTransport, d.acousticConfig(refreshToken, nil))
	}
}

// acousticConfig is an Acoustic configuration against the demo's emulator, with
// lim as its in-flight limiter (nil: the default cap).
func (d *demo) acousticConfig(refreshToken string, lim acoustic.Limiter) acoustic.Config {
	return acoustic.Config{
		BaseURL:      d.ac.URL,
		ClientID:     clientAcoustic,
		ClientSecret: demoSecret,
		RefreshToken: refreshToken,
		Limiter:      lim,
		Common:       d.common(0),
	}
}

// common is what every session's Config takes: the demo's clock, and API calls
// over connections capped at conns (0: no cap).
func (d *demo) common(conns int) provider.Common {
	return provider.Common{Source: transport.Settings{Clock: d.clock.Now}, Transport: transport.Options{Base: pool(conns)}}
}

// plural renders a count with its noun: "1 replay", "2 replays".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	if strings.HasSuffix(noun, "sh") {
		return fmt.Sprintf("%d %ses", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
