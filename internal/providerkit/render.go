package providerkit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"strings"

	"github.com/tokentrip/tokentrip/provider"
)

// Redacted stands in for a secret in a Config's renderings.
const Redacted = "[REDACTED]"

// field is one setting as a Config's renderings show it.
type field struct {
	name  string // as in Go, for String: "ClientID"
	key   string // in snake case, for JSON and slog: "client_id"
	value any    // a string, bool, int or []string, secrets already redacted; a zero value is left out
}

// Rendering is what a Config shows of itself: every setting a reader needs to
// recognise it, secrets redacted and URLs cleaned. Each provider's String, GoString
// and MarshalJSON (which log/slog's JSON handler uses too) render one.
type Rendering struct {
	typ    string
	fields []field
}

// Render returns the Rendering of a Config of type typ ("mcv1.Config"): pairs are
// its settings, each a Go field name followed by the value to show (secrets passed
// through Secret, URLs through CleanURL), then the settings of c it shows: whether
// a Store is set, and the extra hosts. JSON keys are the names in snake case.
func Render(typ string, c provider.Common, pairs ...any) Rendering {
	hosts := make([]string, 0, len(c.Transport.Hosts))
	for _, h := range c.Transport.Hosts {
		hosts = append(hosts, CleanURL(h))
	}
	pairs = append(pairs, "Store", Set(c.Source.Store), "Hosts", hosts)
	r := Rendering{typ: typ}
	for i := 0; i+1 < len(pairs); i += 2 {
		name := pairs[i].(string)
		r.fields = append(r.fields, field{name: name, key: snake(name), value: pairs[i+1]})
	}
	return r
}

// snake turns a Go field name into its snake-case key: "ClientID" → "client_id",
// "AuthURL" → "auth_url", "MaxInFlight" → "max_in_flight".
func snake(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		upper := 'A' <= c && c <= 'Z'
		if upper && i > 0 {
			prevLower := 'a' <= name[i-1] && name[i-1] <= 'z'
			nextLower := i+1 < len(name) && 'a' <= name[i+1] && name[i+1] <= 'z'
			if prevLower || nextLower {
				b.WriteByte('_')
			}
		}
		if upper {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
	return b.String()
}

// String renders "mcv1.Config{Name:value …}", zero values left out.
func (r Rendering) String() string {
	var b strings.Builder
	b.WriteString(r.typ + "{")
	first := true
	for _, f := range r.shown() {
		if !first {
			b.WriteByte(' ')
		}
		first = false
		fmt.Fprintf(&b, "%s:%v", f.name, f.value)
	}
	b.WriteString("}")
	return b.String()
}

// JSON renders a JSON object of the fields' keys, in order, zero values left
// out: a description for logs, not a Config to read back.
func (r Rendering) JSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range r.shown() {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(f.key)
		v, err := json.Marshal(f.value)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// shown returns the fields whose value is not zero.
func (r Rendering) shown() []field {
	var out []field
	for _, f := range r.fields {
		if v := reflect.ValueOf(f.value); v.IsValid() && !v.IsZero() && !(v.Kind() == reflect.Slice && v.Len() == 0) {
			out = append(out, f)
		}
	}
	return out
}

// Secret renders a secret: Redacted when it is set, "" (left out) when not.
func Secret(s string) string {
	if s == "" {
		return ""
	}
	return Redacted
}

// Set renders a value a Config holds but does not show, such as a Store: "set",
// or "" (left out) when it is nil.
func Set(v any) string {
	if v == nil {
		return ""
	}
	return "set"
}

// Describe names a store of refresh tokens: its own String when it has one (the
// stores of package store show no token), its type otherwise; "" when nil.
func Describe(v any) string {
	switch s := v.(type) {
	case nil:
		return ""
	case fmt.Stringer:
		return s.String()
	}
	return fmt.Sprintf("%T", v)
}

// CleanURL shows a URL (or host rule) without what could be a secret: user info,
// query and fragment are replaced by a redaction mark.
func CleanURL(raw string) string {
	if raw == "" {
		return ""
	}
	if !strings.Contains(raw, "://") {
		if _, host, ok := strings.Cut(raw, "@"); ok {
			return Redacted + "@" + host
		}
		return raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "[unparsable URL]"
	}
	if u.User != nil {
		u.User = url.User("REDACTED")
	}
	if u.RawQuery != "" {
		u.RawQuery = "REDACTED"
	}
	if u.Fragment != "" {
		u.Fragment = "REDACTED"
	}
	return u.String()
}
