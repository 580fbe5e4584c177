package emulator

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// reasonConsts returns the Reason… string constants declared in file, by name.
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

// documentedReason is a line of a package doc's list of rejection reasons.
var documentedReason = regexp.MustCompile(`(?m)^//   - "([a-z_]+)": `)

// usedReason is a reason an emulator package's own code counts under.
var usedReason = regexp.MustCompile(`\bemulator\.(Reason[A-Za-z]+)\b`)

// The emulator packages list the reasons they count under in their package doc,
// for their users, who cannot name this package's constants: each string listed
// must be one the shared machinery counts under, and each reason a package's own
// code counts under must be listed.
func TestPackagesDocumentTheirReasons(t *testing.T) {
	shared := reasonConsts(t, "reasons.go")
	values := map[string]bool{}
	for _, v := range shared {
		values[v] = true
	}
	for _, dir := range []string{
		"../../provider/mcv1/mcv1test",
		"../../provider/mcv2/mcv2test",
		"../../provider/acoustic/acoustictest",
	} {
		doc, err := os.ReadFile(filepath.Join(dir, "doc.go"))
		if err != nil {
			t.Fatal(err)
		}
		listed := map[string]bool{}
		for _, m := range documentedReason.FindAllStringSubmatch(string(doc), -1) {
			listed[m[1]] = true
			if !values[m[1]] {
				t.Errorf("%s/doc.go lists %q, which is no reason the emulator counts under", dir, m[1])
			}
		}
		if len(listed) < 10 {
			t.Errorf("%s/doc.go: only %d reasons listed", dir, len(listed))
		}
		sources, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, file := range sources {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range usedReason.FindAllStringSubmatch(string(src), -1) {
				if v, ok := shared[m[1]]; !ok || !listed[v] {
					t.Errorf("%s counts under %s (%q), which its doc does not list", file, m[1], v)
				}
			}
		}
	}
}
