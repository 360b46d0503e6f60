package etcd

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"trustgate/internal/store"
	"trustgate/internal/store/etcd/etcdtest"
	"trustgate/internal/store/storetest"
)

func TestContract(t *testing.T) {
	endpoint := etcdtest.Start(t)
	var n atomic.Int64
	prefixes := map[store.Store]string{}
	open := func(t *testing.T, prefix string) store.Store {
		db, err := Open(context.Background(), endpoint, prefix)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		prefixes[db] = prefix
		return db
	}
	storetest.Run(t, storetest.Factory{
		New: func(t *testing.T) store.Store {
			return open(t, fmt.Sprintf("/test-%d/", n.Add(1)))
		},
		Reopen: func(t *testing.T, s store.Store) store.Store {
			p := prefixes[s]
			s.Close()
			return open(t, p)
		},
	})
}

// TestTwoNodes: a write through one node is seen by the other's watch, and
// a uniqueness check inside Update holds across nodes.
func TestTwoNodes(t *testing.T) {
	endpoint := etcdtest.Start(t)
	ctx := context.Background()
	a, err := Open(ctx, endpoint, "/two/")
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(ctx, endpoint, "/two/")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()

	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := b.Watch(wctx)
	<-ch
	rev, err := a.Update(ctx, func(tx store.Tx) error { return tx.Put("k", []byte("v")) })
	if err != nil {
		t.Fatal(err)
	}
	timeout := time.After(5 * time.Second)
	for got := int64(0); got < rev; {
		select {
		case got = <-ch:
		case <-timeout:
			t.Fatalf("node b never saw revision %d", rev)
		}
	}

	claim := func(s store.Store, who string) error {
		_, err := s.Update(ctx, func(tx store.Tx) error {
			if _, err := tx.Get("unique"); err == nil {
				return fmt.Errorf("taken")
			}
			return tx.Put("unique", []byte(who))
		})
		return err
	}
	errs := make(chan error, 2)
	go func() { errs <- claim(a, "a") }()
	go func() { errs <- claim(b, "b") }()
	ok := 0
	for i := 0; i < 2; i++ {
		if <-errs == nil {
			ok++
		}
	}
	if ok != 1 {
		t.Fatalf("%d nodes claimed the unique key, want exactly 1", ok)
	}
}
