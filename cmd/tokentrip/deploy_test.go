package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The Dockerfile and the systemd unit name only flags and variables the proxy
// takes, so that they keep working as the command changes; the image runs a static
// binary as a non-root user.
func TestDeployRecipes(t *testing.T) {
	env := &environ{getenv: func(string) string { return "" }}
	var s settings
	flags, vars := map[string]bool{}, map[string]bool{envClientSecret: true, envRefreshToken: true}
	for _, o := range proxyCLI(env, &s, new(proxyFlags)).opts {
		flags["--"+o.name] = true
		if o.env != "" {
			vars[o.env] = true
		}
	}
	flagRE := regexp.MustCompile(`(?:^|[\s"])(--[a-z][a-z-]*)`)
	varRE := regexp.MustCompile(`\bTOKENTRIP_[A-Z_]+\b`)
	for _, tc := range []struct {
		path string
		want []string // lines the recipe must have
	}{
		{"../../Dockerfile", []string{"CGO_ENABLED=0 go build", "FROM gcr.io/distroless/static-debian12:nonroot", "USER nonroot:nonroot", `CMD ["proxy", "--allow-remote"]`}},
		{"../../docs/tokentrip-proxy.service", []string{"ExecStart=/usr/local/bin/tokentrip proxy ", "DynamicUser=yes", "LoadCredential=client-secret:", "RestartPreventExitStatus=2"}},
	} {
		b, err := os.ReadFile(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		for _, w := range tc.want {
			if !strings.Contains(text, w) {
				t.Errorf("%s lacks %q", tc.path, w)
			}
		}
		var used []string
		for line := range strings.SplitSeq(text, "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "#") && !strings.Contains(line, "docker run") {
				continue
			}
			if cmd := strings.TrimSpace(line); strings.HasPrefix(cmd, "CMD") || strings.HasPrefix(cmd, "ENTRYPOINT") || strings.HasPrefix(cmd, "ExecStart=") {
				for _, m := range flagRE.FindAllStringSubmatch(cmd, -1) {
					used = append(used, m[1])
				}
			}
			used = append(used, varRE.FindAllString(line, -1)...)
		}
		if len(used) == 0 {
			t.Errorf("%s names no flag or variable", tc.path)
		}
		for _, u := range used {
			if !flags[u] && !vars[u] {
				t.Errorf("%s uses %s, which tokentrip proxy does not take", tc.path, u)
			}
		}
		if strings.Contains(text, "--client-secret ") || slices.Contains(used, "--client-secret") {
			t.Errorf("%s passes the secret as a flag", tc.path)
		}
	}
}
