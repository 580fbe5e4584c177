package docs_test

import (
	"bufio"
	"strings"
	"testing"
)

// fence is one fenced block of the README, of any language.
type fence struct {
	lang string // what follows the opening ```
	line int    // the README line of its first line of content
	text string // its content, each line ending in a line break
}

// shellLangs are the info strings of the blocks the shell test runs.
var shellLangs = map[string]bool{"sh": true, "bash": true, "shell": true}

// fences returns every fenced block of the README, in order. A fence without a
// language fails the test: it could hold shell lines that would then go unrun.
func fences(t *testing.T, readme string) []fence {
	var out []fence
	var cur *fence
	var body strings.Builder
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
			cur = &fence{lang: lang, line: n + 1}
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
