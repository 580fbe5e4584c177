package mcv2

import (
	"crypto/subtle"
	"encoding/json"
	"net/url"

	"github.com/tokentrip/tokentrip/internal/providerkit"
)

// Errors of ParseCallback and Exchange, wrapped in a *CallbackError.
var (
	// ErrStateMismatch: the callback's state is missing or not the one sent with
	// AuthorizeURL. The request may be forged; do not redeem its code.
	ErrStateMismatch = providerkit.NewError(name, "callback state does not match")
	// ErrAuthorizationDenied: Marketing Cloud sent the user back with an error
	// (the user declined, or the request was refused) instead of a code.
	ErrAuthorizationDenied = providerkit.NewError(name, "authorization denied")
	// ErrMissingCode: the callback carries no authorization code.
	ErrMissingCode = providerkit.NewError(name, "callback carries no code")
	// ErrInvalidTSSD: the callback's tssd is not a tenant subdomain (letters,
	// digits and "-"). Token calls must not follow it anywhere.
	ErrInvalidTSSD = providerkit.NewError(name, "callback tssd is not a tenant subdomain")
)

// CallbackError is a callback that cannot be redeemed. errors.Is matches its Err.
type CallbackError struct {
	Err         error  // ErrStateMismatch, ErrAuthorizationDenied, ErrMissingCode or ErrInvalidTSSD
	Code        string // the callback's error parameter, e.g. "access_denied"
	Description string // the callback's error_description
}

// Error names what went wrong in the callback, with the error Marketing Cloud sent.
func (e *CallbackError) Error() string {
	msg := e.Err.Error()
	if e.Code != "" {
		msg += ": " + e.Code
	}
	if e.Description != "" {
		msg += ": " + e.Description
	}
	return msg
}

// Unwrap returns Err.
func (e *CallbackError) Unwrap() error { return e.Err }

// Callback is what Marketing Cloud sent the user back with, once checked.
type Callback struct {
	// Code is the authorization code: single use, valid for five minutes, and a
	// secret until then (String and the other renderings redact it).
	Code string
	// Subdomain is the tenant subdomain of the callback's tssd parameter, sent for
	// AppExchange apps; "" when absent. Exchange sends its token calls there.
	Subdomain string
}

// ParseCallback checks the query of the request Marketing Cloud redirected the
// user to: its state must equal state (compared in constant time; an empty state
// never matches), it must carry a code rather than an error, and its tssd, if any,
// must be a subdomain (letters, digits and "-"). Failures are *CallbackError.
func ParseCallback(query url.Values, state string) (Callback, error) {
	got, ok := single(query, "state")
	if !ok || state == "" || subtle.ConstantTimeCompare([]byte(got), []byte(state)) != 1 {
		return Callback{}, &CallbackError{Err: ErrStateMismatch}
	}
	if query.Has("error") {
		return Callback{}, &CallbackError{Err: ErrAuthorizationDenied, Code: query.Get("error"), Description: query.Get("error_description")}
	}
	code, ok := single(query, "code")
	if !ok || code == "" {
		return Callback{}, &CallbackError{Err: ErrMissingCode}
	}
	cb := Callback{Code: code}
	if query.Has("tssd") {
		tssd, ok := single(query, "tssd")
		if !ok || !validTSSD(tssd) {
			return Callback{}, &CallbackError{Err: ErrInvalidTSSD}
		}
		cb.Subdomain = tssd
	}
	return cb, nil
}

// single returns the one value of key in q; ok is false when key is absent or
// repeated.
func single(q url.Values, key string) (string, bool) {
	vs := q[key]
	if len(vs) != 1 {
		return "", false
	}
	return vs[0], true
}

// validTSSD reports whether s can be a tenant subdomain: 1 to 63 letters, digits
// and "-", so that {s}.auth.marketingcloudapis.com stays under Marketing Cloud's
// domain.
func validTSSD(s string) bool {
	if len(s) == 0 || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// String describes the callback with its code providerkit.Redacted.
func (c Callback) String() string {
	code := ""
	if c.Code != "" {
		code = providerkit.Redacted
	}
	return "mcv2.Callback{Code:" + code + " Subdomain:" + c.Subdomain + "}"
}

// GoString keeps %#v from printing the code.
func (c Callback) GoString() string { return c.String() }

// MarshalJSON renders the callback with its code providerkit.Redacted.
func (c Callback) MarshalJSON() ([]byte, error) {
	v := struct {
		Code      string `json:"code,omitempty"`
		Subdomain string `json:"subdomain,omitempty"`
	}{Subdomain: c.Subdomain}
	if c.Code != "" {
		v.Code = providerkit.Redacted
	}
	return json.Marshal(v)
}
