// Package store is trustgate's state: a transactional key/value store with one
// global revision and a watch on it. Every resource is one JSON value under a
// key (see model/keys.go). Backends: store/bolt (embedded, the default) and
// etcd (several nodes). storetest holds the contract suite that every backend
// runs.
//
// Invariants every backend keeps:
//   - Update runs its function in one atomic transaction: either every write
//     lands or none does, and a function that returns an error writes nothing.
//   - The revision grows by exactly one for each Update that wrote something,
//     and never otherwise. It is never reused, even across restarts.
//   - Watch delivers the newest revision after any change; bursts may coalesce
//     into one delivery, but the last revision is never lost.
package store
