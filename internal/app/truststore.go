package app

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"

	"trustgate/internal/awsapi/apigw"
	"trustgate/internal/edge"
	"trustgate/internal/objects"
	"trustgate/internal/s3remote"
	"trustgate/internal/trustcli"
	"trustgate/internal/truststore"
)

// domainHealth reports the data plane's view of a domain to the management
// API: DomainStatus.Message as domainNameStatusMessage, and the warnings
// about its CRLs for truststoreWarnings.
func domainHealth(gw *edge.Server) func(string) (apigw.DomainHealth, bool) {
	return func(name string) (apigw.DomainHealth, bool) {
		st, ok := gw.DomainStatus(strings.ToLower(name))
		if !ok {
			return apigw.DomainHealth{}, false
		}
		h := apigw.DomainHealth{Message: st.Message()}
		if st.Revocation != nil {
			h.Warnings = truststore.Messages(st.Revocation.Warnings)
		}
		return h, true
	}
}

// embeddedObjects is the embedded object store as the edge's CRL source. It
// can stat an object (write sequence, version id and ETag: equal tags mean
// equal bytes) without reading it, so a build re-reads a CRL only when a new
// version was written.
type embeddedObjects struct{ *objects.Store }

var _ edge.ObjectStater = embeddedObjects{}

func (e embeddedObjects) StatObject(ctx context.Context, bucket, key string) (string, error) {
	v, _, err := e.Get(ctx, bucket, key, "", false)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d %s %s", v.Seq, v.VersionID, v.ETag), nil
}

// crlSource is where trustgate:crl objects are read: the same place as
// truststores, with the embedded store's cheap stat.
func crlSource(cfg Config, embedded *objects.Store, truststores apigw.ObjectGetter) edge.ObjectGetter {
	if cfg.S3 == "embedded" {
		return embeddedObjects{embedded}
	}
	return truststores
}

// truststoreSource is where s3:// truststore URIs are read from: the
// embedded object store, or an external S3-compatible server.
func truststoreSource(ctx context.Context, cfg Config, embedded *objects.Store) (apigw.ObjectGetter, error) {
	if cfg.S3 == "embedded" {
		return embedded, nil
	}
	c, err := s3remote.New(ctx, cfg.S3, s3remote.Options{Region: cfg.Region})
	if err != nil {
		return nil, fmt.Errorf("--s3 %s: %w", cfg.S3, err)
	}
	return c, nil
}

// Truststore runs `trustgate truststore lint|check`.
func Truststore(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: trustgate truststore lint FILE|s3://BUCKET/KEY [--json] | check --truststore FILE --cert FILE [--chain FILE] [--crl FILE]... [--at RFC3339]")
		return 2
	}
	switch args[0] {
	case "lint":
		return trustcli.Lint(ctx, args[1:], stdout, stderr, fetchS3)
	case "check":
		return trustcli.Check(ctx, args[1:], stdout, stderr)
	default:
		fmt.Fprintf(stderr, "trustgate truststore: unknown command %q (lint or check)\n", args[0])
		return 2
	}
}

// fetchS3 reads an s3://bucket/key[?versionId=V] URI for `truststore lint`
// from the S3 endpoint in TRUSTGATE_ENDPOINT or AWS_ENDPOINT_URL (what
// `eval "$(trustgate env)"` sets), with the usual AWS credential variables.
func fetchS3(ctx context.Context, uri string) ([]byte, error) {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "s3" || u.Host == "" || strings.TrimPrefix(u.Path, "/") == "" {
		return nil, fmt.Errorf("%q is not an s3://bucket/key URI", uri)
	}
	endpoint := os.Getenv("TRUSTGATE_ENDPOINT")
	if endpoint == "" {
		endpoint = os.Getenv("AWS_ENDPOINT_URL")
	}
	if endpoint == "" {
		endpoint = "http://127.0.0.1:4566"
	}
	c, err := s3remote.New(ctx, endpoint, s3remote.Options{})
	if err != nil {
		return nil, err
	}
	data, _, err := c.GetObject(ctx, u.Host, strings.TrimPrefix(u.Path, "/"), u.Query().Get("versionId"))
	return data, err
}
