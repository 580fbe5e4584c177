package acoustic_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"strings"

	"github.com/tokentrip/tokentrip/provider/acoustic"
	"github.com/tokentrip/tokentrip/provider/acoustic/acoustictest"
)

// Call an org's XML API with a client that takes care of the token. The emulator
// stands in for the pod; against Acoustic, set Pod instead of BaseURL.
func Example() {
	srv := acoustictest.NewServer()
	defer srv.Close()

	client, err := acoustic.NewClient(acoustic.Config{
		BaseURL:      srv.URL, // in production: Pod: "6", say
		ClientID:     srv.ClientID,
		ClientSecret: srv.ClientSecret,
		RefreshToken: srv.RefreshToken,
	})
	if err != nil {
		log.Fatal(err)
	}
	for range 3 {
		fmt.Println(callXMLAPI(client, srv.URL))
	}
	fmt.Println("token requests:", srv.Stats().TokenRequests)
	// Output:
	// 200 OK <Envelope><Body><RESULT><SUCCESS>TRUE</SUCCESS></RESULT></Body></Envelope>
	// 200 OK <Envelope><Body><RESULT><SUCCESS>TRUE</SUCCESS></RESULT></Body></Envelope>
	// 200 OK <Envelope><Body><RESULT><SUCCESS>TRUE</SUCCESS></RESULT></Body></Envelope>
	// token requests: 1
}

// When the XML API says the session expired (fault 145), the Transport fetches a
// new token and sends the call again, once.
func ExampleNewTransport() {
	srv := acoustictest.NewServer()
	defer srv.Close()

	tr, err := acoustic.NewTransport(acoustic.Config{
		BaseURL:      srv.URL,
		ClientID:     srv.ClientID,
		ClientSecret: srv.ClientSecret,
		RefreshToken: srv.RefreshToken,
	})
	if err != nil {
		log.Fatal(err)
	}
	client := &http.Client{Transport: tr}

	status, _ := callXMLAPI(client, srv.URL)
	fmt.Println(status)
	tok, _ := tr.Source().Current()
	srv.ExpireToken(tok.AccessToken)
	status, _ = callXMLAPI(client, srv.URL)
	fmt.Println(status)
	fmt.Println("token requests:", srv.Stats().TokenRequests, "replays:", tr.Source().Stats().Replays)
	// Output:
	// 200 OK
	// 200 OK
	// token requests: 2 replays: 1
}

// Endpoint is where a pod's API calls go.
func ExampleConfig_Endpoint() {
	for _, pod := range []string{"1", "6", "b", "pilot"} {
		base, _ := acoustic.Config{Pod: pod}.Endpoint()
		fmt.Println(pod, base)
	}
	// Output:
	// 1 https://api-campaign-us-1.goacoustic.com
	// 6 https://api-campaign-eu-1.goacoustic.com
	// b https://api-campaign-ap-3.goacoustic.com
	// pilot https://api-campaign-pilot.goacoustic.com
}

func ExampleConfig_Validate() {
	cfg := acoustic.Config{Pod: "12", ClientID: "id", ClientSecret: "secret", RefreshToken: "refresh"}
	fmt.Println(cfg.Validate())
	// Output:
	// acoustic: invalid configuration: Pod: unknown pod "12"; the pods are 1, 2, 3, 4, 5, 6, 7, 8, 9, A, B, PILOT (for a newer one, set BaseURL instead)
}

// Transports of one org share Acoustic's cap of ten requests in flight, so they
// should share one Limiter. (A Limiter kept outside the process can span several.)
func ExampleLimiter() {
	srv := acoustictest.NewServer()
	defer srv.Close()

	// FailFast here only to show the cap below; Wait queues the eleventh instead.
	shared := acoustic.NewLimiter(acoustic.DefaultMaxInFlight, acoustic.FailFast)
	cfg := acoustic.Config{
		BaseURL:      srv.URL,
		ClientID:     srv.ClientID,
		ClientSecret: srv.ClientSecret,
		RefreshToken: srv.RefreshToken,
		Limiter:      shared,
	}
	reports, _ := acoustic.NewClient(cfg)
	mailings, _ := acoustic.NewClient(cfg)
	for _, client := range []*http.Client{reports, mailings} {
		resp, err := client.Get(srv.URL + "/rest/databases")
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		fmt.Println(resp.Status)
	}
	// Both calls gave their slots back: ten are free, and no eleventh.
	free := 0
	for {
		if _, err := shared.Acquire(context.Background()); err != nil {
			fmt.Println("free slots:", free, "then:", err)
			break
		}
		free++
	}
	// Output:
	// 200 OK
	// 200 OK
	// free slots: 10 then: acoustic: too many requests in flight for the org
}

// callXMLAPI sends one XML API call (GetLists) to the org at base and returns the
// answer's status and body.
func callXMLAPI(client *http.Client, base string) (status, body string) {
	resp, err := client.Post(base+"/XMLAPI", "text/xml;charset=UTF-8",
		strings.NewReader(`<Envelope><Body><GetLists><VISIBILITY>1</VISIBILITY><LIST_TYPE>2</LIST_TYPE></GetLists></Body></Envelope>`))
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.Status, string(b)
}
