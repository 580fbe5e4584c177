package envelope

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"
)

const (
	wsseOpen  = `<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"`
	wsuDecl   = ` xmlns:wsu="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"`
	userToken = `<wsse:UsernameToken><wsse:Username>api.user</wsse:Username>` +
		`<wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText">p&amp;ss&lt;word</wsse:Password>` +
		`</wsse:UsernameToken></wsse:Security>`
)

var securityName = xml.Name{Space: uriWSSE, Local: "Security"}

func TestUsernameTokenShapes(t *testing.T) {
	c := UsernameToken(UsernameTokenConfig{Username: "api.user", Password: "p&ss<word"})
	for _, tt := range []struct{ name, in, want string }{
		{
			name: "SOAP 1.1, the Header's prefix",
			in:   `<soap:Envelope xmlns:soap=` + ns11 + `><soap:Header/><soap:Body/></soap:Envelope>`,
			want: `<soap:Envelope xmlns:soap=` + ns11 + `><soap:Header>` + wsseOpen + ` soap:mustUnderstand="1">` + userToken + `</soap:Header><soap:Body/></soap:Envelope>`,
		},
		{
			name: "SOAP 1.2, a new Header in the Envelope's prefix",
			in:   `<env:Envelope xmlns:env=` + ns12 + `><env:Body/></env:Envelope>`,
			want: `<env:Envelope xmlns:env=` + ns12 + `><env:Header>` + wsseOpen + ` env:mustUnderstand="1">` + userToken + `</env:Header><env:Body/></env:Envelope>`,
		},
		{
			name: "the Header's own prefix, not the Envelope's",
			in:   `<soap:Envelope xmlns:soap=` + ns11 + `><h:Header xmlns:h=` + ns11 + `></h:Header><soap:Body/></soap:Envelope>`,
			want: `<soap:Envelope xmlns:soap=` + ns11 + `><h:Header xmlns:h=` + ns11 + `>` + wsseOpen + ` h:mustUnderstand="1">` + userToken + `</h:Header><soap:Body/></soap:Envelope>`,
		},
		{
			name: "SOAP 1.1 default namespace: a declared prefix",
			in:   `<Envelope xmlns=` + ns11 + `><Body/></Envelope>`,
			want: `<Envelope xmlns=` + ns11 + `><Header>` + wsseOpen + ` xmlns:soap=` + ns11 + ` soap:mustUnderstand="1">` + userToken + `</Header><Body/></Envelope>`,
		},
		{
			name: "SOAP 1.2 default namespace: a declared prefix",
			in:   `<Envelope xmlns=` + ns12 + `><Header></Header><Body/></Envelope>`,
			want: `<Envelope xmlns=` + ns12 + `><Header>` + wsseOpen + ` xmlns:soap=` + ns12 + ` soap:mustUnderstand="1">` + userToken + `</Header><Body/></Envelope>`,
		},
		{
			name: "an envelope prefix the block would shadow",
			in:   `<wsse:Envelope xmlns:wsse=` + ns11 + `><wsse:Body/></wsse:Envelope>`,
			want: `<wsse:Envelope xmlns:wsse=` + ns11 + `><wsse:Header>` + wsseOpen + ` xmlns:soap=` + ns11 + ` soap:mustUnderstand="1">` + userToken + `</wsse:Header><wsse:Body/></wsse:Envelope>`,
		},
		{
			name: "replacing a fueloauth",
			in:   `<s:Envelope xmlns:s=` + ns11 + `><s:Header><fueloauth xmlns="http://exacttarget.com">OLD</fueloauth></s:Header><s:Body/></s:Envelope>`,
			want: `<s:Envelope xmlns:s=` + ns11 + `><s:Header>` + wsseOpen + ` s:mustUnderstand="1">` + userToken + `</s:Header><s:Body/></s:Envelope>`,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := InjectBytes([]byte(tt.in), c)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("\n got %s\nwant %s", got, tt.want)
			}
			checkInjected(t, []byte(tt.in), got, credential{name: securityName, text: "api.userp&ss<word", mustUnderstand: "1"})
		})
	}
}

func TestUsernameTokenNonceCreatedDigest(t *testing.T) {
	const in = `<soap:Envelope xmlns:soap=` + ns11 + `><soap:Body/></soap:Envelope>`
	now := func() time.Time { return time.Date(2024, 5, 6, 9, 8, 9, 500, time.FixedZone("CEST", 2*3600)) }
	nonce := func() *bytes.Reader {
		return bytes.NewReader([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	}
	const (
		nonceXML   = `<wsse:Nonce EncodingType="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary">AAECAwQFBgcICQoLDA0ODw==</wsse:Nonce>`
		createdXML = `<wsu:Created>2024-05-06T07:08:09Z</wsu:Created>`
		profile    = `http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0`
	)
	for _, tt := range []struct {
		name string
		cfg  UsernameTokenConfig
		want string // the UsernameToken's children after Username
	}{
		{
			name: "text password with nonce and created",
			cfg:  UsernameTokenConfig{Username: "u", Password: "s3cret", Nonce: true, Created: true, Now: now, Rand: nonce()},
			want: `<wsse:Password Type="` + profile + `#PasswordText">s3cret</wsse:Password>` + nonceXML + createdXML,
		},
		{
			// The digest is Base64(SHA-1(nonce + created + password)),
			// computed for this vector outside Go.
			name: "digest implies nonce and created",
			cfg:  UsernameTokenConfig{Username: "u", Password: "s3cret", PasswordType: PasswordDigest, Now: now, Rand: nonce()},
			want: `<wsse:Password Type="` + profile + `#PasswordDigest">5TmRGQFWn2E+QyEPV94NAmK8J5Q=</wsse:Password>` + nonceXML + createdXML,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := InjectBytes([]byte(in), UsernameToken(tt.cfg))
			if err != nil {
				t.Fatal(err)
			}
			want := `<soap:Envelope xmlns:soap=` + ns11 + `><soap:Header>` + wsseOpen + wsuDecl + ` soap:mustUnderstand="1">` +
				`<wsse:UsernameToken><wsse:Username>u</wsse:Username>` + tt.want + `</wsse:UsernameToken></wsse:Security></soap:Header><soap:Body/></soap:Envelope>`
			if string(got) != want {
				t.Errorf("\n got %s\nwant %s", got, want)
			}
		})
	}

	t.Run("a fresh nonce for every envelope", func(t *testing.T) {
		c := UsernameToken(UsernameTokenConfig{Username: "u", Password: "p", Nonce: true})
		a, errA := InjectBytes([]byte(in), c)
		b, errB := InjectBytes([]byte(in), c)
		if errA != nil || errB != nil {
			t.Fatal(errA, errB)
		}
		if len(a) != len(b) || bytes.Equal(a, b) {
			t.Errorf("two envelopes got the same nonce:\n%s\n%s", a, b)
		}
	})
	t.Run("a failing nonce source", func(t *testing.T) {
		c := UsernameToken(UsernameTokenConfig{Username: "u", Password: "p", Nonce: true, Rand: strings.NewReader("short")})
		var out bytes.Buffer
		if _, err := copyInjected(&out, strings.NewReader(in), c); err == nil || !strings.Contains(err.Error(), "nonce") || out.Len() != 0 {
			t.Errorf("err = %v, wrote %d bytes; want a nonce error and nothing written", err, out.Len())
		}
	})
}

func TestCredentialsAreRedacted(t *testing.T) {
	const password = "hunter2-Pa55"
	cfg := UsernameTokenConfig{Username: "api.user", Password: password, Nonce: true}
	values := map[string]any{
		"FuelOAuth":            FuelOAuth(accessToken),
		"UsernameToken":        UsernameToken(cfg),
		"UsernameTokenConfig":  cfg,
		"*UsernameTokenConfig": &cfg,
		"in a struct":          struct{ C Credential }{FuelOAuth(accessToken)},
	}
	for name, v := range values {
		var out []string
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
			out = append(out, fmt.Sprintf(verb, v))
		}
		j, err := json.Marshal(v)
		if err != nil {
			t.Errorf("%s: json: %v", name, err)
		}
		var logs bytes.Buffer
		slog.New(slog.NewTextHandler(&logs, nil)).Info("cfg", "v", v)
		slog.New(slog.NewJSONHandler(&logs, nil)).Info("cfg", "v", v)
		out = append(out, string(j), logs.String())
		for _, s := range out {
			if strings.Contains(s, accessToken) || strings.Contains(s, password) {
				t.Errorf("%s: a secret shows in %s", name, s)
			}
		}
	}

	for _, tt := range []struct {
		got, want string
	}{
		{fmt.Sprint(FuelOAuth(accessToken)), "fueloauth([redacted])"},
		{fmt.Sprintf("%#v", FuelOAuth(accessToken)), `envelope.FuelOAuth("[redacted]")`},
		{fmt.Sprintf("%q", FuelOAuth(accessToken)), `"fueloauth([redacted])"`},
		{fmt.Sprint(UsernameToken(cfg)), "UsernameToken({Username:api.user Password:[redacted] PasswordType:PasswordText Nonce:true Created:false})"},
		{fmt.Sprintf("%+v", UsernameTokenConfig{Username: "u"}), "{Username:u Password: PasswordType:PasswordText Nonce:false Created:false}"},
		{fmt.Sprintf("%#v", UsernameTokenConfig{Username: "u", Password: "p", PasswordType: PasswordDigest}),
			`envelope.UsernameTokenConfig{Username:"u", Password:"[redacted]", PasswordType:envelope.PasswordDigest, Nonce:false, Created:false}`},
		{fmt.Sprint(Credential{}), "envelope.Credential{}"},
		{mustJSON(t, cfg), `{"Username":"api.user","Password":"[redacted]","PasswordType":"PasswordText","Nonce":true,"Created":false}`},
	} {
		if tt.got != tt.want {
			t.Errorf("got  %s\nwant %s", tt.got, tt.want)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestFuelOAuthEscapes(t *testing.T) {
	in := []byte(`<soap:Envelope xmlns:soap=` + ns11 + `><soap:Body/></soap:Envelope>`)
	const odd = "a<b&c>\"d'\r\x01"
	out, err := InjectBytes(in, FuelOAuth(odd))
	if err != nil {
		t.Fatal(err)
	}
	// Characters XML cannot carry become U+FFFD; the rest survive a parse.
	checkInjected(t, in, out, credential{name: fuelName, text: "a<b&c>\"d'\r\uFFFD"})
}
