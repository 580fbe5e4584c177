package mcv2test

import (
	"net/http"
	"strconv"

	"github.com/tokentrip/tokentrip/internal/emulator"
)

type userinfo struct {
	Sub          string           `json:"sub"`
	User         userinfoUser     `json:"user"`
	Organization userinfoOrg      `json:"organization"`
	REST         userinfoEndpoint `json:"rest"`
}

type userinfoUser struct {
	Sub               string `json:"sub"`
	Name              string `json:"name"`
	PreferredUsername string `json:"preferred_username"`
	Email             string `json:"email"`
}

type userinfoOrg struct {
	MemberID     int64  `json:"member_id"`
	EnterpriseID int64  `json:"enterprise_id"`
	StackKey     string `json:"stack_key"`
}

type userinfoEndpoint struct {
	RESTInstanceURL string `json:"rest_instance_url"`
	SOAPInstanceURL string `json:"soap_instance_url"`
}

// serveUserinfo answers GET /v2/userinfo for a valid access token: the user (the
// token's client stands in for one), the organization with the token's business
// unit as member_id (the Server's AccountID when it was requested without account_id),
// and the instance URLs. A missing or bad token gets the REST API's 401.
func (s *Server) serveUserinfo(w http.ResponseWriter, r *http.Request) {
	value, _ := emulator.BearerToken(r)
	tok, verdict := s.core.Tokens.Check(value, emulator.AccessToken)
	if verdict != emulator.Valid {
		if value == "" {
			s.core.Counters.Reject(emulator.ReasonMissingToken)
		} else {
			s.core.Counters.Reject(verdict.Reason())
		}
		emulator.WriteNotAuthorized(w)
		return
	}
	account := tok.AccountID
	if account == "" {
		account = s.AccountID
	}
	member, _ := strconv.ParseInt(account, 10, 64)
	enterprise, _ := strconv.ParseInt(s.AccountID, 10, 64)
	rest, soap := s.instanceURLs()
	emulator.WriteJSON(w, http.StatusOK, userinfo{
		Sub: tok.ClientID,
		User: userinfoUser{
			Sub:               tok.ClientID,
			Name:              "tokentrip emulator user",
			PreferredUsername: "tokentrip-user",
			Email:             "tokentrip-user@example.com",
		},
		Organization: userinfoOrg{MemberID: member, EnterpriseID: enterprise, StackKey: "S0"},
		REST:         userinfoEndpoint{RESTInstanceURL: rest, SOAPInstanceURL: soap},
	})
}

// TokenAccount returns the account_id (business unit MID) an access or refresh
// token was requested for, "" if none was; ok is false for a token this server
// never issued.
func (s *Server) TokenAccount(token string) (accountID string, ok bool) {
	t, ok := s.core.Tokens.Lookup(token)
	return t.AccountID, ok
}
