package providerkit

import (
	"log/slog"
	"net/http"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/envelope"
	"github.com/tokentrip/tokentrip/store"
	"github.com/tokentrip/tokentrip/transport"
)

type memStore struct{ store.MemoryTokens }

// TestSettings: every field the user set wins, and the three the provider
// derives (the Source's name, its store key, the vendor's refresh lead) fill
// those the user left zero; a user's Store without a key takes the provider's key.
func TestSettings(t *testing.T) {
	k := Kit{Name: "mcv2"}
	cred := Credential{ClientID: "client", AccountID: "mid", Scope: "email_read", Subject: "user"}
	v := Vendor{RefreshLead: time.Hour}
	stB := &memStore{}
	user := transport.Settings{
		Name: "mine", Clock: func() time.Time { return time.Unix(2, 0) }, RefreshLead: -1, ExpiryMargin: -1,
		DefaultLifetime: time.Hour, FetchTimeout: time.Hour, Backoff: func(int) time.Duration { return 2 },
		Breaker: transport.BreakerSettings{Outages: -1}, Hook: func(transport.Event) {}, Logger: slog.New(slog.DiscardHandler),
		Store: stB, StoreKey: "user-key", StoreTimeout: time.Hour, StoreRetry: time.Hour,
	}
	want := transport.Settings{Name: k.SourceName(cred), RefreshLead: time.Hour, StoreKey: k.StoreKey(cred)}
	if got := k.settings(transport.Settings{}, cred, v); !same(got, want) {
		t.Fatalf("zero user settings: %+v, want the provider's %+v", got, want)
	}
	if got := k.settings(user, cred, v); !same(got, user) {
		t.Fatalf("full user settings: %+v, want the user's %+v", got, user)
	}
	if got := k.settings(transport.Settings{Store: stB}, cred, v); got.Store != stB || got.StoreKey != k.StoreKey(cred) {
		t.Fatalf("a user's Store alone: %v under %q, want it under the provider's key", got.Store, got.StoreKey)
	}
	if k.SourceName(cred) == k.SourceName(Credential{ClientID: "other", AccountID: "mid"}) ||
		k.StoreKey(cred) == k.StoreKey(Credential{ClientID: "client", AccountID: "mid", Scope: "email_read", Subject: "other"}) {
		t.Fatal("two credentials share a Source name or a store key")
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

// wrapped is the RoundTripper a Vendor.Base makes, remembering what it wraps.
type wrapped struct{ http.RoundTripper }

// TestOptions: the user's Hosts join the vendor's, in order and without touching
// the vendor's slice; the user's verdict and SOAP credential replace the
// vendor's; the vendor's Base wraps the user's base, or DefaultBase.
func TestOptions(t *testing.T) {
	baseB := &http.Transport{}
	rejA := func(*http.Response) bool { return true }
	rejB := func(*http.Response) bool { return false }
	soapA := func(transport.Token) envelope.Credential { return envelope.Credential{} }
	soapB := func(transport.Token) envelope.Credential { return envelope.Credential{} }
	auth := func(*http.Request, transport.Token) error { return nil }
	hosts := make([]string, 1, 4)
	hosts[0] = "a.example.com"
	v := Vendor{Hosts: hosts, Rejected: rejA, SOAP: soapA}
	fn := func(f any) uintptr { return reflect.ValueOf(f).Pointer() }

	if n := reflect.TypeFor[transport.Options]().NumField(); n != 6 {
		t.Fatalf("Options has %d fields; give the new ones a rule in options and here", n)
	}
	got := options(transport.Options{}, v)
	if got.Base != nil || !slices.Equal(got.Hosts, hosts) || got.ReplayLimit != 0 || fn(got.Rejected) != fn(rejA) || fn(got.SOAP) != fn(soapA) {
		t.Fatalf("no user options: %+v, want the vendor's", got)
	}
	got = options(transport.Options{Base: baseB, Rejected: rejB, Authorize: auth, ReplayLimit: -1,
		Hosts: []string{"b.example.com", "c.example.com"}}, v)
	switch {
	case !slices.Equal(got.Hosts, []string{"a.example.com", "b.example.com", "c.example.com"}):
		t.Fatalf("hosts %v", got.Hosts)
	case got.Base != baseB || got.ReplayLimit != -1 || got.Authorize == nil || fn(got.SOAP) != fn(soapA):
		t.Fatalf("%+v: want the user's Base, ReplayLimit and Authorize, the vendor's SOAP", got)
	case fn(got.Rejected) != fn(rejB):
		t.Fatal("the user's Rejected did not win")
	case len(v.Hosts) != 1 || hosts[:2][1] != "":
		t.Fatalf("the vendor's hosts were written to: %v", hosts[:2])
	}
	if got := options(transport.Options{SOAP: soapB}, v); fn(got.SOAP) != fn(soapB) {
		t.Fatal("the user's SOAP did not win")
	}

	v.Base = func(rt http.RoundTripper) http.RoundTripper { return wrapped{rt} }
	for _, tt := range []struct {
		user, want http.RoundTripper
	}{
		{nil, transport.DefaultBase()},
		{baseB, baseB},
	} {
		if w, ok := options(transport.Options{Base: tt.user}, v).Base.(wrapped); !ok || w.RoundTripper != tt.want {
			t.Errorf("user base %v: the vendor's Base wraps %v, want %v", tt.user, w.RoundTripper, tt.want)
		}
	}
}
