package testkit

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
)

// Renderings returns every way v may be printed: fmt's %v, %+v, %#v, %s and %q,
// and slog's JSON and text handlers. A test of a value that holds secrets
// checks that none of them shows one (see ByteForms for keys).
func Renderings(v any) []string {
	var out []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		out = append(out, fmt.Sprintf(verb, v))
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "v", v)
	out = append(out, buf.String())
	buf.Reset()
	slog.New(slog.NewTextHandler(&buf, nil)).Info("x", "v", v)
	return append(out, buf.String())
}

// ByteForms are the ways fmt and slog may render b: as it is, in hex, and as the
// byte lists of %v ("48 49 …") and %#v ("0x30, 0x31, …").
func ByteForms(b []byte) []string {
	dec := fmt.Sprint(b)
	gohex := fmt.Sprintf("%#v", b)
	return []string{string(b), hex.EncodeToString(b), dec[1 : len(dec)-1], gohex[strings.Index(gohex, "{")+1 : len(gohex)-1]}
}
