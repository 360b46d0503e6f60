// Package bolt is the embedded store backend: one bbolt file, 0600, holding
// every key in one bucket and the global revision in another.
package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bbolt "go.etcd.io/bbolt"

	"trustgate/internal/store"
)

var (
	bucketKV   = []byte("kv")
	bucketMeta = []byte("meta")
	keyRev     = []byte("revision")
)

// DB is a store.Store on a bbolt file.
type DB struct {
	db *bbolt.DB
	n  store.Notifier
}

var _ store.Store = (*DB)(nil)

// Open opens or creates the database file at path with mode 0600. It fails
// rather than waits if another process holds the file.
func Open(path string) (*DB, error) {
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("opening store %s: %w", path, err)
	}
	var rev int64
	err = db.Update(func(tx *bbolt.Tx) error {
		if _, err := tx.CreateBucketIfNotExists(bucketKV); err != nil {
			return err
		}
		m, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		rev = readRev(m)
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("initialising store %s: %w", path, err)
	}
	d := &DB{db: db}
	d.n.Publish(rev)
	return d, nil
}

func readRev(m *bbolt.Bucket) int64 {
	if v := m.Get(keyRev); len(v) == 8 {
		return int64(binary.BigEndian.Uint64(v))
	}
	return 0
}

// View implements store.Store.
func (d *DB) View(ctx context.Context, fn func(store.Tx) error) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var rev int64
	err := d.db.View(func(btx *bbolt.Tx) error {
		rev = readRev(btx.Bucket(bucketMeta))
		return fn(&tx{b: btx.Bucket(bucketKV), readOnly: true})
	})
	if errors.Is(err, bbolt.ErrDatabaseNotOpen) {
		err = store.ErrClosed
	}
	return rev, err
}

// Update implements store.Store.
func (d *DB) Update(ctx context.Context, fn func(store.Tx) error) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	var (
		rev     int64
		changed bool
	)
	err := d.db.Update(func(btx *bbolt.Tx) error {
		m := btx.Bucket(bucketMeta)
		rev = readRev(m)
		t := &tx{b: btx.Bucket(bucketKV)}
		if err := fn(t); err != nil {
			return err
		}
		if !t.wrote {
			return nil
		}
		rev++
		changed = true
		var buf [8]byte
		binary.BigEndian.PutUint64(buf[:], uint64(rev))
		return m.Put(keyRev, buf[:])
	})
	if errors.Is(err, bbolt.ErrDatabaseNotOpen) {
		return 0, store.ErrClosed
	}
	if err != nil {
		return 0, err
	}
	if changed {
		d.n.Publish(rev)
	}
	return rev, nil
}

// Revision implements store.Store.
func (d *DB) Revision(ctx context.Context) (int64, error) {
	return d.View(ctx, func(store.Tx) error { return nil })
}

// Watch implements store.Store.
func (d *DB) Watch(ctx context.Context) <-chan int64 { return d.n.Watch(ctx) }

// Close implements store.Store.
func (d *DB) Close() error {
	d.n.Close()
	return d.db.Close()
}

type tx struct {
	b        *bbolt.Bucket
	readOnly bool
	wrote    bool
}

func (t *tx) Get(key string) ([]byte, error) {
	v := t.b.Get([]byte(key))
	if v == nil {
		return nil, fmt.Errorf("%s: %w", key, store.ErrNotFound)
	}
	return bytes.Clone(v), nil
}

func (t *tx) List(prefix string) ([]store.KV, error) {
	var out []store.KV
	p := []byte(prefix)
	c := t.b.Cursor()
	for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		out = append(out, store.KV{Key: string(k), Value: bytes.Clone(v)})
	}
	return out, nil
}

func (t *tx) Put(key string, value []byte) error {
	if t.readOnly {
		return store.ErrReadOnly
	}
	if key == "" {
		return errors.New("empty key")
	}
	t.wrote = true
	return t.b.Put([]byte(key), value)
}

func (t *tx) Delete(key string) error {
	if t.readOnly {
		return store.ErrReadOnly
	}
	if t.b.Get([]byte(key)) == nil {
		return nil
	}
	t.wrote = true
	return t.b.Delete([]byte(key))
}
