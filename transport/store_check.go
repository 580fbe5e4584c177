package transport

import (
	"errors"
	"net/url"
	"time"

	"github.com/tokentrip/tokentrip/internal/httpx"
)

// Bounds on what a Source adopts from a Store. They hold for any Provider; a
// TokenChecker tightens them with the vendor's own rules.
const (
	// maxStoredLifetime bounds a stored token's life from its fetch: tokentrip's
	// vendors issue tokens of minutes to hours; a week is generous to any Provider,
	// and an expiry beyond it is forged or broken.
	maxStoredLifetime = 7 * 24 * time.Hour
	// maxStoredClockSkew is how far in the future a stored fetch time may lie, for
	// the clocks of a fleet's hosts disagree a little.
	maxStoredClockSkew = time.Minute
	// maxStoredTokenLen bounds a stored access token, and maxStoredTextLen its
	// instance URLs and scope.
	maxStoredTokenLen = 16 << 10
	maxStoredTextLen  = 4 << 10
)

// checkStored returns why tok, fetched at fetched and read from the Store, must not
// be adopted, or nil: a
// token has a credential that can travel in a header, a fetch time and an expiry
// that make sense now, and instance URLs the Transport may send it to; and the
// Provider, when it is a TokenChecker, vouches for it. The error names the
// problem, never the value.
func (s *Source) checkStored(tok Token, fetched time.Time) error {
	now := s.now()
	switch {
	case tok.AccessToken == "":
		return errors.New("stored token: no access token")
	case len(tok.AccessToken) > maxStoredTokenLen || !visibleASCII(tok.AccessToken):
		return errors.New("stored token: the access token holds characters an HTTP header cannot carry")
	case fetched.IsZero() || tok.Expiry.IsZero():
		return errors.New("stored token: no fetch time or expiry")
	case fetched.After(now.Add(maxStoredClockSkew)):
		return errors.New("stored token: fetched in the future")
	case !tok.Expiry.After(fetched) || tok.Expiry.Sub(fetched) > maxStoredLifetime:
		return errors.New("stored token: its expiry is not a lifetime any provider issues")
	case !tok.RefreshAfter.IsZero() && tok.RefreshAfter.After(tok.Expiry):
		return errors.New("stored token: refresh point after expiry")
	case len(tok.Scope) > maxStoredTextLen || !printable(tok.Scope):
		return errors.New("stored token: the scope holds control characters")
	}
	for _, u := range []struct{ field, raw string }{{"REST", tok.RESTInstanceURL}, {"SOAP", tok.SOAPInstanceURL}} {
		if u.raw != "" && !sendable(u.raw) {
			return errors.New("stored token: its " + u.field + " instance URL is not an https URL (or http to a loopback host)")
		}
	}
	if c, ok := s.provider.(TokenChecker); ok {
		if err := c.CheckToken(tok); err != nil {
			return err
		}
	}
	return nil
}

// sendable reports whether an instance URL names a place a credential may go: an
// absolute https URL, or http to a loopback host, without user information.
func sendable(raw string) bool {
	if len(raw) > maxStoredTextLen || !printable(raw) {
		return false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.Opaque != "" {
		return false
	}
	return u.Scheme == "https" || (u.Scheme == "http" && httpx.IsLoopback(u.Hostname()))
}

func visibleASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
