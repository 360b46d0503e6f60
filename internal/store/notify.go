package store

import (
	"context"
	"sync"
)

// Notifier fans a revision out to watchers, coalescing bursts: a slow watcher
// sees fewer deliveries, never a stale last one. Backends embed it.
type Notifier struct {
	mu       sync.Mutex
	rev      int64
	closed   bool
	watchers map[chan int64]struct{}
}

// Publish records rev as the newest revision and wakes every watcher.
func (n *Notifier) Publish(rev int64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if rev <= n.rev {
		return
	}
	n.rev = rev
	for ch := range n.watchers {
		offer(ch, rev)
	}
}

// offer replaces whatever the one-slot channel holds with rev.
func offer(ch chan int64, rev int64) {
	select {
	case <-ch:
	default:
	}
	ch <- rev
}

// Watch returns a channel that holds the current revision at once and the
// newest after each Publish; it closes when ctx ends or on Close.
func (n *Notifier) Watch(ctx context.Context) <-chan int64 {
	ch := make(chan int64, 1)
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		close(ch)
		return ch
	}
	if n.watchers == nil {
		n.watchers = make(map[chan int64]struct{})
	}
	n.watchers[ch] = struct{}{}
	ch <- n.rev
	n.mu.Unlock()
	go func() {
		<-ctx.Done()
		n.mu.Lock()
		defer n.mu.Unlock()
		if _, ok := n.watchers[ch]; ok {
			delete(n.watchers, ch)
			close(ch)
		}
	}()
	return ch
}

// Close closes every watcher's channel.
func (n *Notifier) Close() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.closed = true
	for ch := range n.watchers {
		delete(n.watchers, ch)
		close(ch)
	}
}
