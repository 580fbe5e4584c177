package tokenwire_test

import (
	"errors"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/tokenwire"
)

// TestBytesAreFixed: the bytes are those store/redis wrote before the codec moved
// here, so that a fleet's values saved by an older release still read, and the
// decoders read them back whole.
func TestBytesAreFixed(t *testing.T) {
	fetched := time.Unix(1767323045, 123456789)
	n := tokenwire.UnixNano
	tokens := []struct {
		tok  tokenwire.Token
		want string
	}{
		{tokenwire.Token{AccessToken: "tok-<&>-1", Expiry: n(fetched.Add(20 * time.Minute)), RefreshAfter: n(fetched.Add(3 * time.Hour)),
			REST: "https://mc.rest.marketingcloudapis.com/", SOAP: "https://mc.soap.marketingcloudapis.com/", Scope: "email_read list_and_subscribers_read", Fetched: n(fetched)},
			`{"a":"tok-\u003c\u0026\u003e-1","e":1767324245123456789,"ra":1767333845123456789,"r":"https://mc.rest.marketingcloudapis.com/","s":"https://mc.soap.marketingcloudapis.com/","sc":"email_read list_and_subscribers_read","f":1767323045123456789}`},
		{tokenwire.Token{AccessToken: "t", Expiry: n(fetched)}, `{"a":"t","e":1767323045123456789,"f":0}`},
		{tokenwire.Token{AccessToken: "a", Expiry: n(fetched), Refresh: "digest"}, `{"a":"a","e":1767323045123456789,"f":0,"rt":"digest"}`},
	}
	for _, tt := range tokens {
		if got := string(tt.tok.Encode()); got != tt.want {
			t.Errorf("Encode:\n got %s\nwant %s", got, tt.want)
		}
		if back, err := tokenwire.DecodeToken([]byte(tt.want)); err != nil || back != tt.tok {
			t.Errorf("DecodeToken(%s) = %+v, %v", tt.want, back, err)
		}
	}
	breakers := []struct {
		b    tokenwire.Breaker
		want string
	}{
		{tokenwire.Breaker{OpenUntil: n(fetched), Failures: 3}, `{"o":1767323045123456789,"f":3}`},
		{tokenwire.Breaker{}, `{"o":0,"f":0}`},
	}
	for _, tt := range breakers {
		if got := string(tt.b.Encode()); got != tt.want {
			t.Errorf("Encode: got %s, want %s", got, tt.want)
		}
		if back, err := tokenwire.DecodeBreaker([]byte(tt.want)); err != nil || back != tt.b {
			t.Errorf("DecodeBreaker(%s) = %+v, %v", tt.want, back, err)
		}
	}
	if got := tokenwire.Time(0); !got.IsZero() || n(time.Time{}) != 0 || !tokenwire.Time(n(fetched)).Equal(fetched) {
		t.Error("UnixNano and Time do not round-trip")
	}
}

// TestNotOurs: what a Store may hold that tokentrip never wrote is refused.
func TestNotOurs(t *testing.T) {
	for _, v := range []string{"", "null", "[]", `"text"`, "{}", `{"a":"t"}`, `{"e":1}`, `{"a":"","e":1}`, "{", "not json", `{"a":1,"e":1}`} {
		if _, err := tokenwire.DecodeToken([]byte(v)); !errors.Is(err, tokenwire.ErrNotToken) {
			t.Errorf("DecodeToken(%q): %v, want ErrNotToken", v, err)
		}
	}
	for _, v := range []string{"", "null", "{}", `{"o":1}`, `{"f":1}`, `{"o":1,"f":1,"x":2}`, `{"state":2,"expiry":"9999"}`, "[]", "{"} {
		if _, err := tokenwire.DecodeBreaker([]byte(v)); !errors.Is(err, tokenwire.ErrNotBreaker) {
			t.Errorf("DecodeBreaker(%q): %v, want ErrNotBreaker", v, err)
		}
	}
}

// TestFieldsRoundTrip: a token's fields survive New and Fields, zero times as zero.
func TestFieldsRoundTrip(t *testing.T) {
	fetched := time.Unix(1767323045, 123456789)
	for _, f := range []tokenwire.Fields{
		{AccessToken: "t", Expiry: fetched.Add(time.Hour)},
		{AccessToken: "t", Expiry: fetched.Add(time.Hour), RefreshAfter: fetched.Add(time.Minute), RESTInstanceURL: "https://r/", SOAPInstanceURL: "https://s/", Scope: "a b"},
	} {
		back, at := tokenwire.New(f, fetched).Fields()
		if !back.Expiry.Equal(f.Expiry) || !back.RefreshAfter.Equal(f.RefreshAfter) || !at.Equal(fetched) ||
			back.AccessToken != f.AccessToken || back.RESTInstanceURL != f.RESTInstanceURL || back.SOAPInstanceURL != f.SOAPInstanceURL || back.Scope != f.Scope {
			t.Errorf("%+v came back as %+v fetched %v", f, back, at)
		}
	}
}
