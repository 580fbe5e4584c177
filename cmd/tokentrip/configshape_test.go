package main

import (
	"errors"
	"strings"
	"testing"
)

// A file that nests or dots more than a proxy config ever does is refused before
// the TOML parser sees it, with the line; brackets and dots inside strings and
// comments do not count.
func TestConfigShapeProblem(t *testing.T) {
	deep := func(open, close string, n int) string {
		return "x = " + strings.Repeat(open, n) + strings.Repeat(close, n) + "\n"
	}
	for _, tc := range []struct {
		name string
		data string
		want string // "": no problem
	}{
		{"the docs example's shape", "[[credential]]\nname = \"a\"\nscope = [\"email_read\", \"email_write\"]\n", ""},
		{"inline tables in an array", "credential = [{name = \"a\", scope = [\"x\"]}, {name = \"b\"}]\n", ""},
		{"nesting at the bound", deep("[", "]", maxConfigNesting), ""},
		{"arrays one deeper", deep("[", "]", maxConfigNesting+1), "line 1: arrays and tables nest more than 16 deep"},
		{"inline tables one deeper", "x = " + strings.Repeat("{a=", maxConfigNesting+1) + "1" + strings.Repeat("}", maxConfigNesting+1), "line 1: arrays and tables nest more than 16 deep"},
		{"nesting across lines", "a = 1\n\nx = " + strings.Repeat("[\n", 20) + strings.Repeat("]\n", 20), "line 19: arrays and tables nest more than 16 deep"},
		{"closed levels do not add up", strings.Repeat(deep("[", "]", 10), 100), ""},
		{"a dotted key at the bound", strings.Repeat("a.", maxConfigLineDots) + "b = 1\n", ""},
		{"a dotted key one dot longer", "# ok\n" + strings.Repeat("a.", maxConfigLineDots+1) + "b = 1\n", "line 2: more than 64 dots in keys and values"},
		{"a dotted table header", "[" + strings.Repeat("a.", 100) + "b]\n", "line 1: more than 64 dots in keys and values"},
		{"dots on separate lines", strings.Repeat("a.b.c = 1\n", 1000), ""},
		{"brackets and dots in a comment", "# [[[[[[[[[[[[[[[[[[[[ " + strings.Repeat(".", 200) + "\nname = \"a\"\n", ""},
		{"brackets and dots in a basic string", "x = \"" + strings.Repeat("[{.", 100) + "\"\n", ""},
		{"an escaped quote in a basic string", "x = \"\\\"" + strings.Repeat("[", 30) + "\"\n", ""},
		{"an escaped backslash before the closing quote", "x = \"a\\\\\"\ny = " + strings.Repeat("[", 17), "line 2: arrays and tables nest more than 16 deep"},
		{"a literal string", "x = '" + strings.Repeat("[.", 100) + "\\'\n", ""},
		{"a multi-line basic string", "x = \"\"\"\n" + strings.Repeat("[.\"\n", 100) + "\"\"\"\"\"\ny = " + strings.Repeat("[", 17), "line 103: arrays and tables nest more than 16 deep"},
		{"a multi-line literal string", "x = '''\n" + strings.Repeat("[.'\n", 100) + "'''\ny = 1\n", ""},
		{"an unterminated string ends at its line", "x = \"" + strings.Repeat("[", 30) + "\ny = " + strings.Repeat("[", 17), "line 2: arrays and tables nest more than 16 deep"},
		{"an unterminated multi-line string", "x = '''" + strings.Repeat("[", 30), ""},
		{"a quoted dotted key", strings.Repeat(`"a".`, 70) + "b = 1\n", "line 1: more than 64 dots in keys and values"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := configShapeProblem([]byte(tc.data)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// loadConfig refuses such a file as a usage error that names it, without parsing
// it: the parser took seconds and gigabytes on a few kilobytes of nesting or
// dotted keys, and overflowed its stack on a few megabytes.
func TestLoadConfigRefusesHostileShapes(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string
	}{
		{"nested arrays", "x = " + strings.Repeat("[", 100) + strings.Repeat("]", 100) + "\n", "not a proxy config: line 1: arrays and tables nest more than 16 deep"},
		{"nested inline tables", "x = " + strings.Repeat("{a=", 100) + "1" + strings.Repeat("}", 100) + "\n", "not a proxy config: line 1: arrays and tables nest more than 16 deep"},
		{"a long dotted key", "[[credential]]\n" + strings.Repeat("a.", 500) + "b = 1\n", "not a proxy config: line 2: more than 64 dots"},
		{"a long dotted table", "[" + strings.Repeat("credential.", 100) + "x]\n", "not a proxy config: line 1: more than 64 dots"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeConfig(t, tc.body)
			_, err := loadConfig(configEnv(), path)
			var ue *usageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("error %v; want a usage error naming the file with %q", err, tc.want)
			}
		})
	}
}
