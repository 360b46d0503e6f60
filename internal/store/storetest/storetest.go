// Package storetest is the contract every store.Store backend must keep. A
// backend's test calls Run with a constructor that returns a fresh, empty
// store; reopen, when not nil, closes and reopens the same store to check
// durability.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"trustgate/internal/store"
)

// Factory makes a fresh empty store. Reopen closes s and opens the same data
// again; nil skips the durability checks.
type Factory struct {
	New    func(t *testing.T) store.Store
	Reopen func(t *testing.T, s store.Store) store.Store
}

// Run runs the whole contract.
func Run(t *testing.T, f Factory) {
	t.Run("GetMissing", func(t *testing.T) { testGetMissing(t, f.New(t)) })
	t.Run("PutGetList", func(t *testing.T) { testPutGetList(t, f.New(t)) })
	t.Run("ErrorRollsBack", func(t *testing.T) { testRollback(t, f.New(t)) })
	t.Run("RevisionCountsWrites", func(t *testing.T) { testRevision(t, f.New(t)) })
	t.Run("ViewIsReadOnly", func(t *testing.T) { testReadOnly(t, f.New(t)) })
	t.Run("WatchSeesLatest", func(t *testing.T) { testWatch(t, f.New(t)) })
	t.Run("ConcurrentUpdatesSerialise", func(t *testing.T) { testConcurrent(t, f.New(t)) })
	if f.Reopen != nil {
		t.Run("Durable", func(t *testing.T) { testDurable(t, f) })
	}
}

func put(t *testing.T, s store.Store, kv ...string) int64 {
	t.Helper()
	rev, err := s.Update(context.Background(), func(tx store.Tx) error {
		for i := 0; i+1 < len(kv); i += 2 {
			if err := tx.Put(kv[i], []byte(kv[i+1])); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	return rev
}

func get(t *testing.T, s store.Store, key string) (string, error) {
	t.Helper()
	var v []byte
	_, err := s.View(context.Background(), func(tx store.Tx) error {
		var err error
		v, err = tx.Get(key)
		return err
	})
	return string(v), err
}

func testGetMissing(t *testing.T, s store.Store) {
	if _, err := get(t, s, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get missing: err = %v, want ErrNotFound", err)
	}
}

func testPutGetList(t *testing.T, s store.Store) {
	put(t, s, "a/2", "two", "a/1", "one", "b/1", "other", "a", "bare")
	if v, err := get(t, s, "a/1"); err != nil || v != "one" {
		t.Fatalf("get a/1 = %q, %v", v, err)
	}
	var kvs []store.KV
	s.View(context.Background(), func(tx store.Tx) error {
		var err error
		kvs, err = tx.List("a/")
		return err
	})
	if len(kvs) != 2 || kvs[0].Key != "a/1" || kvs[1].Key != "a/2" || string(kvs[1].Value) != "two" {
		t.Fatalf("list a/ = %+v, want a/1, a/2 in order", kvs)
	}
	_, err := s.Update(context.Background(), func(tx store.Tx) error { return tx.Delete("a/1") })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := get(t, s, "a/1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}

func testRollback(t *testing.T, s store.Store) {
	before := put(t, s, "k", "v1")
	boom := errors.New("boom")
	_, err := s.Update(context.Background(), func(tx store.Tx) error {
		tx.Put("k", []byte("v2"))
		tx.Put("other", []byte("x"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("update err = %v, want boom", err)
	}
	if v, _ := get(t, s, "k"); v != "v1" {
		t.Fatalf("k = %q after failed update, want v1", v)
	}
	if _, err := get(t, s, "other"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("other exists after failed update")
	}
	if rev, _ := s.Revision(context.Background()); rev != before {
		t.Fatalf("revision %d after failed update, want %d", rev, before)
	}
}

func testRevision(t *testing.T, s store.Store) {
	ctx := context.Background()
	r0, err := s.Revision(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r1 := put(t, s, "x", "1", "y", "2")
	if r1 != r0+1 {
		t.Fatalf("revision after one update = %d, want %d", r1, r0+1)
	}
	r2, _ := s.Update(ctx, func(tx store.Tx) error { _, err := tx.Get("x"); return err })
	if r2 != r1 {
		t.Fatalf("read-only update moved revision %d -> %d", r1, r2)
	}
	r3, _ := s.Update(ctx, func(tx store.Tx) error { return tx.Delete("missing") })
	if r3 != r1 {
		t.Fatalf("deleting a missing key moved revision %d -> %d", r1, r3)
	}
	vr, _ := s.View(ctx, func(store.Tx) error { return nil })
	if vr != r1 {
		t.Fatalf("view revision = %d, want %d", vr, r1)
	}
}

func testReadOnly(t *testing.T, s store.Store) {
	_, err := s.View(context.Background(), func(tx store.Tx) error { return tx.Put("k", []byte("v")) })
	if !errors.Is(err, store.ErrReadOnly) {
		t.Fatalf("put in view: err = %v, want ErrReadOnly", err)
	}
}

func testWatch(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := s.Watch(ctx)
	first := recv(t, ch)
	var last int64
	for i := 0; i < 20; i++ {
		last = put(t, s, fmt.Sprintf("w/%d", i), "v")
	}
	if last <= first {
		t.Fatalf("revision did not grow: %d -> %d", first, last)
	}
	deadline := time.After(5 * time.Second)
	for got := first; got != last; {
		select {
		case got = <-ch:
		case <-deadline:
			t.Fatalf("watch never delivered revision %d (last seen %d)", last, got)
		}
	}
	cancel()
	for range ch { // must close after cancel
	}
}

func recv(t *testing.T, ch <-chan int64) int64 {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(5 * time.Second):
		t.Fatal("watch delivered nothing")
		return 0
	}
}

func testConcurrent(t *testing.T, s store.Store) {
	const n = 20
	put(t, s, "counter", "0")
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.Update(context.Background(), func(tx store.Tx) error {
				v, err := tx.Get("counter")
				if err != nil {
					return err
				}
				var c int
				fmt.Sscan(string(v), &c)
				return tx.Put("counter", []byte(fmt.Sprint(c+1)))
			})
			if err != nil {
				t.Errorf("update: %v", err)
			}
		}()
	}
	wg.Wait()
	if v, _ := get(t, s, "counter"); v != fmt.Sprint(n) {
		t.Fatalf("counter = %s, want %d (lost updates)", v, n)
	}
}

func testDurable(t *testing.T, f Factory) {
	s := f.New(t)
	rev := put(t, s, "d/1", "kept")
	s = f.Reopen(t, s)
	if v, err := get(t, s, "d/1"); err != nil || v != "kept" {
		t.Fatalf("after reopen d/1 = %q, %v", v, err)
	}
	if r, _ := s.Revision(context.Background()); r != rev {
		t.Fatalf("revision after reopen = %d, want %d", r, rev)
	}
	if r := put(t, s, "d/2", "x"); r != rev+1 {
		t.Fatalf("revision after reopen and write = %d, want %d", r, rev+1)
	}
}
