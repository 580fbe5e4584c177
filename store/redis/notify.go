package redisstore

import (
	"context"
	"fmt"
	"sync"

	"github.com/redis/go-redis/v9"
)

// notifier fans the Store's pub/sub notifications out to waiting goroutines. It
// holds one pattern subscription, opened on first use; go-redis reconnects and
// resubscribes it after network errors. A missed notification costs a waiter one
// poll interval, never correctness.
type notifier struct {
	client  redis.UniversalClient
	pattern string

	mu      sync.Mutex
	ps      *redis.PubSub
	done    chan struct{} // closed when the dispatcher has stopped
	closed  bool
	waiters map[string]map[chan struct{}]struct{}
}

func newNotifier(client redis.UniversalClient, pattern string) *notifier {
	return &notifier{client: client, pattern: pattern, waiters: map[string]map[chan struct{}]struct{}{}}
}

// subscription is one waiter's interest in a channel: woken receives after the
// next notification; stop ends it (calls after the first do nothing).
type subscription struct {
	woken <-chan struct{}
	stop  func()
}

// subscribe returns a subscription to channel.
func (n *notifier) subscribe(ctx context.Context, channel string) (subscription, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return subscription{}, fmt.Errorf("the Store is closed")
	}
	if n.ps == nil {
		ps := n.client.PSubscribe(ctx, n.pattern)
		if _, err := ps.Receive(ctx); err != nil { // the subscription's confirmation
			_ = ps.Close()
			return subscription{}, err
		}
		n.ps, n.done = ps, make(chan struct{})
		go n.dispatch(ps.Channel(), n.done)
	}
	c := make(chan struct{}, 1)
	set := n.waiters[channel]
	if set == nil {
		set = map[chan struct{}]struct{}{}
		n.waiters[channel] = set
	}
	set[c] = struct{}{}
	var once sync.Once
	return subscription{woken: c, stop: func() {
		once.Do(func() {
			n.mu.Lock()
			defer n.mu.Unlock()
			delete(set, c)
			if len(n.waiters[channel]) == 0 {
				delete(n.waiters, channel)
			}
		})
	}}, nil
}

func (n *notifier) dispatch(msgs <-chan *redis.Message, done chan struct{}) {
	defer close(done)
	for m := range msgs {
		n.mu.Lock()
		for c := range n.waiters[m.Channel] {
			select {
			case c <- struct{}{}:
			default:
			}
		}
		n.mu.Unlock()
	}
}

func (n *notifier) close() error {
	n.mu.Lock()
	n.closed = true
	ps, done := n.ps, n.done
	n.ps = nil
	n.mu.Unlock()
	if ps == nil {
		return nil
	}
	err := ps.Close()
	<-done
	return err
}
