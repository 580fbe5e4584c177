package benchmarks

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/tokentrip/tokentrip/transport"
)

// tokenSize is the length of the access token the loopback endpoint issues: 1 KiB,
// the size of a Marketing Cloud enhanced-package JWT with a few scopes.
const tokenSize = 1 << 10

// loopback is a token endpoint (POST /token, client credentials) and a protected
// API (GET /api) on one httptest server, counting the connections it accepts.
type loopback struct {
	srv   *httptest.Server
	token string // the access token every fetch returns
	conns atomic.Int64
	body  []byte // the token endpoint's answer
}

func newLoopback(tb testing.TB) *loopback {
	l := &loopback{token: strings.Repeat("t", tokenSize)}
	l.body, _ = json.Marshal(map[string]any{"access_token": l.token, "token_type": "Bearer", "expires_in": 3600})
	want := "Bearer " + l.token
	mux := http.NewServeMux()
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		if id, _, ok := r.BasicAuth(); !ok || id == "" || r.PostFormValue("grant_type") != "client_credentials" {
			http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(l.body)
	})
	mux.HandleFunc("GET /api", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != want {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, `{"ok":true}`)
	})
	l.srv = httptest.NewUnstartedServer(mux)
	l.srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			l.conns.Add(1)
		}
	}
	l.srv.Start()
	tb.Cleanup(l.srv.Close)
	return l
}

// clientCredentials is the token-endpoint client of one credential, the same for
// tokentrip (as its Provider) and x/oauth2 (as its TokenSource), so that the two
// differ only in what they keep around the token.
type clientCredentials struct {
	client     *http.Client // shared by every credential
	url        string
	id, secret string
}

type tokenJSON struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
}

func (c *clientCredentials) exchange(ctx context.Context) (tokenJSON, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, strings.NewReader(form.Encode()))
	if err != nil {
		return tokenJSON{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(c.id, c.secret)
	resp, err := c.client.Do(req)
	if err != nil {
		return tokenJSON{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return tokenJSON{}, fmt.Errorf("token endpoint: %s", resp.Status)
	}
	var tj tokenJSON
	err = json.NewDecoder(resp.Body).Decode(&tj)
	return tj, err
}

// Fetch makes clientCredentials a transport.Provider.
func (c *clientCredentials) Fetch(ctx context.Context) (transport.Token, error) {
	tj, err := c.exchange(ctx)
	if err != nil {
		return transport.Token{}, err
	}
	return transport.Token{AccessToken: tj.AccessToken, Expiry: time.Now().Add(time.Duration(tj.ExpiresIn) * time.Second)}, nil
}

// Token makes clientCredentials an oauth2.TokenSource.
func (c *clientCredentials) Token() (*oauth2.Token, error) {
	tj, err := c.exchange(context.Background())
	if err != nil {
		return nil, err
	}
	return &oauth2.Token{AccessToken: tj.AccessToken, TokenType: tj.TokenType,
		Expiry: time.Now().Add(time.Duration(tj.ExpiresIn) * time.Second)}, nil
}

// call sends one GET /api through rt and checks that it was authenticated.
func (l *loopback) call(rt http.RoundTripper) error {
	req, err := http.NewRequest(http.MethodGet, l.srv.URL+"/api", nil)
	if err != nil {
		return err
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /api: %s", resp.Status)
	}
	return nil
}
