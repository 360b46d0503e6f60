package objects

import (
	"context"
	"fmt"
	"strings"

	"trustgate/internal/store"
)

// DefaultMaxKeys is S3's page size when the caller names none (and its cap).
const DefaultMaxKeys = 1000

// AfterPrefix is a ListInput.After position past every key that starts
// with prefix: keys are UTF-8, which never holds the byte 0xff.
func AfterPrefix(prefix string) string { return prefix + "\xff" }

// ListInput selects a page of ListObjectsV2.
type ListInput struct {
	Prefix    string
	Delimiter string
	// After lists only keys (and common prefixes) sorting after it: the
	// later of start-after and the continuation position.
	After   string
	MaxKeys int // 0 lists nothing; over DefaultMaxKeys is capped
}

// ListResult is one page of the latest versions.
type ListResult struct {
	Objects        []Version
	CommonPrefixes []string
	IsTruncated    bool
	// Next is the position to pass as After for the next page.
	Next string
}

// ListObjects lists the latest version of each key that is not a delete
// marker, in key order, rolling keys up to CommonPrefixes at Delimiter.
func (s *Store) ListObjects(ctx context.Context, bucket string, in ListInput) (ListResult, error) {
	var res ListResult
	max := capKeys(in.MaxKeys)
	_, err := s.st.View(ctx, func(tx store.Tx) error {
		if _, err := getBucket(tx, bucket); err != nil {
			return err
		}
		kvs, err := tx.List(metaPrefix(bucket) + in.Prefix)
		if err != nil {
			return err
		}
		lastKey, lastCP := "", ""
		for _, kv := range kvs {
			key := keyOf(kv.Key, metaPrefix(bucket))
			if key == lastKey {
				continue // an older version
			}
			lastKey = key
			if key <= in.After {
				continue
			}
			cp := commonPrefix(key, in.Prefix, in.Delimiter)
			if cp != "" && (cp == lastCP || AfterPrefix(cp) <= in.After) {
				continue
			}
			v, err := decodeMeta(kv)
			if err != nil {
				return err
			}
			if v.DeleteMarker {
				continue
			}
			if len(res.Objects)+len(res.CommonPrefixes) == max {
				res.IsTruncated = max > 0
				return nil
			}
			if cp != "" {
				lastCP = cp
				res.CommonPrefixes = append(res.CommonPrefixes, cp)
				res.Next = AfterPrefix(cp)
				continue
			}
			v.IsLatest = true
			res.Objects = append(res.Objects, v)
			res.Next = key
		}
		return nil
	})
	if err != nil {
		return ListResult{}, fmt.Errorf("listing %s: %w", bucket, err)
	}
	if !res.IsTruncated {
		res.Next = ""
	}
	return res, nil
}

// VersionsInput selects a page of ListObjectVersions.
type VersionsInput struct {
	Prefix, Delimiter string
	// KeyMarker and VersionIDMarker continue after that key (all its
	// versions when VersionIDMarker is empty) or after that version of it.
	KeyMarker, VersionIDMarker string
	MaxKeys                    int
}

// VersionsResult is one page of versions and delete markers.
type VersionsResult struct {
	// Versions holds versions and delete markers (DeleteMarker set), by key
	// and then newest first, with IsLatest filled in.
	Versions            []Version
	CommonPrefixes      []string
	IsTruncated         bool
	NextKeyMarker       string
	NextVersionIDMarker string
}

// ListObjectVersions lists every version and delete marker.
func (s *Store) ListObjectVersions(ctx context.Context, bucket string, in VersionsInput) (VersionsResult, error) {
	var res VersionsResult
	max := capKeys(in.MaxKeys)
	_, err := s.st.View(ctx, func(tx store.Tx) error {
		if _, err := getBucket(tx, bucket); err != nil {
			return err
		}
		kvs, err := tx.List(metaPrefix(bucket) + in.Prefix)
		if err != nil {
			return err
		}
		lastKey, lastCP := "", ""
		skipUntilMarker := false
		for _, kv := range kvs {
			key := keyOf(kv.Key, metaPrefix(bucket))
			latest := key != lastKey
			if latest {
				lastKey = key
				skipUntilMarker = key == in.KeyMarker && in.VersionIDMarker != ""
			}
			if key < in.KeyMarker || (key == in.KeyMarker && in.VersionIDMarker == "") {
				continue
			}
			cp := commonPrefix(key, in.Prefix, in.Delimiter)
			if cp != "" && (cp == lastCP || cp == in.KeyMarker) {
				continue
			}
			v, err := decodeMeta(kv)
			if err != nil {
				return err
			}
			if skipUntilMarker {
				if v.VersionID == in.VersionIDMarker {
					skipUntilMarker = false
				}
				continue
			}
			if len(res.Versions)+len(res.CommonPrefixes) == max {
				res.IsTruncated = max > 0
				return nil
			}
			if cp != "" {
				lastCP = cp
				res.CommonPrefixes = append(res.CommonPrefixes, cp)
				res.NextKeyMarker, res.NextVersionIDMarker = cp, ""
				continue
			}
			v.IsLatest = latest
			res.Versions = append(res.Versions, v)
			res.NextKeyMarker, res.NextVersionIDMarker = key, v.VersionID
		}
		return nil
	})
	if err != nil {
		return VersionsResult{}, fmt.Errorf("listing versions of %s: %w", bucket, err)
	}
	if !res.IsTruncated {
		res.NextKeyMarker, res.NextVersionIDMarker = "", ""
	}
	return res, nil
}

func capKeys(n int) int {
	if n < 0 {
		return DefaultMaxKeys
	}
	return min(n, DefaultMaxKeys)
}

// keyOf extracts the object key from a metadata store key.
func keyOf(storeKey, prefix string) string {
	k := strings.TrimPrefix(storeKey, prefix)
	if i := strings.LastIndexByte(k, 0); i >= 0 {
		return k[:i]
	}
	return k
}

// commonPrefix is the rolled-up prefix key belongs to, or "".
func commonPrefix(key, prefix, delimiter string) string {
	if delimiter == "" {
		return ""
	}
	rest := strings.TrimPrefix(key, prefix)
	if i := strings.Index(rest, delimiter); i >= 0 {
		return prefix + rest[:i+len(delimiter)]
	}
	return ""
}
