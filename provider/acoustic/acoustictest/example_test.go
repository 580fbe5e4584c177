package acoustictest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"strings"

	"github.com/tokentrip/tokentrip/provider/acoustic/acoustictest"
)

// Start an emulator, fetch an access token with plain net/http and call the XML API.
func Example() {
	srv := acoustictest.NewServer()
	defer srv.Close()

	form := url.Values{
		"grant_type":    {"refresh_token"},
		"client_id":     {srv.ClientID},
		"client_secret": {srv.ClientSecret},
		"refresh_token": {srv.RefreshToken},
	}
	resp, err := http.PostForm(srv.URL+"/oauth/token", form)
	if err != nil {
		log.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("token:", resp.Status, "expires_in", tok.ExpiresIn)

	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/XMLAPI",
		strings.NewReader(`<Envelope><Body><GetLists><VISIBILITY>1</VISIBILITY><LIST_TYPE>2</LIST_TYPE></GetLists></Body></Envelope>`))
	req.Header.Set("Content-Type", "text/xml;charset=UTF-8")
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println("XML API:", resp.Status, string(body))
	// Output:
	// token: 200 OK expires_in 14400
	// XML API: 200 OK <Envelope><Body><RESULT><SUCCESS>TRUE</SUCCESS></RESULT></Body></Envelope>
}

// Revoke a user's refresh token, as deleting their access in Acoustic's UI does,
// on an organization whose XML API answers a dead session with 401.
func ExampleWithSessionUnauthorized() {
	srv := acoustictest.NewServer(acoustictest.WithSessionUnauthorized())
	defer srv.Close()
	form := url.Values{"grant_type": {"refresh_token"}, "client_id": {srv.ClientID},
		"client_secret": {srv.ClientSecret}, "refresh_token": {srv.RefreshToken}}

	var tok struct {
		AccessToken string `json:"access_token"`
	}
	resp, err := srv.Client().PostForm(srv.URL+"/oauth/token", form)
	if err == nil {
		err = json.NewDecoder(resp.Body).Decode(&tok)
		resp.Body.Close()
	}
	if err != nil {
		log.Fatal(err)
	}

	srv.RevokeToken(srv.RefreshToken) // the access tokens minted from it go too
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/XMLAPI", strings.NewReader(`<Envelope><Body><GetLists/></Body></Envelope>`))
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	xml, err := srv.Client().Do(req)
	if err != nil {
		log.Fatal(err)
	}
	xml.Body.Close()
	again, err := srv.Client().PostForm(srv.URL+"/oauth/token", form)
	if err != nil {
		log.Fatal(err)
	}
	again.Body.Close()
	fmt.Println("XML API:", xml.Status)
	fmt.Println("token:", again.Status)
	fmt.Println("rejections:", srv.Stats().Rejections)
	// Output:
	// XML API: 401 Unauthorized
	// token: 400 Bad Request
	// rejections: map[invalid_grant:1 revoked_token:1]
}
