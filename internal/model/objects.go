package model

import "time"

// Bucket versioning states.
const (
	VersioningEnabled   = "Enabled"
	VersioningSuspended = "Suspended"
)

// Bucket is a bucket of the embedded S3-compatible object store.
type Bucket struct {
	Name        string    `json:"name"`
	CreatedDate time.Time `json:"createdDate"`
	Versioning  string    `json:"versioning,omitempty"` // "", Enabled, Suspended
}

// NullVersion is S3's version id of objects written while versioning was off.
const NullVersion = "null"

// ObjectVersion is one version of an object. A delete marker has no data.
type ObjectVersion struct {
	Bucket       string            `json:"bucket"`
	Key          string            `json:"key"`
	VersionID    string            `json:"versionId"`
	Seq          int64             `json:"seq"` // order of writes within the key, newest highest
	DeleteMarker bool              `json:"deleteMarker,omitempty"`
	Size         int64             `json:"size"`
	ETag         string            `json:"etag,omitempty"`
	ContentType  string            `json:"contentType,omitempty"`
	Metadata     map[string]string `json:"metadata,omitempty"`
	LastModified time.Time         `json:"lastModified"`
	Data         []byte            `json:"data,omitempty"`
}
