package mcv2_test

import (
	"errors"
	"net/url"
	"testing"

	"github.com/tokentrip/tokentrip/provider/mcv2"
)

func TestParseCallback(t *testing.T) {
	const state = "expected-state"
	tests := []struct {
		name  string
		query string
		state string // the expected state; "" means state
		want  mcv2.Callback
		err   error
		code  string // the CallbackError's Code
	}{
		{name: "code", query: "code=abc&state=expected-state", want: mcv2.Callback{Code: "abc"}},
		{name: "AppExchange tenant", query: "state=expected-state&tssd=mc563885gzs27c5t9-63k636tzgm&code=abc", want: mcv2.Callback{Code: "abc", Subdomain: "mc563885gzs27c5t9-63k636tzgm"}},
		{name: "tenant in capitals", query: "code=abc&state=expected-state&tssd=MC-Tenant-1", want: mcv2.Callback{Code: "abc", Subdomain: "MC-Tenant-1"}},

		{name: "wrong state", query: "code=abc&state=other", err: mcv2.ErrStateMismatch},
		{name: "no state", query: "code=abc", err: mcv2.ErrStateMismatch},
		{name: "state prefix", query: "code=abc&state=expected", err: mcv2.ErrStateMismatch},
		{name: "state twice", query: "code=abc&state=expected-state&state=other", err: mcv2.ErrStateMismatch},
		{name: "nothing expected", query: "code=abc&state=", state: "-", err: mcv2.ErrStateMismatch},
		{name: "forged error", query: "error=access_denied&state=other", err: mcv2.ErrStateMismatch},
		{name: "denied", query: "error=access_denied&error_description=The+user+declined.&state=expected-state", err: mcv2.ErrAuthorizationDenied, code: "access_denied"},
		{name: "no code", query: "state=expected-state", err: mcv2.ErrMissingCode},
		{name: "empty code", query: "code=&state=expected-state", err: mcv2.ErrMissingCode},
		{name: "code twice", query: "code=a&code=b&state=expected-state", err: mcv2.ErrMissingCode},
		{name: "tenant is a host", query: "code=abc&state=expected-state&tssd=evil.example.com", err: mcv2.ErrInvalidTSSD},
		{name: "tenant with a path", query: "code=abc&state=expected-state&tssd=evil%2Fx", err: mcv2.ErrInvalidTSSD},
		{name: "tenant with an at", query: "code=abc&state=expected-state&tssd=user%40evil", err: mcv2.ErrInvalidTSSD},
		{name: "tenant with a space", query: "code=abc&state=expected-state&tssd=mc+1", err: mcv2.ErrInvalidTSSD},
		{name: "empty tenant", query: "code=abc&state=expected-state&tssd=", err: mcv2.ErrInvalidTSSD},
		{name: "tenant twice", query: "code=abc&state=expected-state&tssd=mca&tssd=mcb", err: mcv2.ErrInvalidTSSD},
		{name: "tenant too long", query: "code=abc&state=expected-state&tssd=mc0123456789012345678901234567890123456789012345678901234567890123", err: mcv2.ErrInvalidTSSD},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			expected := state
			if tt.state == "-" {
				expected = ""
			}
			got, err := mcv2.ParseCallback(q, expected)
			if tt.err == nil {
				if err != nil || got != tt.want {
					t.Fatalf("ParseCallback = %+v, %v; want %+v", got, err, tt.want)
				}
				return
			}
			var ce *mcv2.CallbackError
			if !errors.Is(err, tt.err) || !errors.As(err, &ce) {
				t.Fatalf("ParseCallback error %v, want a CallbackError for %v", err, tt.err)
			}
			if ce.Code != tt.code || got != (mcv2.Callback{}) {
				t.Errorf("CallbackError %+v and callback %+v; want code %q and no callback", ce, got, tt.code)
			}
		})
	}
}
