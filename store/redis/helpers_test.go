package redisstore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tokentrip/tokentrip/internal/emulator"
	"github.com/tokentrip/tokentrip/internal/manualclock"
	"github.com/tokentrip/tokentrip/internal/storekey"
	"github.com/tokentrip/tokentrip/provider/mcv1/mcv1test"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
	"github.com/tokentrip/tokentrip/store"
	redisstore "github.com/tokentrip/tokentrip/store/redis"
	"github.com/tokentrip/tokentrip/transport"
)

// fleetKey is the encryption key the test fleets share.
var fleetKey = []byte("tokentrip test fleet key 32 byte")

// options are a Store's settings; newStore and storeOn fill in the fleet's.
type options = redisstore.Options

// defaultPrefix is Options.Prefix's default, as its comment states it: the tests
// find the Store's keys under it.
const defaultPrefix = "tokentrip:"

// redisKey is the Redis key of a Store key's kind of value: "token", "breaker",
// "lock".
func redisKey(id, kind string) string { return defaultPrefix + "{" + id + "}:" + kind }

// testTimeout is the Store timeout of the tests' Stores, unless a test sets its own:
// longer than the default, for a machine that runs the race detector on a few shared
// cores; the tests of the bound set short ones.
const testTimeout = 10 * time.Second

// newStore returns a Store on a new client of r (a process of the fleet, as far
// as Redis can tell), closed at cleanup, with the settings of o: sealed under
// fleetKey unless o gives another key or Unencrypted, with testTimeout unless o
// gives a Timeout.
func (r *redisServer) newStore(o options) *redisstore.Store {
	r.t.Helper()
	if o.Timeout == 0 {
		o.Timeout = testTimeout
	}
	return r.storeOn(r.Client(), o)
}

// storeOn returns a Store on client, closed at cleanup, sealed under fleetKey
// unless o gives another key or Unencrypted.
func (r *redisServer) storeOn(client redis.UniversalClient, o options) *redisstore.Store {
	r.t.Helper()
	st, err := redisstore.New(client, fleetOptions(o))
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { st.Close() })
	return st
}

// fleetOptions are o with the fleet's key, unless o gives another or Unencrypted.
func fleetOptions(o options) options {
	if o.EncryptionKey == nil && !o.Unencrypted {
		o.EncryptionKey = fleetKey
	}
	return o
}

// mcv1Emulator starts a Marketing Cloud legacy emulator on a clock the test moves,
// closed at cleanup.
func mcv1Emulator(t *testing.T) (*fakeClock, *mcv1test.Server) {
	clock := newClock()
	emu := mcv1test.NewServer(mcv1test.WithClock(clock.Now))
	t.Cleanup(emu.Close)
	return clock, emu
}

// mcv2Emulator is mcv1Emulator for Marketing Cloud's enhanced packages.
func mcv2Emulator(t *testing.T) (*fakeClock, *mcv2test.Server) {
	clock := newClock()
	emu := mcv2test.NewServer(mcv2test.WithClock(clock.Now))
	t.Cleanup(emu.Close)
	return clock, emu
}

// mcv1Provider is a minimal Marketing Cloud legacy provider for these tests: it
// asks the emulator at base for a token with the default client, and, with rts,
// redeems and rotates an offline refresh token kept under rtKey. onFetch, if set,
// runs before each request is sent.
type mcv1Provider struct {
	base    string
	now     func() time.Time
	rts     store.RefreshTokens
	onFetch func()
	client  *http.Client
}

const rtKey = "mcv1 offline refresh token"

func (p *mcv1Provider) Fetch(ctx context.Context) (transport.Token, error) {
	body := map[string]string{"clientId": emulator.MCv1ClientID, "clientSecret": emulator.MCv1ClientSecret}
	var spent string
	if p.rts != nil {
		var err error
		if spent, err = p.rts.Load(ctx, rtKey); err != nil {
			return transport.Token{}, &transport.FetchError{Kind: transport.ErrEndpoint, Provider: "test", Err: err}
		}
		if spent != "" {
			body["refreshToken"] = spent
		} else {
			body["accessType"] = "offline"
		}
	}
	if p.onFetch != nil {
		p.onFetch()
	}
	data, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.base+emulator.MCv1TokenPath, bytes.NewReader(data))
	if err != nil {
		return transport.Token{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	client := p.client
	if client == nil {
		client = http.DefaultClient
	}
	sent := time.Now()
	if p.now != nil {
		sent = p.now()
	}
	resp, err := client.Do(req)
	if err != nil {
		return transport.Token{}, &transport.FetchError{Kind: transport.ErrEndpoint, Provider: "test", Err: err}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return transport.Token{}, &transport.FetchError{Kind: transport.ErrCredentialsRejected, Provider: "test", StatusCode: resp.StatusCode, Message: string(raw)}
	}
	var ans struct {
		AccessToken  string `json:"accessToken"`
		ExpiresIn    int    `json:"expiresIn"`
		RefreshToken string `json:"refreshToken"`
	}
	if err := json.Unmarshal(raw, &ans); err != nil {
		return transport.Token{}, &transport.FetchError{Kind: transport.ErrEndpoint, Provider: "test", Err: err}
	}
	if p.rts != nil && ans.RefreshToken != "" {
		// Store the successor before the access token is used; a lost race keeps
		// the winner's, which is valid too.
		if err := p.rts.CompareAndSwap(context.WithoutCancel(ctx), rtKey, spent, ans.RefreshToken); err != nil && err != store.ErrConflict {
			return transport.Token{}, &transport.FetchError{Kind: transport.ErrEndpoint, Provider: "test", Err: err}
		}
	}
	return transport.Token{AccessToken: ans.AccessToken, Expiry: sent.Add(time.Duration(ans.ExpiresIn) * time.Second)}, nil
}

// testKey is the StoreKey of the emulator's default client.
var testKey = storekey.Key{Provider: "mcv1", ClientID: emulator.MCv1ClientID, AccountID: "518000123", Scope: "email_read"}

// fakeClock is a clock the test moves by hand, shared by Sources and the emulator.
type fakeClock = manualclock.Clock

func newClock() *fakeClock { return manualclock.New(time.Now()) }

// recordingBase sends API calls to the emulator and answers any other host itself,
// remembering the Authorization header each host was sent.
type recordingBase struct {
	mu   sync.Mutex
	seen map[string][]string // host → Authorization headers
}

func (b *recordingBase) RoundTrip(req *http.Request) (*http.Response, error) {
	b.mu.Lock()
	if b.seen == nil {
		b.seen = map[string][]string{}
	}
	b.seen[req.URL.Host] = append(b.seen[req.URL.Host], req.Header.Get("Authorization"))
	b.mu.Unlock()
	if req.URL.Hostname() == "127.0.0.1" {
		return http.DefaultTransport.RoundTrip(req)
	}
	return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Header: http.Header{}, Request: req}, nil
}

func (b *recordingBase) authorizations(host string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.seen[host]
}
