package emulator

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestGateOpenByDefault(t *testing.T) {
	var g Gate
	if err := g.Pass(t.Context()); err != nil {
		t.Fatalf("zero Gate: %v", err)
	}
	g.Release() // releasing an open gate is harmless
	if err := g.Pass(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestGateHoldsUntilRelease(t *testing.T) {
	var g Gate
	g.Hold()
	g.Hold() // holding twice is one hold

	const n = 3
	var passed sync.WaitGroup
	for range n {
		passed.Go(func() {
			if err := g.Pass(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := g.Wait(ctx, n); err != nil {
		t.Fatal(err)
	}
	if got := g.Waiting(); got != n {
		t.Errorf("Waiting = %d, want %d", got, n)
	}
	g.Release()
	passed.Wait()
	if got := g.Waiting(); got != 0 {
		t.Errorf("Waiting after release = %d", got)
	}

	// Released means open: later arrivals pass straight through.
	if err := g.Pass(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestGatePassEndsWithItsContext(t *testing.T) {
	var g Gate
	g.Hold()
	defer g.Release()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- g.Pass(ctx) }()
	if err := g.Wait(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Pass = %v, want context.Canceled", err)
	}
	if got := g.Waiting(); got != 0 {
		t.Errorf("Waiting = %d after the waiter gave up", got)
	}
}

func TestGateWaitEndsWithItsContext(t *testing.T) {
	var g Gate
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := g.Wait(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait = %v, want context.Canceled", err)
	}
}
