package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tokentrip/tokentrip/internal/manualclock"
	"github.com/tokentrip/tokentrip/provider/acoustic/acoustictest"
	"github.com/tokentrip/tokentrip/provider/mcv1/mcv1test"
	"github.com/tokentrip/tokentrip/provider/mcv2/mcv2test"
)

// scenarioTimeout bounds one scenario in real time, so that a regression shows as
// a FAIL rather than a demo that never ends.
const scenarioTimeout = 15 * time.Second

// The demo's credentials: one client per scenario, so that what one scenario
// revokes or expires never touches another.
const (
	demoSecret     = "tokentrip-demo-client-secret"
	clientStampede = "demo-stampede"
	clientRefresh  = "demo-refresh-ahead"
	clientStorm    = "demo-401-storm"
	clientReplay   = "demo-token-expired"
	clientSOAP     = "demo-fueloauth"
	clientBreaker  = "demo-breaker"
	clientAcoustic = "demo-acoustic-app"
	refresh3h      = "demo-acoustic-refresh-3h"
	refreshCap     = "demo-acoustic-refresh-cap"
)

// demo is the world the scenarios run in: three emulators on loopback and the one
// clock they share with the providers.
type demo struct {
	clock *manualclock.Clock
	mc1   *mcv1test.Server
	mc2   *mcv2test.Server
	ac    *acoustictest.Server
}

// startDemo starts the three emulators on a manual clock.
func startDemo() *demo {
	clock := manualclock.New(time.Now().UTC().Truncate(time.Second))
	return &demo{
		clock: clock,
		mc1: mcv1test.NewServer(
			mcv1test.WithClock(clock.Now),
			mcv1test.WithClient(clientSOAP, demoSecret),
			mcv1test.WithClient(clientBreaker, demoSecret),
		),
		mc2: mcv2test.NewServer(
			mcv2test.WithClock(clock.Now),
			mcv2test.WithClient(clientStampede, demoSecret),
			mcv2test.WithClient(clientRefresh, demoSecret),
			mcv2test.WithClient(clientStorm, demoSecret),
			mcv2test.WithClient(clientReplay, demoSecret),
		),
		ac: acoustictest.NewServer(
			acoustictest.WithClock(clock.Now),
			acoustictest.WithClient(clientAcoustic, demoSecret, refresh3h),
			acoustictest.WithClient(clientAcoustic, demoSecret, refreshCap),
		),
	}
}

// close shuts the emulators down.
func (d *demo) close() {
	d.mc1.Close()
	d.mc2.Close()
	d.ac.Close()
}

// scenario is one scripted run: what it does, what the library promises, the
// session it runs in and the code that measures it.
type scenario struct {
	name   string
	doing  string // the progress line
	expect string // the promise, as the table shows it
	open   opener // the session run is given (nil: run builds its own Transport)
	run    func(ctx context.Context, d *demo, s *session) outcome
}

// play resets the emulators' counters, opens the scenario's session, runs the
// scenario in it and closes it.
func (sc scenario) play(ctx context.Context, d *demo) outcome {
	d.mc1.ResetStats()
	d.mc2.ResetStats()
	d.ac.ResetStats()
	if sc.open == nil {
		return sc.run(ctx, d, nil)
	}
	s, err := sc.open(ctx, d)
	if err != nil {
		return failed("%v", err)
	}
	defer s.tr.CloseIdleConnections()
	return sc.run(ctx, d, s)
}

// outcome is what a scenario measured, and which of its checks failed.
type outcome struct {
	measured string
	problems []string
}

// check records a failed expectation.
func (o *outcome) check(ok bool, format string, args ...any) {
	if !ok {
		o.problems = append(o.problems, fmt.Sprintf(format, args...))
	}
}

// failed is the outcome of a scenario that could not finish.
func failed(format string, args ...any) outcome {
	msg := fmt.Sprintf(format, args...)
	return outcome{measured: "error: " + msg, problems: []string{msg}}
}

// runDemo is "tokentrip demo".
func runDemo(ctx context.Context, env *environ, args []string) int {
	fs := flag.NewFlagSet("tokentrip demo", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(env.stdout, "Usage: tokentrip demo\n\n%s\n", demoHelp)
			return exitOK
		}
		return failure(env, "demo", &usageError{msg: err.Error()})
	}
	if fs.NArg() > 0 {
		return failure(env, "demo", usagef("demo takes no arguments"))
	}

	start := time.Now()
	d := startDemo()
	defer d.close()
	fmt.Fprintf(env.stderr, "tokentrip demo: emulators up — Marketing Cloud v1 %s, v2 %s, Acoustic %s — on one accelerated clock\n",
		d.mc1.URL, d.mc2.URL, d.ac.URL)

	type row struct {
		sc   scenario
		out  outcome
		took time.Duration
	}
	var rows []row
	all := scenarios()
	for i, sc := range all {
		fmt.Fprintf(env.stderr, "[%d/%d] %s: %s … ", i+1, len(all), sc.name, sc.doing)
		began := time.Now()
		sctx, cancel := context.WithTimeout(ctx, scenarioTimeout)
		out := sc.play(sctx, d)
		cancel()
		took := time.Since(began)
		fmt.Fprintf(env.stderr, "%s (%s)\n", verdict(out), took.Round(time.Millisecond))
		rows = append(rows, row{sc, out, took})
	}

	fmt.Fprintln(env.stdout)
	tw := tabwriter.NewWriter(env.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tEXPECTED\tMEASURED\tRESULT")
	passed := 0
	for _, r := range rows {
		if len(r.out.problems) == 0 {
			passed++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.sc.name, r.sc.expect, r.out.measured, verdict(r.out))
	}
	_ = tw.Flush()
	fmt.Fprintln(env.stdout)
	for _, r := range rows {
		for _, p := range r.out.problems {
			fmt.Fprintf(env.stdout, "FAIL %s: %s\n", r.sc.name, p)
		}
	}
	fmt.Fprintf(env.stdout, "%d/%d scenarios passed in %s; the emulated clock moved %s.\n",
		passed, len(rows), time.Since(start).Round(10*time.Millisecond), d.clock.Elapsed())
	if passed != len(rows) {
		return exitFailure
	}
	return exitOK
}

// verdict is PASS or FAIL.
func verdict(o outcome) string {
	if len(o.problems) == 0 {
		return "PASS"
	}
	return "FAIL"
}

// demoHelp explains the demo in the usage.
var demoHelp = strings.TrimSpace(`
Start the Marketing Cloud v1, v2 and Acoustic emulators in this process and run
the library through scripted scenarios on an accelerated clock: a cold
stampede, a refresh ahead of expiry, a 401 storm, SOAP fueloauth and
UsernameToken, a "Token Expired" replay, the breaker on revoked credentials,
Acoustic's 3-hour rule and its 10-in-flight cap. Every figure in the table is
read from the emulators' counters and the library's Stats. The exit code is 1
if any figure is off.`)
