package docs_test

import (
	"bufio"
	"strings"
	"testing"
)

// fence is one fenced block of the README, of any language.
type fence struct {
	lang    string // what follows the opening ```
	line    int    // the README line of its first line of content
	text    string // its content, each line ending in a line break
	section string // the "## " heading it is under
}

// shellLangs are the info strings of the blocks the shell test runs.
var shellLangs = map[string]bool{"sh": true, "bash": true, "shell": true}

// fences returns every fenced block of the README, in order. A fence without a
// language fails the test: it could hold shell lines that would then go unrun.
func fences(t *testing.T, readme string) []fence {
	var out []fence
	var cur *fence
	var body strings.Builder
	section := ""
	sc := bufio.NewScanner(strings.NewReader(readme))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case cur != nil && trimmed == "```":
			cur.text = body.String()
			out = append(out, *cur)
			cur = nil
			body.Reset()
		case cur != nil:
			body.WriteString(line + "\n")
		case strings.HasPrefix(trimmed, "```"):
			lang := strings.TrimSpace(strings.TrimPrefix(trimmed, "```"))
			if lang == "" {
				t.Errorf("README.md:%d: a fenced block without a language: say what it holds (sh, go, text, …)", n)
			}
			cur = &fence{lang: lang, line: n + 1, section: section}
		case strings.HasPrefix(line, "## "):
			section = strings.TrimPrefix(line, "## ")
		}
	}
	if cur != nil {
		t.Errorf("README.md:%d: a fenced block is never closed", cur.line-1)
	}
	return out
}

// command is one command of a shell block, or one comment line between commands.
type command struct {
	line    int    // the block line it starts on, from 1
	raw     string // as written, continuation lines and trailing comment included
	code    string // without its comments; empty for a comment line
	comment string // a trailing comment, or the whole comment line, without "#"
}

// commands splits a shell block into commands: a command goes on past a line
// break inside quotes, after a backslash, after a trailing |, && or ||, and
// inside $( … ). Blank lines are dropped.
func commands(block string) []command {
	var out []command
	var raw, code, comment strings.Builder
	var quote rune // 0, '\'' or '"'
	depth := 0     // unclosed ( outside quotes
	line, start := 1, 1
	inComment := false
	runes := []rune(block)
	flush := func() {
		c := command{line: start, raw: raw.String(), code: strings.TrimSpace(code.String()), comment: strings.TrimSpace(comment.String())}
		if c.code != "" || c.comment != "" {
			out = append(out, c)
		}
		raw.Reset()
		code.Reset()
		comment.Reset()
	}
	for i := 0; i < len(runes); i++ {
		r := runes[i]
		if r == '\n' {
			line++
			inComment = false
			c := strings.TrimRight(code.String(), " \t")
			continued := quote != 0 || depth > 0 || strings.HasSuffix(c, "\\") ||
				strings.HasSuffix(c, "|") || strings.HasSuffix(c, "&&") || strings.HasSuffix(c, "||")
			if continued && strings.TrimSpace(c) != "" {
				raw.WriteRune(r)
				code.WriteRune(r)
				continue
			}
			flush()
			start = line
			continue
		}
		raw.WriteRune(r)
		if inComment {
			comment.WriteRune(r)
			continue
		}
		switch {
		case quote == '\'':
			if r == '\'' {
				quote = 0
			}
		case r == '\\' && i+1 < len(runes) && runes[i+1] != '\n':
			code.WriteRune(r)
			i++
			raw.WriteRune(runes[i])
			r = runes[i]
		case quote == '"':
			if r == '"' {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == '(':
			depth++
		case r == ')' && depth > 0:
			depth--
		case r == '#' && atWordStart(code.String()):
			inComment = true
			continue
		}
		code.WriteRune(r)
	}
	flush()
	return out
}

// atWordStart reports whether a # after code starts a comment.
func atWordStart(code string) bool {
	if code == "" {
		return true
	}
	switch code[len(code)-1] {
	case ' ', '\t', '\n', ';', '&', '|', '(':
		return true
	}
	return false
}

// The splitter keeps together what bash reads as one command.
func TestShellCommands(t *testing.T) {
	for _, tc := range []struct {
		name, block string
		want        []command // line, code, comment
	}{
		{"one per line", "a 1\nb 2\n", []command{{line: 1, code: "a 1"}, {line: 2, code: "b 2"}}},
		{"blank lines", "\na\n\n\nb\n", []command{{line: 2, code: "a"}, {line: 5, code: "b"}}},
		{"comment line", "# shows x\na\n", []command{{line: 1, comment: "shows x"}, {line: 2, code: "a"}}},
		{"trailing comment", "a --x   # why\n", []command{{line: 1, code: "a --x", comment: "why"}}},
		{"# inside a word", "curl http://h/#frag ${#x}\n", []command{{line: 1, code: "curl http://h/#frag ${#x}"}}},
		{"# in quotes", "echo '# not' \"# not\" # yes\n", []command{{line: 1, code: `echo '# not' "# not"`, comment: "yes"}}},
		{"backslash", "a \\\n  b\nc\n", []command{{line: 1, code: "a \\\n  b"}, {line: 3, code: "c"}}},
		{"pipe at the end", "a |\n  b\nc\n", []command{{line: 1, code: "a |\n  b"}, {line: 3, code: "c"}}},
		{"and, or", "a &&\nb ||\nc\n", []command{{line: 1, code: "a &&\nb ||\nc"}}},
		{"quoted line breaks", "a --data '<x>\n# inside\n</x>'\nb\n", []command{{line: 1, code: "a --data '<x>\n# inside\n</x>'"}, {line: 4, code: "b"}}},
		{"command substitution", "T=$(a \\\n -d x |\n  b)\nc\n", []command{{line: 1, code: "T=$(a \\\n -d x |\n  b)"}, {line: 4, code: "c"}}},
		{"escaped quote", "echo \\' a\nb\n", []command{{line: 1, code: "echo \\' a"}, {line: 2, code: "b"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := commands(tc.block)
			if len(got) != len(tc.want) {
				t.Fatalf("commands(%q) = %+v, want %+v", tc.block, got, tc.want)
			}
			for i, w := range tc.want {
				if g := got[i]; g.line != w.line || g.code != w.code || g.comment != w.comment {
					t.Errorf("command %d of %q = {%d %q %q}, want {%d %q %q}", i, tc.block, g.line, g.code, g.comment, w.line, w.code, w.comment)
				}
			}
		})
	}
}

// Servers the README runs in the foreground are told from those it backgrounds,
// and the commands that cannot run here from those that can.
func TestShellCommandKinds(t *testing.T) {
	for _, tc := range []struct {
		code       string
		foreground bool
		notRun     bool
	}{
		{"tokentrip proxy --provider mcv2", true, false},
		{"./tokentrip proxy --log-level warn & PROXY=$!", false, false},
		{"tokentrip proxy --config x.toml 2>&1", true, false},
		{"TOKENTRIP_LISTEN=:1 tokentrip emulate --provider acoustic", true, false},
		{"tokentrip emulate --provider mcv1 > e.json &", false, false},
		{"rm -f e.json; ./tokentrip emulate --provider mcv2 > e.json & E=$!", false, false},
		{"go install github.com/tokentrip/tokentrip/cmd/tokentrip@latest", false, true},
		{"go install ./cmd/tokentrip", false, false},
		{"go get github.com/tokentrip/tokentrip", false, true},
		{"go test -race -count=1 ./...", false, true},
		{"go test -race -count=1 ./docs/", false, false},
		{"docker run --rm -p 127.0.0.1:8787:8787 tokentrip", false, true},
		{"sudo systemctl enable --now tokentrip-proxy", false, true},
		{"GOFLAGS=-x benchmarks/bench.sh", false, true},
	} {
		fg := serverCommand.MatchString(tc.code) && !backgrounded.MatchString(tc.code)
		if fg != tc.foreground {
			t.Errorf("%q: a server in the foreground = %v, want %v", tc.code, fg, tc.foreground)
		}
		if nr := notRunReason(tc.code) != ""; nr != tc.notRun {
			t.Errorf("%q: not run = %v, want %v", tc.code, nr, tc.notRun)
		}
	}
}
