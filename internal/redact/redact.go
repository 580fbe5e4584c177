// Package redact prints tokentrip's values that hold secrets — stores of tokens,
// keys — as one fixed text for every verb of fmt, so that no verb (%v, %+v,
// %#v, %s, %q) and no handler that formats through fmt reaches their fields.
package redact

import (
	"fmt"
	"io"
	"strconv"
)

// Format writes text, a rendering that holds no secret, for any verb: quoted for
// %q, as it is otherwise. A type's Format method calls it.
func Format(f fmt.State, verb rune, text string) {
	if verb == 'q' {
		text = strconv.Quote(text)
	}
	_, _ = io.WriteString(f, text)
}
