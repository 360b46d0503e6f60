package objects

import "errors"

// Sentinel errors, to test with errors.Is.
var (
	// ErrNoSuchBucket means the bucket does not exist.
	ErrNoSuchBucket = errors.New("no such bucket")
	// ErrBucketExists means CreateBucket named a bucket that exists (S3's
	// BucketAlreadyOwnedByYou: there is only one owner here).
	ErrBucketExists = errors.New("bucket already exists")
	// ErrBucketNotEmpty means DeleteBucket found object versions or delete markers.
	ErrBucketNotEmpty = errors.New("bucket not empty")
	// ErrInvalidBucketName means the name breaks S3's bucket naming rules.
	ErrInvalidBucketName = errors.New("invalid bucket name")
	// ErrInvalidKey means the key is empty, over 1024 bytes, not UTF-8 or holds NUL.
	ErrInvalidKey = errors.New("invalid object key")
	// ErrKeyTooLong means the key is over 1024 bytes.
	ErrKeyTooLong = errors.New("object key too long")
	// ErrNoSuchKey means the key has no version, or its latest is a delete marker.
	ErrNoSuchKey = errors.New("no such key")
	// ErrNoSuchVersion means the key has no version with that id.
	ErrNoSuchVersion = errors.New("no such version")
	// ErrDeleteMarker means the version asked for by id is a delete marker
	// (S3 answers 405 MethodNotAllowed).
	ErrDeleteMarker = errors.New("version is a delete marker")
	// ErrInvalidVersioning means a versioning status other than Enabled or Suspended.
	ErrInvalidVersioning = errors.New("invalid versioning status")
	// ErrTooLarge means the object is over MaxObjectBytes.
	ErrTooLarge = errors.New("object too large")
)
