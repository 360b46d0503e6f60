package main

import (
	"bytes"
	"context"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
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
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"trustgate/internal/testpki"
)

// TestExternalS3LastGood runs trustgate with --s3 pointing at an external
// S3-compatible server (gofakes3 over loopback: none can be installed on
// these machines) holding the truststore and the CRL, then stops that
// server. The gateway keeps serving from what it holds: the truststore from
// its own store, the CRL from memory; the partner in good standing gets
// through, the revoked one stays refused, and domainNameStatusMessage says
// the CRL could not be refreshed. After a restart with S3 still down, no CRL
// was ever read: partners are refused (crl_unavailable) until soft mode.
func TestExternalS3LastGood(t *testing.T) {
	ctx := context.Background()
	s3srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
	var stopOnce sync.Once
	stopS3 := func() { stopOnce.Do(s3srv.Close) }
	defer stopS3()
	ext := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(s3srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXTERNAL", "external-secret", "")})
	// The gateway reads the external S3 with the usual AWS credential
	// chain; cleanEnv drops AWS_* variables, so use the shared file.
	home := t.TempDir()
	os.MkdirAll(filepath.Join(home, ".aws"), 0o700)
	os.WriteFile(filepath.Join(home, ".aws", "credentials"),
		[]byte("[default]\naws_access_key_id = AKIDEXTERNAL\naws_secret_access_key = external-secret\n"), 0o600)
	t.Setenv("HOME", home)

	root := testpki.NewCA(t, "Partner Root")
	issuing := root.Intermediate(t, "Partner Issuing CA")
	good := issuing.Leaf(t, testpki.Client("partner-good"))
	bad := issuing.Leaf(t, testpki.Client("partner-revoked"))
	serverCA := testpki.NewCA(t, "Server Root")
	server := serverCA.Leaf(t, testpki.Server("api.example.com"))
	_, crl := issuing.CRL(t, testpki.CRLSpec{Revoked: []*big.Int{bad.Cert.SerialNumber}})

	bucket := aws.String("partners")
	if _, err := ext.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket}); err != nil {
		t.Fatal(err)
	}
	if _, err := ext.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: bucket,
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	for key, body := range map[string][]byte{
		"trusted_partners.pem": testpki.Bundle(root.CertPEM, issuing.CertPEM),
		"partner.crl":          testpki.CRLPEM(crl),
	} {
		if _, err := ext.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}

	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer backend.Close()
	dataDir := filepath.Join(t.TempDir(), "data")
	g := startGatewayIn(t, dataDir, "--s3", s3srv.URL)
	c := newClients(t, g)

	imp, err := c.acm.ImportCertificate(ctx, &acm.ImportCertificateInput{Certificate: server.CertPEM, PrivateKey: server.KeyPEM})
	if err != nil {
		t.Fatal(err)
	}
	api, err := c.gw.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("partners")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.gw.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api.Id, ResourceId: api.RootResourceId,
		HttpMethod: aws.String("GET"), AuthorizationType: aws.String("NONE")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.gw.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: api.Id, ResourceId: api.RootResourceId,
		HttpMethod: aws.String("GET"), Type: agtypes.IntegrationTypeHttpProxy, IntegrationHttpMethod: aws.String("GET"),
		Uri: aws.String(backend.URL + "/")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.gw.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api.Id, StageName: aws.String("DEV")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.gw.CreateDomainName(ctx, &apigateway.CreateDomainNameInput{DomainName: aws.String("api.example.com"),
		RegionalCertificateArn: imp.CertificateArn, SecurityPolicy: agtypes.SecurityPolicyTls12,
		EndpointConfiguration:   &agtypes.EndpointConfiguration{Types: []agtypes.EndpointType{agtypes.EndpointTypeRegional}},
		MutualTlsAuthentication: &agtypes.MutualTlsAuthenticationInput{TruststoreUri: aws.String("s3://partners/trusted_partners.pem")},
		Tags:                    map[string]string{"trustgate:crl": "s3://partners/partner.crl", "trustgate:crl-refresh": "5s"},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.gw2.CreateApiMapping(ctx, &apigatewayv2.CreateApiMappingInput{DomainName: aws.String("api.example.com"),
		ApiId: api.Id, ApiMappingKey: aws.String(""), Stage: aws.String("DEV")}); err != nil {
		t.Fatal(err)
	}

	status := func(g *gateway, leaf *testpki.Leaf) int {
		t.Helper()
		resp, err := partnerClient(g, serverCA.Pool(), leaf).Get("https://api.example.com/")
		if err != nil {
			t.Fatalf("request as %s: %v", leaf.Cert.Subject.CommonName, err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	message := func() string {
		t.Helper()
		dn, err := c.gw.GetDomainName(ctx, &apigateway.GetDomainNameInput{DomainName: aws.String("api.example.com")})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(dn.DomainNameStatusMessage)
	}
	waitMessage := func(want string) string {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			msg := message()
			if strings.Contains(msg, want) {
				return msg
			}
			if time.Now().After(deadline) {
				t.Fatalf("domainNameStatusMessage %q never said %q", msg, want)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	if a, b := status(g, good), status(g, bad); a != 200 || b != 403 {
		t.Fatalf("with S3 up: good %d revoked %d, want 200 403", a, b)
	}
	if msg := message(); msg != "" {
		t.Fatalf("domainNameStatusMessage %q with everything fine", msg)
	}

	stopS3()
	msg := waitMessage("could not be refreshed")
	t.Logf("with S3 stopped: %s", msg)
	if !strings.Contains(msg, "s3://partners/partner.crl") || !strings.Contains(msg, "still used") {
		t.Errorf("message %q should name the CRL and say the last copy is used", msg)
	}
	if a, b := status(g, good), status(g, bad); a != 200 || b != 403 {
		t.Fatalf("with S3 stopped: good %d revoked %d, want 200 403", a, b)
	}
	metrics := scrape(t, g)
	for _, want := range []string{
		`trustgate_edge_crl_sources{domain="api.example.com",state="stale"} 1`,
		`trustgate_edge_crl_fetch_failures_total{domain="api.example.com"}`,
		`trustgate_edge_crl_age_seconds{domain="api.example.com"}`,
		`trustgate_edge_truststore_version_info{domain="api.example.com",version=`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	// A new process, S3 still down: the truststore comes from the store,
	// but no CRL was ever read, so nothing it covers gets through.
	g.Stop()
	g = startGatewayIn(t, dataDir, "--s3", s3srv.URL)
	c = newClients(t, g)
	msg = waitMessage("could not be read")
	t.Logf("after a restart with S3 stopped: %s", msg)
	if a, b := status(g, good), status(g, bad); a != 403 || b != 403 {
		t.Fatalf("restarted, CRL never read: good %d revoked %d, want 403 403", a, b)
	}
	if rec := accessLine(t, g, "CN=partner-good", 403); rec["mtlsReason"] != "crl_unavailable" {
		t.Errorf("reason %v, want crl_unavailable", rec["mtlsReason"])
	}
	if _, err := c.gw.TagResource(ctx, &apigateway.TagResourceInput{ResourceArn: aws.String("arn:aws:apigateway:us-east-1::/domainnames/api.example.com"),
		Tags: map[string]string{"trustgate:crl-mode": "soft"}}); err != nil {
		t.Fatal(err)
	}
	if a := status(g, good); a != 200 {
		t.Fatalf("soft mode, CRL never read: good %d, want 200", a)
	}
}

// scrape returns the gateway's /metrics page.
func scrape(t *testing.T, g *gateway) string {
	t.Helper()
	resp, err := http.Get("http://" + g.Admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}
