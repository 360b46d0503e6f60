// Package s3remote reads truststores and CRLs from an external S3-compatible
// server (--s3 URL) with aws-sdk-go-v2: path-style addressing, credentials
// from the usual AWS variables and files. It only ever reads.
package s3remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// MaxObjectBytes bounds what is read: truststores are at most 1 MB, CRLs are
// allowed more, and nothing larger is ever useful here.
const MaxObjectBytes = 8 << 20

// ErrTooLarge means the object exceeds MaxObjectBytes.
var ErrTooLarge = errors.New("object too large")

// Client reads objects from one S3-compatible endpoint. Safe for concurrent use.
type Client struct {
	s3       *s3.Client
	endpoint string
}

// Options tune the client; zero values are fine.
type Options struct {
	Region string
	// HTTPClient replaces the SDK's default client; nil keeps it (which
	// honours AWS_CA_BUNDLE) with a 10 s timeout.
	HTTPClient *http.Client
	// Credentials, when set, override the environment (tests use this).
	Credentials aws.CredentialsProvider
}

// New makes a client for endpoint (http(s)://host:port). Credentials come
// from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, profiles and the rest of the
// SDK's default chain, unless opts.Credentials is set.
func New(ctx context.Context, endpoint string, opts Options) (*Client, error) {
	var loadOpts []func(*config.LoadOptions) error
	if opts.Region != "" {
		loadOpts = append(loadOpts, config.WithRegion(opts.Region))
	}
	if opts.Credentials != nil {
		loadOpts = append(loadOpts, config.WithCredentialsProvider(opts.Credentials))
	}
	if opts.HTTPClient != nil {
		loadOpts = append(loadOpts, config.WithHTTPClient(opts.HTTPClient))
	} else {
		loadOpts = append(loadOpts, config.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(10*time.Second)))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("configuring S3 client for %s: %w", endpoint, err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	c := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.UsePathStyle = true
		// Many S3-compatible servers do not know the newer checksum
		// behaviour; only validate checksums when the server sends them.
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	})
	return &Client{s3: c, endpoint: endpoint}, nil
}

// GetObject reads bucket/key at versionID ("" = the latest) and returns its
// bytes and the version id the server reports ("" when unversioned).
func (c *Client) GetObject(ctx context.Context, bucket, key, versionID string) ([]byte, string, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if versionID != "" {
		in.VersionId = aws.String(versionID)
	}
	out, err := c.s3.GetObject(ctx, in)
	if err != nil {
		return nil, "", fmt.Errorf("reading s3://%s/%s from %s: %w", bucket, key, c.endpoint, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(io.LimitReader(out.Body, MaxObjectBytes+1))
	if err != nil {
		return nil, "", fmt.Errorf("reading s3://%s/%s from %s: %w", bucket, key, c.endpoint, err)
	}
	if len(data) > MaxObjectBytes {
		return nil, "", fmt.Errorf("reading s3://%s/%s: %w (over %d bytes)", bucket, key, ErrTooLarge, MaxObjectBytes)
	}
	return data, aws.ToString(out.VersionId), nil
}
