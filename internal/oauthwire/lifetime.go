package oauthwire

import (
	"strconv"
	"time"
)

// MaxLifetime bounds every token lifetime the providers believe: their tokens live
// twenty minutes (Marketing Cloud v2), an hour (v1) or four hours (Acoustic), and a
// lifetime beyond a day means the answer, or the stored copy of it, is broken.
const MaxLifetime = 24 * time.Hour

// ParseLifetime reads a token lifetime (expires_in, expiresIn): a whole number of
// seconds, sent as a JSON number or as a quoted one, between 1 and max. The range is
// checked on the number of seconds before it is turned into a Duration, so no
// value, however large, overflows into a negative or tiny lifetime. On failure it
// returns the problem, naming field but never quoting raw, which the vendor wrote.
func ParseLifetime(field, raw string, max time.Duration) (time.Duration, string) {
	secs, err := strconv.ParseInt(raw, 10, 64)
	limit := int64(max / time.Second)
	switch {
	case err != nil && isDigits(raw):
		// A whole number too large for int64: as unbelievable as any other.
		return 0, field + " is not a believable lifetime (1 to " + strconv.FormatInt(limit, 10) + " seconds)"
	case err != nil:
		return 0, field + " is not a whole number of seconds"
	case secs < 1 || secs > limit:
		return 0, field + " " + strconv.FormatInt(secs, 10) + " is not a believable lifetime (1 to " + strconv.FormatInt(limit, 10) + " seconds)"
	}
	return time.Duration(secs) * time.Second, ""
}

func isDigits(s string) bool {
	if s != "" && (s[0] == '-' || s[0] == '+') {
		s = s[1:]
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
