package objects

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
	"unicode/utf8"

	"trustgate/internal/model"
	"trustgate/internal/store"
)

// MaxObjectBytes is the largest object the store takes (the management
// endpoint's body limit).
const MaxObjectBytes = 10 << 20

// MaxKeyBytes is S3's key length limit.
const MaxKeyBytes = 1024

// Store is the object store on a store.Store.
type Store struct {
	st  store.Store
	now func() time.Time
}

// Option changes one setting of a Store.
type Option func(*Store)

// WithClock sets the clock for LastModified and bucket creation dates.
func WithClock(now func() time.Time) Option { return func(s *Store) { s.now = now } }

// New returns the object store kept in st.
func New(st store.Store, opts ...Option) *Store {
	s := &Store{st: st, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Version is one object version's metadata as stored (its bytes are kept
// apart). A delete marker has DeleteMarker set and no data.
type Version struct {
	model.ObjectVersion
	// Headers are the representation headers S3 stores and returns
	// (Content-Encoding, Cache-Control, Content-Disposition, …), by canonical name.
	Headers map[string]string `json:"headers,omitempty"`
	// Checksums are the x-amz-checksum-* values sent with the upload, by
	// algorithm (CRC32, CRC32C, CRC64NVME, SHA1, SHA256).
	Checksums map[string]string `json:"checksums,omitempty"`
	// IsLatest is filled in by reads and listings; it is not stored.
	IsLatest bool `json:"-"`
}

func metaPrefix(bucket string) string { return model.ObjectsPrefix(bucket) + "m/" }
func dataPrefix(bucket string) string { return model.ObjectsPrefix(bucket) + "d/" }

// suffix is the per-version part of both keys: key, NUL, inverted sequence.
func suffix(key string, seq int64) string { return fmt.Sprintf("%s\x00%016x", key, ^uint64(seq)) }

func metaKey(bucket, key string, seq int64) string { return metaPrefix(bucket) + suffix(key, seq) }
func dataKey(bucket, key string, seq int64) string { return dataPrefix(bucket) + suffix(key, seq) }

// CreateBucket creates an empty, unversioned bucket.
func (s *Store) CreateBucket(ctx context.Context, name string) (model.Bucket, error) {
	if err := ValidateBucketName(name); err != nil {
		return model.Bucket{}, err
	}
	b := model.Bucket{Name: name, CreatedDate: s.now().UTC().Truncate(time.Millisecond)}
	_, err := s.st.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.Get(model.BucketKey(name)); err == nil {
			return ErrBucketExists
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		return store.PutJSON(tx, model.BucketKey(name), b)
	})
	if err != nil {
		return model.Bucket{}, fmt.Errorf("creating bucket %s: %w", name, err)
	}
	return b, nil
}

// GetBucket returns a bucket, or ErrNoSuchBucket.
func (s *Store) GetBucket(ctx context.Context, name string) (model.Bucket, error) {
	var b model.Bucket
	_, err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		b, err = getBucket(tx, name)
		return err
	})
	if err != nil {
		return model.Bucket{}, fmt.Errorf("reading bucket %s: %w", name, err)
	}
	return b, nil
}

func getBucket(tx store.Tx, name string) (model.Bucket, error) {
	if name == "" || strings.Contains(name, "/") {
		return model.Bucket{}, ErrNoSuchBucket
	}
	b, err := store.GetJSON[model.Bucket](tx, model.BucketKey(name))
	if errors.Is(err, store.ErrNotFound) {
		return b, ErrNoSuchBucket
	}
	return b, err
}

// ListBuckets returns every bucket by name.
func (s *Store) ListBuckets(ctx context.Context) ([]model.Bucket, error) {
	var out []model.Bucket
	_, err := s.st.View(ctx, func(tx store.Tx) error {
		var err error
		out, err = store.ListJSON[model.Bucket](tx, model.PrefixBuckets)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("listing buckets: %w", err)
	}
	return out, nil
}

// DeleteBucket removes an empty bucket; any version or delete marker left
// gives ErrBucketNotEmpty.
func (s *Store) DeleteBucket(ctx context.Context, name string) error {
	_, err := s.st.Update(ctx, func(tx store.Tx) error {
		if _, err := getBucket(tx, name); err != nil {
			return err
		}
		kvs, err := tx.List(metaPrefix(name))
		if err != nil {
			return err
		}
		if len(kvs) > 0 {
			return ErrBucketNotEmpty
		}
		return tx.Delete(model.BucketKey(name))
	})
	if err != nil {
		return fmt.Errorf("deleting bucket %s: %w", name, err)
	}
	return nil
}

// SetVersioning sets a bucket's versioning to Enabled or Suspended. As on
// S3, a bucket never returns to unversioned.
func (s *Store) SetVersioning(ctx context.Context, name, status string) error {
	if status != model.VersioningEnabled && status != model.VersioningSuspended {
		return fmt.Errorf("versioning %q: %w", status, ErrInvalidVersioning)
	}
	_, err := s.st.Update(ctx, func(tx store.Tx) error {
		b, err := getBucket(tx, name)
		if err != nil {
			return err
		}
		if b.Versioning == status {
			return nil
		}
		b.Versioning = status
		return store.PutJSON(tx, model.BucketKey(name), b)
	})
	if err != nil {
		return fmt.Errorf("setting versioning of bucket %s: %w", name, err)
	}
	return nil
}

// PutInput is one upload.
type PutInput struct {
	Bucket, Key string
	Data        []byte
	ContentType string
	Metadata    map[string]string // x-amz-meta-*, names lower-case without the prefix
	Headers     map[string]string // stored representation headers
	Checksums   map[string]string // by algorithm
}

// PutObject stores a new version. With versioning Enabled it gets a random
// version id; otherwise it is the "null" version and replaces the key's
// previous null version, as on S3. The returned VersionID is "" for a
// bucket that was never versioned (S3 then sends no x-amz-version-id),
// "null" for a suspended one.
func (s *Store) PutObject(ctx context.Context, in PutInput) (Version, error) {
	if err := ValidateKey(in.Key); err != nil {
		return Version{}, err
	}
	if len(in.Data) > MaxObjectBytes {
		return Version{}, fmt.Errorf("putting %s/%s: %w", in.Bucket, in.Key, ErrTooLarge)
	}
	sum := md5.Sum(in.Data)
	v := Version{
		ObjectVersion: model.ObjectVersion{
			Bucket: in.Bucket, Key: in.Key, Size: int64(len(in.Data)),
			ETag:        `"` + hex.EncodeToString(sum[:]) + `"`,
			ContentType: in.ContentType, Metadata: in.Metadata,
			LastModified: s.now().UTC().Truncate(time.Millisecond),
		},
		Headers: in.Headers, Checksums: in.Checksums,
	}
	_, err := s.st.Update(ctx, func(tx store.Tx) error {
		b, err := getBucket(tx, in.Bucket)
		if err != nil {
			return err
		}
		if err := s.addVersion(tx, b, &v, in.Data); err != nil {
			return err
		}
		if b.Versioning == "" {
			v.VersionID = ""
		}
		return nil
	})
	if err != nil {
		return Version{}, fmt.Errorf("putting %s/%s: %w", in.Bucket, in.Key, err)
	}
	v.IsLatest = true
	return v, nil
}

// addVersion writes v (and data, unless a delete marker) as the key's
// newest version, choosing its id from the bucket's versioning.
func (s *Store) addVersion(tx store.Tx, b model.Bucket, v *Version, data []byte) error {
	versions, err := listKey(tx, b.Name, v.Key)
	if err != nil {
		return err
	}
	v.Seq = 1
	if len(versions) > 0 {
		v.Seq = versions[0].Seq + 1
	}
	if b.Versioning == model.VersioningEnabled {
		if v.VersionID, err = newVersionID(); err != nil {
			return err
		}
	} else {
		v.VersionID = model.NullVersion
		for _, old := range versions {
			if old.VersionID == model.NullVersion {
				if err := deleteVersion(tx, old); err != nil {
					return err
				}
			}
		}
	}
	if err := store.PutJSON(tx, metaKey(b.Name, v.Key, v.Seq), v); err != nil {
		return err
	}
	if v.DeleteMarker {
		return nil
	}
	return tx.Put(dataKey(b.Name, v.Key, v.Seq), data)
}

func deleteVersion(tx store.Tx, v Version) error {
	if err := tx.Delete(metaKey(v.Bucket, v.Key, v.Seq)); err != nil {
		return err
	}
	return tx.Delete(dataKey(v.Bucket, v.Key, v.Seq))
}

// listKey returns the versions of one key, newest first.
func listKey(tx store.Tx, bucket, key string) ([]Version, error) {
	return store.ListJSON[Version](tx, metaPrefix(bucket)+key+"\x00")
}

// GetObject returns the bytes of a version: the latest when versionID is
// "", else the one named. gotVersionID is the version read, or "" for a
// bucket that was never versioned (as S3 then sends no x-amz-version-id).
// Errors: ErrNoSuchBucket, ErrNoSuchKey (also when the latest is a delete
// marker), ErrNoSuchVersion, ErrDeleteMarker.
func (s *Store) GetObject(ctx context.Context, bucket, key, versionID string) (data []byte, gotVersionID string, err error) {
	v, data, err := s.Get(ctx, bucket, key, versionID, true)
	if err != nil {
		return nil, "", err
	}
	return data, v.VersionID, nil
}

// Get returns a version's metadata, and its bytes when withData. When the
// version found is a delete marker, the marker's metadata comes back with
// ErrNoSuchKey (latest asked for) or ErrDeleteMarker (asked for by id), so
// callers can say which marker it was. For a bucket that was never
// versioned the VersionID returned is "".
func (s *Store) Get(ctx context.Context, bucket, key, versionID string, withData bool) (Version, []byte, error) {
	var (
		v    Version
		data []byte
	)
	_, err := s.st.View(ctx, func(tx store.Tx) error {
		b, err := getBucket(tx, bucket)
		if err != nil {
			return err
		}
		if ValidateKey(key) != nil {
			return ErrNoSuchKey
		}
		versions, err := listKey(tx, bucket, key)
		if err != nil {
			return err
		}
		if versionID == "" {
			if len(versions) == 0 {
				return ErrNoSuchKey
			}
			v = versions[0]
			v.IsLatest = true
			if v.DeleteMarker {
				return ErrNoSuchKey
			}
		} else {
			found := false
			for i, c := range versions {
				if c.VersionID == versionID {
					v, found = c, true
					v.IsLatest = i == 0
					break
				}
			}
			if !found {
				return ErrNoSuchVersion
			}
			if v.DeleteMarker {
				return ErrDeleteMarker
			}
		}
		if b.Versioning == "" {
			v.VersionID = ""
		}
		if withData {
			data, err = tx.Get(dataKey(bucket, key, v.Seq))
			if err != nil {
				return fmt.Errorf("object data missing: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return v, nil, fmt.Errorf("reading %s/%s: %w", bucket, key, err)
	}
	return v, data, nil
}

// DeleteResult says what DeleteObject did.
type DeleteResult struct {
	// VersionID is the version removed, or the delete marker created.
	VersionID string
	// DeleteMarker is true when a delete marker was created or removed.
	DeleteMarker bool
}

// DeleteObject deletes like S3: with no versionID, an Enabled bucket gets a
// new delete marker, a Suspended one a "null" delete marker replacing the
// null version, and an unversioned one loses the object. With a versionID
// that version (or delete marker) is removed for good. Deleting what does
// not exist is not an error.
func (s *Store) DeleteObject(ctx context.Context, bucket, key, versionID string) (DeleteResult, error) {
	var res DeleteResult
	_, err := s.st.Update(ctx, func(tx store.Tx) error {
		b, err := getBucket(tx, bucket)
		if err != nil {
			return err
		}
		if ValidateKey(key) != nil {
			return nil
		}
		versions, err := listKey(tx, bucket, key)
		if err != nil {
			return err
		}
		if versionID != "" {
			res.VersionID = versionID
			for _, v := range versions {
				if v.VersionID == versionID {
					res.DeleteMarker = v.DeleteMarker
					return deleteVersion(tx, v)
				}
			}
			return nil
		}
		if b.Versioning == "" {
			for _, v := range versions {
				if err := deleteVersion(tx, v); err != nil {
					return err
				}
			}
			return nil
		}
		dm := Version{ObjectVersion: model.ObjectVersion{
			Bucket: bucket, Key: key, DeleteMarker: true,
			LastModified: s.now().UTC().Truncate(time.Millisecond),
		}}
		if err := s.addVersion(tx, b, &dm, nil); err != nil {
			return err
		}
		res = DeleteResult{VersionID: dm.VersionID, DeleteMarker: true}
		return nil
	})
	if err != nil {
		return DeleteResult{}, fmt.Errorf("deleting %s/%s: %w", bucket, key, err)
	}
	return res, nil
}

// newVersionID returns a random, URL-safe version id (never "null").
func newVersionID() (string, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generating version id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// ValidateBucketName applies S3's naming rules for general purpose buckets.
func ValidateBucketName(name string) error {
	bad := func(why string) error { return fmt.Errorf("bucket name %q %s: %w", name, why, ErrInvalidBucketName) }
	if len(name) < 3 || len(name) > 63 {
		return bad("must be 3 to 63 characters long")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return bad("may hold only lower-case letters, digits, '.' and '-'")
		}
	}
	first, last := name[0], name[len(name)-1]
	if first == '.' || first == '-' || last == '.' || last == '-' {
		return bad("must begin and end with a letter or digit")
	}
	if strings.Contains(name, "..") || strings.Contains(name, ".-") || strings.Contains(name, "-.") {
		return bad("may not hold adjacent periods or a period next to a hyphen")
	}
	if net.ParseIP(name) != nil {
		return bad("may not be an IP address")
	}
	if strings.HasPrefix(name, "xn--") || strings.HasSuffix(name, "-s3alias") {
		return bad("uses a reserved prefix or suffix")
	}
	return nil
}

// ValidateKey checks an object key: 1 to 1024 bytes of UTF-8 without NUL.
func ValidateKey(key string) error {
	if len(key) > MaxKeyBytes {
		return fmt.Errorf("key of %d bytes: %w", len(key), ErrKeyTooLong)
	}
	if key == "" || !utf8.ValidString(key) || strings.ContainsRune(key, 0) {
		return fmt.Errorf("key %q: %w", key, ErrInvalidKey)
	}
	return nil
}

// decodeMeta decodes one metadata record and the key it belongs to.
func decodeMeta(kv store.KV) (Version, error) {
	var v Version
	if err := json.Unmarshal(kv.Value, &v); err != nil {
		return v, fmt.Errorf("decoding %q: %w", kv.Key, err)
	}
	return v, nil
}
