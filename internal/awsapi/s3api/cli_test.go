package s3api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// awsCLIs finds the AWS CLIs on this machine: the one on PATH (pip's v1 here)
// and Debian's v2 at /usr/bin/aws, once each. With TRUSTGATE_REQUIRE_CLI=1
// finding none fails the test instead of skipping it.
func awsCLIs(t *testing.T) map[string]string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs the real aws CLI (slow); skipped with -short")
	}
	found := map[string]string{}
	seen := map[string]bool{}
	var candidates []string
	if p, err := exec.LookPath("aws"); err == nil {
		candidates = append(candidates, p)
	}
	candidates = append(candidates, "/usr/bin/aws")
	for _, p := range candidates {
		out, err := exec.Command(p, "--version").CombinedOutput()
		if err != nil {
			continue
		}
		version := strings.Fields(string(out))[0] // aws-cli/2.9.19
		if seen[version] {
			continue
		}
		seen[version] = true
		found[version] = p
	}
	if len(found) == 0 {
		if os.Getenv("TRUSTGATE_REQUIRE_CLI") == "1" {
			t.Fatal("no aws CLI found and TRUSTGATE_REQUIRE_CLI=1")
		}
		t.Skip("no aws CLI on PATH or at /usr/bin/aws; set TRUSTGATE_REQUIRE_CLI=1 to make this a failure")
	}
	return found
}

// cliEnv is the child's environment: no AWS_* from ours, our key, and
// empty config files so the user's profile never leaks in.
func cliEnv(t *testing.T, extra ...string) []string {
	t.Helper()
	dir := t.TempDir()
	cfg, creds := filepath.Join(dir, "config"), filepath.Join(dir, "credentials")
	os.WriteFile(cfg, nil, 0o600)
	os.WriteFile(creds, nil, 0o600)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"AWS_ACCESS_KEY_ID="+keyID, "AWS_SECRET_ACCESS_KEY="+secret, "AWS_DEFAULT_REGION="+region,
		"AWS_CONFIG_FILE="+cfg, "AWS_SHARED_CREDENTIALS_FILE="+creds,
		"AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=1",
	)
	return append(env, extra...)
}

type cli struct {
	t        *testing.T
	bin, url string
	env      []string
	dir      string
}

// run executes one aws command; wantFail says it should exit non-zero.
func (c *cli) run(wantFail bool, args ...string) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	full := append([]string{"--endpoint-url", c.url, "--output", "json"}, args...)
	if c.url == "" {
		full = append([]string{"--output", "json"}, args...)
	}
	cmd := exec.CommandContext(ctx, c.bin, full...)
	cmd.Env, cmd.Dir = c.env, c.dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if (err != nil) != wantFail {
		c.t.Fatalf("aws %s: err=%v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String() + stderr.String()
}

func TestAWSCLI(t *testing.T) {
	clis := awsCLIs(t)
	for version, bin := range clis {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, false)
			dir := t.TempDir()
			pemData := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: bytes.Repeat([]byte{0x30}, 300)})
			os.WriteFile(filepath.Join(dir, "trusted_partners.pem"), pemData, 0o600)
			os.WriteFile(filepath.Join(dir, "odd name é+.pem"), []byte("odd"), 0o600)
			c := &cli{t: t, bin: bin, url: e.srv.URL, env: cliEnv(t), dir: dir}

			c.run(false, "s3api", "create-bucket", "--bucket", "partners-trust-store")
			c.run(false, "s3api", "put-bucket-versioning", "--bucket", "partners-trust-store", "--versioning-configuration", "Status=Enabled")
			c.run(false, "s3", "cp", "trusted_partners.pem", "s3://partners-trust-store/")
			var put struct{ ETag, VersionId string }
			if err := json.Unmarshal([]byte(c.run(false, "s3api", "put-object", "--bucket", "partners-trust-store",
				"--key", "trusted_partners.pem", "--body", "trusted_partners.pem")), &put); err != nil || put.VersionId == "" || put.ETag == "" {
				t.Fatalf("put-object output: %v %+v", err, put)
			}
			c.run(false, "s3", "cp", "odd name é+.pem", "s3://partners-trust-store/dir/odd name é+.pem")
			if out := c.run(false, "s3", "ls", "--recursive", "s3://partners-trust-store/"); !strings.Contains(out, "dir/odd name é+.pem") || !strings.Contains(out, " trusted_partners.pem") {
				t.Errorf("s3 ls --recursive (encoding-type=url): %s", out)
			}
			var versions struct {
				Versions []struct {
					Key, VersionId string
					IsLatest       bool
				}
			}
			if err := json.Unmarshal([]byte(c.run(false, "s3api", "list-object-versions", "--bucket", "partners-trust-store", "--prefix", "trusted")), &versions); err != nil {
				t.Fatal(err)
			}
			if len(versions.Versions) != 2 || !versions.Versions[0].IsLatest || versions.Versions[0].VersionId != put.VersionId {
				t.Fatalf("list-object-versions: %+v", versions)
			}
			first := versions.Versions[1].VersionId
			c.run(false, "s3api", "get-object", "--bucket", "partners-trust-store", "--key", "trusted_partners.pem", "--version-id", first, "got.pem")
			if got, _ := os.ReadFile(filepath.Join(dir, "got.pem")); !bytes.Equal(got, pemData) {
				t.Errorf("get-object: %q", got)
			}
			c.run(false, "s3", "rm", "s3://partners-trust-store/trusted_partners.pem")
			if out := c.run(true, "s3api", "head-object", "--bucket", "partners-trust-store", "--key", "trusted_partners.pem"); !strings.Contains(out, "404") {
				t.Errorf("head-object after rm: %s", out)
			}
		})
	}
}

// botocore over HTTPS streams uploads as aws-chunked with a CRC32 trailer
// (STREAMING-UNSIGNED-PAYLOAD-TRAILER); that path must work end to end too.
// It also checks that AWS_ENDPOINT_URL, which `trustgate env` prints, is
// honoured where the CLI supports it (aws-cli v1 ≥ 1.29, v2 ≥ 2.13).
func TestAWSCLIOverTLSAndEndpointEnv(t *testing.T) {
	clis := awsCLIs(t)
	for version, bin := range clis {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, true)
			dir := t.TempDir()
			ca := filepath.Join(dir, "ca.pem")
			os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: e.srv.Certificate().Raw}), 0o600)
			data := bytes.Repeat([]byte("chunked upload "), 5000)
			os.WriteFile(filepath.Join(dir, "big.pem"), data, 0o600)
			c := &cli{t: t, bin: bin, url: e.srv.URL, env: cliEnv(t, "AWS_CA_BUNDLE="+ca), dir: dir}
			c.run(false, "s3api", "create-bucket", "--bucket", "tls-bucket")
			c.run(false, "s3", "cp", "big.pem", "s3://tls-bucket/big.pem")
			got, _, err := e.objs.GetObject(context.Background(), "tls-bucket", "big.pem", "")
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("stored %d bytes, %v", len(got), err)
			}
			if strings.HasPrefix(version, "aws-cli/1.") || !strings.HasPrefix(version, "aws-cli/2.9") {
				viaEnv := &cli{t: t, bin: bin, env: cliEnv(t, "AWS_CA_BUNDLE="+ca, "AWS_ENDPOINT_URL="+e.srv.URL), dir: dir}
				if out := viaEnv.run(false, "s3", "ls"); !strings.Contains(out, "tls-bucket") {
					t.Errorf("AWS_ENDPOINT_URL not honoured: %s", out)
				}
			}
		})
	}
}
