package main

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// "tokentrip version" prints what the binary's build information says: the
// module version, the VCS revision and the Go version.
func TestVersion(t *testing.T) {
	r := runBinary(t, nil, "version")
	wantCode(t, r, exitOK)
	// The toolchain's own reading of the binary.
	out, err := exec.Command(runtimeGo(), "version", "-m", binary).Output()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"tokentrip ", "go " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH}
	revision := "revision unknown"
	for line := range strings.SplitSeq(string(out), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "build\tvcs.revision="); ok {
			revision = "revision " + v
		}
		if f := strings.Fields(line); len(f) >= 3 && f[0] == "mod" {
			want = append(want, "tokentrip "+f[2])
		}
	}
	want = append(want, revision)
	for _, w := range want {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("tokentrip version lacks %q:\n%s\n(go version -m says:\n%s)", w, r.stdout, out)
		}
	}
	wantCode(t, runBinary(t, nil, "version", "--bogus"), exitUsage)
}

// The build information reads the same way whatever it holds.
func TestDescribeBuild(t *testing.T) {
	for _, tc := range []struct {
		name string
		info debug.BuildInfo
		want string
	}{
		{"a release from a clean tree", debug.BuildInfo{GoVersion: "go1.26.1", Main: debug.Module{Version: "v1.4.0"}, Settings: []debug.BuildSetting{
			{Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "arm64"},
			{Key: "vcs.revision", Value: "4f1c2e0d9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d"}, {Key: "vcs.time", Value: "2026-05-06T07:08:09Z"}, {Key: "vcs.modified", Value: "false"}}},
			"tokentrip v1.4.0\nrevision 4f1c2e0d9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d (2026-05-06T07:08:09Z)\ngo go1.26.1 linux/arm64\n"},
		{"a local build with changes", debug.BuildInfo{GoVersion: "go1.26.2", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "GOOS", Value: "darwin"}, {Key: "GOARCH", Value: "amd64"},
			{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "true"}}},
			"tokentrip (devel)\nrevision abc123 (modified)\ngo go1.26.2 darwin/amd64\n"},
		{"no version control", debug.BuildInfo{GoVersion: "go1.26.0", Settings: []debug.BuildSetting{{Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "amd64"}}},
			"tokentrip (devel)\nrevision unknown (built without version control information)\ngo go1.26.0 linux/amd64\n"},
	} {
		if got := describeBuild(&tc.info); got != tc.want {
			t.Errorf("%s:\n%s\nwant:\n%s", tc.name, got, tc.want)
		}
	}
}

// runtimeGo is the go command of the toolchain running the tests.
func runtimeGo() string {
	//lint:ignore SA1019 under go test, runtime.GOROOT is the GOROOT of the running toolchain, the one wanted here.
	return filepath.Join(runtime.GOROOT(), "bin", "go")
}
