package awsapi_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"trustgate/internal/awsapi"
)

func TestLoadOrCreateCredentials(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	c, err := awsapi.LoadOrCreateCredentials(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^AKIA[A-Z2-7]{16}$`).MatchString(c.AccessKeyID) {
		t.Errorf("access key id %q", c.AccessKeyID)
	}
	if !regexp.MustCompile(`^[A-Za-z0-9+/]{40}$`).MatchString(string(c.Secret)) {
		t.Errorf("secret has the wrong shape (len %d)", len(c.Secret))
	}
	st, err := os.Stat(filepath.Join(dir, awsapi.CredentialsFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("file mode %04o", st.Mode().Perm())
	}
	if st, _ := os.Stat(dir); st.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %04o", st.Mode().Perm())
	}
	again, err := awsapi.LoadOrCreateCredentials(dir)
	if err != nil || again != c {
		t.Errorf("second load: %v, same=%v", err, again == c)
	}
	other, _ := awsapi.LoadOrCreateCredentials(t.TempDir())
	if other.AccessKeyID == c.AccessKeyID || other.Secret == c.Secret {
		t.Error("two data dirs got the same key")
	}
}

func TestLoadOrCreateCredentialsConcurrent(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	got := make([]awsapi.Credentials, 8)
	errs := make([]error, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = awsapi.LoadOrCreateCredentials(dir)
		}()
	}
	wg.Wait()
	for i := range got {
		if errs[i] != nil || got[i] != got[0] {
			t.Fatalf("goroutine %d: %v (same=%v)", i, errs[i], got[i] == got[0])
		}
	}
}

func TestCredentialsFileModeRefused(t *testing.T) {
	dir := t.TempDir()
	if _, err := awsapi.LoadOrCreateCredentials(dir); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, awsapi.CredentialsFile)
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := awsapi.LoadOrCreateCredentials(dir)
	if err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable credentials accepted: %v", err)
	}
	os.WriteFile(path, []byte(`{"accessKeyId":""}`), 0o600)
	os.Chmod(path, 0o600)
	if _, err := awsapi.LoadOrCreateCredentials(dir); err == nil {
		t.Error("empty credentials accepted")
	}
}

func TestCredentialsNeverPrintSecret(t *testing.T) {
	c := awsapi.Credentials{AccessKeyID: "AKIAEXAMPLEEXAMPLE12", Secret: "s3cr3t-s3cr3t-s3cr3t"}
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	log.Info("creds", "c", c, "secret", c.Secret)
	fmt.Fprintf(&buf, "%v %+v %#v %s", c, c, c, c.Secret)
	if strings.Contains(buf.String(), "s3cr3t") {
		t.Errorf("secret printed: %s", buf.String())
	}
	if !strings.Contains(buf.String(), "AKIAEXAMPLEEXAMPLE12") {
		t.Error("access key id not printed")
	}
}

func TestEnvLines(t *testing.T) {
	c := awsapi.Credentials{AccessKeyID: "AKIAEXAMPLEEXAMPLE12", Secret: "abc+/def"}
	got := c.EnvLines("eu-west-1", "http://127.0.0.1:4566")
	for _, want := range []string{
		"export AWS_ACCESS_KEY_ID=AKIAEXAMPLEEXAMPLE12\n",
		"export AWS_SECRET_ACCESS_KEY=abc+/def\n",
		"export AWS_DEFAULT_REGION=eu-west-1\n",
		"export AWS_ENDPOINT_URL=http://127.0.0.1:4566\n",
		"export TRUSTGATE_ENDPOINT=http://127.0.0.1:4566\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in\n%s", want, got)
		}
	}
	if q := (awsapi.Credentials{AccessKeyID: "a'b", Secret: "x y"}).EnvLines("r", "e"); !strings.Contains(q, `'a'\''b'`) || !strings.Contains(q, "'x y'") {
		t.Errorf("quoting: %s", q)
	}
}
