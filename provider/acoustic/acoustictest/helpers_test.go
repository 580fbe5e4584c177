package acoustictest_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/internal/emulator/emulatortest"
	"github.com/tokentrip/tokentrip/provider/acoustic/acoustictest"
)

// send makes a request to srv; header holds name, value pairs.
var send = emulatortest.Sender(func(srv *acoustictest.Server) (*http.Client, string) { return srv.Client(), srv.URL })

// defaultForm is a token request for the default client and refresh token.
func defaultForm() url.Values {
	return url.Values{
		"grant_type":    {"refresh_token"},
		"client_id":     {emulator.AcousticClientID},
		"client_secret": {emulator.AcousticClientSecret},
		"refresh_token": {emulator.AcousticRefreshToken},
	}
}

func requestToken(t *testing.T, srv *acoustictest.Server, form url.Values) emulatortest.Reply {
	t.Helper()
	return send(t, srv, http.MethodPost, emulator.AcousticTokenPath, "application/x-www-form-urlencoded", form.Encode())
}

type tokenFields struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
}

func fetchToken(t *testing.T, srv *acoustictest.Server, form url.Values) tokenFields {
	t.Helper()
	return emulatortest.Decode[tokenFields](t, requestToken(t, srv, form))
}

const getLists = `<Envelope><Body><GetLists><VISIBILITY>1</VISIBILITY><LIST_TYPE>2</LIST_TYPE></GetLists></Body></Envelope>`

// xmlCall posts an XML API envelope as a raw body with a bearer token ("" for none).
func xmlCall(t *testing.T, srv *acoustictest.Server, token, envelope string) emulatortest.Reply {
	t.Helper()
	return send(t, srv, http.MethodPost, emulator.AcousticXMLAPIPath, "text/xml;charset=UTF-8", envelope, emulatortest.Bearer(token)...)
}
