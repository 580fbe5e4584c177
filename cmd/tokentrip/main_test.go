package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// binary is the tokentrip command built once for every test that runs it.
var binary string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

// buildAndRun builds the command into a temporary directory, runs the tests and
// removes the directory.
func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "tokentrip-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "tokentrip test:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "tokentrip")
	// The toolchain that built this test binary builds the command too.
	//lint:ignore SA1019 under go test, runtime.GOROOT is the GOROOT of the running toolchain, the one wanted here.
	goCmd := filepath.Join(runtime.GOROOT(), "bin", "go")
	build := exec.Command(goCmd, "build", "-o", binary, ".")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "tokentrip test: go build: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// result is how a run of the binary ended.
type result struct {
	stdout, stderr string
	code           int
}

// output is both streams, for asserting that something appears in neither.
func (r result) output() string { return r.stdout + r.stderr }

// childEnv is the environment of a child: the test's own, without any TOKENTRIP_
// variable of the developer's shell, plus vars ("NAME=value").
func childEnv(vars ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "TOKENTRIP_") {
			env = append(env, kv)
		}
	}
	return append(env, vars...)
}

// publishToChild orders everything this goroutine has written so far before
// whatever an emulator of this process does when a child's request reaches it,
// as the race detector sees it. The detector orders a process's own socket reads
// after its earlier writes (through the syscall package), but knows nothing of a
// child's writes; an emulator that sets its URL field after its listener starts
// would otherwise look like it races with the handler that reads the field.
func publishToChild(t *testing.T) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if _, err := w.Write([]byte{0}); err != nil {
		t.Fatal(err)
	}
}

// runBinary runs the command to completion with the given environment additions.
func runBinary(t *testing.T, vars []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = childEnv(vars...)
	publishToChild(t)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		r.code = exit.ExitCode()
	default:
		t.Fatalf("running tokentrip %s: %v", strings.Join(args, " "), err)
	}
	return r
}

// wantCode fails the test unless r ended with code.
func wantCode(t *testing.T, r result, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
}
