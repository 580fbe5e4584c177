package mcv2test_test

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"strings"

	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
)

// Start an emulator and fetch a client_credentials token with plain net/http.
func Example() {
	srv := mcv2test.NewServer()
	defer srv.Close()

	body := fmt.Sprintf(`{"grant_type":"client_credentials","client_id":%q,"client_secret":%q,"account_id":"5150"}`,
		srv.ClientID, srv.ClientSecret)
	resp, err := http.Post(srv.URL+"/v2/token", "application/json", strings.NewReader(body))
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken     string `json:"access_token"`
		TokenType       string `json:"token_type"`
		ExpiresIn       int    `json:"expires_in"`
		RESTInstanceURL string `json:"rest_instance_url"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil {
		log.Fatal(err)
	}
	account, _ := srv.TokenAccount(tok.AccessToken)
	fmt.Println(resp.Status, tok.TokenType, tok.ExpiresIn)
	fmt.Println("REST calls go to the emulator:", tok.RESTInstanceURL == srv.URL+"/")
	fmt.Println("account:", account)
	// Output:
	// 200 OK Bearer 1200
	// REST calls go to the emulator: true
	// account: 5150
}

// Exchange an authorization code for a rotating pair of tokens.
func ExampleServer_IssueCode() {
	srv := mcv2test.NewServer()
	defer srv.Close()
	code := srv.IssueCode(mcv2test.CodeGrant{RedirectURI: "https://app.example/callback"})

	body := fmt.Sprintf(`{"grant_type":"authorization_code","code":%q,"redirect_uri":"https://app.example/callback","client_id":%q,"client_secret":%q}`,
		code, srv.WebAppID, srv.WebAppSecret)
	for range 2 { // a code is good for one exchange only
		resp, err := http.Post(srv.URL+"/v2/token", "application/json", strings.NewReader(body))
		if err != nil {
			log.Fatal(err)
		}
		var tok struct {
			RefreshToken string `json:"refresh_token"`
			Error        string `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&tok)
		resp.Body.Close()
		fmt.Printf("%s refresh_token:%t error:%q\n", resp.Status, tok.RefreshToken != "", tok.Error)
	}
	// Output:
	// 200 OK refresh_token:true error:""
	// 400 Bad Request refresh_token:false error:"invalid_grant"
}
