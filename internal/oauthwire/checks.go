package oauthwire

import (
	"cmp"
	"net/url"
	"slices"
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
// Longer secrets go first, so that one holding another (a secret that starts
// with the client id) is replaced whole rather than left with a visible tail.
func Scrub(s string, secrets ...string) string {
	secrets = slices.Clone(secrets)
	slices.SortStableFunc(secrets, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
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

// ScrubbedID is the client id as Scrub should hide it: the id, which no error or
// log line may carry, unless it is shorter than any vendor issues (Marketing Cloud's
// have 24 characters, Acoustic's 36) — a test's "id" or "client" — where hiding it
// would cut words such as "invalid_client" apart, and "" stands for nothing.
func ScrubbedID(clientID string) string {
	if len(clientID) < minClientID {
		return ""
	}
	return clientID
}

// minClientID is the length from which ScrubbedID hides a client id.
const minClientID = 8
