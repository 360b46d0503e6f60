package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// Sentinel errors, to test with errors.Is.
var (
	// ErrNotFound means the key does not exist.
	ErrNotFound = errors.New("not found")
	// ErrReadOnly means a write was tried inside View.
	ErrReadOnly = errors.New("read-only transaction")
	// ErrClosed means the store was closed.
	ErrClosed = errors.New("store closed")
)

// KV is one key with its value.
type KV struct {
	Key   string
	Value []byte
}

// Tx reads and writes inside one transaction. A Tx is valid only inside the
// function it was passed to and must not be used from other goroutines.
type Tx interface {
	// Get returns the value of key, or ErrNotFound.
	Get(key string) ([]byte, error)
	// List returns every key starting with prefix, in byte order of keys.
	List(prefix string) ([]KV, error)
	// Put sets key to value.
	Put(key string, value []byte) error
	// Delete removes key; deleting a missing key is not an error.
	Delete(key string) error
}

// Store is the state behind trustgate. Implementations are safe for
// concurrent use.
type Store interface {
	// View runs fn in a consistent read-only transaction and returns the
	// revision it read at.
	View(ctx context.Context, fn func(Tx) error) (int64, error)
	// Update runs fn in one atomic read-write transaction. If fn returns an
	// error nothing is written and the error is returned as is. It returns
	// the revision after the transaction.
	Update(ctx context.Context, fn func(Tx) error) (int64, error)
	// Revision returns the current revision.
	Revision(ctx context.Context) (int64, error)
	// Watch returns a channel that receives the current revision at once and
	// then the newest revision after every change, coalescing bursts. It is
	// closed when ctx ends or the store closes.
	Watch(ctx context.Context) <-chan int64
	// Close releases the store.
	Close() error
}

// GetJSON reads key into a value of type T.
func GetJSON[T any](tx Tx, key string) (T, error) {
	var v T
	b, err := tx.Get(key)
	if err != nil {
		return v, err
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return v, fmt.Errorf("decoding %s: %w", key, err)
	}
	return v, nil
}

// PutJSON writes v as JSON under key.
func PutJSON(tx Tx, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", key, err)
	}
	return tx.Put(key, b)
}

// ListJSON decodes every value under prefix, in key order.
func ListJSON[T any](tx Tx, prefix string) ([]T, error) {
	kvs, err := tx.List(prefix)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(kvs))
	for _, kv := range kvs {
		var v T
		if err := json.Unmarshal(kv.Value, &v); err != nil {
			return nil, fmt.Errorf("decoding %s: %w", kv.Key, err)
		}
		out = append(out, v)
	}
	return out, nil
}
