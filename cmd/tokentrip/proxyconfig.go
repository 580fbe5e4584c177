package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/BurntSushi/toml"
)

// maxConfigFile bounds what is read from a --config file: 10,000 credentials fit
// in a few megabytes.
const maxConfigFile = 16 << 20

// maxConfigProblems is how many problems of a config file are listed at once.
const maxConfigProblems = 20

// configProblems collects what is wrong with a config file, each problem with the
// credential it belongs to. It keeps the first maxConfigProblems and counts the
// rest, so that a file of a million empty tables does not hold millions of
// messages.
type configProblems struct {
	path string
	list []string // the first maxConfigProblems
	n    int      // all of them
}

func (p *configProblems) add(who, format string, args ...any) {
	p.n++
	if len(p.list) < maxConfigProblems {
		p.list = append(p.list, who+": "+fmt.Sprintf(format, args...))
	}
}

// err is the problems as one usage error, or nil.
func (p *configProblems) err() error {
	switch n := p.n; {
	case n == 0:
		return nil
	case n == 1:
		return usagef("--config %s: %s", p.path, p.list[0])
	default:
		shown := p.list
		more := ""
		if n > len(shown) {
			more = fmt.Sprintf("\n  … and %d more", n-len(shown))
		}
		return usagef("--config %s: %d problems:\n  %s%s", p.path, n, strings.Join(shown, "\n  "), more)
	}
}

// loadConfig reads the credentials of a proxy config file, reads their secrets from
// the environment variables and files it names, and checks every setting, sending
// nothing. Every problem is a usage error that names the credential and the key,
// and never shows a secret.
func loadConfig(env *environ, path string) ([]credential, error) {
	data, err := readConfigFile(path)
	if err != nil {
		return nil, err
	}
	if problem := configShapeProblem(data); problem != "" {
		return nil, usagef("--config %s: not a proxy config: %s", path, problem)
	}
	var doc map[string]any
	if _, err := toml.Decode(string(data), &doc); err != nil {
		return nil, usagef("--config %s: %s", path, tomlProblem(err))
	}
	probs := &configProblems{path: path}
	for key := range doc {
		if key != "credential" {
			probs.add("top level", "unknown key %q: the file holds [[credential]] tables only (--listen and the log settings are flags)", key)
		}
	}
	tables, ok := credentialTables(doc["credential"])
	switch {
	case !ok:
		probs.add("top level", "credential must be an array of tables: write [[credential]] above each")
	case len(tables) == 0:
		probs.add("top level", "no credentials: add a [[credential]] table for each")
	}
	creds := make([]credential, 0, len(tables))
	for i, t := range tables {
		if c, ok := parseCredential(env, filepath.Dir(path), i, t, probs); ok {
			creds = append(creds, c)
		}
	}
	checkUnique(creds, probs)
	if err := probs.err(); err != nil {
		return nil, err
	}
	return creds, nil
}

// credentialTables is the value of the credential key as tables: [[credential]]
// tables or an inline array of tables. A missing key is no tables.
func credentialTables(v any) ([]map[string]any, bool) {
	switch v := v.(type) {
	case nil:
		return nil, true
	case []map[string]any:
		return v, true
	case []any:
		tables := make([]map[string]any, 0, len(v))
		for _, it := range v {
			t, ok := it.(map[string]any)
			if !ok {
				return nil, false
			}
			tables = append(tables, t)
		}
		return tables, true
	}
	return nil, false
}

// readConfigFile reads at most maxConfigFile bytes of path.
func readConfigFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, usagef("--config: cannot read %s: %v", path, pe.Err)
		}
		return nil, usagef("--config: cannot read %s", path)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigFile+1))
	switch {
	case err != nil:
		return nil, usagef("--config: cannot read %s", path)
	case len(data) > maxConfigFile:
		return nil, usagef("--config: %s is larger than %d bytes", path, maxConfigFile)
	}
	return data, nil
}

// quoted matches a quoted stretch of a TOML parser's message.
var quoted = regexp.MustCompile(`"[^"]*"|'[^']*'`)

// tomlProblem renders a TOML syntax error with its line and key. Quoted text of
// the file is left out: a secret written by mistake must not reach the terminal.
func tomlProblem(err error) string {
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		return quoted.ReplaceAllString(err.Error(), `"…"`)
	}
	msg := quoted.ReplaceAllString(pe.Message, `"…"`)
	where := fmt.Sprintf("line %d", pe.Position.Line)
	if pe.LastKey != "" {
		where += fmt.Sprintf(" (key %s)", pe.LastKey)
	}
	return "not valid TOML: " + where + ": " + msg
}
