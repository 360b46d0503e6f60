package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"trustgate/internal/testpki"
)

// awsCLI runs the real AWS CLI against a gateway, as a user would after
// `eval "$(trustgate env)"`.
type awsCLI struct {
	t    *testing.T
	bin  string
	dir  string // working directory (fileb:// paths are relative to it)
	env  []string
	ep   string
	runs int
}

func newAWSCLI(t *testing.T, bin string, g *gateway) *awsCLI {
	t.Helper()
	out, err := exec.Command(binary, "env", "--data-dir", g.DataDir, "--admin-listen", g.Admin).Output()
	if err != nil {
		t.Fatalf("trustgate env: %v", err)
	}
	home := t.TempDir()
	empty := filepath.Join(home, "empty")
	os.WriteFile(empty, nil, 0o600)
	c := &awsCLI{t: t, bin: bin, dir: t.TempDir(), ep: "http://" + g.Admin}
	c.env = append(cleanEnv(), "HOME="+home, "AWS_CONFIG_FILE="+empty, "AWS_SHARED_CREDENTIALS_FILE="+empty, "AWS_PAGER=")
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		if kv, ok := strings.CutPrefix(sc.Text(), "export "); ok {
			c.env = append(c.env, kv)
		}
	}
	return c
}

// try runs `aws --endpoint-url EP args... --output text` and returns its
// trimmed output and error (with stderr).
func (c *awsCLI) try(args ...string) (string, error) {
	c.t.Helper()
	c.runs++
	cmd := exec.Command(c.bin, append([]string{"--endpoint-url", c.ep, "--output", "text"}, args...)...)
	cmd.Dir, cmd.Env = c.dir, c.env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return strings.TrimSpace(string(out)), fmt.Errorf("aws %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	return strings.TrimSpace(string(out)), nil
}

func (c *awsCLI) run(args ...string) string {
	c.t.Helper()
	out, err := c.try(args...)
	if err != nil {
		c.t.Fatal(err)
	}
	return out
}

// file writes data under the CLI's working directory and returns its name.
func (c *awsCLI) file(name string, data []byte) string {
	c.t.Helper()
	if err := os.WriteFile(filepath.Join(c.dir, name), data, 0o600); err != nil {
		c.t.Fatal(err)
	}
	return name
}

// curlStatus calls https://api.example.com/ on the gateway with curl and a
// client certificate, and returns the HTTP status.
func curlStatus(t *testing.T, c *awsCLI, g *gateway, cert, key string) string {
	t.Helper()
	host, port, _ := net.SplitHostPort(g.Listen)
	cmd := exec.Command("curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", "server-ca.pem",
		"--cert", cert, "--key", key, "--resolve", "api.example.com:"+port+":"+host,
		"https://api.example.com:"+port+"/")
	cmd.Dir = c.dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("curl with %s: %v (%s)", cert, err, out)
	}
	return string(out)
}

// accessLine waits for the access-log line of a request by a certificate
// subject with a status, and returns it.
func accessLine(t *testing.T, g *gateway, subject string, status int) map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, _ := os.ReadFile(g.AccessLog)
		sc := bufio.NewScanner(strings.NewReader(string(b)))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var found map[string]any
		for sc.Scan() {
			var rec map[string]any
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec["certSubject"] == subject && rec["status"] == float64(status) {
				found = rec
			}
		}
		if found != nil {
			return found
		}
		if time.Now().After(deadline) {
			t.Fatalf("no access-log line for %s with status %d:\n%s", subject, status, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRevocationWithAWSCLI: CRL revocation driven only by the AWS CLI. The
// CRL is an object in the gateway's S3, a tag turns it on, and a new CRL
// version takes effect on upload, without any other API call.
func TestRevocationWithAWSCLI(t *testing.T) {
	requireTool(t, "curl")
	awsBin := requireTool(t, "aws")
	g := startGateway(t)
	cli := newAWSCLI(t, awsBin, g)
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"ok":true}`))
	}))
	defer backend.Close()

	// The partner's CA, two of its partners, and the gateway's certificate.
	root := testpki.NewCA(t, "Partner Root")
	issuing := root.Intermediate(t, "Partner Issuing CA")
	good := issuing.Leaf(t, testpki.Client("partner-good"))
	bad := issuing.Leaf(t, testpki.Client("partner-revoked"))
	serverCA := testpki.NewCA(t, "Server Root")
	server := serverCA.Leaf(t, testpki.Server("api.example.com"))
	cli.file("server-ca.pem", serverCA.CertPEM)
	cli.file("server.crt", server.CertPEM)
	cli.file("server.key", server.KeyPEM)
	cli.file("good.crt", good.CertPEM)
	cli.file("good.key", good.KeyPEM)
	cli.file("bad.crt", bad.CertPEM)
	cli.file("bad.key", bad.KeyPEM)
	cli.file("trusted_partners.pem", testpki.Bundle(root.CertPEM, issuing.CertPEM))
	_, der := issuing.CRL(t, testpki.CRLSpec{Number: 1, Revoked: []*big.Int{bad.Cert.SerialNumber}})
	cli.file("revoking.crl", testpki.CRLPEM(der))
	_, der = issuing.CRL(t, testpki.CRLSpec{Number: 2})
	cli.file("clean.crl", der) // DER this time: both encodings are read

	cli.run("s3api", "create-bucket", "--bucket", "partners-trust-store")
	cli.run("s3api", "put-bucket-versioning", "--bucket", "partners-trust-store", "--versioning-configuration", "Status=Enabled")
	cli.run("s3", "cp", "trusted_partners.pem", "s3://partners-trust-store/trusted_partners.pem")
	cli.run("s3", "cp", "revoking.crl", "s3://partners-trust-store/partner.crl")
	certARN := cli.run("acm", "import-certificate", "--certificate", "fileb://server.crt", "--private-key", "fileb://server.key",
		"--query", "CertificateArn")
	apiID := cli.run("apigateway", "create-rest-api", "--name", "partners", "--endpoint-configuration", "types=REGIONAL", "--query", "id")
	rootID := cli.run("apigateway", "get-resources", "--rest-api-id", apiID, "--query", "items[?path==`/`].id")
	cli.run("apigateway", "put-method", "--rest-api-id", apiID, "--resource-id", rootID, "--http-method", "GET", "--authorization-type", "NONE")
	cli.run("apigateway", "put-integration", "--rest-api-id", apiID, "--resource-id", rootID, "--http-method", "GET",
		"--type", "HTTP_PROXY", "--integration-http-method", "GET", "--uri", backend.URL+"/")
	cli.run("apigateway", "create-deployment", "--rest-api-id", apiID, "--stage-name", "DEV")
	cli.run("apigateway", "create-domain-name", "--domain-name", "api.example.com", "--regional-certificate-arn", certARN,
		"--endpoint-configuration", "types=REGIONAL", "--security-policy", "TLS_1_2",
		"--mutual-tls-authentication", "truststoreUri=s3://partners-trust-store/trusted_partners.pem")
	cli.run("apigateway", "create-base-path-mapping", "--domain-name", "api.example.com", "--rest-api-id", apiID, "--stage", "DEV")

	if a, b := curlStatus(t, cli, g, "good.crt", "good.key"), curlStatus(t, cli, g, "bad.crt", "bad.key"); a != "200" || b != "200" {
		t.Fatalf("without revocation: good %s, to-be-revoked %s; want 200 200", a, b)
	}

	const arn = "arn:aws:apigateway:us-east-1::/domainnames/api.example.com"
	if _, err := cli.try("apigateway", "tag-resource", "--resource-arn", arn, "--tags", "trustgate:crl=https://example.com/x.crl"); err == nil ||
		!strings.Contains(err.Error(), "BadRequestException") || !strings.Contains(err.Error(), "trustgate:crl") {
		t.Fatalf("a bad trustgate:crl tag: err = %v, want BadRequestException naming the tag", err)
	}
	cli.run("apigateway", "tag-resource", "--resource-arn", arn, "--tags", "trustgate:crl=s3://partners-trust-store/partner.crl")

	// tag-resource answers once the edge serves the tag: no waiting here.
	if st := curlStatus(t, cli, g, "bad.crt", "bad.key"); st != "403" {
		t.Fatalf("revoked partner: %s, want 403", st)
	}
	if st := curlStatus(t, cli, g, "good.crt", "good.key"); st != "200" {
		t.Fatalf("partner still in good standing: %s, want 200", st)
	}
	rec := accessLine(t, g, "CN=partner-revoked", 403)
	if rec["mtls"] != "rejected" || rec["mtlsReason"] != "revoked" || !strings.Contains(fmt.Sprint(rec["error"]), "revoked") {
		t.Errorf("access log of the revoked partner: mtls %v reason %v error %v; want rejected revoked", rec["mtls"], rec["mtlsReason"], rec["error"])
	}
	if msg := cli.run("apigateway", "get-domain-name", "--domain-name", "api.example.com", "--query", "domainNameStatusMessage"); msg != "None" {
		t.Errorf("domainNameStatusMessage = %q, want none", msg)
	}

	// A new CRL version that no longer lists the partner: the upload alone
	// restores it.
	before := cli.runs
	cli.run("s3", "cp", "clean.crl", "s3://partners-trust-store/partner.crl")
	if cli.runs != before+1 {
		t.Fatal("more than the upload ran")
	}
	if st := curlStatus(t, cli, g, "bad.crt", "bad.key"); st != "200" {
		t.Fatalf("after the new CRL: %s, want 200", st)
	}

	// Soft mode, and a CRL that has expired: with the default (hard) mode it
	// refuses, in soft mode it lets partners through.
	past := time.Now().Add(-72 * time.Hour)
	_, der = issuing.CRL(t, testpki.CRLSpec{Number: 3, ThisUpdate: past, NextUpdate: past.Add(24 * time.Hour)})
	cli.file("expired.crl", testpki.CRLPEM(der))
	cli.run("s3", "cp", "expired.crl", "s3://partners-trust-store/partner.crl")
	if st := curlStatus(t, cli, g, "good.crt", "good.key"); st != "403" {
		t.Fatalf("expired CRL, hard mode: %s, want 403", st)
	}
	if rec := accessLine(t, g, "CN=partner-good", 403); rec["mtlsReason"] != "crl_expired" {
		t.Errorf("expired CRL: reason %v, want crl_expired", rec["mtlsReason"])
	}
	if msg := cli.run("apigateway", "get-domain-name", "--domain-name", "api.example.com", "--query", "domainNameStatusMessage"); !strings.Contains(msg, "expired") {
		t.Errorf("domainNameStatusMessage = %q, want it to say the CRL expired", msg)
	}
	cli.run("apigateway", "tag-resource", "--resource-arn", arn, "--tags", "trustgate:crl-mode=soft")
	if st := curlStatus(t, cli, g, "good.crt", "good.key"); st != "200" {
		t.Fatalf("expired CRL, soft mode: %s, want 200", st)
	}
}
