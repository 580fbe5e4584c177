package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// runVersion is "tokentrip version": the module version, the VCS revision and the
// Go version the binary was built with, from its build information.
func runVersion(_ context.Context, env *environ, args []string) int {
	if len(args) > 0 {
		if args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
			fmt.Fprintln(env.stdout, "Usage: tokentrip version\n\nPrint the module version, the VCS revision and the Go version of this binary.")
			return exitOK
		}
		fmt.Fprintln(env.stderr, "tokentrip version: takes no arguments")
		fmt.Fprintf(env.stderr, "Usage: tokentrip version\n")
		return exitUsage
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		fmt.Fprintf(env.stdout, "tokentrip (no build information)\ngo %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return exitOK
	}
	fmt.Fprint(env.stdout, describeBuild(info))
	return exitOK
}

// describeBuild renders build information as "tokentrip version" prints it:
//
//	tokentrip v1.2.3
//	revision 0123abcd… (2026-01-02T03:04:05Z, modified)
//	go go1.26.1 linux/amd64
func describeBuild(info *debug.BuildInfo) string {
	version := info.Main.Version
	if version == "" {
		version = "(devel)"
	}
	settings := map[string]string{}
	for _, s := range info.Settings {
		settings[s.Key] = s.Value
	}
	revision := "unknown (built without version control information)"
	if rev := settings["vcs.revision"]; rev != "" {
		revision = rev
		var notes []string
		if t := settings["vcs.time"]; t != "" {
			notes = append(notes, t)
		}
		if settings["vcs.modified"] == "true" {
			notes = append(notes, "modified")
		}
		for i, n := range notes {
			if i == 0 {
				revision += " (" + n
			} else {
				revision += ", " + n
			}
		}
		if len(notes) > 0 {
			revision += ")"
		}
	}
	goos, goarch := settings["GOOS"], settings["GOARCH"]
	if goos == "" {
		goos, goarch = runtime.GOOS, runtime.GOARCH
	}
	return fmt.Sprintf("tokentrip %s\nrevision %s\ngo %s %s/%s\n", version, revision, info.GoVersion, goos, goarch)
}
