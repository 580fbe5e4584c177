package singleflight_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/tokentrip/tokentrip/singleflight"
)

// A caller that gives up stops waiting at once; the shared call goes on and its
// result still reaches the callers that wait.
func ExampleGroup_Do() {
	var g singleflight.Group[string]
	release := make(chan struct{})
	started := make(chan struct{})
	var once sync.Once
	fetch := func(context.Context) (string, error) {
		once.Do(func() { close(started) })
		<-release
		return "token", nil
	}

	ctx, cancel := context.WithCancel(context.Background())
	impatient := make(chan error)
	go func() {
		_, _, err := g.Do(ctx, "client-1", fetch)
		impatient <- err
	}()
	<-started
	patient := make(chan string)
	go func() {
		v, _, _ := g.Do(context.Background(), "client-1", fetch)
		patient <- v
	}()
	cancel()
	fmt.Println("impatient:", <-impatient)
	close(release)
	fmt.Println("patient:", <-patient)
	// Output:
	// impatient: context canceled
	// patient: token
}
