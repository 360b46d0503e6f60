// Package objects is trustgate's embedded, versioned object store: S3
// buckets and object versions kept in the same store.Store as everything
// else, so a truststore upload and the domain that pins it live side by side
// and every node of a cluster sees the same bytes.
//
// Layout (all under model.PrefixObjects, per bucket):
//
//	buckets/{bucket}                       model.Bucket
//	objects/{bucket}/m/{key}\x00{inv-seq}  version metadata (JSON, no data)
//	objects/{bucket}/d/{key}\x00{inv-seq}  the version's bytes
//
// {inv-seq} is the bitwise complement of the per-key write sequence in 16
// hex digits, so the versions of one key list newest first; "\x00" sorts
// below every byte a key may hold (keys may not contain NUL), so keys list
// in S3's byte order, a key's versions stay together, and a prefix listing
// is one store range that never touches object data. Semantics follow S3:
// the "null" version for unversioned and suspended buckets (overwritten in
// place), random version ids and delete markers when versioning is enabled.
//
// Store is safe for concurrent use; every operation is one store transaction.
package objects
