package singleflight

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
)

// TestIdleGroupHoldsNoTable: the table of calls exists only while a caller is still
// to hear from a call, whichever way the callers leave, and a caller that comes
// while an abandoned call still runs joins it rather than starting another.
func TestIdleGroupHoldsNoTable(t *testing.T) {
	cases := []struct {
		name     string
		abandon  bool // the caller that starts the call gives up before it ends
		joiner   bool // a second caller arrives while the call runs
		fails    bool
		panics   bool
		wantRuns int32
	}{
		{name: "one caller", wantRuns: 1},
		{name: "one caller, error", fails: true, wantRuns: 1},
		{name: "one caller, panic", panics: true, wantRuns: 1},
		{name: "two callers share", joiner: true, wantRuns: 1},
		{name: "starter gives up", abandon: true, wantRuns: 1},
		{name: "starter gives up, joiner", abandon: true, joiner: true, wantRuns: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var g Group[int]
				if !g.idle() {
					t.Fatal("a new Group holds a table")
				}
				var runs atomic.Int32
				release := make(chan struct{})
				defer func() { // on failure too, so that no goroutine is left blocked
					select {
					case <-release:
					default:
						close(release)
					}
				}()
				fn := func(context.Context) (int, error) {
					runs.Add(1)
					<-release
					switch {
					case c.panics:
						panic("boom")
					case c.fails:
						return 0, errors.New("failed")
					}
					return 7, nil
				}
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				first := make(chan error, 1)
				go func() { _, _, err := g.Do(ctx, "k", fn); first <- err }()
				synctest.Wait() // the call runs
				if c.abandon {
					cancel()
					if err := <-first; !errors.Is(err, context.Canceled) {
						t.Fatalf("abandoning caller: %v", err)
					}
					synctest.Wait()
					if g.idle() {
						t.Fatal("the table went while its call still runs")
					}
				}
				second := make(chan error, 1)
				if c.joiner {
					go func() { _, _, err := g.Do(context.Background(), "k", fn); second <- err }()
					synctest.Wait()
				}
				close(release)
				if !c.abandon {
					<-first
				}
				if c.joiner {
					<-second
				}
				synctest.Wait()
				if n := runs.Load(); n != c.wantRuns {
					t.Fatalf("%d calls ran, want %d", n, c.wantRuns)
				}
				if !g.idle() {
					t.Fatal("the table outlived every call")
				}
			})
		})
	}
}
