// Package etcd is the store backend for several trustgate nodes sharing one
// etcd cluster (--store etcd). Each node serves both faces; writes are etcd
// transactions, and every node watches the global revision and rebuilds its
// snapshots from it.
//
// Layout under the prefix (default "/trustgate/"): "kv/<key>" holds each
// value and "meta/revision" the global revision as a decimal string. Every
// writing transaction bumps the revision key and is guarded by its etcd
// mod revision, so writes are serialisable across nodes: a transaction whose
// reads went stale is retried from the start, and uniqueness checks done in
// an Update hold cluster-wide.
//
// etcd's own limits apply: a value (and so an S3 object kept in the store)
// must fit etcd's request size (1.5 MiB by default, --max-request-bytes),
// and one transaction holds at most --max-txn-ops operations (128 by default).
package etcd

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"trustgate/internal/store"
)

// DefaultPrefix is where trustgate keeps its keys.
const DefaultPrefix = "/trustgate/"

// maxAttempts bounds optimistic retries of one Update under contention.
const maxAttempts = 64

// ErrContention means an Update lost the race maxAttempts times in a row.
var ErrContention = errors.New("etcd: too much write contention; try again")

// DB is a store.Store on etcd.
type DB struct {
	c      *clientv3.Client
	prefix string
	revKey string
	n      store.Notifier
	cancel context.CancelFunc
	done   chan struct{}
}

var _ store.Store = (*DB)(nil)

// Open connects to endpoints (comma-separated) and starts following the
// revision. prefix "" means DefaultPrefix.
func Open(ctx context.Context, endpoints, prefix string) (*DB, error) {
	if prefix == "" {
		prefix = DefaultPrefix
	}
	var eps []string
	for _, e := range strings.Split(endpoints, ",") {
		if e = strings.TrimSpace(e); e != "" {
			eps = append(eps, e)
		}
	}
	if len(eps) == 0 {
		return nil, errors.New("opening etcd store: no endpoints")
	}
	c, err := clientv3.New(clientv3.Config{Endpoints: eps, DialTimeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("connecting to etcd %s: %w", endpoints, err)
	}
	d := &DB{c: c, prefix: prefix, revKey: prefix + "meta/revision", done: make(chan struct{})}
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	rev, etcdRev, err := d.readRev(rctx)
	cancel()
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("opening etcd store at %s: %w", endpoints, err)
	}
	d.n.Publish(rev)
	wctx, wcancel := context.WithCancel(context.Background())
	d.cancel = wcancel
	go d.follow(wctx, etcdRev+1)
	return d, nil
}

// readRev returns trustgate's revision and the etcd revision it was read at.
func (d *DB) readRev(ctx context.Context) (rev, etcdRev int64, err error) {
	resp, err := d.c.Get(ctx, d.revKey)
	if err != nil {
		return 0, 0, err
	}
	if len(resp.Kvs) == 1 {
		rev, err = strconv.ParseInt(string(resp.Kvs[0].Value), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("bad revision value %q: %w", resp.Kvs[0].Value, err)
		}
	}
	return rev, resp.Header.Revision, nil
}

// follow publishes every new revision another node (or this one) commits.
// On a broken watch it re-reads and watches again.
func (d *DB) follow(ctx context.Context, from int64) {
	defer close(d.done)
	for ctx.Err() == nil {
		wch := d.c.Watch(clientv3.WithRequireLeader(ctx), d.revKey, clientv3.WithRev(from))
		for resp := range wch {
			if resp.Err() != nil {
				break
			}
			for _, ev := range resp.Events {
				if v, err := strconv.ParseInt(string(ev.Kv.Value), 10, 64); err == nil {
					d.n.Publish(v)
				}
				from = ev.Kv.ModRevision + 1
			}
		}
		if ctx.Err() != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(200 * time.Millisecond):
		}
		if rev, etcdRev, err := d.readRev(ctx); err == nil {
			d.n.Publish(rev)
			from = etcdRev + 1
		}
	}
}

// View implements store.Store: every read sees the etcd revision at which
// the global revision was read.
func (d *DB) View(ctx context.Context, fn func(store.Tx) error) (int64, error) {
	rev, etcdRev, err := d.readRev(ctx)
	if err != nil {
		return 0, err
	}
	t := &tx{d: d, ctx: ctx, at: etcdRev, readOnly: true}
	return rev, fn(t)
}

// Update implements store.Store with optimistic concurrency on the
// revision key.
func (d *DB) Update(ctx context.Context, fn func(store.Tx) error) (int64, error) {
	for attempt := 0; attempt < maxAttempts; attempt++ {
		resp, err := d.c.Get(ctx, d.revKey)
		if err != nil {
			return 0, err
		}
		var rev, modRev int64
		if len(resp.Kvs) == 1 {
			if rev, err = strconv.ParseInt(string(resp.Kvs[0].Value), 10, 64); err != nil {
				return 0, fmt.Errorf("bad revision value %q: %w", resp.Kvs[0].Value, err)
			}
			modRev = resp.Kvs[0].ModRevision
		}
		t := &tx{d: d, ctx: ctx, at: resp.Header.Revision, writes: map[string]*[]byte{}}
		if err := fn(t); err != nil {
			return 0, err
		}
		if len(t.writes) == 0 {
			return rev, nil
		}
		ops := make([]clientv3.Op, 0, len(t.writes)+1)
		for k, v := range t.writes {
			if v == nil {
				ops = append(ops, clientv3.OpDelete(d.kvKey(k)))
			} else {
				ops = append(ops, clientv3.OpPut(d.kvKey(k), string(*v)))
			}
		}
		ops = append(ops, clientv3.OpPut(d.revKey, strconv.FormatInt(rev+1, 10)))
		guard := clientv3.Compare(clientv3.ModRevision(d.revKey), "=", modRev)
		tr, err := d.c.Txn(ctx).If(guard).Then(ops...).Commit()
		if err != nil {
			return 0, fmt.Errorf("committing to etcd: %w", err)
		}
		if tr.Succeeded {
			d.n.Publish(rev + 1)
			return rev + 1, nil
		}
		// Another writer committed first: run fn again on fresh reads.
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(time.Duration(attempt) * time.Millisecond):
		}
	}
	return 0, ErrContention
}

// Revision implements store.Store.
func (d *DB) Revision(ctx context.Context) (int64, error) {
	rev, _, err := d.readRev(ctx)
	return rev, err
}

// Watch implements store.Store.
func (d *DB) Watch(ctx context.Context) <-chan int64 { return d.n.Watch(ctx) }

// Close implements store.Store.
func (d *DB) Close() error {
	d.cancel()
	<-d.done
	d.n.Close()
	return d.c.Close()
}

func (d *DB) kvKey(k string) string { return d.prefix + "kv/" + k }

// tx reads at one etcd revision; writes are buffered until commit and are
// visible to the transaction's own later reads.
type tx struct {
	d        *DB
	ctx      context.Context
	at       int64
	readOnly bool
	writes   map[string]*[]byte // nil value: deleted
}

func (t *tx) Get(key string) ([]byte, error) {
	if v, ok := t.writes[key]; ok {
		if v == nil {
			return nil, fmt.Errorf("%s: %w", key, store.ErrNotFound)
		}
		return append([]byte(nil), *v...), nil
	}
	resp, err := t.d.c.Get(t.ctx, t.d.kvKey(key), clientv3.WithRev(t.at))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", key, err)
	}
	if len(resp.Kvs) == 0 {
		return nil, fmt.Errorf("%s: %w", key, store.ErrNotFound)
	}
	return resp.Kvs[0].Value, nil
}

func (t *tx) List(prefix string) ([]store.KV, error) {
	resp, err := t.d.c.Get(t.ctx, t.d.kvKey(prefix), clientv3.WithPrefix(), clientv3.WithRev(t.at),
		clientv3.WithSort(clientv3.SortByKey, clientv3.SortAscend))
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", prefix, err)
	}
	base := len(t.d.prefix) + len("kv/")
	m := make(map[string][]byte, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		m[string(kv.Key[base:])] = kv.Value
	}
	for k, v := range t.writes {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		if v == nil {
			delete(m, k)
		} else {
			m[k] = append([]byte(nil), *v...)
		}
	}
	out := make([]store.KV, 0, len(m))
	for k, v := range m {
		out = append(out, store.KV{Key: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

func (t *tx) Put(key string, value []byte) error {
	if t.readOnly {
		return store.ErrReadOnly
	}
	if key == "" {
		return errors.New("empty key")
	}
	v := append([]byte(nil), value...)
	t.writes[key] = &v
	return nil
}

func (t *tx) Delete(key string) error {
	if t.readOnly {
		return store.ErrReadOnly
	}
	if _, err := t.Get(key); errors.Is(err, store.ErrNotFound) {
		return nil // deleting a missing key writes nothing
	} else if err != nil {
		return err
	}
	t.writes[key] = nil
	return nil
}
