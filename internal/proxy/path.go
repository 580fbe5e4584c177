package proxy

import (
	"errors"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Errors of CheckPath: the proxy answers 400 to both.
var (
	ErrDotSegments = errors.New(`the path has "." or ".." segments`)
	ErrBadPath     = errors.New("the path has a backslash, a control character, bytes that are not UTF-8 or layers of percent-encoding")
)

// maxDecodings is how many times CheckPath percent-decodes a path. A legitimate path
// is encoded once; a value that itself holds an escaped "%" needs a second layer.
const maxDecodings = 3

// CheckPath refuses a request path (as escaped on the wire) that some server on the
// way could read as leaving the prefix it was sent to: "." or ".." segments — also
// as "%2e%2e", doubly encoded "%252e%252e", or followed by ";parameters" — and
// backslashes, control characters or bytes that are not UTF-8 (such as the overlong
// "%c0%ae" that some servers read as "."), in the path as sent or in any decoding
// of it. Characters that Unicode compatibility normalization turns into dots
// ("．．" in full width) count as dots.
// A path that still decodes to something new after maxDecodings decodings is refused
// too.
func CheckPath(escaped string) error {
	p := escaped
	for range maxDecodings + 1 {
		if err := checkSegments(p); err != nil {
			return err
		}
		if !strings.Contains(p, "%") {
			return nil
		}
		d, err := url.PathUnescape(p)
		if err != nil || d == p {
			// A "%" that starts no escape is a literal one: nothing decodes it further.
			return nil
		}
		p = d
	}
	return ErrBadPath
}

// checkSegments checks one decoding of a path.
func checkSegments(p string) error {
	for i := 0; i < len(p); i++ {
		if c := p[i]; c == '\\' || c < 0x20 || c == 0x7f {
			return ErrBadPath
		}
	}
	if !utf8.ValidString(p) {
		return ErrBadPath
	}
	for seg := range strings.SplitSeq(p, "/") {
		// Some servers take ";..." as parameters of the segment: "..;" is ".." there.
		seg, _, _ = strings.Cut(seg, ";")
		if seg = dotLookalikes.Replace(seg); seg == "." || seg == ".." {
			return ErrDotSegments
		}
	}
	return nil
}

// dotLookalikes maps the characters that NFKC normalization, which some servers
// apply to paths, turns into "." or "..".
var dotLookalikes = strings.NewReplacer(
	"\uff0e", ".", // FULLWIDTH FULL STOP
	"\ufe52", ".", // SMALL FULL STOP
	"\u2024", ".", // ONE DOT LEADER
	"\u2025", "..", // TWO DOT LEADER
)
