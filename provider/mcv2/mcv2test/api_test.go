package mcv2test_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/internal/emulator/emulatortest"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
)

func soapEnvelope(tok string) string {
	return `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">` +
		`<soap:Header><fueloauth xmlns="http://exacttarget.com">` + tok + `</fueloauth></soap:Header>` +
		`<soap:Body><CreateRequest xmlns="http://exacttarget.com/wsdl/partnerAPI"><Objects/></CreateRequest></soap:Body></soap:Envelope>`
}

func TestAPIsTakeV2Tokens(t *testing.T) {
	clock := emulatortest.ManualClock()
	srv := mcv2test.NewServer(mcv2test.WithClock(clock.Now))
	defer srv.Close()
	tok := fetchToken(t, srv, clientCredentials("account_id", "5150")).AccessToken

	emulatortest.WantReply(t, restCall(t, srv, "/data/v1/customobjectdata/key/x/rowset", tok), 200,
		`{"ok":true,"method":"GET","path":"/data/v1/customobjectdata/key/x/rowset","bodyLength":0,"accountId":"5150"}`)
	r := send(t, srv, http.MethodPost, "/Service.asmx", "text/xml; charset=utf-8", soapEnvelope(tok), "SOAPAction", "Create")
	// The partner WSDL's order: Results, RequestID, OverallStatus.
	created := regexp.MustCompile(`<CreateResponse xmlns="http://exacttarget.com/wsdl/partnerAPI"><Results><StatusCode>OK</StatusCode>.*</Results>` +
		`<RequestID>[0-9a-f-]{36}</RequestID><OverallStatus>OK</OverallStatus></CreateResponse>`)
	if r.Status != 200 || !created.MatchString(r.Body) {
		t.Fatalf("SOAP: %d %s", r.Status, r.Body)
	}
	if got := string(srv.LastEnvelope()); got != soapEnvelope(tok) {
		t.Errorf("LastEnvelope = %s", got)
	}

	clock.Advance(emulator.MCv2TokenLifetime)
	emulatortest.WantReply(t, restCall(t, srv, "/data/v1/x", tok), 401, emulatortest.MCNotAuthorized)
	r = send(t, srv, http.MethodPost, "/Service.asmx", "text/xml; charset=utf-8", soapEnvelope(tok))
	if r.Status != 500 || !strings.Contains(r.Body, `q0:Security</faultcode><faultstring>Token Expired</faultstring>`) {
		t.Errorf("SOAP with an expired token: %d %s", r.Status, r.Body)
	}
	st := srv.Stats()
	if st.RESTCalls != 2 || st.SOAPCalls != 2 || st.Rejections[emulator.ReasonExpiredToken] != 2 {
		t.Errorf("stats = %+v", st)
	}
}

func TestRevokeClient(t *testing.T) {
	srv := mcv2test.NewServer()
	defer srv.Close()
	code := srv.IssueCode(mcv2test.CodeGrant{RedirectURI: callback})
	web := fetchToken(t, srv, codeRequest(code))
	s2s := fetchToken(t, srv, clientCredentials())

	srv.RevokeClient(emulator.MCv2WebAppID)
	invalidClient := oauthError("invalid_client", "Client authentication failed. Make sure that the client ID and client secret are valid.")
	emulatortest.WantReply(t, requestToken(t, srv, map[string]any{
		"grant_type": "refresh_token", "refresh_token": web.RefreshToken,
		"client_id": emulator.MCv2WebAppID, "client_secret": emulator.MCv2WebAppSecret,
	}), 401, invalidClient)
	emulatortest.WantReply(t, restCall(t, srv, "/x", web.AccessToken), 401, emulatortest.MCNotAuthorized)
	if r := restCall(t, srv, "/x", s2s.AccessToken); r.Status != 200 {
		t.Errorf("another client's token: %d %s", r.Status, r.Body)
	}

	srv.RestoreClient(emulator.MCv2WebAppID)
	emulatortest.WantReply(t, requestToken(t, srv, map[string]any{
		"grant_type": "refresh_token", "refresh_token": web.RefreshToken,
		"client_id": emulator.MCv2WebAppID, "client_secret": emulator.MCv2WebAppSecret,
	}), 400, oauthError("invalid_grant", "The refresh token is invalid, expired, already used or issued to another client."))
	emulatortest.WantRejections(t, srv.Stats().Rejections, map[string]int{
		emulator.ReasonRevokedClient: 1, emulator.ReasonRevokedToken: 1, emulator.ReasonInvalidGrant: 1,
	})
}
