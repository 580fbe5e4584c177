package transport_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/providerfunc"
	"github.com/tokentrip/tokentrip/internal/storekey"
	"github.com/tokentrip/tokentrip/internal/testkit"
	"github.com/tokentrip/tokentrip/store"
	"github.com/tokentrip/tokentrip/transport"
)

// TestProviderTokenCheckedBeforeCaching: whatever a Provider returns, a token an
// Authorization header cannot carry — empty, over 16 KiB, with a space, a control
// character or a byte beyond ASCII — is a failed fetch of kind ErrEndpoint: it is
// not handed out, not cached, and not saved to the Store, where every other process
// would find it corrupt and fetch for itself. Up to 16 KiB of visible ASCII is a
// token like any other, shared through the Store.
func TestProviderTokenCheckedBeforeCaching(t *testing.T) {
	tests := []struct {
		name  string
		token string
		ok    bool
	}{
		{"ASCII", "eyJhbGciOiJIUzI1NiJ9.e30.c2ln-_~+/=", true},
		{"16 KiB", strings.Repeat("x", 16<<10), true},
		{"16 KiB and a byte", strings.Repeat("x", 16<<10+1), false},
		{"empty", "", false},
		{"non-ASCII letter", "tök", false},
		{"non-ASCII only at the end", "token\u00a0", false},
		{"UTF-8 BOM", "\ufefftoken", false},
		{"space", "to ken", false},
		{"tab", "to\tken", false},
		{"line feed", "token\nX-Injected: 1", false},
		{"carriage return", "token\r", false},
		{"NUL", "tok\x00en", false},
		{"DEL", "tok\x7fen", false},
		{"invalid UTF-8", "tok\xffen", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := new(store.MemoryTokens)
			key := storekey.Key{Provider: "test", ClientID: "id"}
			var mu sync.Mutex
			fetches := 0
			p := providerfunc.Func(func(context.Context) (transport.Token, error) {
				mu.Lock()
				fetches++
				mu.Unlock()
				return transport.Token{AccessToken: tt.token, Expiry: time.Now().Add(time.Hour)}, nil
			})
			var kinds []transport.EventKind
			src := transport.NewSource(p, transport.Settings{Store: st, StoreKey: key.ID(), Hook: func(ev transport.Event) { kinds = append(kinds, ev.Kind) }})
			tok, err := src.Token(context.Background())
			if tt.ok {
				if err != nil || tok.AccessToken != tt.token {
					t.Fatalf("Token = %d bytes, %v; want the token", len(tok.AccessToken), err)
				}
			} else {
				var fe *transport.FetchError
				if err == nil || !errors.Is(err, transport.ErrEndpoint) || !errors.As(err, &fe) {
					t.Fatalf("Token = %q, %v; want a FetchError of kind ErrEndpoint", tok.AccessToken, err)
				}
				if tt.token != "" && strings.Contains(err.Error(), tt.token) {
					t.Fatalf("the error quotes the token: %v", err)
				}
				if _, ok := src.Current(); ok {
					t.Fatal("the token was cached")
				}
				if len(kinds) == 0 || kinds[len(kinds)-1] != transport.EventFetchFailed {
					t.Fatalf("events %v, want a fetch_failed last", kinds)
				}
			}
			// What the Store holds: the token for another process, or nothing.
			_, saved, err := st.Load(context.Background(), key.ID())
			if err != nil || saved != tt.ok {
				t.Fatalf("the Store holds a token: %t, %v; want %t", saved, err, tt.ok)
			}
			other := transport.NewSource(p, transport.Settings{Store: st, StoreKey: key.ID()})
			if _, err := other.Token(context.Background()); (err == nil) != tt.ok {
				t.Fatalf("another process: %v", err)
			}
			want := 1
			if !tt.ok {
				want = 2
			}
			if fetches != want {
				t.Fatalf("%d fetches for two processes, want %d", fetches, want)
			}
		})
	}
}

// TestFailedFetchReportsItsDuration: a failed fetch's event and log line carry how
// long it took, as a successful one's do, so that a span or a histogram of a
// failure that took seconds of retries does not show it as instant.
func TestFailedFetchReportsItsDuration(t *testing.T) {
	for _, tt := range []testkit.TimedFetch{
		{Name: "endpoint down after retries", Took: 7 * time.Second, Err: &transport.FetchError{Kind: transport.ErrEndpoint, Provider: "test"}},
		{Name: "credentials rejected", Took: 300 * time.Millisecond, Err: &transport.FetchError{Kind: transport.ErrCredentialsRejected, Provider: "test"}},
		{Name: "an unusable token", Took: 2 * time.Second, Token: "t\u00f6k"},
		{Name: "a token", Took: 450 * time.Millisecond, Token: "tok"},
	} {
		t.Run(tt.Name, func(t *testing.T) {
			clock := newClock()
			var events []transport.Event
			var log bytes.Buffer
			src := transport.NewSource(tt.Provider(clock), transport.Settings{Clock: clock.Now, Hook: func(ev transport.Event) { events = append(events, ev) }, Logger: slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
			src.Token(context.Background())
			if len(events) != 1 || events[0].Duration != tt.Took {
				t.Fatalf("events %+v, want one with Duration %v", events, tt.Took)
			}
			if !strings.Contains(log.String(), "took="+tt.Took.String()) {
				t.Fatalf("the log line does not say how long the fetch took:\n%s", log.String())
			}
		})
	}
}

// TestTokenNeverPrinted: no rendering of a Token — %v and its kin, JSON, slog's
// handlers — shows the access token.
func TestTokenNeverPrinted(t *testing.T) {
	tok := transport.Token{AccessToken: "s3cr3t-token-value", Scope: "email_read"}
	asJSON, err := json.Marshal(tok)
	if err != nil || !strings.Contains(string(asJSON), `"scope":"email_read"`) {
		t.Fatalf("JSON %s, %v", asJSON, err)
	}
	// slog's JSON handler renders a Token through MarshalJSON, its text handler
	// through String.
	var logged, text strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("got", "token", tok, "ptr", &tok)
	slog.New(slog.NewTextHandler(&text, nil)).Info("got", "token", tok, "ptr", &tok, slog.Any("any", tok))
	if !strings.Contains(text.String(), "[REDACTED]") || !strings.Contains(logged.String(), "[REDACTED]") {
		t.Fatalf("a log line without the redacted token: %s %s", text.String(), logged.String())
	}
	for _, s := range []string{fmt.Sprintf("%v|%+v|%#v|%s", tok, tok, tok, tok), fmt.Sprint(&tok), string(asJSON), logged.String(), text.String()} {
		if strings.Contains(s, "s3cr3t") {
			t.Fatalf("token printed: %s", s)
		}
	}
}
