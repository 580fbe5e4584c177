package transport

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"
	"unsafe"
)

// TestEntryKeepsOneCopyOfTheToken: the cached access token is the tail of the
// cached Authorization value, not a second copy, and both say what the provider
// issued.
func TestEntryKeepsOneCopyOfTheToken(t *testing.T) {
	for _, tok := range []string{"t", strings.Repeat("x", 1<<10), "eyJhbGciOiJIUzI1NiJ9.e30.sig"} {
		src := NewSource(providerFunc(func(context.Context) (Token, error) {
			return Token{AccessToken: strings.Clone(tok), Expiry: time.Now().Add(time.Hour)}, nil
		}), Settings{})
		got, err := src.Token(context.Background())
		if err != nil || got.AccessToken != tok {
			t.Fatalf("Token() = %q, %v; want the issued token", got.AccessToken, err)
		}
		e := src.cur.Load()
		if e.bearer[0] != "Bearer "+tok {
			t.Fatalf("Authorization value %q, want Bearer and the token", e.bearer[0])
		}
		if unsafe.StringData(e.tok.AccessToken) != unsafe.StringData(e.bearer[0][len(bearerPrefix):]) {
			t.Fatalf("the %d-byte token is stored twice", len(tok))
		}
	}
}

// TestBreakerHoldsStateOnlyAfterFailures: a credential whose fetches succeed holds no
// breaker state machine; failures make one, with the thresholds counted from the
// first failure; a success with the breaker closed drops it again.
func TestBreakerHoldsStateOnlyAfterFailures(t *testing.T) {
	rejected := &FetchError{Kind: ErrCredentialsRejected}
	outage := &FetchError{Kind: ErrEndpoint}
	type step struct {
		answer    error // what the provider answers (nil: a token)
		wait      bool  // let the breaker's cooldown pass first
		wantErr   error // what Token returns (nil: a token)
		wantState string
		wantHeld  bool // the state machine exists afterwards
	}
	var (
		success    = step{nil, false, nil, "closed", false}
		rejection  = step{rejected, false, ErrCredentialsRejected, "closed", true}
		threeInRow = []step{rejection, rejection, {rejected, false, ErrCredentialsRejected, "open", true}}
	)
	cases := []struct {
		name  string
		steps []step
	}{
		{"successes only", []step{success, success}},
		{"a cancelled fetch counts for nothing", []step{
			{context.Canceled, false, context.Canceled, "closed", false},
		}},
		{"a failure below the threshold, then a success", []step{rejection, rejection, success}},
		{"the threshold opens it, counted from the first failure", slices.Concat(threeInRow, []step{
			{nil, false, ErrCircuitOpen, "open", true},
		})},
		{"a good probe closes it and drops it", slices.Concat(threeInRow, []step{
			{nil, true, nil, "closed", false},
			// counting starts again from nothing
			rejection, success,
		})},
		{"a bad probe opens it again", []step{
			{outage, false, ErrEndpoint, "closed", true},
			{outage, false, ErrEndpoint, "open", true},
			{outage, true, ErrEndpoint, "open", true},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var answer error
				src := NewSource(providerFunc(func(context.Context) (Token, error) {
					if answer != nil {
						return Token{}, answer
					}
					return Token{AccessToken: "t", Expiry: time.Now().Add(time.Hour)}, nil
				}), Settings{Breaker: BreakerSettings{Rejections: 3, Outages: 2, Cooldown: time.Minute}, Backoff: func(int) time.Duration { return 0 }})
				for i, st := range c.steps {
					if st.wait {
						time.Sleep(time.Minute + time.Second) // past the cooldown, on the bubble's clock: no real wait
					}
					answer = st.answer
					src.cur.Store(nil) // every step fetches
					_, err := src.Token(context.Background())
					switch {
					case st.wantErr == nil && err != nil:
						t.Fatalf("step %d: %v, want a token", i, err)
					case st.wantErr != nil && !errors.Is(err, st.wantErr):
						t.Fatalf("step %d: %v, want %v", i, err, st.wantErr)
					}
					if got := src.Stats().Breaker; got != st.wantState {
						t.Fatalf("step %d: breaker %s, want %s", i, got, st.wantState)
					}
					if held := src.gate.cb.Load() != nil; held != st.wantHeld {
						t.Fatalf("step %d: state machine held = %t, want %t", i, held, st.wantHeld)
					}
				}
			})
		})
	}
}

// TestInstanceHostsFromOneOrTwoURLs: the instance hosts kept with a token are those
// of the URLs it came with, one or two, and an empty slot never matches.
func TestInstanceHostsFromOneOrTwoURLs(t *testing.T) {
	urls := []string{"https://mc1.rest.example.com/x", "https://mc1.soap.example.com/Service.asmx", "https:///nohost", "https://other.example.com/"}
	cases := []struct {
		name       string
		rest, soap string
		want       []bool // per url
	}{
		{"none", "", "", []bool{false, false, false, false}},
		{"REST only", "https://mc1.rest.example.com/", "", []bool{true, false, false, false}},
		{"SOAP only, no scheme", "", "mc1.soap.example.com", []bool{false, true, false, false}},
		{"both", "https://mc1.rest.example.com", "https://mc1.soap.example.com/", []bool{true, true, false, false}},
		{"unparsable REST, good SOAP", "https://%zz", "mc1.soap.example.com", []bool{false, true, false, false}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := NewSource(providerFunc(func(context.Context) (Token, error) {
				return Token{AccessToken: "t", Expiry: time.Now().Add(time.Hour), RESTInstanceURL: c.rest, SOAPInstanceURL: c.soap}, nil
			}), Settings{})
			if _, err := src.Token(context.Background()); err != nil {
				t.Fatal(err)
			}
			for i, raw := range urls {
				u, err := url.Parse(raw)
				if err != nil {
					t.Fatal(err)
				}
				if got := src.instanceHosts().match(u); got != c.want[i] {
					t.Errorf("%s in scope = %t, want %t", raw, got, c.want[i])
				}
			}
		})
	}
}
