package acm_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"trustgate/internal/testpki"
)

// awsCLIs finds the CLIs on this machine (pip's v1 on PATH, Debian's v2 at
// /usr/bin/aws), once per version; none skips, or fails with
// TRUSTGATE_REQUIRE_CLI=1.
func awsCLIs(t *testing.T) map[string]string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the real aws CLI (slow); skipped with -short")
	}
	found := map[string]string{}
	var candidates []string
	if p, err := exec.LookPath("aws"); err == nil {
		candidates = append(candidates, p)
	}
	for _, p := range append(candidates, "/usr/bin/aws") {
		out, err := exec.Command(p, "--version").CombinedOutput()
		if err != nil {
			continue
		}
		if v := strings.Fields(string(out))[0]; found[v] == "" {
			found[v] = p
		}
	}
	if len(found) == 0 {
		if os.Getenv("TRUSTGATE_REQUIRE_CLI") == "1" {
			t.Fatal("no aws CLI found and TRUSTGATE_REQUIRE_CLI=1")
		}
		t.Skip("no aws CLI on PATH or at /usr/bin/aws")
	}
	return found
}

func TestAWSCLIImportCertificate(t *testing.T) {
	for version, bin := range awsCLIs(t) {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			dir := t.TempDir()
			leaf, inter := serverLeaf(t, testpki.WithKey(testpki.RSA2048))
			for name, data := range map[string][]byte{"server.crt": leaf.CertPEM, "server.key": leaf.KeyPEM, "ca.crt": inter.CertPEM} {
				os.WriteFile(filepath.Join(dir, name), data, 0o600)
			}
			cfg := filepath.Join(dir, "config")
			os.WriteFile(cfg, nil, 0o600)
			var env []string
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, "AWS_") {
					env = append(env, kv)
				}
			}
			env = append(env, "AWS_ACCESS_KEY_ID="+keyID, "AWS_SECRET_ACCESS_KEY="+secret, "AWS_DEFAULT_REGION="+region,
				"AWS_CONFIG_FILE="+cfg, "AWS_SHARED_CREDENTIALS_FILE="+cfg, "AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true")
			run := func(args ...string) []byte {
				t.Helper()
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				cmd := exec.CommandContext(ctx, bin, append([]string{"--endpoint-url", e.srv.URL, "--output", "json"}, args...)...)
				cmd.Env, cmd.Dir = env, dir
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				out, err := cmd.Output()
				if err != nil {
					t.Fatalf("aws %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr.String())
				}
				return out
			}
			var imp struct{ CertificateArn string }
			json.Unmarshal(run("acm", "import-certificate", "--certificate", "fileb://server.crt", "--private-key", "fileb://server.key",
				"--certificate-chain", "fileb://ca.crt"), &imp)
			if !strings.HasPrefix(imp.CertificateArn, "arn:aws:acm:us-east-1:123456789012:certificate/") {
				t.Fatalf("ARN %q", imp.CertificateArn)
			}
			var d struct {
				Certificate struct {
					DomainName, KeyAlgorithm, Status, Type string
					NotAfter                               json.RawMessage // v1: epoch seconds, v2: ISO 8601
				}
			}
			json.Unmarshal(run("acm", "describe-certificate", "--certificate-arn", imp.CertificateArn), &d)
			c := d.Certificate
			notAfter := leaf.Cert.NotAfter.UTC()
			if c.DomainName != "api.example.com" || c.KeyAlgorithm != "RSA_2048" || c.Status != "ISSUED" || c.Type != "IMPORTED" ||
				(string(c.NotAfter) != fmt.Sprint(notAfter.Unix())+".0" && string(c.NotAfter) != fmt.Sprint(notAfter.Unix()) &&
					string(c.NotAfter) != `"`+notAfter.Format("2006-01-02T15:04:05-07:00")+`"` && string(c.NotAfter) != `"`+notAfter.Format("2006-01-02T15:04:05+00:00")+`"`) {
				t.Errorf("describe-certificate: %+v", c)
			}
			var l struct {
				CertificateSummaryList []struct{ CertificateArn string }
			}
			json.Unmarshal(run("acm", "list-certificates"), &l)
			if len(l.CertificateSummaryList) != 1 || l.CertificateSummaryList[0].CertificateArn != imp.CertificateArn {
				t.Errorf("list-certificates: %+v", l)
			}
		})
	}
}
