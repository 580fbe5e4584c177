package mcv1test_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/internal/emulator/emulatortest"
	"github.com/tokentrip/tokentrip/provider/mcv1/mcv1test"
)

// send makes a request to srv; header holds name, value pairs.
var send = emulatortest.Sender(func(srv *mcv1test.Server) (*http.Client, string) { return srv.Client(), srv.URL })

// requestToken posts body as JSON to the token endpoint.
func requestToken(t *testing.T, srv *mcv1test.Server, body string) emulatortest.Reply {
	t.Helper()
	return send(t, srv, http.MethodPost, emulator.MCv1TokenPath, "application/json", body)
}

// tokenBody is the JSON body a token request for the default client sends, plus
// any extra "key":"value" members.
func tokenBody(extra ...string) string {
	members := []string{`"clientId":"` + emulator.MCv1ClientID + `"`, `"clientSecret":"` + emulator.MCv1ClientSecret + `"`}
	for i := 0; i+1 < len(extra); i += 2 {
		members = append(members, `"`+extra[i]+`":"`+extra[i+1]+`"`)
	}
	return "{" + strings.Join(members, ",") + "}"
}

type tokenFields struct {
	AccessToken  string `json:"accessToken"`
	ExpiresIn    int    `json:"expiresIn"`
	RefreshToken string `json:"refreshToken"`
	LegacyToken  string `json:"legacyToken"`
}

// fetchToken asks for a token with body and fails the test unless it gets one.
func fetchToken(t *testing.T, srv *mcv1test.Server, body string) tokenFields {
	t.Helper()
	return emulatortest.Decode[tokenFields](t, requestToken(t, srv, body))
}

// restCall makes a REST call with a bearer token ("" for none).
func restCall(t *testing.T, srv *mcv1test.Server, path, token string) emulatortest.Reply {
	t.Helper()
	return send(t, srv, http.MethodGet, path, "", "", emulatortest.Bearer(token)...)
}
