package edge

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Domain tags that turn on and tune revocation checking (trustgate-only
// settings ride on AWS tags, so the AWS CLI and IaC tools reach them).
const (
	// TagCRL lists the CRL objects of a domain: one or more s3://bucket/key
	// URIs, comma-separated. Each object holds one or more CRLs, PEM or DER.
	TagCRL = "trustgate:crl"
	// TagCRLMode is "hard" (the default: a CRL that cannot be read or is
	// past its nextUpdate refuses the certificates it covers) or "soft"
	// (they are accepted without a revocation check, with a warning).
	TagCRLMode = "trustgate:crl-mode"
	// TagCRLRefresh is how often CRLs are re-read from an external S3
	// (--s3 URL), as a Go duration ("30s", "5m"). The embedded object store
	// needs no polling: a new CRL version is picked up at once.
	TagCRLRefresh = "trustgate:crl-refresh"
)

// Bounds of trustgate:crl-refresh.
const (
	DefaultCRLRefresh = 60 * time.Second
	MinCRLRefresh     = 5 * time.Second
	MaxCRLRefresh     = 24 * time.Hour
)

// CRL modes (values of TagCRLMode).
const (
	CRLModeHard = "hard"
	CRLModeSoft = "soft"
)

// Revocation is a domain's CRL configuration, read from its trustgate:crl*
// tags. It applies only while the domain uses mutual TLS.
type Revocation struct {
	// URIs are the CRL objects, s3://bucket/key, in tag order, without
	// duplicates.
	URIs []string
	// Soft accepts certificates whose revocation status cannot be
	// established (a CRL unreadable or past its nextUpdate). A revoked
	// certificate is refused in either mode.
	Soft bool
	// Refresh is how often an external S3 is polled for new CRL versions.
	Refresh time.Duration
}

// TagError is a trustgate:* tag whose value cannot be used. Its message
// names the tag and is meant for the API caller.
type TagError struct {
	Key     string
	Message string
}

func (e *TagError) Error() string { return e.Message }

// ParseRevocation reads a domain's trustgate:crl* tags. It returns nil and
// no error when trustgate:crl is absent; trustgate:crl-mode and
// trustgate:crl-refresh are validated either way, so a bad value is refused
// when it is set, not when trustgate:crl is added later. Every error is a
// *TagError. No I/O.
func ParseRevocation(tags map[string]string) (*Revocation, error) {
	r := &Revocation{Refresh: DefaultCRLRefresh}
	if v, ok := tags[TagCRLMode]; ok {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case CRLModeHard:
		case CRLModeSoft:
			r.Soft = true
		default:
			return nil, &TagError{Key: TagCRLMode, Message: fmt.Sprintf(
				"Invalid value %q for tag %s: use %s (refuse certificates whose revocation status is unknown, the default) or %s (accept them with a warning).",
				v, TagCRLMode, CRLModeHard, CRLModeSoft)}
		}
	}
	if v, ok := tags[TagCRLRefresh]; ok {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil || d < MinCRLRefresh || d > MaxCRLRefresh {
			return nil, &TagError{Key: TagCRLRefresh, Message: fmt.Sprintf(
				"Invalid value %q for tag %s: use a duration from %s to %s, such as 30s or 5m.", v, TagCRLRefresh, MinCRLRefresh, MaxCRLRefresh)}
		}
		r.Refresh = d
	}
	v, ok := tags[TagCRL]
	if !ok {
		return nil, nil
	}
	for _, part := range strings.Split(v, ",") {
		uri := strings.TrimSpace(part)
		if _, _, err := splitS3URI(uri); err != nil {
			return nil, &TagError{Key: TagCRL, Message: fmt.Sprintf(
				"Invalid value for tag %s: %q is not an s3://bucket/key URI. List one or more CRL objects, comma-separated.", TagCRL, uri)}
		}
		if !slices.Contains(r.URIs, uri) {
			r.URIs = append(r.URIs, uri)
		}
	}
	return r, nil
}

// ValidateTags checks the trustgate:* tags the edge understands, for the
// management API (create-domain-name, tag-resource). Other tags pass.
func ValidateTags(tags map[string]string) error {
	_, err := ParseRevocation(tags)
	return err
}

// splitS3URI splits s3://bucket/key. The bucket must look like an S3 bucket
// name and the key must not be empty.
func splitS3URI(uri string) (bucket, key string, err error) {
	rest, ok := strings.CutPrefix(uri, "s3://")
	if ok {
		bucket, key, ok = strings.Cut(rest, "/")
	}
	if !ok || key == "" || len(bucket) < 3 || len(bucket) > 63 || strings.Trim(bucket, "abcdefghijklmnopqrstuvwxyz0123456789.-") != "" ||
		strings.ContainsAny(key, "\x00\r\n") {
		return "", "", fmt.Errorf("%q is not an s3://bucket/key URI", uri)
	}
	return bucket, key, nil
}
