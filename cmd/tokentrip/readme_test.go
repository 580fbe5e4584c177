package main

import (
	"os"
	"strings"
	"testing"
)

// The README's configuration reference names every flag and variable the commands
// take, and its first commands are the ones CI and newcomers run.
func TestREADMEConfigurationReference(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	_, ref, ok := strings.Cut(readme, "## Configuration reference")
	if !ok {
		t.Fatal("README has no configuration reference")
	}
	env := &environ{getenv: func(string) string { return "" }}
	var s settings
	for _, c := range []*cli{tokenCLI(env, &s), proxyCLI(env, &s, new(proxyFlags))} {
		for _, o := range c.opts {
			if !strings.Contains(ref, "`--"+o.name) {
				t.Errorf("the reference lacks --%s", o.name)
			}
			if o.env != "" && !strings.Contains(ref, "`"+o.env+"`") {
				t.Errorf("the reference lacks %s", o.env)
			}
		}
	}
	for _, v := range []string{envClientSecret, envRefreshToken} {
		if !strings.Contains(ref, "`"+v+"`") {
			t.Errorf("the reference lacks %s", v)
		}
	}
	for _, cmd := range []string{"go run ./cmd/tokentrip demo", "go test -race -count=1 ./..."} {
		if !strings.Contains(readme, cmd) {
			t.Errorf("README lacks %q", cmd)
		}
	}
}
