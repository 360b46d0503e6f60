package awsapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/prometheus/client_golang/prometheus"

	"trustgate/internal/awsapi"
	"trustgate/internal/awsapi/awserr"
)

const (
	testKeyID  = "AKIATESTTESTTESTTEST"
	testSecret = "TestSecretTestSecretTestSecretTestSecret"
	testRegion = "us-east-1"
)

// seen is one request as a fake service received it.
type seen struct {
	Method, Path, RawQuery, RequestID string
	Header                            http.Header
	Body                              []byte
	ContentLength                     int64
}

// fakeService records what reaches it and renders errors in its
// service's wire shape, so SDK clients can parse them.
type fakeService struct {
	name string
	mu   sync.Mutex
	reqs []seen
	errs []*awserr.Error
	// reply writes the success answer; nil writes 200 "{}" (or nothing for s3).
	reply func(w http.ResponseWriter, r *http.Request)
}

func (f *fakeService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		panic(err)
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, seen{r.Method, r.URL.Path, r.URL.RawQuery, awsapi.RequestID(r.Context()), r.Header.Clone(), b, r.ContentLength})
	f.mu.Unlock()
	if f.reply != nil {
		f.reply(w, r)
		return
	}
	if f.name != "s3" {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, "{}")
	}
}

func (f *fakeService) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	e := awserr.As(err)
	if e == nil {
		e = &awserr.Error{Code: "InternalFailure", Message: "internal", Status: 500}
		if f.name == "s3" {
			e.Code = "InternalError"
		}
	}
	f.mu.Lock()
	f.errs = append(f.errs, e)
	f.mu.Unlock()
	switch f.name {
	case "s3":
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(e.HTTPStatus())
		if r.Method != http.MethodHead {
			fmt.Fprintf(w, "<Error><Code>%s</Code><Message>%s</Message></Error>", e.Code, xmlEscape(e.Message))
		}
	case "acm":
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(e.HTTPStatus())
		json.NewEncoder(w).Encode(map[string]string{"__type": e.Code, "message": e.Message})
	default:
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("x-amzn-ErrorType", e.Code)
		w.WriteHeader(e.HTTPStatus())
		json.NewEncoder(w).Encode(map[string]string{"message": e.Message})
	}
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

func (f *fakeService) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.reqs...)
}

func (f *fakeService) lastError(t *testing.T) *awserr.Error {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.errs) == 0 {
		t.Fatalf("%s: no error was rendered", f.name)
	}
	return f.errs[len(f.errs)-1]
}

type rig struct {
	srv                 *httptest.Server
	s3, apigw, acm, r53 *fakeService
	now                 func() time.Time
	clock               *time.Time
	clockMu             *sync.Mutex
	endpoint            *awsapi.Endpoint
	reg                 *prometheus.Registry
}

type rigOpt func(*awsapi.Config)

func newRig(t *testing.T, tlsOn bool, opts ...rigOpt) *rig {
	t.Helper()
	rg := &rig{
		s3:    &fakeService{name: "s3"},
		apigw: &fakeService{name: "apigateway"},
		acm:   &fakeService{name: "acm"},
		r53:   &fakeService{name: "route53"},
		reg:   prometheus.NewRegistry(),
	}
	cfg := awsapi.Config{
		Credentials: awsapi.Credentials{AccessKeyID: testKeyID, Secret: testSecret},
		Region:      testRegion,
		Services: map[string]awsapi.Service{
			"s3": rg.s3, "apigateway": rg.apigw, "acm": rg.acm, "route53": rg.r53,
		},
		Registerer: rg.reg,
		Extra: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "# metrics\n")
		}),
	}
	for _, o := range opts {
		o(&cfg)
	}
	rg.endpoint = awsapi.New(cfg)
	if tlsOn {
		rg.srv = httptest.NewTLSServer(rg.endpoint)
	} else {
		rg.srv = httptest.NewServer(rg.endpoint)
	}
	t.Cleanup(rg.srv.Close)
	return rg
}

func withNow(now func() time.Time) rigOpt { return func(c *awsapi.Config) { c.Now = now } }

func (rg *rig) s3Client(secret string) *s3.Client {
	return s3.New(s3.Options{
		Region:           testRegion,
		BaseEndpoint:     aws.String(rg.srv.URL),
		UsePathStyle:     true,
		HTTPClient:       rg.srv.Client(),
		RetryMaxAttempts: 1,
		Credentials:      credentials.NewStaticCredentialsProvider(testKeyID, secret, ""),
	})
}

func apiErrorCode(t *testing.T, err error) string {
	t.Helper()
	if err == nil {
		t.Fatal("expected an error, got nil")
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v is not an API error", err)
	}
	return ae.ErrorCode()
}

func TestS3SDKPutObjectPlainAndChecksum(t *testing.T) {
	rg := newRig(t, false)
	c := rg.s3Client(testSecret)
	ctx := context.Background()
	_, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String("b"), Key: aws.String("dir/a b+c.pem"),
		Body: bytes.NewReader([]byte("hello world")), ChecksumAlgorithm: s3types.ChecksumAlgorithmCrc32,
		ContentType: aws.String("application/pem-certificate-chain"),
	})
	if err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	reqs := rg.s3.requests()
	if len(reqs) != 1 {
		t.Fatalf("service saw %d requests, want 1", len(reqs))
	}
	got := reqs[0]
	if got.Path != "/b/dir/a b+c.pem" || string(got.Body) != "hello world" {
		t.Errorf("service saw path %q body %q", got.Path, got.Body)
	}
	if got.Header.Get("Authorization") != "" {
		t.Error("Authorization header reached the service")
	}
	if got.RequestID == "" {
		t.Error("no request id on the context")
	}
}

// Over TLS the SDK streams PutObject as aws-chunked with a CRC32 trailer
// (STREAMING-UNSIGNED-PAYLOAD-TRAILER); the service must see plain bytes.
func TestS3SDKPutObjectAWSChunkedTrailer(t *testing.T) {
	rg := newRig(t, true)
	c := rg.s3Client(testSecret)
	data := bytes.Repeat([]byte("trustgate "), 20000) // 200 kB, several chunks
	for _, alg := range []s3types.ChecksumAlgorithm{s3types.ChecksumAlgorithmCrc32, s3types.ChecksumAlgorithmCrc32c, s3types.ChecksumAlgorithmCrc64nvme, s3types.ChecksumAlgorithmSha256} {
		t.Run(string(alg), func(t *testing.T) {
			_, err := c.PutObject(context.Background(), &s3.PutObjectInput{
				Bucket: aws.String("b"), Key: aws.String("k"), Body: bytes.NewReader(data), ChecksumAlgorithm: alg,
			})
			if err != nil {
				t.Fatalf("PutObject: %v", err)
			}
			reqs := rg.s3.requests()
			got := reqs[len(reqs)-1]
			if !bytes.Equal(got.Body, data) {
				t.Fatalf("service saw %d bytes, want %d", len(got.Body), len(data))
			}
			if got.ContentLength != int64(len(data)) || got.Header.Get("Content-Length") != fmt.Sprint(len(data)) {
				t.Errorf("content length %d / %q", got.ContentLength, got.Header.Get("Content-Length"))
			}
			if ce := got.Header.Get("Content-Encoding"); ce != "" {
				t.Errorf("Content-Encoding %q left on decoded request", ce)
			}
			name := "X-Amz-Checksum-" + strings.ToUpper(string(alg)[:1]) + strings.ToLower(string(alg)[1:])
			want, _ := awsapi.Checksum(name, data)
			if got.Header.Get(name) != want {
				t.Errorf("trailer %s = %q, want %q (headers %v)", name, got.Header.Get(name), want, got.Header)
			}
		})
	}
}

func TestS3SDKErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("wrong secret", func(t *testing.T) {
		rg := newRig(t, false)
		_, err := rg.s3Client("not-the-secret").HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("b")})
		if err == nil {
			t.Fatal("HeadBucket with a wrong secret succeeded")
		}
		if e := rg.s3.lastError(t); e.Code != awserr.S3SignatureDoesNotMatch || e.HTTPStatus() != 403 {
			t.Errorf("got %s %d", e.Code, e.HTTPStatus())
		}
		_, err = rg.s3Client("not-the-secret").ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("b")})
		if code := apiErrorCode(t, err); code != "SignatureDoesNotMatch" {
			t.Errorf("code %s", code)
		}
		if n := len(rg.s3.requests()); n != 0 {
			t.Errorf("%d mis-signed requests reached the service", n)
		}
	})
	t.Run("wrong key id", func(t *testing.T) {
		rg := newRig(t, false)
		c := s3.New(s3.Options{Region: testRegion, BaseEndpoint: aws.String(rg.srv.URL), UsePathStyle: true, RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider("AKIAOTHEROTHEROTHER1", testSecret, "")})
		_, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("b")})
		if code := apiErrorCode(t, err); code != "InvalidAccessKeyId" {
			t.Errorf("code %s", code)
		}
	})
	t.Run("session token", func(t *testing.T) {
		rg := newRig(t, false)
		c := s3.New(s3.Options{Region: testRegion, BaseEndpoint: aws.String(rg.srv.URL), UsePathStyle: true, RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider(testKeyID, testSecret, "some-token")})
		_, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("b")})
		if code := apiErrorCode(t, err); code != "InvalidToken" {
			t.Errorf("code %s", code)
		}
	})
	t.Run("wrong region", func(t *testing.T) {
		rg := newRig(t, false)
		c := s3.New(s3.Options{Region: "eu-west-1", BaseEndpoint: aws.String(rg.srv.URL), UsePathStyle: true, RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider(testKeyID, testSecret, "")})
		_, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("b")})
		if code := apiErrorCode(t, err); code != "AuthorizationHeaderMalformed" {
			t.Errorf("code %s", code)
		}
		if e := rg.s3.lastError(t); e.Fields["Region"] != testRegion {
			t.Errorf("Region field %q", e.Fields["Region"])
		}
	})
	t.Run("clock skew", func(t *testing.T) {
		rg := newRig(t, false, withNow(func() time.Time { return time.Now().Add(20 * time.Minute) }))
		_, err := rg.s3Client(testSecret).ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("b")})
		if code := apiErrorCode(t, err); code != "RequestTimeTooSkewed" {
			t.Errorf("code %s", code)
		}
	})
	t.Run("within skew", func(t *testing.T) {
		rg := newRig(t, false, withNow(func() time.Time { return time.Now().Add(-14 * time.Minute) }))
		if _, err := rg.s3Client(testSecret).HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("b")}); err != nil {
			t.Errorf("HeadBucket 14 minutes early: %v", err)
		}
	})
}

func TestS3Presigned(t *testing.T) {
	rg := newRig(t, false)
	rg.s3.reply = func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "object-bytes") }
	pc := s3.NewPresignClient(rg.s3Client(testSecret))
	ctx := context.Background()
	req, err := pc.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String("dir/trust store.pem")},
		s3.WithPresignExpires(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	get := func(u string) (*http.Response, string) {
		t.Helper()
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := get(req.URL)
	if resp.StatusCode != 200 || body != "object-bytes" {
		t.Fatalf("valid presigned GET: %d %q", resp.StatusCode, body)
	}
	if resp.Header.Get("x-amz-request-id") == "" || resp.Header.Get("x-amzn-RequestId") == "" {
		t.Error("request id headers missing")
	}

	// Tampering with the key invalidates the signature.
	resp, _ = get(strings.Replace(req.URL, "trust", "trusx", 1))
	if resp.StatusCode != 403 || rg.s3.lastError(t).Code != awserr.S3SignatureDoesNotMatch {
		t.Errorf("tampered presigned URL: %d %s", resp.StatusCode, rg.s3.lastError(t).Code)
	}

	// The same URL after it expired.
	late := newRig(t, false, withNow(func() time.Time { return time.Now().Add(6 * time.Minute) }))
	resp, _ = get(strings.Replace(req.URL, rg.srv.URL, late.srv.URL, 1))
	// The host is part of the signature, so re-sign for the late rig.
	req2, err := s3.NewPresignClient(late.s3Client(testSecret)).PresignGetObject(ctx,
		&s3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String("k")}, s3.WithPresignExpires(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	resp, _ = get(req2.URL)
	if resp.StatusCode != 403 {
		t.Fatalf("expired presigned GET: status %d", resp.StatusCode)
	}
	if e := late.s3.lastError(t); e.Code != awserr.S3AccessDenied || e.Message != "Request has expired" {
		t.Errorf("expired presigned GET: %s %q", e.Code, e.Message)
	}
	if n := len(late.s3.requests()); n != 0 {
		t.Errorf("%d expired requests reached the service", n)
	}
}

func TestAPIGatewaySDK(t *testing.T) {
	rg := newRig(t, false)
	rg.apigw.reply = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"items":[]}`)
	}
	newClient := func(secret string) *apigateway.Client {
		return apigateway.New(apigateway.Options{Region: testRegion, BaseEndpoint: aws.String(rg.srv.URL), RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider(testKeyID, secret, "")})
	}
	ctx := context.Background()
	c := newClient(testSecret)
	if _, err := c.GetRestApis(ctx, &apigateway.GetRestApisInput{}); err != nil {
		t.Fatalf("GetRestApis: %v", err)
	}
	// Paths with escaped characters: v1 wildcard domain names and the (none) base path.
	if _, err := c.GetBasePathMapping(ctx, &apigateway.GetBasePathMappingInput{DomainName: aws.String("*.example.com"), BasePath: aws.String("(none)")}); err != nil {
		t.Fatalf("GetBasePathMapping: %v", err)
	}
	if _, err := c.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("customer")}); err != nil {
		t.Fatalf("CreateRestApi: %v", err)
	}
	reqs := rg.apigw.requests()
	if len(reqs) != 3 {
		t.Fatalf("service saw %d requests", len(reqs))
	}
	if reqs[1].Path != "/domainnames/*.example.com/basepathmappings/(none)" {
		t.Errorf("path %q", reqs[1].Path)
	}
	if !strings.Contains(string(reqs[2].Body), `"name":"customer"`) {
		t.Errorf("body %q", reqs[2].Body)
	}

	_, err := newClient("wrong").GetRestApis(ctx, &apigateway.GetRestApisInput{})
	if code := apiErrorCode(t, err); code != awserr.InvalidSignature {
		t.Errorf("wrong secret: %s", code)
	}
	if e := rg.apigw.lastError(t); e.HTTPStatus() != 403 || !strings.HasPrefix(e.Message, "The request signature we calculated") {
		t.Errorf("wrong secret: %d %q", e.HTTPStatus(), e.Message)
	}
	other := apigateway.New(apigateway.Options{Region: testRegion, BaseEndpoint: aws.String(rg.srv.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("AKIAOTHEROTHEROTHER1", testSecret, "")})
	_, err = other.GetRestApis(ctx, &apigateway.GetRestApisInput{})
	if code := apiErrorCode(t, err); code != awserr.UnrecognizedClient {
		t.Errorf("wrong key: %s", code)
	}
	if e := rg.apigw.lastError(t); e.Message != "The security token included in the request is invalid." {
		t.Errorf("wrong key message %q", e.Message)
	}
}

func TestAPIGatewaySkew(t *testing.T) {
	rg := newRig(t, false, withNow(func() time.Time { return time.Now().Add(-time.Hour) }))
	c := apigateway.New(apigateway.Options{Region: testRegion, BaseEndpoint: aws.String(rg.srv.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(testKeyID, testSecret, "")})
	_, err := c.GetRestApis(context.Background(), &apigateway.GetRestApisInput{})
	if code := apiErrorCode(t, err); code != awserr.InvalidSignature {
		t.Errorf("code %s", code)
	}
	if e := rg.apigw.lastError(t); !strings.HasPrefix(e.Message, "Signature not yet current:") {
		t.Errorf("message %q", e.Message)
	}
	rg2 := newRig(t, false, withNow(func() time.Time { return time.Now().Add(time.Hour) }))
	c2 := apigateway.New(apigateway.Options{Region: testRegion, BaseEndpoint: aws.String(rg2.srv.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(testKeyID, testSecret, "")})
	_, _ = c2.GetRestApis(context.Background(), &apigateway.GetRestApisInput{})
	if e := rg2.apigw.lastError(t); !strings.HasPrefix(e.Message, "Signature expired:") || !strings.Contains(e.Message, "is now earlier than") {
		t.Errorf("message %q", e.Message)
	}
}

func TestACMSDK(t *testing.T) {
	rg := newRig(t, false)
	c := acm.New(acm.Options{Region: testRegion, BaseEndpoint: aws.String(rg.srv.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(testKeyID, testSecret, "")})
	if _, err := c.ListCertificates(context.Background(), &acm.ListCertificatesInput{}); err != nil {
		t.Fatalf("ListCertificates: %v", err)
	}
	reqs := rg.acm.requests()
	if len(reqs) != 1 || reqs[0].Header.Get("X-Amz-Target") != "CertificateManager.ListCertificates" {
		t.Fatalf("service saw %+v", reqs)
	}
}

// signedRequest builds a request signed by the SDK signer for a service.
func signedRequest(t *testing.T, srvURL, method, path string, body []byte, service string, at time.Time, secret string, hdr map[string]string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, srvURL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	hash := fmt.Sprintf("%x", sha256Sum(body))
	if v := req.Header.Get("X-Amz-Content-Sha256"); v != "" {
		hash = v
	}
	err = v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = service == "s3" }).SignHTTP(context.Background(),
		aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: secret}, req, hash, service, testRegion, at)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func do(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestHandCraftedRefusals(t *testing.T) {
	rg := newRig(t, false)
	now := time.Now()
	body := []byte(`{"name":"x"}`)

	cases := []struct {
		name     string
		req      func() *http.Request
		svc      *fakeService
		status   int
		code     string
		contains string
	}{
		{"apigateway unsigned", func() *http.Request {
			r, _ := http.NewRequest("GET", rg.srv.URL+"/restapis", nil)
			return r
		}, rg.apigw, 403, awserr.MissingAuthToken, "Missing Authentication Token"},
		{"s3 unsigned", func() *http.Request {
			r, _ := http.NewRequest("GET", rg.srv.URL+"/bucket/key", nil)
			return r
		}, rg.s3, 403, awserr.S3AccessDenied, "Access Denied"},
		{"acm unsigned", func() *http.Request {
			r, _ := http.NewRequest("POST", rg.srv.URL+"/", strings.NewReader("{}"))
			r.Header.Set("X-Amz-Target", "CertificateManager.ListCertificates")
			return r
		}, rg.acm, 403, awserr.MissingAuthToken, ""},
		{"tampered body", func() *http.Request {
			r := signedRequest(t, rg.srv.URL, "POST", "/restapis", body, "apigateway", now, testSecret, nil)
			r.Body = io.NopCloser(strings.NewReader(`{"name":"y"}`))
			return r
		}, rg.apigw, 403, awserr.InvalidSignature, "does not match"},
		{"tampered header", func() *http.Request {
			r := signedRequest(t, rg.srv.URL, "POST", "/", body, "acm", now, testSecret, map[string]string{"X-Amz-Target": "CertificateManager.ListCertificates", "Content-Type": "application/x-amz-json-1.1"})
			r.Header.Set("X-Amz-Target", "CertificateManager.DeleteCertificate")
			return r
		}, rg.acm, 403, awserr.InvalidSignature, ""},
		{"unsigned x-amz-target", func() *http.Request {
			r := signedRequest(t, rg.srv.URL, "POST", "/", body, "acm", now, testSecret, map[string]string{"Content-Type": "application/x-amz-json-1.1"})
			r.Header.Set("X-Amz-Target", "CertificateManager.DeleteCertificate")
			return r
		}, rg.acm, 403, awserr.InvalidSignature, ""},
		{"declared hash differs (non-s3)", func() *http.Request {
			return signedRequest(t, rg.srv.URL, "POST", "/restapis", body, "apigateway", now, testSecret, map[string]string{"X-Amz-Content-Sha256": strings.Repeat("0", 64)})
		}, rg.apigw, 403, awserr.InvalidSignature, ""},
		{"s3 tampered body", func() *http.Request {
			r := signedRequest(t, rg.srv.URL, "PUT", "/b/k", body, "s3", now, testSecret, map[string]string{"X-Amz-Content-Sha256": fmt.Sprintf("%x", sha256Sum(body))})
			r.Body = io.NopCloser(strings.NewReader(`{"name":"y"}`))
			return r
		}, rg.s3, 400, awserr.S3XAmzContentSHA256, ""},
		{"s3 bad content sha value", func() *http.Request {
			return signedRequest(t, rg.srv.URL, "PUT", "/b/k", body, "s3", now, testSecret, map[string]string{"X-Amz-Content-Sha256": "nonsense"})
		}, rg.s3, 400, awserr.S3InvalidArgument, ""},
		{"s3 unsigned x-amz header", func() *http.Request {
			r := signedRequest(t, rg.srv.URL, "GET", "/b/k", nil, "s3", now, testSecret, map[string]string{"X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD"})
			r.Header.Set("X-Amz-Meta-Injected", "1")
			return r
		}, rg.s3, 403, awserr.S3AccessDenied, "not signed"},
		{"missing x-amz-date", func() *http.Request {
			r := signedRequest(t, rg.srv.URL, "GET", "/restapis", nil, "apigateway", now, testSecret, nil)
			r.Header.Del("X-Amz-Date")
			return r
		}, rg.apigw, 400, awserr.IncompleteSignature, "X-Amz-Date"},
		{"malformed x-amz-date", func() *http.Request {
			r := signedRequest(t, rg.srv.URL, "GET", "/b", nil, "s3", now, testSecret, map[string]string{"X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD"})
			r.Header.Set("X-Amz-Date", "yesterday")
			return r
		}, rg.s3, 403, awserr.S3AccessDenied, "x-amz-date"},
		{"incomplete authorization", func() *http.Request {
			r, _ := http.NewRequest("GET", rg.srv.URL+"/restapis", nil)
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+testKeyID+"/20260101/us-east-1/apigateway/aws4_request")
			return r
		}, rg.apigw, 400, awserr.IncompleteSignature, "SignedHeaders"},
		{"sigv2", func() *http.Request {
			r, _ := http.NewRequest("GET", rg.srv.URL+"/bucket", nil)
			r.Header.Set("Authorization", "AWS "+testKeyID+":c2lnbmF0dXJl")
			return r
		}, rg.s3, 400, awserr.S3InvalidRequest, "AWS4-HMAC-SHA256"},
		{"apigateway too large", func() *http.Request {
			big := bytes.Repeat([]byte("x"), awsapi.MaxBodyBytes+1)
			return signedRequest(t, rg.srv.URL, "POST", "/restapis", big, "apigateway", now, testSecret, nil)
		}, rg.apigw, 413, awserr.RequestTooLarge, ""},
		{"s3 too large", func() *http.Request {
			big := bytes.Repeat([]byte("x"), awsapi.MaxBodyBytes+1)
			return signedRequest(t, rg.srv.URL, "PUT", "/b/k", big, "s3", now, testSecret, map[string]string{"X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD"})
		}, rg.s3, 400, awserr.S3EntityTooLarge, ""},
		{"s3 bad checksum header", func() *http.Request {
			return signedRequest(t, rg.srv.URL, "PUT", "/b/k", body, "s3", now, testSecret, map[string]string{"X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD", "X-Amz-Checksum-Crc32": "AAAAAA=="})
		}, rg.s3, 400, awserr.S3BadDigest, "CRC32"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := len(tc.svc.requests())
			resp, _ := do(t, tc.req())
			if resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.status)
			}
			e := tc.svc.lastError(t)
			if e.Code != tc.code || !strings.Contains(e.Message, tc.contains) {
				t.Errorf("error %s %q, want %s containing %q", e.Code, e.Message, tc.code, tc.contains)
			}
			if after := len(tc.svc.requests()); after != before {
				t.Error("refused request reached the service")
			}
		})
	}
}

func TestExactlyMaxBodyAccepted(t *testing.T) {
	rg := newRig(t, false)
	big := bytes.Repeat([]byte("x"), awsapi.MaxBodyBytes)
	req := signedRequest(t, rg.srv.URL, "PUT", "/b/k", big, "s3", time.Now(), testSecret, map[string]string{"X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD"})
	resp, _ := do(t, req)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

func TestUnknownServiceAndOpenPaths(t *testing.T) {
	rg := newRig(t, false, func(c *awsapi.Config) { c.Ready = func() error { return errors.New("store closed") } })
	req := signedRequest(t, rg.srv.URL, "GET", "/", nil, "sqs", time.Now(), testSecret, nil)
	resp, body := do(t, req)
	if resp.StatusCode != 400 || !strings.Contains(body, `"sqs"`) {
		t.Errorf("unknown service: %d %q", resp.StatusCode, body)
	}
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 503, "/metrics": 200} {
		resp, err := http.Get(rg.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, resp.StatusCode, want)
		}
	}
	// A signed request for /healthz is an S3 call on bucket "healthz", not the probe.
	req = signedRequest(t, rg.srv.URL, "GET", "/healthz", nil, "s3", time.Now(), "wrong", map[string]string{"X-Amz-Content-Sha256": "UNSIGNED-PAYLOAD"})
	resp, _ = do(t, req)
	if resp.StatusCode != 403 {
		t.Errorf("mis-signed GET /healthz: %d", resp.StatusCode)
	}
	// POST to an open path is not open.
	resp, err := http.Post(rg.srv.URL+"/healthz", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("unsigned POST /healthz: %d", resp.StatusCode)
	}
}

func TestPanicBecomesInternalError(t *testing.T) {
	rg := newRig(t, false)
	rg.apigw.reply = func(w http.ResponseWriter, r *http.Request) { panic("boom") }
	resp, _ := do(t, signedRequest(t, rg.srv.URL, "GET", "/restapis", nil, "apigateway", time.Now(), testSecret, nil))
	if resp.StatusCode != 500 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if e := rg.apigw.lastError(t); e.Code != "InternalFailure" {
		t.Errorf("code %s", e.Code)
	}
}

func TestMetricsCount(t *testing.T) {
	rg := newRig(t, false)
	do(t, signedRequest(t, rg.srv.URL, "GET", "/restapis", nil, "apigateway", time.Now(), "wrong", nil))
	mfs, err := rg.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, mf := range mfs {
		if mf.GetName() == "trustgate_admin_auth_failures_total" {
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "reason" && l.GetValue() == "signature_mismatch" {
						found = true
					}
				}
			}
		}
	}
	if !found {
		t.Error("auth failure not counted")
	}
}

func sha256Sum(b []byte) [32]byte { return sha256.Sum256(b) }
