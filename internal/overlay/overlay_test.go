package overlay_test

import (
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/envelope"
	"github.com/tokentrip/tokentrip/internal/overlay"
	"github.com/tokentrip/tokentrip/store"
	"github.com/tokentrip/tokentrip/transport"
)

type memStore struct{ store.MemoryTokens }

// TestSettings: every field the user set wins, every field left zero keeps the
// provider's, and a user's Store without a key takes the provider's key. Each
// field of Settings is covered: a field added later without a rule here fails.
func TestSettings(t *testing.T) {
	clockA, clockB := func() time.Time { return time.Unix(1, 0) }, func() time.Time { return time.Unix(2, 0) }
	logA, logB := slog.New(slog.DiscardHandler), slog.New(slog.DiscardHandler)
	stA, stB := &memStore{}, &memStore{}
	def := transport.Settings{
		Name: "mcv2/abc", Clock: clockA, RefreshLead: time.Hour, ExpiryMargin: time.Second,
		DefaultLifetime: time.Minute, FetchTimeout: 2 * time.Second, Backoff: func(int) time.Duration { return 1 },
		Breaker: transport.BreakerSettings{Rejections: 1}, Hook: func(transport.Event) {}, Logger: logA,
		Store: stA, StoreKey: "provider-key", StoreTimeout: 3 * time.Second, StoreRetry: 4 * time.Second,
	}
	user := transport.Settings{
		Name: "mine", Clock: clockB, RefreshLead: -1, ExpiryMargin: -1,
		DefaultLifetime: time.Hour, FetchTimeout: time.Hour, Backoff: func(int) time.Duration { return 2 },
		Breaker: transport.BreakerSettings{Outages: -1}, Hook: func(transport.Event) {}, Logger: logB,
		Store: stB, StoreKey: "user-key", StoreTimeout: time.Hour, StoreRetry: time.Hour,
	}
	if n := reflect.TypeFor[transport.Settings]().NumField(); n != 14 {
		t.Fatalf("Settings has %d fields; give the new ones a rule in overlay.Settings and here", n)
	}
	got := overlay.Settings(transport.Settings{}, def)
	if !same(got, def) {
		t.Fatalf("zero user settings: %+v, want the provider's %+v", got, def)
	}
	got = overlay.Settings(user, def)
	if !same(got, user) {
		t.Fatalf("full user settings: %+v, want the user's %+v", got, user)
	}
	got = overlay.Settings(transport.Settings{Store: stB}, def)
	if got.Store != stB || got.StoreKey != "provider-key" {
		t.Fatalf("a user's Store alone: %v under %q, want it under the provider's key", got.Store, got.StoreKey)
	}
}

// same compares Settings field by field, funcs by identity.
func same(a, b transport.Settings) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	for i := range va.NumField() {
		fa, fb := va.Field(i), vb.Field(i)
		if fa.Kind() == reflect.Func {
			if fa.Pointer() != fb.Pointer() {
				return false
			}
			continue
		}
		if !reflect.DeepEqual(fa.Interface(), fb.Interface()) {
			return false
		}
	}
	return true
}

// TestOptions: the user's Hosts join the provider's, in order and without
// touching the provider's slice; every other field set replaces the provider's.
func TestOptions(t *testing.T) {
	baseA, baseB := &http.Transport{}, &http.Transport{}
	rejA := func(*http.Response) bool { return true }
	rejB := func(*http.Response) bool { return false }
	soap := func(transport.Token) envelope.Credential { return envelope.Credential{} }
	auth := func(*http.Request, transport.Token) error { return nil }
	hosts := make([]string, 1, 4)
	hosts[0] = "a.example.com"
	def := transport.Options{Base: baseA, Hosts: hosts, Rejected: rejA, SOAP: soap}

	if n := reflect.TypeFor[transport.Options]().NumField(); n != 6 {
		t.Fatalf("Options has %d fields; give the new ones a rule in overlay.Options and here", n)
	}
	if got := overlay.Options(def); got.Base != baseA || !slices.Equal(got.Hosts, hosts) || got.ReplayLimit != 0 {
		t.Fatalf("no user options: %+v, want the provider's", got)
	}
	got := overlay.Options(def, transport.Options{Hosts: []string{"b.example.com"}, ReplayLimit: -1},
		transport.Options{Base: baseB, Rejected: rejB, Authorize: auth, Hosts: []string{"c.example.com"}})
	switch {
	case !slices.Equal(got.Hosts, []string{"a.example.com", "b.example.com", "c.example.com"}):
		t.Fatalf("hosts %v", got.Hosts)
	case got.Base != baseB || got.ReplayLimit != -1 || got.Authorize == nil || got.SOAP == nil:
		t.Fatalf("%+v: want the user's Base, ReplayLimit and Authorize, the provider's SOAP", got)
	case reflect.ValueOf(got.Rejected).Pointer() != reflect.ValueOf(rejB).Pointer():
		t.Fatal("the user's Rejected did not win")
	case len(def.Hosts) != 1 || hosts[:2][1] != "":
		t.Fatalf("the provider's hosts were written to: %v", hosts[:2])
	}
}
