package pool_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"

	"github.com/tokentrip/tokentrip/pool"
	"github.com/tokentrip/tokentrip/provider/mcv2"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
	"github.com/tokentrip/tokentrip/transport"
)

// One enhanced package serving three business units: each is added by name, and
// only the one that is used gets a Source, a breaker and a token.
func Example() {
	srv := mcv2test.NewServer() // stands in for https://SUBDOMAIN.auth.marketingcloudapis.com
	defer srv.Close()

	var p pool.Pool
	for _, mid := range []string{"100000001", "100000002", "100000003"} {
		cfg := mcv2.Config{
			AuthURL:      srv.URL,
			ClientID:     srv.ClientID,
			ClientSecret: srv.ClientSecret,
			AccountID:    mid,
		}
		if err := cfg.Validate(); err != nil { // refuse a bad setting now, not on first use
			log.Fatal(err)
		}
		err := p.Add("bu-"+mid, func() (*transport.Transport, error) { return mcv2.NewTransport(cfg) })
		if err != nil {
			log.Fatal(err)
		}
	}

	tr, err := p.Transport("bu-100000002")
	if err != nil {
		log.Fatal(err)
	}
	client := &http.Client{Transport: tr}
	resp, err := client.Get(srv.URL + "/v2/userinfo") // which business unit is the token for?
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	var info struct {
		Organization struct {
			MemberID int64 `json:"member_id"`
		} `json:"organization"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		log.Fatal(err)
	}
	_, built := p.Built("bu-100000001")
	fmt.Println("token for business unit", info.Organization.MemberID)
	fmt.Println("token requests:", srv.Stats().TokenRequests)
	fmt.Println("bu-100000001 built:", built)
	// Output:
	// token for business unit 100000002
	// token requests: 1
	// bu-100000001 built: false
}

// A credential whose configuration cannot work fails on first use with an *Error
// that names it; the provider's *transport.ConfigError says which setting is wrong,
// and neither shows the secret.
func ExamplePool_Transport() {
	var p pool.Pool
	cfg := mcv2.Config{
		Subdomain:    "mc563885gzs27c5t9-63k636tzgm",
		ClientID:     "4nqpe3xz2k0v8ydn5j7w1c6s",
		ClientSecret: "never-shown",
		AccountID:    "BU-7", // not a MID
	}
	_ = p.Add("emea", func() (*transport.Transport, error) { return mcv2.NewTransport(cfg) })

	_, err := p.Transport("emea")
	var pe *pool.Error
	var ce *transport.ConfigError
	if errors.As(err, &pe) && errors.As(err, &ce) {
		fmt.Println(pe.Name, ce.Field)
	}
	_, err = p.Transport("apac")
	fmt.Println(errors.Is(err, pool.ErrUnknown), err)
	// Output:
	// emea AccountID
	// true pool: credential "apac": no credential of this name in the pool
}
