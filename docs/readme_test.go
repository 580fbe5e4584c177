package docs_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/scanner"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// A Go block of the README is built as one of these:
//
//   - a block that starts with "package" is a whole file, built as it is;
//   - any other block is a fragment: its import declarations stay at the top of a
//     file, its declarations (func, type, var, const) stay at the top level, and
//     its statements go into the body of a function that returns an error, so
//     that "return err" works. Packages the fragment names but does not import
//     (http, transport, mcv2, …) are imported for it, and a variable it declares
//     for the reader's later use is marked used.
//
// Fragments may use the placeholders below for what the reader supplies: a client
// id, a secret, a Redis client. A block right after the line
//
//	<!-- readme: not compiled — why -->
//
// is not built (it needs code the module does not have, such as a package
// generated from a WSDL); the test requires the reason.
//
// A block that imports the OpenTelemetry adapter is built in the otel module.

// placeholders are the names README fragments may use without declaring them
// (rdb only in the main module, whose go.mod requires go-redis).
const placeholders = `
var (
	id, secret, refreshToken string // a credential
	sub, mid                 string // a Marketing Cloud subdomain and business unit
	user, password           string // a Marketing Cloud API user
	provider                 transport.Provider
	key                      []byte // a store's encryption key
	ctx                      = context.Background()
	_                        = []any{id, secret, refreshToken, sub, mid, user, password, provider, key, ctx}
)
`

// redisPlaceholder is rdb, a go-redis client.
const redisPlaceholder = `
var rdb *redis.Client

var _ = rdb
`

// knownImports are the packages a fragment may name without importing them: those
// whose name is their directory's. store/redis (package redisstore) must be imported.
var knownImports = map[string]string{
	"context":   "context",
	"errors":    "errors",
	"fmt":       "fmt",
	"http":      "net/http",
	"io":        "io",
	"log":       "log",
	"os":        "os",
	"slog":      "log/slog",
	"time":      "time",
	"oauth2":    "golang.org/x/oauth2",
	"redis":     "github.com/redis/go-redis/v9",
	"transport": "github.com/tokentrip/tokentrip/transport",
	"envelope":  "github.com/tokentrip/tokentrip/envelope",
	"mcv1":      "github.com/tokentrip/tokentrip/provider/mcv1",
	"mcv2":      "github.com/tokentrip/tokentrip/provider/mcv2",
	"acoustic":  "github.com/tokentrip/tokentrip/provider/acoustic",
	"store":     "github.com/tokentrip/tokentrip/store",
}

// otelModule says which blocks are built in the otel module.
var otelModule = regexp.MustCompile(`"(github\.com/tokentrip/tokentrip/otel|go\.opentelemetry\.io/[^"]*)"`)

// readmeBlock is one Go block of the README.
type readmeBlock struct {
	line int    // the README line of its first line of code
	code string // its code
	skip string // why it is not compiled, if it is not
}

// goBlocks returns the README's ```go blocks.
func goBlocks(t *testing.T, readme string) []readmeBlock {
	var blocks []readmeBlock
	var cur *readmeBlock
	var code []string
	skip := ""
	sc := bufio.NewScanner(strings.NewReader(readme))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur != nil && strings.TrimSpace(line) == "```":
			cur.code = strings.Join(code, "\n") + "\n"
			blocks = append(blocks, *cur)
			cur, code = nil, nil
		case cur != nil:
			code = append(code, line)
		case strings.TrimSpace(line) == "```go":
			cur = &readmeBlock{line: n + 1, skip: skip}
			skip = ""
		case strings.HasPrefix(line, "<!-- readme: not compiled"):
			why := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(line, "<!-- readme: not compiled"), "-->"))
			why = strings.TrimSpace(strings.TrimLeft(why, "—-: "))
			if why == "" {
				t.Errorf("README.md:%d: a block marked not compiled must say why", n)
				why = "?"
			}
			skip = why
		case strings.TrimSpace(line) != "":
			skip = "" // the mark stands right before its block
		}
	}
	if cur != nil {
		t.Errorf("README.md:%d: a Go block is never closed", cur.line-1)
	}
	return blocks
}

// fragment turns a block that is not a whole file into a file of package pkg.
func fragment(b readmeBlock, pkg string) string {
	lines := strings.Split(strings.TrimRight(b.code, "\n"), "\n")
	// The imports: the leading import declarations.
	i := 0
	for i < len(lines) && (strings.TrimSpace(lines[i]) == "" || strings.HasPrefix(strings.TrimSpace(lines[i]), "//")) {
		i++
	}
	importStart := i
	for i < len(lines) && strings.HasPrefix(lines[i], "import") {
		if strings.HasSuffix(strings.TrimSpace(lines[i]), "(") {
			for i < len(lines) && strings.TrimSpace(lines[i]) != ")" {
				i++
			}
		}
		i++
		for i < len(lines) && strings.TrimSpace(lines[i]) == "" {
			i++
		}
	}
	imports := strings.Join(lines[importStart:i], "\n")
	rest := strings.Join(lines[i:], "\n")

	var f strings.Builder
	fmt.Fprintf(&f, "package %s\n\n", pkg)
	for _, name := range qualifiers(rest) {
		if path, ok := knownImports[name]; ok && !strings.Contains(imports, strconv.Quote(path)) {
			fmt.Fprintf(&f, "import %s %q\n", name, path)
		}
	}
	if imports != "" {
		fmt.Fprintf(&f, "//line README.md:%d\n%s\n", b.line+importStart, imports)
	}
	// Declarations stay at the top level; statements go into a function.
	if _, err := parser.ParseFile(token.NewFileSet(), "", "package p\n"+rest, 0); err == nil {
		fmt.Fprintf(&f, "//line README.md:%d\n%s\n", b.line+i, rest)
		return f.String()
	}
	fmt.Fprintf(&f, "func block() error {\n//line README.md:%d\n%s\n", b.line+i, rest)
	for _, v := range declared(rest) {
		fmt.Fprintf(&f, "\t_ = %s\n", v) // declared for the reader's next line
	}
	f.WriteString("\treturn nil\n}\n")
	return f.String()
}

// declared returns the variables that statements declare at their top level.
func declared(stmts string) []string {
	file, err := parser.ParseFile(token.NewFileSet(), "", "package p\nfunc f() {\n"+stmts+"\n}", 0)
	if err != nil {
		return nil // the build reports it
	}
	var names []string
	add := func(id *ast.Ident) {
		if id.Name != "_" && !slices.Contains(names, id.Name) {
			names = append(names, id.Name)
		}
	}
	for _, st := range file.Decls[0].(*ast.FuncDecl).Body.List {
		switch st := st.(type) {
		case *ast.AssignStmt:
			if st.Tok == token.DEFINE {
				for _, e := range st.Lhs {
					if id, ok := e.(*ast.Ident); ok {
						add(id)
					}
				}
			}
		case *ast.DeclStmt:
			if g, ok := st.Decl.(*ast.GenDecl); ok && g.Tok == token.VAR {
				for _, spec := range g.Specs {
					for _, id := range spec.(*ast.ValueSpec).Names {
						add(id)
					}
				}
			}
		}
	}
	return names
}

// qualifiers returns the names code uses as "name.Exported", outside comments and
// strings, in order of first use.
func qualifiers(code string) []string {
	var sc scanner.Scanner
	fset := token.NewFileSet()
	sc.Init(fset.AddFile("", fset.Base(), len(code)), []byte(code), nil, 0)
	var names []string
	var prev [2]token.Token
	var prevLit string
	for {
		_, tok, lit := sc.Scan()
		if tok == token.EOF {
			return names
		}
		// name . Exported, where name does not itself follow a dot
		if tok == token.IDENT && prev[1] == token.PERIOD && prev[0] == token.IDENT && prevLit != "" && len(lit) > 0 && lit[0] >= 'A' && lit[0] <= 'Z' && !slices.Contains(names, prevLit) {
			names = append(names, prevLit)
		}
		if tok == token.IDENT && prev[1] != token.PERIOD {
			prevLit = lit
		} else if tok == token.IDENT {
			prevLit = ""
		}
		prev[0], prev[1] = prev[1], tok
	}
}

// builtBlock is a block as it is built.
type builtBlock struct {
	readmeBlock
	pkg    string // the package's name and directory
	module string // the module directory it is built in
}

// files are the package's files, by name.
func (b *builtBlock) files() map[string]string {
	if strings.HasPrefix(strings.TrimSpace(b.code), "package ") {
		return map[string]string{"block.go": "//line README.md:" + strconv.Itoa(b.line) + "\n" + b.code}
	}
	files := map[string]string{
		"block.go": fragment(b.readmeBlock, b.pkg),
		"placeholders.go": "package " + b.pkg + "\n\nimport (\n\t\"context\"\n\n" +
			"\t\"github.com/tokentrip/tokentrip/transport\"\n)\n" + placeholders,
	}
	if filepath.Base(b.module) != "otel" {
		files["redis.go"] = "package " + b.pkg + "\n\nimport \"github.com/redis/go-redis/v9\"\n" + redisPlaceholder
	}
	return files
}

// TestREADMEGoBlocksCompile builds every Go block of the README (see above).
func TestREADMEGoBlocksCompile(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the README's Go blocks with the go command")
	}
	root := checkoutRoot(t)
	byModule := map[string][]*builtBlock{}
	compiled, skipped := 0, 0
	for i, b := range goBlocks(t, readme(t)) {
		if b.skip != "" {
			skipped++
			t.Logf("README.md:%d: not compiled: %s", b.line, b.skip)
			continue
		}
		module := root
		if otelModule.MatchString(b.code) {
			module = filepath.Join(root, "otel")
		}
		byModule[module] = append(byModule[module], &builtBlock{readmeBlock: b, pkg: fmt.Sprintf("block%02d", i+1), module: module})
		compiled++
	}
	if compiled == 0 {
		t.Fatal("the README has no Go block to build")
	}

	// The blocks are packages under a directory that does not exist, given to the
	// go command as an overlay: the module's own go.mod and go.sum resolve them.
	tmp := t.TempDir()
	goCmd := filepath.Join(goBin(), "go")
	for module, blocks := range byModule {
		overlay := map[string]string{}
		var pkgs []string
		for _, b := range blocks {
			for name, content := range b.files() {
				real := filepath.Join(tmp, b.pkg+"-"+name)
				if err := os.WriteFile(real, []byte(content), 0o600); err != nil {
					t.Fatal(err)
				}
				overlay[filepath.Join(module, "readmeblocks", b.pkg, name)] = real
			}
			pkgs = append(pkgs, "./readmeblocks/"+b.pkg)
		}
		js, _ := json.Marshal(map[string]any{"Replace": overlay})
		overlayFile := filepath.Join(tmp, "overlay-"+filepath.Base(module)+".json")
		if err := os.WriteFile(overlayFile, js, 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(goCmd, append([]string{"build", "-overlay", overlayFile}, pkgs...)...)
		cmd.Dir = module
		out, err := cmd.CombinedOutput()
		if err == nil {
			continue
		}
		// go build prints "# <import path>" before each package's errors.
		failed := map[*builtBlock]string{}
		var cur *builtBlock
		for _, line := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(line, "# ") {
				cur = nil
				for _, b := range blocks {
					if strings.HasSuffix(line, "/readmeblocks/"+b.pkg) {
						cur = b
					}
				}
			} else if cur != nil && line != "" {
				failed[cur] += line + "\n"
			}
		}
		if len(failed) == 0 {
			t.Fatalf("go build: %v\n%s", err, out)
		}
		for b, msg := range failed {
			t.Errorf("the README's Go block at line %d does not build:\n%s\n--- the block as built:\n%s", b.line, msg, b.files()["block.go"])
			compiled--
		}
	}
	t.Logf("FIGURE README Go blocks: %d compiled, %d marked not compiled", compiled, skipped)
}
