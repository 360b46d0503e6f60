package app

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"trustgate/internal/awsapi"
	"trustgate/internal/testpki"
)

// running is trustgate started with Run on loopback ports, driven through
// its real management endpoint with the SDK.
type running struct {
	addrs Addrs
	gw    *apigateway.Client
	acm   *acm.Client
	s3    *s3.Client
}

func startApp(t *testing.T) *running {
	t.Helper()
	cfg := Default()
	cfg.DataDir = t.TempDir()
	cfg.Listen, cfg.AdminListen = "127.0.0.1:0", "127.0.0.1:0"
	cfg.AccessLog, cfg.LogLevel = "off", "error"
	cfg.ShutdownTimeout = 5 * time.Second
	ready := make(chan Addrs, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var logs bytes.Buffer
	go func() {
		done <- Run(ctx, cfg, Options{Stdout: io.Discard, Stderr: &lockedWriter{w: &logs}, Ready: func(a Addrs) { ready <- a }})
	}()
	r := &running{}
	select {
	case r.addrs = <-ready:
	case err := <-done:
		t.Fatalf("trustgate stopped before starting: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("trustgate did not start")
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	creds, err := awsapi.LoadOrCreateCredentials(cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	acfg := aws.Config{Region: cfg.Region,
		Credentials: credentials.NewStaticCredentialsProvider(creds.AccessKeyID, string(creds.Secret), "")}
	ep := aws.String("http://" + r.addrs.Admin)
	r.gw = apigateway.NewFromConfig(acfg, func(o *apigateway.Options) { o.BaseEndpoint = ep })
	r.acm = acm.NewFromConfig(acfg, func(o *acm.Options) { o.BaseEndpoint = ep })
	r.s3 = s3.NewFromConfig(acfg, func(o *s3.Options) { o.BaseEndpoint = ep; o.UsePathStyle = true })
	return r
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// serve creates api.example.com with the server certificate, mutual TLS
// and tags, mapped (empty base path) to an API whose GET / proxies to
// backend.
func (r *running) serve(t *testing.T, server *testpki.Leaf, backend string, mtls *agtypes.MutualTlsAuthenticationInput, tags map[string]string) {
	t.Helper()
	ctx := context.Background()
	imp, err := r.acm.ImportCertificate(ctx, &acm.ImportCertificateInput{Certificate: server.CertPEM, PrivateKey: server.KeyPEM})
	if err != nil {
		t.Fatal(err)
	}
	api, err := r.gw.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("partners")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.gw.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api.Id, ResourceId: api.RootResourceId,
		HttpMethod: aws.String("GET"), AuthorizationType: aws.String("NONE")}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.gw.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: api.Id, ResourceId: api.RootResourceId,
		HttpMethod: aws.String("GET"), Type: agtypes.IntegrationTypeHttpProxy, IntegrationHttpMethod: aws.String("GET"),
		Uri: aws.String(backend + "/")}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.gw.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api.Id, StageName: aws.String("DEV")}); err != nil {
		t.Fatal(err)
	}
	name := aws.String("api.example.com")
	if _, err := r.gw.CreateDomainName(ctx, &apigateway.CreateDomainNameInput{DomainName: name,
		RegionalCertificateArn: imp.CertificateArn, SecurityPolicy: agtypes.SecurityPolicyTls12,
		EndpointConfiguration:   &agtypes.EndpointConfiguration{Types: []agtypes.EndpointType{agtypes.EndpointTypeRegional}},
		MutualTlsAuthentication: mtls, Tags: tags}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.gw.CreateBasePathMapping(ctx, &apigateway.CreateBasePathMappingInput{DomainName: name, RestApiId: api.Id,
		Stage: aws.String("DEV")}); err != nil {
		t.Fatal(err)
	}
}

// bucket creates a versioned bucket in the embedded S3.
func (r *running) bucket(t *testing.T, name string) {
	t.Helper()
	ctx := context.Background()
	if _, err := r.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.s3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(name),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
}

// put uploads an object and returns its version id.
func (r *running) put(t *testing.T, bucket, key string, body []byte) string {
	t.Helper()
	out, err := r.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.VersionId)
}

// partner is a keep-alive HTTPS client presenting leaf to api.example.com.
func (r *running) partner(roots *x509.CertPool, leaf *testpki.Leaf) *http.Client {
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "api.example.com",
			Certificates: []tls.Certificate{leaf.TLSCertificate()}},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, r.addrs.Listen)
		},
		MaxConnsPerHost: 1,
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func get(c *http.Client) (int, error) {
	resp, err := c.Get("https://api.example.com/")
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// TestRotationDropsNothing rotates a domain's truststore through the real
// management API (update-domain-name patching truststoreVersion) while
// keep-alive partners load the domain. Partners trusted by every version
// never see a failure; a partner removed by a version is refused from the
// first request after the patch call returns (the management endpoint holds
// its answer until the data plane serves the change); a version that fails
// validation is refused and the old one keeps serving; rolling back is a
// patch to the older version id.
func TestRotationDropsNothing(t *testing.T) {
	ctx := context.Background()
	r := startApp(t)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	defer backend.Close()

	serverCA := testpki.NewCA(t, "Server Root")
	server := serverCA.Leaf(t, testpki.Server("api.example.com"))
	stay1, stay2, leaving := testpki.NewCA(t, "Staying One"), testpki.NewCA(t, "Staying Two"), testpki.NewCA(t, "Leaving")
	spare := testpki.NewCA(t, "Spare")

	r.bucket(t, "trust")
	upload := func(body []byte) string { return r.put(t, "trust", "partners.pem", body) }
	vAll := upload(testpki.Bundle(stay1.CertPEM, stay2.CertPEM, leaving.CertPEM))
	vAllSpare := upload(testpki.Bundle(spare.CertPEM, leaving.CertPEM, stay2.CertPEM, stay1.CertPEM))
	vBad := upload(append(testpki.Bundle(stay1.CertPEM, stay2.CertPEM), server.KeyPEM...)) // a key: refused
	vWithout := upload(testpki.Bundle(stay2.CertPEM, stay1.CertPEM))

	name := aws.String("api.example.com")
	r.serve(t, server, backend.URL, &agtypes.MutualTlsAuthenticationInput{TruststoreUri: aws.String("s3://trust/partners.pem"),
		TruststoreVersion: aws.String(vAll)}, nil)
	pin := func(version string) (time.Time, error) {
		_, err := r.gw.UpdateDomainName(ctx, &apigateway.UpdateDomainNameInput{DomainName: name, PatchOperations: []agtypes.PatchOperation{{
			Op: agtypes.OpReplace, Path: aws.String("/mutualTlsAuthentication/truststoreVersion"), Value: aws.String(version)}}})
		return time.Now(), err
	}

	roots := serverCA.Pool()
	staying := []*testpki.Leaf{stay1.Leaf(t, testpki.Client("stay-1a")), stay1.Leaf(t, testpki.Client("stay-1b")),
		stay2.Leaf(t, testpki.Client("stay-2a")), stay2.Leaf(t, testpki.Client("stay-2b"))}
	leavingLeaf := leaving.Leaf(t, testpki.Client("leaving"))

	// 8 keep-alive workers: 6 partners trusted by every version, 2 from the
	// partner that a version removes.
	var (
		stop     atomic.Bool
		removed  atomic.Int64 // UnixNano when the removal's patch returned; 0: trusted
		rollback atomic.Int64 // UnixNano when the rollback's patch was sent; 0: not yet
		wg       sync.WaitGroup
		mu       sync.Mutex
		failures []string
		served   [2]atomic.Int64 // requests by staying and leaving partners
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(failures) < 20 {
			failures = append(failures, fmt.Sprintf(format, args...))
		}
	}
	for i := range 8 {
		leaf, stays := staying[i%len(staying)], true
		if i >= 6 {
			leaf, stays = leavingLeaf, false
		}
		c := r.partner(roots, leaf)
		wg.Go(func() {
			defer c.CloseIdleConnections()
			for !stop.Load() {
				since := removed.Load()
				start := time.Now().UnixNano()
				st, err := get(c)
				// A request of the removed partner must be refused if it
				// was sent after the removal returned and answered before
				// the rollback was sent.
				back := rollback.Load()
				inWindow := since != 0 && start > since && back == 0
				switch {
				case err != nil:
					fail("worker %d: %v", i, err)
					return
				case stays && st != 200:
					fail("worker %d (trusted by every version): status %d", i, st)
				case !stays && inWindow && st != 403:
					fail("worker %d (removed partner): status %d for a request sent after the removal returned", i, st)
				}
				if stays {
					served[0].Add(1)
				} else {
					served[1].Add(1)
				}
			}
		})
	}
	// Bounded: the whole rotation takes well under 3 s.
	defer func() {
		stop.Store(true)
		wg.Wait()
	}()
	pause := func() { time.Sleep(150 * time.Millisecond) }

	// The leaving partner's probe: an open keep-alive connection that has
	// been trusted, used to time the removal.
	probe := r.partner(roots, leavingLeaf)
	defer probe.CloseIdleConnections()
	if st, err := get(probe); err != nil || st != 200 {
		t.Fatalf("probe before removal: %d %v", st, err)
	}
	pause()

	// A new version that keeps everyone, then one that fails validation.
	if _, err := pin(vAllSpare); err != nil {
		t.Fatal(err)
	}
	pause()
	_, err := pin(vBad)
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "BadRequestException" {
		t.Fatalf("pinning a bundle with a private key: %v, want BadRequestException", err)
	}
	pause()

	// Remove the leaving partner and time its refusal.
	returned, err := pin(vWithout)
	if err != nil {
		t.Fatal(err)
	}
	removed.Store(returned.UnixNano())
	var refusedAfter time.Duration
	oks := 0
	for {
		st, err := get(probe)
		if err != nil {
			t.Fatalf("probe after removal: %v", err)
		}
		if st == 403 {
			refusedAfter = time.Since(returned)
			break
		}
		oks++
		if time.Since(returned) > 2*time.Second {
			t.Fatal("the removed partner was still served 2s after the patch returned")
		}
	}
	pause()

	// Roll back to the first version: the partner is back at once.
	rollback.Store(time.Now().UnixNano())
	if _, err := pin(vAll); err != nil {
		t.Fatal(err)
	}
	if st, err := get(probe); err != nil || st != 200 {
		t.Fatalf("probe after rollback: %d %v, want 200", st, err)
	}
	pause()
	stop.Store(true)
	wg.Wait()

	dn, err := r.gw.GetDomainName(ctx, &apigateway.GetDomainNameInput{DomainName: name})
	if err != nil {
		t.Fatal(err)
	}
	if v := aws.ToString(dn.MutualTlsAuthentication.TruststoreVersion); v != vAll {
		t.Errorf("served version %s after rollback, want %s", v, vAll)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, f := range failures {
		t.Error(f)
	}
	t.Logf("rotation under load: %d requests by partners trusted throughout (0 failed), %d by the removed partner; "+
		"removed partner refused %v after the patch call returned (%d requests served in between)",
		served[0].Load(), served[1].Load(), refusedAfter, oks)
	if oks != 0 {
		t.Errorf("the removed partner was served %d times after the patch call returned", oks)
	}
	if served[0].Load() < 50 {
		t.Errorf("only %d requests ran: the load did not overlap the rotation", served[0].Load())
	}
}

// TestCRLUploadLiveOnReturn: with the embedded S3, a CRL upload is in force
// on open connections as soon as the PutObject call returns.
func TestCRLUploadLiveOnReturn(t *testing.T) {
	r := startApp(t)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	defer backend.Close()
	serverCA := testpki.NewCA(t, "Server Root")
	root := testpki.NewCA(t, "Partner Root")
	issuing := root.Intermediate(t, "Partner Issuing CA")
	leaf := issuing.Leaf(t, testpki.Client("partner"))
	r.bucket(t, "trust")
	r.put(t, "trust", "partners.pem", testpki.Bundle(root.CertPEM, issuing.CertPEM))
	crl := func(revoked ...*testpki.Leaf) []byte {
		spec := testpki.CRLSpec{Number: time.Now().UnixNano()}
		for _, l := range revoked {
			spec.Revoked = append(spec.Revoked, l.Cert.SerialNumber)
		}
		_, der := issuing.CRL(t, spec)
		return testpki.CRLPEM(der)
	}
	r.put(t, "trust", "partners.crl", crl())
	r.serve(t, serverCA.Leaf(t, testpki.Server("api.example.com")), backend.URL,
		&agtypes.MutualTlsAuthenticationInput{TruststoreUri: aws.String("s3://trust/partners.pem")},
		map[string]string{"trustgate:crl": "s3://trust/partners.crl"})
	c := r.partner(serverCA.Pool(), leaf)
	defer c.CloseIdleConnections()
	for i, want := range []int{200, 403, 200, 403} {
		if i > 0 {
			var body []byte
			if want == 403 {
				body = crl(leaf)
			} else {
				body = crl()
			}
			r.put(t, "trust", "partners.crl", body)
		}
		returned := time.Now()
		st, err := get(c)
		if err != nil || st != want {
			t.Fatalf("step %d: status %d %v, want %d on the first request after the upload returned", i, st, err, want)
		}
		if i > 0 {
			t.Logf("step %d: %d served %v after the CRL upload returned", i, want, time.Since(returned))
		}
	}
}
