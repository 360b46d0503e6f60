package localca

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
)

func TestCreateThenLoad(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	ca, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{CAFile, CAKeyFile} {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode = %o, want 600", f, fi.Mode().Perm())
		}
	}
	again, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Certificate().Equal(ca.Certificate()) {
		t.Fatal("reloaded CA differs from the created one")
	}

	def, err := again.DefaultCertificate("us-east-1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Certificate())
	if _, err := def.Leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "abc123.execute-api.us-east-1.localhost"}); err != nil {
		t.Fatalf("default certificate does not verify for an execute-api host: %v", err)
	}
	def2, err := again.DefaultCertificate("us-east-1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	if !def2.Leaf.Equal(def.Leaf) {
		t.Error("default certificate reissued although still fitting")
	}
	def3, err := again.DefaultCertificate("eu-west-1", "localhost")
	if err != nil {
		t.Fatal(err)
	}
	if def3.Leaf.Equal(def.Leaf) {
		t.Error("default certificate not reissued for a new region")
	}
}

func TestRefusesReadableKey(t *testing.T) {
	dir := t.TempDir()
	if _, err := LoadOrCreate(dir); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(dir, CAKeyFile), 0o644)
	if _, err := LoadOrCreate(dir); err == nil {
		t.Fatal("loaded a CA whose key file is world-readable")
	}
}
