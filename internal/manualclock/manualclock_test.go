package manualclock_test

import (
	"sync"
	"testing"
	"time"

	"github.com/tokentrip/tokentrip/internal/manualclock"
)

func TestClockMovesOnlyWhenTold(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := manualclock.New(start)
	if !c.Now().Equal(start) || c.Elapsed() != 0 {
		t.Fatalf("new clock: %v, elapsed %v", c.Now(), c.Elapsed())
	}
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() { c.Advance(time.Minute) })
	}
	wg.Wait()
	if got := c.Now(); !got.Equal(start.Add(10 * time.Minute)) {
		t.Errorf("after ten concurrent advances: %v", got)
	}
	if got := c.Elapsed(); got != 10*time.Minute {
		t.Errorf("Elapsed = %v", got)
	}
}
