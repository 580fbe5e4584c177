package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// checkTable asserts that the demo's table has a PASS row for every scenario and
// no FAIL.
func checkTable(t *testing.T, stdout string) {
	t.Helper()
	if !strings.Contains(stdout, "SCENARIO") || !strings.Contains(stdout, "MEASURED") {
		t.Fatalf("no table header:\n%s", stdout)
	}
	for _, sc := range scenarios() {
		found := false
		for line := range strings.SplitSeq(stdout, "\n") {
			if strings.HasPrefix(line, sc.name+" ") {
				found = true
				if !strings.HasSuffix(strings.TrimSpace(line), "PASS") {
					t.Errorf("scenario %q did not pass: %s", sc.name, line)
				}
			}
		}
		if !found {
			t.Errorf("no row for scenario %q:\n%s", sc.name, stdout)
		}
	}
	if strings.Contains(stdout, "FAIL") {
		t.Errorf("the table reports a failure:\n%s", stdout)
	}
}

// "tokentrip demo", the README's first command, exits 0 with every scenario passed
// and one progress line per scenario.
func TestDemoBinary(t *testing.T) {
	r := runBinary(t, nil, "demo")
	wantCode(t, r, exitOK)
	checkTable(t, r.stdout)
	progress := 0
	for line := range strings.SplitSeq(r.stderr, "\n") {
		if strings.HasPrefix(line, "[") && strings.HasSuffix(strings.TrimSpace(line), ")") {
			progress++
		}
	}
	if want := len(scenarios()); progress != want {
		t.Errorf("%d progress lines, want %d:\n%s", progress, want, r.stderr)
	}
}

// The demo in this process, so that the race detector watches the scenarios too.
func TestDemoInProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("the binary test covers the demo in -short mode")
	}
	var stdout, stderr bytes.Buffer
	env := &environ{stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }}
	if code := run(context.Background(), env, []string{"demo"}); code != exitOK {
		t.Fatalf("exit code %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	checkTable(t, stdout.String())
}
