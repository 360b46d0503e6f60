package s3remote

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// No S3-compatible server can be installed on these machines (none is
// packaged in Debian 12), so the external-S3 path is tested against
// gofakes3, an independent in-process S3 implementation, over real HTTP on
// loopback.
func fakeS3(t *testing.T) (url string, admin *s3.Client) {
	t.Helper()
	srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	t.Cleanup(srv.Close)
	admin = s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("AKID", "SECRET", ""),
	})
	return srv.URL, admin
}

func TestGetObjectVersions(t *testing.T) {
	ctx := context.Background()
	url, admin := fakeS3(t)
	if _, err := admin.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("trust")}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String("trust"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	put := func(body string) string {
		out, err := admin.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("trust"), Key: aws.String("dir/ts.pem"), Body: strings.NewReader(body)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.VersionId)
	}
	v1 := put("one")
	v2 := put("two")
	if v1 == "" || v1 == v2 {
		t.Fatalf("fake S3 gave versions %q, %q", v1, v2)
	}

	c, err := New(ctx, url, Options{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKID", "SECRET", "")})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ version, want, wantVersion string }{
		{"", "two", v2},
		{v1, "one", v1},
		{v2, "two", v2},
	} {
		data, got, err := c.GetObject(ctx, "trust", "dir/ts.pem", tc.version)
		if err != nil {
			t.Fatalf("get %q: %v", tc.version, err)
		}
		if !bytes.Equal(data, []byte(tc.want)) || got != tc.wantVersion {
			t.Errorf("get %q = %q@%q, want %q@%q", tc.version, data, got, tc.want, tc.wantVersion)
		}
	}
	if _, _, err := c.GetObject(ctx, "trust", "missing.pem", ""); err == nil {
		t.Error("missing object: no error")
	}
	if _, _, err := c.GetObject(ctx, "nobucket", "x", ""); err == nil {
		t.Error("missing bucket: no error")
	}
}

func TestServerDown(t *testing.T) {
	srv := httptest.NewServer(nil)
	down := srv.URL
	srv.Close()
	c, err := New(context.Background(), down, Options{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("A", "B", "")})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5e9)
	defer cancel()
	if _, _, err := c.GetObject(ctx, "b", "k", ""); err == nil {
		t.Fatal("no error from a stopped server")
	}
}
