package emulator

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"strings"
	"testing"
)

// reasonConsts returns the Reason… string constants declared in file.
func reasonConsts(t *testing.T, file string) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	consts := map[string]string{}
	ast.Inspect(f, func(n ast.Node) bool {
		spec, ok := n.(*ast.ValueSpec)
		if !ok {
			return true
		}
		for i, name := range spec.Names {
			if !strings.HasPrefix(name.Name, "Reason") || i >= len(spec.Values) {
				continue
			}
			lit, ok := spec.Values[i].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				t.Errorf("%s: %s is not a string literal", file, name.Name)
				continue
			}
			consts[name.Name], _ = strconv.Unquote(lit.Value)
		}
		return true
	})
	return consts
}

// The emulator packages spell their reasons out, so that users see the strings in
// their documentation; each must be the one the shared machinery counts under, by
// the same name.
func TestPackagesReasonsMatchTheEmulator(t *testing.T) {
	shared := reasonConsts(t, "reasons.go")
	for _, file := range []string{
		"../../provider/mcv1/mcv1test/reasons.go",
		"../../provider/mcv2/mcv2test/reasons.go",
		"../../provider/acoustic/acoustictest/reasons.go",
	} {
		own := reasonConsts(t, file)
		if len(own) < 10 {
			t.Errorf("%s: only %d reasons found", file, len(own))
		}
		for name, value := range own {
			if want, ok := shared[name]; !ok || value != want {
				t.Errorf("%s: %s = %q, the emulator's is %q", file, name, value, want)
			}
		}
	}
}
