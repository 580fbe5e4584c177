package mcv1_test

import (
	"context"
	"fmt"
	"log"
	"net/http"

	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/provider/mcv1"
	"github.com/tokentrip/tokentrip/provider/mcv1/mcv1test"
	"github.com/tokentrip/tokentrip/store"
	"github.com/tokentrip/tokentrip/transport"
)

// A client whose requests to the tenant's hosts carry a token; the emulator stands
// in for Marketing Cloud.
func ExampleNewClient() {
	mc := mcv1test.NewServer()
	defer mc.Close()

	client, err := mcv1.NewClient(mcv1.Config{
		AuthURL:      mc.URL, // a tenant sets Subdomain: "mc…" instead
		ClientID:     mc.ClientID,
		ClientSecret: mc.ClientSecret,
	})
	if err != nil {
		log.Fatal(err)
	}
	printStatuses(mc.URL+"/platform/v1/endpoints", client, client, client)
	fmt.Println("token requests:", mc.Stats().TokenRequests)
	// Output:
	// 200 OK
	// 200 OK
	// 200 OK
	// token requests: 1
}

// Servers that share one legacy package must share a Store: a token issued to the
// package can revoke the one another server holds, so servers fetching their own
// tokens would knock each other out on every call. Across processes the Store is
// a Redis one (store/redis: redisstore.New(rdb, opts)); here two Transports in one process
// stand for two servers, and a store.MemoryTokens for Redis.
func ExampleConfig_store() {
	mc := mcv1test.NewServer(mcv1test.WithOneTokenPerClient())
	defer mc.Close()

	shared := &store.MemoryTokens{} // a fleet: st, err := redisstore.New(rdb, opts)
	var servers []*http.Client
	for range 2 {
		client, err := mcv1.NewClient(mcv1.Config{
			AuthURL:      mc.URL,
			ClientID:     mc.ClientID,
			ClientSecret: mc.ClientSecret,
			Common:       provider.Common{Source: transport.Settings{Store: shared}},
		})
		if err != nil {
			log.Fatal(err)
		}
		servers = append(servers, client)
	}
	printStatuses(mc.URL+"/platform/v1/endpoints", servers[0], servers[1], servers[0], servers[1])
	fmt.Println("token requests:", mc.Stats().TokenRequests)
	// Output:
	// 200 OK
	// 200 OK
	// 200 OK
	// 200 OK
	// token requests: 1
}

// Offline access: the first fetch asks for a refresh token, every later one redeems
// the stored one and stores its successor. A store.File keeps it across restarts.
func ExampleConfig_offline() {
	mc := mcv1test.NewServer()
	defer mc.Close()

	refreshTokens := &store.Memory{} // or store.NewFile(path), or a Redis store
	p, err := mcv1.NewProvider(mcv1.Config{
		AuthURL:       mc.URL,
		ClientID:      mc.ClientID,
		ClientSecret:  mc.ClientSecret,
		Offline:       true,
		RefreshTokens: refreshTokens,
	})
	if err != nil {
		log.Fatal(err)
	}
	for range 3 {
		if _, err := p.Fetch(context.Background()); err != nil {
			log.Fatal(err)
		}
	}
	byGrant := mc.Stats().TokenRequestsByGrant
	fmt.Println("with client credentials:", byGrant["client_credentials"])
	fmt.Println("with a refresh token:", byGrant["refresh_token"])
	// Output:
	// with client credentials: 1
	// with a refresh token: 2
}

// The legacy token comes with the access token the Source holds.
func ExampleProvider_LegacyToken() {
	mc := mcv1test.NewServer()
	defer mc.Close()

	p, err := mcv1.NewProvider(mcv1.Config{
		AuthURL:      mc.URL,
		ClientID:     mc.ClientID,
		ClientSecret: mc.ClientSecret,
		Legacy:       true,
	})
	if err != nil {
		log.Fatal(err)
	}
	tr := p.NewTransport() // once per Provider: each call makes a new Source
	tok, err := tr.Source().Token(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	legacy, ok := p.LegacyToken(tok)
	fmt.Println(ok, legacy != "" && legacy != tok.AccessToken)
	// Output: true true
}

// A Config prints and logs without its secret.
func ExampleConfig_String() {
	cfg := mcv1.Config{
		Subdomain:    "mc563885gzs27c5t9-63k636ttgm",
		ClientID:     "4r8sz2k0bpe4x2ax1ky8h3bh",
		ClientSecret: "Ds7d2KzV0MxCgHhYjMw7Yx8p",
	}
	fmt.Println(cfg)
	// Output: mcv1.Config{Subdomain:mc563885gzs27c5t9-63k636ttgm ClientID:4r8sz2k0bpe4x2ax1ky8h3bh ClientSecret:[REDACTED]}
}

// Configuration mistakes are reported before anything is sent, naming the field.
func ExampleConfig_Validate() {
	err := mcv1.Config{
		Subdomain:    "mc563885gzs27c5t9",
		ClientID:     "4r8sz2k0bpe4x2ax1ky8h3bh",
		ClientSecret: "Ds7d2KzV0MxCgHhYjMw7Yx8p",
	}.Validate()
	fmt.Println(err)
	// Output: mcv1: invalid configuration: Subdomain: must be 28 characters long; copy it from Installed Packages
}

// printStatuses sends one GET to url with each client in turn and prints the
// statuses.
func printStatuses(url string, clients ...*http.Client) {
	for _, client := range clients {
		resp, err := client.Get(url)
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		fmt.Println(resp.Status)
	}
}
