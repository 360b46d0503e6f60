package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"trustgate/internal/testpki"
)

// clients are SDK clients for one gateway, signed with its generated
// admin credentials.
type clients struct {
	acm *acm.Client
	gw  *apigateway.Client
	gw2 *apigatewayv2.Client
	s3  *s3.Client
}

func newClients(t *testing.T, g *gateway) clients {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(g.DataDir, "credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c struct{ AccessKeyID, SecretAccessKey string }
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, "")}
	ep := aws.String("http://" + g.Admin)
	return clients{
		acm: acm.NewFromConfig(cfg, func(o *acm.Options) { o.BaseEndpoint = ep }),
		gw:  apigateway.NewFromConfig(cfg, func(o *apigateway.Options) { o.BaseEndpoint = ep }),
		gw2: apigatewayv2.NewFromConfig(cfg, func(o *apigatewayv2.Options) { o.BaseEndpoint = ep }),
		s3:  s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = ep; o.UsePathStyle = true }),
	}
}

// partnerClient is an HTTPS client presenting leaf (nil: none) that
// reaches api.example.com at the gateway's address.
func partnerClient(g *gateway, serverCA *x509.CertPool, leaf *testpki.Leaf) *http.Client {
	tc := &tls.Config{RootCAs: serverCA, ServerName: "api.example.com"}
	if leaf != nil {
		tc.Certificates = []tls.Certificate{leaf.TLSCertificate()}
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: tc,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, g.Listen)
		},
	}}
}

// TestRestartKeepsEverything configures the seed flow through the SDK,
// stops trustgate with SIGTERM, starts it again on the same data dir, and
// finds every resource and the served API as they were.
func TestRestartKeepsEverything(t *testing.T) {
	ctx := context.Background()
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "customer "+r.URL.Path)
	}))
	defer backend.Close()

	serverCA := testpki.NewCA(t, "Server Root")
	server := serverCA.Leaf(t, testpki.Server("api.example.com"))
	partnerCA := testpki.NewCA(t, "Partner Root")
	partner := partnerCA.Leaf(t, testpki.Client("partner-1"))

	dataDir := filepath.Join(t.TempDir(), "data")
	g := startGatewayIn(t, dataDir)
	c := newClients(t, g)

	imp, put := configureSeed(t, c, backend.URL, server, partnerCA)
	bucket := aws.String("partners-trust-store")

	call := func(g *gateway) (int, string) {
		t.Helper()
		resp, err := partnerClient(g, serverCA.Pool(), partner).Get("https://api.example.com/c360/customer/42")
		if err != nil {
			t.Fatalf("partner request: %v", err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := call(g); code != 200 || body != "customer /customer/42" {
		t.Fatalf("before restart: %d %q", code, body)
	}

	g.Stop()
	g = startGatewayIn(t, dataDir)
	c = newClients(t, g)

	dn, err := c.gw.GetDomainName(ctx, &apigateway.GetDomainNameInput{DomainName: aws.String("api.example.com")})
	if err != nil {
		t.Fatalf("domain after restart: %v", err)
	}
	if dn.MutualTlsAuthentication == nil || aws.ToString(dn.MutualTlsAuthentication.TruststoreVersion) != aws.ToString(put.VersionId) {
		t.Errorf("truststore after restart = %+v, want version %s", dn.MutualTlsAuthentication, aws.ToString(put.VersionId))
	}
	if _, err := c.acm.DescribeCertificate(ctx, &acm.DescribeCertificateInput{CertificateArn: imp.CertificateArn}); err != nil {
		t.Errorf("certificate after restart: %v", err)
	}
	maps, err := c.gw.GetBasePathMappings(ctx, &apigateway.GetBasePathMappingsInput{DomainName: aws.String("api.example.com")})
	if err != nil || len(maps.Items) != 1 || aws.ToString(maps.Items[0].BasePath) != "c360" {
		t.Errorf("mappings after restart = %+v, %v", maps, err)
	}
	obj, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: bucket, Key: aws.String("trusted_partners.pem")})
	if err != nil {
		t.Fatalf("object after restart: %v", err)
	}
	b, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	if !bytes.Equal(b, partnerCA.CertPEM) {
		t.Error("object bytes changed across restart")
	}
	if code, body := call(g); code != 200 || body != "customer /customer/42" {
		t.Fatalf("after restart: %d %q", code, body)
	}
}

// configureSeed runs the seed flow through the SDK: server certificate,
// truststore in a versioned bucket, REST API with /{proxy+} to backend,
// deployment DEV, mTLS domain api.example.com, mapping c360.
func configureSeed(t *testing.T, c clients, backend string, server *testpki.Leaf, partnerCA *testpki.CA) (*acm.ImportCertificateOutput, *s3.PutObjectOutput) {
	t.Helper()
	ctx := context.Background()
	imp, err := c.acm.ImportCertificate(ctx, &acm.ImportCertificateInput{Certificate: server.CertPEM, PrivateKey: server.KeyPEM})
	if err != nil {
		t.Fatal(err)
	}
	bucket := aws.String("partners-trust-store")
	if _, err := c.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.s3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: bucket,
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	put, err := c.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("trusted_partners.pem"), Body: bytes.NewReader(partnerCA.CertPEM)})
	if err != nil {
		t.Fatal(err)
	}
	api, err := c.gw.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("customer")})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.gw.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id, ParentId: api.RootResourceId, PathPart: aws.String("{proxy+}")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.gw.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api.Id, ResourceId: res.Id, HttpMethod: aws.String("ANY"), AuthorizationType: aws.String("NONE"),
		RequestParameters: map[string]bool{"method.request.path.proxy": true}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.gw.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: api.Id, ResourceId: res.Id, HttpMethod: aws.String("ANY"),
		Type: agtypes.IntegrationTypeHttpProxy, IntegrationHttpMethod: aws.String("ANY"), Uri: aws.String(backend + "/{proxy}"),
		RequestParameters: map[string]string{"integration.request.path.proxy": "method.request.path.proxy"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.gw.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api.Id, StageName: aws.String("DEV")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.gw.CreateDomainName(ctx, &apigateway.CreateDomainNameInput{DomainName: aws.String("api.example.com"),
		RegionalCertificateArn: imp.CertificateArn, SecurityPolicy: agtypes.SecurityPolicyTls12,
		EndpointConfiguration:   &agtypes.EndpointConfiguration{Types: []agtypes.EndpointType{agtypes.EndpointTypeRegional}},
		MutualTlsAuthentication: &agtypes.MutualTlsAuthenticationInput{TruststoreUri: aws.String("s3://partners-trust-store/trusted_partners.pem")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.gw2.CreateApiMapping(ctx, &apigatewayv2.CreateApiMappingInput{DomainName: aws.String("api.example.com"),
		ApiId: api.Id, ApiMappingKey: aws.String("c360"), Stage: aws.String("DEV")}); err != nil {
		t.Fatal(err)
	}

	return imp, put
}

// putTruststore uploads a new version of the seed's truststore object.
func putTruststore(t *testing.T, c clients, pem []byte) {
	t.Helper()
	if _, err := c.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("partners-trust-store"),
		Key: aws.String("trusted_partners.pem"), Body: bytes.NewReader(pem)}); err != nil {
		t.Fatal(err)
	}
}

// latestVersion is the newest version id of the seed's truststore object.
func latestVersion(t *testing.T, c clients) string {
	t.Helper()
	out, err := c.s3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String("partners-trust-store"),
		Key: aws.String("trusted_partners.pem")})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.VersionId)
}

// waitFor polls cond until it holds, failing after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(20 * time.Millisecond) // polling another process's state, bounded
	}
}
