package mcv1test_test

import (
	"encoding/json"
	"fmt"
	"log"
	"net/http"
	"strings"

	"github.com/tokentrip/tokentrip/provider/mcv1/mcv1test"
)

// Start an emulator, fetch a legacy token with plain net/http and call REST with it.
func Example() {
	srv := mcv1test.NewServer()
	defer srv.Close()

	body := fmt.Sprintf(`{"clientId":%q,"clientSecret":%q}`, srv.ClientID, srv.ClientSecret)
	resp, err := http.Post(srv.URL+"/v1/requestToken", "application/json", strings.NewReader(body))
	if err != nil {
		log.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"accessToken"`
		ExpiresIn   int    `json:"expiresIn"`
	}
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("token:", resp.Status, "expiresIn", tok.ExpiresIn)

	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/platform/v1/endpoints", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println("REST:", resp.Status)
	fmt.Println("tokens issued:", srv.Stats().TokensIssued)
	// Output:
	// token: 200 OK expiresIn 3600
	// REST: 200 OK
	// tokens issued: 1
}

// Make the token endpoint fail twice, the way a flaky auth server would.
func ExampleServer_FailTokenRequests() {
	srv := mcv1test.NewServer()
	defer srv.Close()
	srv.FailTokenRequests(2, http.StatusServiceUnavailable, 0)

	body := fmt.Sprintf(`{"clientId":%q,"clientSecret":%q}`, srv.ClientID, srv.ClientSecret)
	for range 3 {
		resp, err := http.Post(srv.URL+"/v1/requestToken", "application/json", strings.NewReader(body))
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		fmt.Println(resp.Status)
	}
	// Output:
	// 503 Service Unavailable
	// 503 Service Unavailable
	// 200 OK
}
