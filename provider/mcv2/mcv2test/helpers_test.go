package mcv2test_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/internal/emulator/emulatortest"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
)

// send makes a request to srv; header holds name, value pairs.
var send = emulatortest.Sender(func(srv *mcv2test.Server) (*http.Client, string) { return srv.Client(), srv.URL })

// requestToken posts a JSON object of the given members to /v2/token.
func requestToken(t *testing.T, srv *mcv2test.Server, members map[string]any) emulatortest.Reply {
	t.Helper()
	b, err := json.Marshal(members)
	if err != nil {
		t.Fatal(err)
	}
	return send(t, srv, http.MethodPost, emulator.MCv2TokenPath, "application/json", string(b))
}

// clientCredentials is the body of a client_credentials request for the default
// server-to-server client, with extra members added.
func clientCredentials(extra ...any) map[string]any {
	m := map[string]any{
		"grant_type":    "client_credentials",
		"client_id":     emulator.MCv2ClientID,
		"client_secret": emulator.MCv2ClientSecret,
	}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i].(string)] = extra[i+1]
	}
	return m
}

type tokenFields struct {
	AccessToken     string `json:"access_token"`
	TokenType       string `json:"token_type"`
	ExpiresIn       int    `json:"expires_in"`
	Scope           string `json:"scope"`
	RESTInstanceURL string `json:"rest_instance_url"`
	SOAPInstanceURL string `json:"soap_instance_url"`
	RefreshToken    string `json:"refresh_token"`
}

// fetchToken asks for a token and fails the test unless it gets one.
func fetchToken(t *testing.T, srv *mcv2test.Server, members map[string]any) tokenFields {
	t.Helper()
	return emulatortest.Decode[tokenFields](t, requestToken(t, srv, members))
}

func restCall(t *testing.T, srv *mcv2test.Server, path, token string) emulatortest.Reply {
	t.Helper()
	return send(t, srv, http.MethodGet, path, "", "", "Authorization", "Bearer "+token)
}

// oauthError is the body the token endpoint fails with.
func oauthError(code, description string) string {
	return `{"error":"` + code + `","error_description":"` + description + `","error_uri":"` + emulator.MCErrorDocs + `"}`
}
