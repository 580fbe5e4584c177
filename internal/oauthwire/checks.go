package oauthwire

import (
	"net/url"
	"strings"
)

// MaxTokenLen bounds the length of an access or refresh token the providers accept.
// Marketing Cloud documents 512 characters and Acoustic sends fewer; the bound is
// generous and only keeps a broken answer or a poisoned store from filling memory
// and headers.
const MaxTokenLen = 16 << 10

// TokenProblem says why tok cannot be used as a bearer token, or "" when it can: it
// must be non-empty visible ASCII (no space, no control character, nothing beyond
// 0x7e), so that it travels in an Authorization header exactly as issued, and at
// most MaxTokenLen bytes long. The problem never quotes the token.
func TokenProblem(tok string) string {
	switch {
	case tok == "":
		return "is empty"
	case len(tok) > MaxTokenLen:
		return "is longer than any token the vendor issues"
	}
	for i := 0; i < len(tok); i++ {
		if tok[i] < 0x21 || tok[i] > 0x7e {
			return "holds characters an HTTP header cannot carry"
		}
	}
	return ""
}

// Redacted stands in for a secret scrubbed from a vendor's text.
const Redacted = "[REDACTED]"

// Scrub replaces every non-empty secret in s, as it is and in the URL-encoded forms
// a vendor may echo it in (a form-encoded request body, a query), with Redacted.
// Every string a vendor wrote passes through it before it goes into an error.
func Scrub(s string, secrets ...string) string {
	for _, secret := range secrets {
		if secret == "" {
			continue
		}
		s = strings.ReplaceAll(s, secret, Redacted)
		if q := url.QueryEscape(secret); q != secret {
			s = strings.ReplaceAll(s, q, Redacted)
		}
		if p := url.PathEscape(secret); p != secret {
			s = strings.ReplaceAll(s, p, Redacted)
		}
	}
	return s
}
