package acm_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdkacm "github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/acm/types"
	"github.com/aws/smithy-go"

	"trustgate/internal/awsapi"
	"trustgate/internal/awsapi/acm"
	"trustgate/internal/model"
	"trustgate/internal/store"
	"trustgate/internal/store/bolt"
	"trustgate/internal/testpki"
)

const (
	keyID   = "AKIAACMTESTACMTESTAC"
	secret  = "acmSecretAcmSecretAcmSecretAcmSecretAcmS"
	region  = "us-east-1"
	account = "123456789012"
)

// lockedBuffer collects log output from concurrent handlers.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// issuer is a local CA for RequestCertificate, built with testpki.
type issuer struct {
	t  *testing.T
	ca *testpki.CA
}

func (i issuer) Issue(names []string) ([]byte, []byte, []byte, error) {
	l := i.ca.Leaf(i.t, testpki.Server(names...))
	return l.CertPEM, l.KeyPEM, i.ca.CertPEM, nil
}

type env struct {
	srv  *httptest.Server
	st   store.Store
	c    *sdkacm.Client
	logs *lockedBuffer
	ca   *testpki.CA
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	logs := &lockedBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ca := testpki.NewCA(t, "trustgate local CA")
	svc := acm.New(acm.Config{Store: db, Region: region, AccountID: account, Issuer: issuer{t, ca}, Logger: log})
	ep := awsapi.New(awsapi.Config{
		Credentials: awsapi.Credentials{AccessKeyID: keyID, Secret: secret},
		Region:      region, Services: map[string]awsapi.Service{"acm": svc}, Logger: log,
	})
	srv := httptest.NewServer(ep)
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		if s := logs.String(); strings.Contains(s, "PRIVATE KEY") || strings.Contains(s, "BEGIN CERTIFICATE") {
			t.Errorf("PEM material in the logs:\n%s", s)
		}
	})
	c := sdkacm.New(sdkacm.Options{Region: region, BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider(keyID, secret, "")})
	return &env{srv: srv, st: db, c: c, logs: logs, ca: ca}
}

func code(t *testing.T, err error) string {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want an API error, got %v", err)
	}
	return ae.ErrorCode()
}

func message(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return ""
}

// serverLeaf is api.example.com from root -> intermediate.
func serverLeaf(t *testing.T, opts ...testpki.Option) (*testpki.Leaf, *testpki.CA) {
	root := testpki.NewCA(t, "Server Root")
	inter := root.Intermediate(t, "Server Issuing CA")
	return inter.Leaf(t, append([]testpki.Option{testpki.Server("api.example.com", "www.example.com")}, opts...)...), inter
}

func TestImportDescribeGet(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	leaf, inter := serverLeaf(t)
	imp, err := e.c.ImportCertificate(ctx, &sdkacm.ImportCertificateInput{
		Certificate: leaf.CertPEM, PrivateKey: leaf.KeyPEM, CertificateChain: inter.CertPEM,
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("partners")}},
	})
	if err != nil {
		t.Fatalf("ImportCertificate: %v", err)
	}
	arn := aws.ToString(imp.CertificateArn)
	if !regexp.MustCompile(`^arn:aws:acm:us-east-1:123456789012:certificate/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(arn) {
		t.Errorf("ARN %q", arn)
	}
	d, err := e.c.DescribeCertificate(ctx, &sdkacm.DescribeCertificateInput{CertificateArn: imp.CertificateArn})
	if err != nil {
		t.Fatalf("DescribeCertificate: %v", err)
	}
	c := d.Certificate
	if aws.ToString(c.DomainName) != "api.example.com" || fmt.Sprint(c.SubjectAlternativeNames) != "[api.example.com www.example.com]" ||
		c.Type != types.CertificateTypeImported || c.Status != types.CertificateStatusIssued || c.KeyAlgorithm != types.KeyAlgorithmEcPrime256v1 ||
		aws.ToString(c.SignatureAlgorithm) != "SHA256WITHECDSA" || len(c.InUseBy) != 0 || c.ImportedAt == nil {
		t.Errorf("describe: %+v", c)
	}
	if !c.NotAfter.Equal(leaf.Cert.NotAfter) || !c.NotBefore.Equal(leaf.Cert.NotBefore) {
		t.Errorf("validity %v..%v, want %v..%v", c.NotBefore, c.NotAfter, leaf.Cert.NotBefore, leaf.Cert.NotAfter)
	}
	if !strings.Contains(aws.ToString(c.Issuer), "Server Issuing CA") || !strings.Contains(aws.ToString(c.Subject), "CN=api.example.com") ||
		!regexp.MustCompile(`^[0-9a-f]{2}(:[0-9a-f]{2})*$`).MatchString(aws.ToString(c.Serial)) {
		t.Errorf("issuer %q subject %q serial %q", aws.ToString(c.Issuer), aws.ToString(c.Subject), aws.ToString(c.Serial))
	}
	if len(c.ExtendedKeyUsages) == 0 || c.ExtendedKeyUsages[0].Name != types.ExtendedKeyUsageNameTlsWebServerAuthentication {
		t.Errorf("EKUs %+v", c.ExtendedKeyUsages)
	}
	g, err := e.c.GetCertificate(ctx, &sdkacm.GetCertificateInput{CertificateArn: imp.CertificateArn})
	if err != nil {
		t.Fatalf("GetCertificate: %v", err)
	}
	if aws.ToString(g.Certificate) != string(leaf.CertPEM) || aws.ToString(g.CertificateChain) != string(inter.CertPEM) {
		t.Errorf("GetCertificate: %q / %q", aws.ToString(g.Certificate), aws.ToString(g.CertificateChain))
	}
	// What the data plane does with the record: a working key pair.
	id := arn[strings.LastIndex(arn, "/")+1:]
	var rec model.Certificate
	e.st.View(ctx, func(tx store.Tx) error {
		var err error
		rec, err = store.GetJSON[model.Certificate](tx, model.CertKey(id))
		return err
	})
	if _, err := tls.X509KeyPair([]byte(rec.CertificatePEM+rec.ChainPEM), []byte(rec.PrivateKeyPEM)); err != nil {
		t.Errorf("stored key pair: %v", err)
	}
	tags, err := e.c.ListTagsForCertificate(ctx, &sdkacm.ListTagsForCertificateInput{CertificateArn: imp.CertificateArn})
	if err != nil || len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Value) != "partners" {
		t.Errorf("tags: %v %+v", err, tags)
	}
}

func TestImportRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	leaf, inter := serverLeaf(t)
	other, _ := serverLeaf(t)
	rsa := testpki.NewCA(t, "RSA Root").Leaf(t, testpki.Server("rsa.example.com"), testpki.WithKey(testpki.RSA2048))
	p224 := testpki.SelfSigned(t, testpki.Server("weak.example.com"), testpki.WithKey(testpki.ECDSAP224))
	encrypted := pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte("opaque")})
	legacyEncrypted := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00"}, Bytes: []byte("opaque")})
	cases := []struct {
		name        string
		cert, key   []byte
		chain       []byte
		code, words string
	}{
		{"key of another certificate", leaf.CertPEM, other.KeyPEM, nil, "ValidationException", "does not match"},
		{"RSA key for an EC certificate", leaf.CertPEM, rsa.KeyPEM, nil, "ValidationException", "does not match"},
		{"encrypted key", leaf.CertPEM, encrypted, nil, "ValidationException", "should not be encrypted"},
		{"legacy encrypted key", leaf.CertPEM, legacyEncrypted, nil, "ValidationException", "should not be encrypted"},
		{"two certificates", append(append([]byte{}, leaf.CertPEM...), inter.CertPEM...), leaf.KeyPEM, nil, "ValidationException", "more than one certificate"},
		{"not PEM", []byte("hello"), leaf.KeyPEM, nil, "ValidationException", "PEM format"},
		{"no key", leaf.CertPEM, []byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"), nil, "ValidationException", "not supported"},
		{"chain that did not issue it", leaf.CertPEM, leaf.KeyPEM, testpki.NewCA(t, "Stranger").CertPEM, "ValidationException", "Could not validate"},
		{"P-224 key", p224.CertPEM, p224.KeyPEM, nil, "ValidationException", "isn't supported for key algorithm"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.c.ImportCertificate(ctx, &sdkacm.ImportCertificateInput{Certificate: tc.cert, PrivateKey: tc.key, CertificateChain: tc.chain})
			if code(t, err) != tc.code || !strings.Contains(message(err), tc.words) {
				t.Errorf("got %s %q, want %s containing %q", code(t, err), message(err), tc.code, tc.words)
			}
		})
	}
	// RSA 2048 with a PKCS#8 key imports fine.
	out, err := e.c.ImportCertificate(ctx, &sdkacm.ImportCertificateInput{Certificate: rsa.CertPEM, PrivateKey: rsa.KeyPEM})
	if err != nil {
		t.Fatalf("RSA import: %v", err)
	}
	d, _ := e.c.DescribeCertificate(ctx, &sdkacm.DescribeCertificateInput{CertificateArn: out.CertificateArn})
	if d.Certificate.KeyAlgorithm != types.KeyAlgorithmRsa2048 {
		t.Errorf("key algorithm %s", d.Certificate.KeyAlgorithm)
	}
}

func TestReimportKeepsARN(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	first, _ := serverLeaf(t)
	imp, err := e.c.ImportCertificate(ctx, &sdkacm.ImportCertificateInput{Certificate: first.CertPEM, PrivateKey: first.KeyPEM,
		Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	if err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(48 * time.Hour).Truncate(time.Second)
	second, _ := serverLeaf(t, testpki.WithValidity(time.Now().Add(-time.Hour).Truncate(time.Second), later))
	re, err := e.c.ImportCertificate(ctx, &sdkacm.ImportCertificateInput{CertificateArn: imp.CertificateArn, Certificate: second.CertPEM, PrivateKey: second.KeyPEM})
	if err != nil || aws.ToString(re.CertificateArn) != aws.ToString(imp.CertificateArn) {
		t.Fatalf("re-import: %v %s", err, aws.ToString(re.CertificateArn))
	}
	d, _ := e.c.DescribeCertificate(ctx, &sdkacm.DescribeCertificateInput{CertificateArn: imp.CertificateArn})
	if !d.Certificate.NotAfter.Equal(later) {
		t.Errorf("NotAfter %v, want %v", d.Certificate.NotAfter, later)
	}
	tags, _ := e.c.ListTagsForCertificate(ctx, &sdkacm.ListTagsForCertificateInput{CertificateArn: imp.CertificateArn})
	if len(tags.Tags) != 1 {
		t.Errorf("tags after re-import: %+v", tags.Tags)
	}
	missing := "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-4000-8000-000000000000"
	_, err = e.c.ImportCertificate(ctx, &sdkacm.ImportCertificateInput{CertificateArn: aws.String(missing), Certificate: second.CertPEM, PrivateKey: second.KeyPEM})
	if code(t, err) != "ResourceNotFoundException" {
		t.Errorf("re-import of a missing ARN: %v", err)
	}
}

func TestDeleteInUse(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	leaf, _ := serverLeaf(t)
	imp, err := e.c.ImportCertificate(ctx, &sdkacm.ImportCertificateInput{Certificate: leaf.CertPEM, PrivateKey: leaf.KeyPEM})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(imp.CertificateArn)
	putDomain := func(d *model.DomainName) {
		e.st.Update(ctx, func(tx store.Tx) error {
			if d.CertificateARN == "" {
				return tx.Delete(model.DomainKey(d.Name))
			}
			return store.PutJSON(tx, model.DomainKey(d.Name), d)
		})
	}
	putDomain(&model.DomainName{Name: "api.example.com", CertificateARN: arn})
	_, err = e.c.DeleteCertificate(ctx, &sdkacm.DeleteCertificateInput{CertificateArn: imp.CertificateArn})
	if code(t, err) != "ResourceInUseException" {
		t.Fatalf("delete in use: %v", err)
	}
	d, _ := e.c.DescribeCertificate(ctx, &sdkacm.DescribeCertificateInput{CertificateArn: imp.CertificateArn})
	if fmt.Sprint(d.Certificate.InUseBy) != "[arn:aws:apigateway:us-east-1::/domainnames/api.example.com]" {
		t.Errorf("InUseBy %v", d.Certificate.InUseBy)
	}
	l, _ := e.c.ListCertificates(ctx, &sdkacm.ListCertificatesInput{})
	if len(l.CertificateSummaryList) != 1 || !aws.ToBool(l.CertificateSummaryList[0].InUse) {
		t.Errorf("list InUse: %+v", l.CertificateSummaryList)
	}
	putDomain(&model.DomainName{Name: "api.example.com"})
	if _, err := e.c.DeleteCertificate(ctx, &sdkacm.DeleteCertificateInput{CertificateArn: imp.CertificateArn}); err != nil {
		t.Fatalf("delete: %v", err)
	}
	_, err = e.c.DescribeCertificate(ctx, &sdkacm.DescribeCertificateInput{CertificateArn: imp.CertificateArn})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("describe deleted: %v", err)
	}
	_, err = e.c.DescribeCertificate(ctx, &sdkacm.DescribeCertificateInput{CertificateArn: aws.String("arn:aws:acm:us-east-1:123456789012:bogus")})
	if code(t, err) != "InvalidArnException" {
		t.Errorf("bad ARN: %v", err)
	}
	_, err = e.c.DescribeCertificate(ctx, &sdkacm.DescribeCertificateInput{CertificateArn: aws.String(strings.Replace(arn, "123456789012", "999999999999", 1))})
	if code(t, err) != "ResourceNotFoundException" {
		t.Errorf("other account: %v", err)
	}
}

func TestListPaginationAndRequest(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var arns []string
	for i := 0; i < 3; i++ {
		out, err := e.c.RequestCertificate(ctx, &sdkacm.RequestCertificateInput{
			DomainName: aws.String(fmt.Sprintf("svc%d.example.com", i)), SubjectAlternativeNames: []string{"*.example.com"},
			ValidationMethod: types.ValidationMethodDns,
		})
		if err != nil {
			t.Fatalf("RequestCertificate: %v", err)
		}
		arns = append(arns, aws.ToString(out.CertificateArn))
	}
	d, err := e.c.DescribeCertificate(ctx, &sdkacm.DescribeCertificateInput{CertificateArn: aws.String(arns[0])})
	if err != nil {
		t.Fatal(err)
	}
	if d.Certificate.Type != types.CertificateTypePrivate || d.Certificate.Status != types.CertificateStatusIssued ||
		fmt.Sprint(d.Certificate.SubjectAlternativeNames) != "[svc0.example.com *.example.com]" || d.Certificate.IssuedAt == nil {
		t.Errorf("requested certificate: %+v", d.Certificate)
	}
	g, _ := e.c.GetCertificate(ctx, &sdkacm.GetCertificateInput{CertificateArn: aws.String(arns[0])})
	if aws.ToString(g.CertificateChain) != string(e.ca.CertPEM) {
		t.Errorf("chain of a requested certificate: %q", aws.ToString(g.CertificateChain))
	}
	var seen []string
	p := sdkacm.NewListCertificatesPaginator(e.c, &sdkacm.ListCertificatesInput{MaxItems: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.CertificateSummaryList) > 2 {
			t.Fatalf("page of %d", len(page.CertificateSummaryList))
		}
		for _, s := range page.CertificateSummaryList {
			seen = append(seen, aws.ToString(s.CertificateArn))
		}
	}
	if fmt.Sprint(seen) != fmt.Sprint(arns) {
		t.Errorf("paginated %v, want %v", seen, arns)
	}
	l, _ := e.c.ListCertificates(ctx, &sdkacm.ListCertificatesInput{CertificateStatuses: []types.CertificateStatus{types.CertificateStatusExpired}})
	if len(l.CertificateSummaryList) != 0 {
		t.Errorf("status filter: %d", len(l.CertificateSummaryList))
	}
	l, _ = e.c.ListCertificates(ctx, &sdkacm.ListCertificatesInput{Includes: &types.Filters{KeyTypes: []types.KeyAlgorithm{types.KeyAlgorithmRsa2048}}})
	if len(l.CertificateSummaryList) != 0 {
		t.Errorf("key type filter: %d", len(l.CertificateSummaryList))
	}
	_, err = e.c.RequestCertificate(ctx, &sdkacm.RequestCertificateInput{DomainName: aws.String("not a domain")})
	if code(t, err) != "ValidationException" {
		t.Errorf("bad domain: %v", err)
	}
	// Tags round trip.
	if _, err := e.c.AddTagsToCertificate(ctx, &sdkacm.AddTagsToCertificateInput{CertificateArn: aws.String(arns[1]),
		Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("b")}}}); err != nil {
		t.Fatal(err)
	}
	_, err = e.c.AddTagsToCertificate(ctx, &sdkacm.AddTagsToCertificateInput{CertificateArn: aws.String(arns[1]), Tags: []types.Tag{{Key: aws.String("aws:x")}}})
	if code(t, err) != "InvalidTagException" {
		t.Errorf("reserved tag: %v", err)
	}
	e.c.RemoveTagsFromCertificate(ctx, &sdkacm.RemoveTagsFromCertificateInput{CertificateArn: aws.String(arns[1]), Tags: []types.Tag{{Key: aws.String("a")}}})
	tags, _ := e.c.ListTagsForCertificate(ctx, &sdkacm.ListTagsForCertificateInput{CertificateArn: aws.String(arns[1])})
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "b" {
		t.Errorf("tags %+v", tags.Tags)
	}
	_, err = e.c.ExportCertificate(ctx, &sdkacm.ExportCertificateInput{CertificateArn: aws.String(arns[0]), Passphrase: []byte("secret-pass")})
	if err == nil {
		t.Error("ExportCertificate returned a key")
	}
}

func TestUnknownTarget(t *testing.T) {
	e := newEnv(t)
	req, _ := http.NewRequest("POST", e.srv.URL+"/", strings.NewReader("{}"))
	req.Header.Set("X-Amz-Target", "CertificateManager.FlyToTheMoon")
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret}, req,
		"44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "acm", region, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 400 || !strings.Contains(string(b), `"__type":"UnknownOperationException"`) || resp.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
		t.Errorf("status %d body %s", resp.StatusCode, b)
	}
}
