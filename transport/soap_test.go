package transport_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/envelope"
	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/internal/endpoint"
	"github.com/tokentrip/tokentrip/internal/marketingcloud"
	"github.com/tokentrip/tokentrip/internal/providerfunc"
	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/provider/mcv1/mcv1test"
	"github.com/tokentrip/tokentrip/transport"
)

const retrieveEnvelope = `<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing">
<soapenv:Header><wsa:Action soapenv:mustUnderstand="1">Retrieve</wsa:Action></soapenv:Header>
<soapenv:Body><RetrieveRequestMsg xmlns="http://exacttarget.com/wsdl/partnerAPI"><RetrieveRequest><ObjectType>Subscriber</ObjectType><Properties>EmailAddress</Properties></RetrieveRequest></RetrieveRequestMsg></soapenv:Body>
</soapenv:Envelope>`

// mcv1Provider fetches legacy tokens from the emulator, as small as a provider gets.
func mcv1Provider(emu *mcv1test.Server) transport.Provider {
	ec := endpoint.NewClient("mcv1", emu.Client(), provider.Retry{MaxRetries: -1}, nil)
	return providerfunc.Func(func(ctx context.Context) (transport.Token, error) {
		body := fmt.Sprintf(`{"clientId":%q,"clientSecret":%q}`, emulator.MCv1ClientID, emulator.MCv1ClientSecret)
		resp, err := ec.Post(ctx, emu.URL+emulator.MCv1TokenPath, "application/json", []byte(body))
		if err != nil {
			return transport.Token{}, err
		}
		var tok struct {
			AccessToken string `json:"accessToken"`
			ExpiresIn   int    `json:"expiresIn"`
		}
		if err := json.Unmarshal(resp.Body, &tok); err != nil || tok.AccessToken == "" {
			return transport.Token{}, &transport.FetchError{Kind: transport.ErrCredentialsRejected, StatusCode: resp.StatusCode}
		}
		return transport.Token{AccessToken: tok.AccessToken, Expiry: time.Now().Add(time.Duration(tok.ExpiresIn) * time.Second)}, nil
	})
}

// lengthCheck records the Content-Length of what is sent and checks the body has it.
type lengthCheck struct {
	base    http.RoundTripper
	lengths []int64
	t       *testing.T
}

func (l *lengthCheck) RoundTrip(req *http.Request) (*http.Response, error) {
	l.lengths = append(l.lengths, req.ContentLength)
	return l.base.RoundTrip(req)
}

func newSOAPClient(t *testing.T, emu *mcv1test.Server, src *transport.Source, cred func(transport.Token) envelope.Credential) (*http.Client, *transport.Transport, *lengthCheck) {
	base := emu.Client().Transport.(*http.Transport).Clone()
	t.Cleanup(base.CloseIdleConnections)
	lc := &lengthCheck{base: base, t: t}
	tr := transport.New(src, transport.Options{Hosts: []string{emu.URL}, Base: lc, SOAP: cred})
	return &http.Client{Transport: tr}, tr, lc
}

func postSOAP(t *testing.T, client *http.Client, url, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	req.Header.Set("SOAPAction", "Retrieve")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(got)
}

func TestSOAPFuelOAuthEndToEnd(t *testing.T) {
	emu := mcv1test.NewServer()
	defer emu.Close()
	src := transport.NewSource(mcv1Provider(emu), transport.Settings{})
	client, _, lc := newSOAPClient(t, emu, src, marketingcloud.FuelOAuth)

	resp, body := postSOAP(t, client, emu.URL+"/Service.asmx", retrieveEnvelope)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "<OverallStatus>OK</OverallStatus>") {
		t.Fatalf("status %d body %s", resp.StatusCode, body)
	}
	tok, _ := src.Token(context.Background())
	sent := emu.LastEnvelope()
	block := `<fueloauth xmlns="http://exacttarget.com">` + tok.AccessToken + `</fueloauth>`
	if bytes.Count(sent, []byte("<fueloauth")) != 1 || !bytes.Contains(sent, []byte(block)) {
		t.Fatalf("envelope sent:\n%s", sent)
	}
	if want := int64(len(retrieveEnvelope) + len(block)); lc.lengths[0] != want || int64(len(sent)) != want {
		t.Fatalf("Content-Length %d, body %d, want %d", lc.lengths[0], len(sent), want)
	}
	bodyStart := strings.Index(retrieveEnvelope, "<soapenv:Body>")
	if !bytes.HasSuffix(sent, []byte(retrieveEnvelope[bodyStart:])) {
		t.Fatal("the Body's bytes changed")
	}
	// A REST call through the same Transport still gets a Bearer header.
	rest, err := client.Get(emu.URL + "/hub/v1/campaigns")
	if err != nil {
		t.Fatal(err)
	}
	rest.Body.Close()
	if rest.StatusCode != http.StatusOK {
		t.Fatalf("REST through the SOAP transport: %d", rest.StatusCode)
	}
}

func TestSOAPTokenExpiredIsReplayedWithFreshToken(t *testing.T) {
	emu := mcv1test.NewServer()
	defer emu.Close()
	src := transport.NewSource(mcv1Provider(emu), transport.Settings{})
	client, tr, _ := newSOAPClient(t, emu, src, marketingcloud.FuelOAuth)
	old, _ := src.Token(context.Background())
	emu.ExpireToken(old.AccessToken)

	resp, body := postSOAP(t, client, emu.URL+"/Service.asmx", retrieveEnvelope)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d body %s", resp.StatusCode, body)
	}
	fresh, _ := src.Token(context.Background())
	sent := emu.LastEnvelope()
	if fresh.AccessToken == old.AccessToken || !bytes.Contains(sent, []byte(">"+fresh.AccessToken+"<")) || bytes.Count(sent, []byte("<fueloauth")) != 1 {
		t.Fatalf("replayed envelope:\n%s", sent)
	}
	st := emu.Stats()
	if st.TokenRequests != 2 || st.SOAPCalls != 2 || tr.Source().Stats().Replays != 1 {
		t.Fatalf("token requests %d, SOAP calls %d, replays %d; want 2, 2, 1", st.TokenRequests, st.SOAPCalls, tr.Source().Stats().Replays)
	}
}

func TestSOAPNonAuthFaultReachesCallerIntact(t *testing.T) {
	emu := mcv1test.NewServer()
	defer emu.Close()
	src := transport.NewSource(mcv1Provider(emu), transport.Settings{})
	client, tr, _ := newSOAPClient(t, emu, src, marketingcloud.FuelOAuth)
	emu.ThrottleAPICalls(1)
	resp, body := postSOAP(t, client, emu.URL+"/Service.asmx", retrieveEnvelope)
	if resp.StatusCode != http.StatusInternalServerError || !strings.Contains(body, "Rate Limited") || !strings.HasSuffix(strings.TrimSpace(body), "Envelope>") {
		t.Fatalf("status %d body %s", resp.StatusCode, body)
	}
	if tr.Source().Stats().Replays != 0 || emu.Stats().TokenRequests != 1 {
		t.Fatalf("a throttling fault was treated as a rejection")
	}
}

func TestSOAPMalformedEnvelopeIsNotSent(t *testing.T) {
	emu := mcv1test.NewServer()
	defer emu.Close()
	src := transport.NewSource(mcv1Provider(emu), transport.Settings{})
	_, tr, _ := newSOAPClient(t, emu, src, marketingcloud.FuelOAuth)
	cases := map[string]error{
		"not xml":   envelope.ErrMalformed,
		"<a></a>":   envelope.ErrNotEnvelope,
		"<!DOCTYPE": envelope.ErrDoctype,
	}
	for body, want := range cases {
		tb := &trackingBody{Reader: strings.NewReader(body + retrieveEnvelope)}
		req, _ := http.NewRequest(http.MethodPost, emu.URL+"/Service.asmx", tb)
		req.Header.Set("Content-Type", "text/xml")
		_, err := tr.RoundTrip(req)
		var envErr *envelope.Error
		if !errors.Is(err, want) || !errors.As(err, &envErr) || !tb.closed {
			t.Errorf("%q: err %v, body closed %v; want %v", body, err, tb.closed, want)
		}
	}
	if st := emu.Stats(); st.SOAPCalls != 0 {
		t.Fatalf("SOAP calls %d, want none sent", st.SOAPCalls)
	}
}

func TestSOAPUsernameTokenFetchesNoToken(t *testing.T) {
	emu := mcv1test.NewServer()
	defer emu.Close()
	cred := marketingcloud.UsernameToken(envelope.UsernameTokenConfig{Username: emulator.MCAPIUsername, Password: emulator.MCAPIPassword})
	client, _, _ := newSOAPClient(t, emu, nil, cred)
	resp, body := postSOAP(t, client, emu.URL+"/Service.asmx", retrieveEnvelope)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d body %s", resp.StatusCode, body)
	}
	sent := emu.LastEnvelope()
	security := regexp.MustCompile(`<wsse:Security [^>]*soapenv:mustUnderstand="1"[^>]*><wsse:UsernameToken><wsse:Username>` + emulator.MCAPIUsername)
	if !security.Match(sent) || bytes.Count(sent, []byte("<wsse:Security")) != 1 {
		t.Fatalf("envelope sent:\n%s", sent)
	}
	if st := emu.Stats(); st.TokenRequests != 0 {
		t.Fatalf("token requests %d, want 0", st.TokenRequests)
	}
}
