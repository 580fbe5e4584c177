package main

import (
	"bytes"
	"fmt"
)

// A proxy config file nests two levels at most ([[credential]] and a scope list)
// and has a dot or two on a line. The TOML parser's time, memory and stack grow
// with nesting and with the dots of a key (a 20 KB line of dotted keys took 18 s
// and 1.3 GB; 8 MB of brackets overflowed the stack), so a file beyond these
// bounds is refused before it is parsed.
const (
	maxConfigNesting  = 16 // arrays and inline tables open at once
	maxConfigLineDots = 64 // dots on one line outside strings and comments
)

// configShapeProblem says where data nests deeper or holds more dots on a line
// than any proxy config needs, or returns "". It reads TOML's strings and comments
// only far enough to skip them; the parser judges everything else.
func configShapeProblem(data []byte) string {
	depth, dots, line := 0, 0, 1
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '\n':
			line++
			dots = 0
		case '#':
			if j := bytes.IndexByte(data[i:], '\n'); j >= 0 {
				i += j - 1 // the newline is read next
			} else {
				i = len(data)
			}
		case '"', '\'':
			end := tomlStringEnd(data, i)
			line += bytes.Count(data[i:end], []byte("\n"))
			i = end - 1
		case '[', '{':
			if depth++; depth > maxConfigNesting {
				return fmt.Sprintf("line %d: arrays and tables nest more than %d deep", line, maxConfigNesting)
			}
		case ']', '}':
			depth = max(depth-1, 0)
		case '.':
			if dots++; dots > maxConfigLineDots {
				return fmt.Sprintf("line %d: more than %d dots in keys and values", line, maxConfigLineDots)
			}
		}
	}
	return ""
}

// tomlStringEnd returns the index just past the TOML string that starts at
// data[i]: basic ("…", with backslash escapes), literal ('…'), or multi-line
// (between three double or three single quotes, and which may end with up to two
// more quotes). A single-line string ends at the end of its line at the latest,
// an unterminated multi-line one at the end of the data: the parser reports
// either.
func tomlStringEnd(data []byte, i int) int {
	q := data[i]
	delim := []byte{q, q, q}
	if bytes.HasPrefix(data[i:], delim) {
		for j := i + 3; j < len(data); j++ {
			switch {
			case q == '"' && data[j] == '\\':
				j++ // the escaped byte
			case bytes.HasPrefix(data[j:], delim):
				end := j + 3
				for k := 0; k < 2 && end < len(data) && data[end] == q; k++ {
					end++
				}
				return end
			}
		}
		return len(data)
	}
	for j := i + 1; j < len(data); j++ {
		switch {
		case q == '"' && data[j] == '\\':
			j++
		case data[j] == q:
			return j + 1
		case data[j] == '\n':
			return j
		}
	}
	return len(data)
}
