package singleflight_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/singleflight"
)

// TestEveryCallerGetsTheResult: callers that arrive while a call runs get its value.
// (That they share one call is proven with counts by transport's cold stampede.)
func TestEveryCallerGetsTheResult(t *testing.T) {
	var g singleflight.Group[int]
	var calls atomic.Int32
	release := make(chan struct{})
	started := make(chan struct{})
	fn := func(context.Context) (int, error) {
		if calls.Add(1) == 1 {
			close(started)
		}
		<-release
		return 42, nil
	}
	const callers = 100
	var wg sync.WaitGroup
	results := make(chan int, callers)
	wg.Add(1)
	go func() {
		defer wg.Done()
		v, _, _ := g.Do(context.Background(), "k", fn)
		results <- v
	}()
	<-started
	for range callers - 1 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, _, _ := g.Do(context.Background(), "k", fn)
			results <- v
		}()
	}
	close(release)
	wg.Wait()
	close(results)
	got := 0
	for v := range results {
		if v != 42 {
			t.Fatalf("got %d, want 42", v)
		}
		got++
	}
	if got != callers {
		t.Fatalf("%d of %d callers got a result", got, callers)
	}
}

func TestWaiterGivesUpButCallLands(t *testing.T) {
	var g singleflight.Group[string]
	release := make(chan struct{})
	started := make(chan struct{})
	firstCallCtxErr := make(chan error, 1)
	var calls atomic.Int32
	fn := func(ctx context.Context) (string, error) {
		first := calls.Add(1) == 1
		if first {
			close(started)
		}
		<-release
		if first {
			firstCallCtxErr <- ctx.Err()
		}
		return "landed", nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() {
		_, _, err := g.Do(ctx, "k", fn)
		first <- err
	}()
	<-started
	// A second waiter joins the call in flight (or, if the scheduler runs it only
	// after the call ended, starts its own): either way it gets the result.
	second := make(chan string, 1)
	go func() {
		v, _, err := g.Do(context.Background(), "k", fn)
		if err != nil {
			t.Error(err)
		}
		second <- v
	}()
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiter: %v, want context.Canceled", err)
	}
	close(release)
	if v := <-second; v != "landed" {
		t.Fatalf("other waiter got %q, want landed", v)
	}
	// The call the cancelled waiter started ran to its end on a live context.
	if err := <-firstCallCtxErr; err != nil {
		t.Fatalf("the shared call saw its context end: %v", err)
	}
}

func TestCallHasItsOwnDeadline(t *testing.T) {
	g := singleflight.Group[int]{Timeout: time.Millisecond}
	_, _, err := g.Do(context.Background(), "k", func(ctx context.Context) (int, error) {
		<-ctx.Done()
		return 0, ctx.Err()
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want DeadlineExceeded", err)
	}
}

func TestPanicBecomesErrorForEveryWaiter(t *testing.T) {
	var g singleflight.Group[int]
	_, _, err := g.Do(context.Background(), "k", func(context.Context) (int, error) { panic("boom") })
	var pe *singleflight.PanicError
	if !errors.As(err, &pe) || pe.Value != "boom" || len(pe.Stack) == 0 {
		t.Fatalf("got %v, want a PanicError with the value and stack", err)
	}
	// The group still works afterwards.
	v, _, err := g.Do(context.Background(), "k", func(context.Context) (int, error) { return 7, nil })
	if err != nil || v != 7 {
		t.Fatalf("after a panic: %d, %v", v, err)
	}
}

func TestDoneContextNeverStartsACall(t *testing.T) {
	var g singleflight.Group[int]
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := g.Do(ctx, "k", func(context.Context) (int, error) {
		t.Fatal("call started")
		return 0, nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
}
