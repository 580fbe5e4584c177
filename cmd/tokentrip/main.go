// Command tokentrip shows, serves and hands out the credentials the tokentrip
// library keeps fresh for Salesforce Marketing Cloud and Acoustic Campaign.
// "tokentrip demo" runs the library against embedded emulators, "tokentrip token"
// prints an access token for scripts, and "tokentrip proxy" is a local
// authenticating reverse proxy for clients not written in Go; "tokentrip emulate"
// serves a vendor's emulator for tests in any language; "tokentrip version" says
// which build is running.
//
// Usage:
//
//	tokentrip demo
//	tokentrip token --provider mcv1|mcv2|acoustic [flags]
//	tokentrip proxy --provider mcv1|mcv2|acoustic [--listen 127.0.0.1:8787] [flags]
//	tokentrip proxy --config FILE [--listen 127.0.0.1:8787] [flags]
//	tokentrip emulate --provider mcv1|mcv2|acoustic [--listen 127.0.0.1:8788]
//	tokentrip version
//
// Settings come from flags and TOKENTRIP_* environment variables (a flag wins);
// secrets come only from the environment or from files, never from flags.
// "tokentrip <command> -h" lists every flag with its variable.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
)

// Exit codes.
const (
	exitOK      = 0 // done
	exitFailure = 1 // a runtime failure: rejected credentials, an unreachable endpoint, a demo figure off
	exitUsage   = 2 // a usage error: a bad flag, a missing or malformed setting
)

// command is one subcommand: its name, a one-line summary for the top-level usage,
// and what it does with its arguments.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *environ, args []string) int
}

// commands lists the subcommands in the order the usage shows them.
var commands = []command{
	{"demo", "run the library against embedded emulators and print what it measured", runDemo},
	{"token", "print an access token (or --json: the token and what the provider said about it)", runToken},
	{"proxy", "serve an authenticating reverse proxy on a loopback address", runProxy},
	{"emulate", "serve a vendor's emulator, with test credentials and JSON controls", runEmulate},
	{"version", "print the module version, VCS revision and Go version of this binary", runVersion},
}

// synopses are the commands' usage lines, after "tokentrip <command>".
var synopses = map[string]string{
	"demo":    "[flags]",
	"token":   "--provider mcv1|mcv2|acoustic [flags]",
	"proxy":   "--provider mcv1|mcv2|acoustic [--listen 127.0.0.1:8787] [flags]  |  --config FILE [flags]",
	"emulate": "--provider mcv1|mcv2|acoustic [--listen 127.0.0.1:8788]",
	"version": "",
}

// environ is what a command reads from and writes to, so that tests and main share
// one path: the process's streams and environment.
type environ struct {
	stdout, stderr io.Writer
	getenv         func(string) string
}

func main() {
	env := &environ{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	os.Exit(run(context.Background(), env, os.Args[1:]))
}

// run dispatches to the subcommand named by args[0] and returns the exit code.
func run(ctx context.Context, env *environ, args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(env.stderr, "tokentrip: no command given")
		topUsage(env.stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		if len(args) > 1 && args[0] == "help" {
			return run(ctx, env, []string{args[1], "-h"})
		}
		topUsage(env.stdout)
		return exitOK
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(ctx, env, args[1:])
		}
	}
	fmt.Fprintf(env.stderr, "tokentrip: unknown command %q\n", args[0])
	topUsage(env.stderr)
	return exitUsage
}

// topUsage prints the list of commands.
func topUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: tokentrip <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Commands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, `Run "tokentrip <command> -h" for a command's flags and environment variables.`)
}
