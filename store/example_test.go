package store_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/tokentrip/tokentrip/provider"
	"github.com/tokentrip/tokentrip/provider/mcv2"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
	"github.com/tokentrip/tokentrip/store"
	"github.com/tokentrip/tokentrip/transport"
)

// A Memory keeps the access token issued with each refresh token: a holder of
// the credential whose own rotation was refused — another holder spent the same
// refresh token first — finds the winner's successor and access token, and uses
// them instead of failing. The providers do this by themselves.
func ExampleMemory() {
	ctx := context.Background()
	rts := &store.Memory{}
	_ = rts.CompareAndSwap(ctx, "user-1", "", "rt-1")

	// The winner spent rt-1 and stores its successor with the access token.
	access := transport.Token{AccessToken: "at-2", Expiry: time.Now().Add(20 * time.Minute)}
	_ = rts.CompareAndSwapPair(ctx, "user-1", "rt-1", "rt-2", access)

	// The loser spent rt-1 too, was refused, and lost the compare-and-swap.
	err := rts.CompareAndSwapPair(ctx, "user-1", "rt-1", "rt-2b", transport.Token{})
	fmt.Println(errors.Is(err, store.ErrConflict))
	next, tok, _ := rts.LoadPair(ctx, "user-1")
	fmt.Println(next, tok.AccessToken, rts)
	// Output:
	// true
	// rt-2 at-2 store.Memory{[REDACTED]}
}

// A File keeps a user's rotating refresh token across restarts: the web app
// redeems the authorization code once, and a process started later renews the
// access token with the saved refresh token instead of asking the user again.
func ExampleNewFile() {
	dir, err := os.MkdirTemp("", "tokentrip-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "refresh-tokens.json")
	srv := mcv2test.NewServer()
	defer srv.Close()
	ctx := context.Background()

	cfg := mcv2.Config{
		AuthURL:       srv.URL,
		ClientID:      srv.WebAppID,
		ClientSecret:  srv.WebAppSecret,
		RedirectURI:   "https://app.example.com/mc/callback",
		RefreshTokens: store.NewFile(path),
	}
	first, err := mcv2.NewProvider(cfg)
	if err != nil {
		log.Fatal(err)
	}
	code := srv.IssueCode(mcv2test.CodeGrant{RedirectURI: cfg.RedirectURI}) // what the callback brings
	if _, err := first.Exchange(ctx, mcv2.Callback{Code: code}); err != nil {
		log.Fatal(err)
	}

	// A restart: a new Provider over the same file.
	cfg.RefreshTokens = store.NewFile(path)
	restarted, err := mcv2.NewProvider(cfg)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := restarted.Fetch(ctx); err != nil {
		log.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("file mode:", info.Mode().Perm())
	fmt.Println(srv.Stats().TokenRequestsByGrant)
	// Output:
	// file mode: -rw-------
	// map[authorization_code:1 refresh_token:1]
}

// A TokenCache lets short-lived runs — a cron job, a CLI — share an access token:
// each run builds its client anew, and only the first asks the token endpoint.
func ExampleNewTokenCache() {
	srv := mcv2test.NewServer()
	defer srv.Close()
	dir, err := os.MkdirTemp("", "tokentrip-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	cfg := mcv2.Config{AuthURL: srv.URL, ClientID: srv.ClientID, ClientSecret: srv.ClientSecret}
	run := func() { // one run of the cron job
		cache, err := store.NewTokenCache(filepath.Join(dir, "cache"))
		if err != nil {
			log.Fatal(err)
		}
		cfg.Source.Store = cache
		client, err := mcv2.NewClient(cfg)
		if err != nil {
			log.Fatal(err)
		}
		defer client.CloseIdleConnections()
		resp, err := client.Get(srv.URL + "/platform/v1/endpoints")
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		fmt.Print(resp.Status, "; ")
	}
	run()
	run()
	run()
	fmt.Println("token requests:", srv.Stats().TokenRequests)
	// Output: 200 OK; 200 OK; 200 OK; token requests: 1
}

// Transports in one process that talk for one credential share its token through
// a MemoryTokens: the first fetches, the others adopt its token. Across processes,
// a Redis store does the same.
func ExampleMemoryTokens() {
	srv := mcv2test.NewServer()
	defer srv.Close()
	shared := &store.MemoryTokens{} // across processes: a redisstore.Store
	cfg := mcv2.Config{AuthURL: srv.URL, ClientID: srv.ClientID, ClientSecret: srv.ClientSecret,
		Common: provider.Common{HTTPClient: srv.Client(), Source: transport.Settings{Store: shared}}}
	for range 3 {
		tr, err := mcv2.NewTransport(cfg)
		if err != nil {
			log.Fatal(err)
		}
		if _, err := tr.Source().Token(context.Background()); err != nil {
			log.Fatal(err)
		}
		tr.CloseIdleConnections()
	}
	fmt.Println("token requests:", srv.Stats().TokenRequests)
	// Output: token requests: 1
}
