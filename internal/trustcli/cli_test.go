package trustcli

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/cryptotest"
	"time"

	"trustgate/internal/testpki"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// pki is the deterministic set of files the golden tests run against.
type pki struct {
	dir   string
	files map[string]string // name -> path
}

func (p *pki) write(t *testing.T, name string, data ...[]byte) {
	t.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, bytes.Join(data, nil), 0o600); err != nil {
		t.Fatal(err)
	}
	p.files[name] = path
}

func (p *pki) path(name string) string {
	if path, ok := p.files[name]; ok {
		return path
	}
	return filepath.Join(p.dir, name)
}

// The fixed clock of the golden tests.
var t0 = time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC)

const at = "2030-06-01T00:00:00Z"

// newPKI builds every certificate, key and CRL from a seeded random source,
// with fixed serials and validity, so the golden output (fingerprints
// included) is the same on every run. Keys only ever live in t.TempDir().
func newPKI(t *testing.T) *pki {
	t.Helper()
	cryptotest.SetGlobalRandom(t, 1)
	p := &pki{dir: t.TempDir(), files: map[string]string{}}
	day := 24 * time.Hour
	years := testpki.WithValidity(t0.Add(-365*day), t0.Add(5*365*day))
	sn := testpki.WithSerial

	root := testpki.NewCA(t, "Partner Root", years, sn(1), testpki.WithOrganization("Partner Ltd"))
	inter := root.Intermediate(t, "Partner Issuing CA", years, sn(2), testpki.WithOrganization("Partner Ltd"))
	partner := inter.Leaf(t, testpki.Client("partner-1"), testpki.WithValidity(t0.Add(-day), t0.Add(90*day)), sn(0x1001))
	revoked := inter.Leaf(t, testpki.Client("partner-2"), testpki.WithValidity(t0.Add(-day), t0.Add(90*day)), sn(0x1002))
	expired := inter.Leaf(t, testpki.Client("partner-3"), testpki.WithValidity(t0.Add(-90*day), t0.Add(-day)), sn(0x1003))
	server := inter.Leaf(t, testpki.Server("www.partner.example"), testpki.WithValidity(t0.Add(-day), t0.Add(90*day)), sn(0x1004))
	self := testpki.SelfSigned(t, testpki.Client("device-7"), testpki.WithValidity(t0.Add(-day), t0.Add(365*day)), sn(0x77))
	other := testpki.NewCA(t, "Other Root", years, sn(3))
	stranger := other.Leaf(t, testpki.Client("stranger"), testpki.WithValidity(t0.Add(-day), t0.Add(90*day)), sn(0x3001))
	impostor := testpki.NewCA(t, "Partner Root", years, sn(4), testpki.WithOrganization("Partner Ltd"))

	oldCA := testpki.NewCA(t, "Old Root", testpki.WithValidity(t0.Add(-3*365*day), t0.Add(-10*day)), sn(10))
	soonCA := testpki.NewCA(t, "Soon Root", testpki.WithValidity(t0.Add(-365*day), t0.Add(12*day)), sn(11))
	smallCA := testpki.NewCA(t, "Small Root", years, sn(12), testpki.WithKey(testpki.RSA1024))
	sha1CA := testpki.NewCA(t, "Legacy Root", years, sn(13), testpki.WithKey(testpki.RSA2048), testpki.WithSigAlg(x509.SHA1WithRSA))
	orphan := testpki.NewCA(t, "Missing Root", years, sn(14)).Intermediate(t, "Orphan CA", years, sn(15))
	twin := testpki.NewCA(t, "Partner Root", years, sn(16), testpki.WithOrganization("Partner Ltd"))
	pinned := root.Leaf(t, testpki.Client("pinned-partner"), testpki.WithValidity(t0.Add(-day), t0.Add(365*day)), sn(0x1005))

	crlTimes := func(n int64, revoked ...*big.Int) testpki.CRLSpec {
		return testpki.CRLSpec{ThisUpdate: t0.Add(-day), NextUpdate: t0.Add(6 * day), Number: n, Revoked: revoked}
	}
	_, rootCRL := root.CRL(t, crlTimes(1))
	_, interCRL := inter.CRL(t, crlTimes(1, big.NewInt(0x1002)))
	_, staleCRL := inter.CRL(t, testpki.CRLSpec{ThisUpdate: t0.Add(-10 * day), NextUpdate: t0.Add(-3 * day), Number: 2})
	_, forgedCRL := impostor.CRL(t, crlTimes(1))

	p.write(t, "good.pem", root.CertPEM, inter.CertPEM)
	p.write(t, "root.pem", root.CertPEM)
	p.write(t, "warnings.pem", []byte("# partner truststore, assembled by hand\n"), root.CertPEM, oldCA.CertPEM, soonCA.CertPEM,
		smallCA.CertPEM, sha1CA.CertPEM, orphan.CertPEM, pinned.CertPEM, twin.CertPEM,
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: append(append([]byte{}, inter.Cert.Raw...), 0)}),
		root.CertPEM)
	p.write(t, "bad.pem", root.CertPEM,
		[]byte("-----BEGIN PRIVATE KEY-----\nTUlJRXZRSUJBREFOQmdrcWhraUc5dzBCQVFFRkFBU0NCS2N3Z2dTakFnRUFBb0lCQVFE\n-----END PRIVATE KEY-----\n"),
		pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: rootCRL}),
		[]byte("-----BEGIN CERTIFICATE-----\nMIIB!!!truncated\n-----END CERTIFICATE-----\n"))
	p.write(t, "notpem.txt", []byte("this is a list of partners, not a truststore\n"))
	p.write(t, "partner.pem", partner.CertPEM)
	p.write(t, "partner-full.pem", partner.CertPEM, inter.CertPEM, partner.KeyPEM)
	p.write(t, "inter.pem", inter.CertPEM)
	p.write(t, "revoked.pem", revoked.CertPEM)
	p.write(t, "expired.pem", expired.CertPEM)
	p.write(t, "server.pem", server.CertPEM)
	p.write(t, "self.pem", self.CertPEM)
	p.write(t, "self-store.pem", root.CertPEM, self.CertPEM)
	p.write(t, "stranger.pem", stranger.Cert.Raw) // DER
	p.write(t, "root.crl", rootCRL)               // DER
	p.write(t, "inter.crl", testpki.CRLPEM(interCRL))
	p.write(t, "inter-stale.crl", testpki.CRLPEM(staleCRL))
	p.write(t, "forged.crl", testpki.CRLPEM(forgedCRL))
	p.write(t, "cert-as-crl.pem", root.CertPEM)
	return p
}

type golden struct {
	name  string
	cmd   string // lint or check
	args  []string
	fetch Fetcher
	exit  int
}

func TestGolden(t *testing.T) {
	p := newPKI(t)
	goodData, err := os.ReadFile(p.path("good.pem"))
	if err != nil {
		t.Fatal(err)
	}
	fetch := func(_ context.Context, uri string) ([]byte, error) {
		if uri == "s3://partners-trust-store/trusted_partners.pem" {
			return goodData, nil
		}
		return nil, errors.New("NoSuchKey: the object does not exist")
	}
	f := p.path
	tests := []golden{
		{"lint-good", "lint", []string{f("good.pem"), "--at", at}, nil, 0},
		{"lint-good-json", "lint", []string{"--json", "--at", at, f("good.pem")}, nil, 0},
		{"lint-warnings", "lint", []string{f("warnings.pem"), "--at", at}, nil, 0},
		{"lint-warnings-json", "lint", []string{f("warnings.pem"), "--at", at, "--json"}, nil, 0},
		{"lint-warnings-strict", "lint", []string{f("warnings.pem"), "--at", at, "--strict"}, nil, 1},
		{"lint-errors", "lint", []string{f("bad.pem"), "--at", at}, nil, 1},
		{"lint-errors-json", "lint", []string{f("bad.pem"), "--at", at, "--json"}, nil, 1},
		{"lint-not-pem", "lint", []string{f("notpem.txt"), "--at", at}, nil, 1},
		{"lint-crls", "lint", []string{f("good.pem"), "--at", at, "--crl", f("root.crl"), "--crl", f("inter-stale.crl"),
			"--crl", f("forged.crl"), "--crl", f("cert-as-crl.pem")}, nil, 1},
		{"lint-s3", "lint", []string{"s3://partners-trust-store/trusted_partners.pem", "--at", at}, fetch, 0},
		{"lint-s3-missing", "lint", []string{"s3://partners-trust-store/nope.pem", "--at", at}, fetch, 2},
		{"lint-s3-no-fetcher", "lint", []string{"s3://partners-trust-store/trusted_partners.pem"}, nil, 2},
		{"lint-missing-file", "lint", []string{f("nope.pem")}, nil, 2},
		{"lint-usage", "lint", nil, nil, 2},
		{"lint-bad-flag", "lint", []string{"--colour", f("good.pem")}, nil, 2},

		{"check-trusted", "check", []string{"--truststore", f("good.pem"), "--cert", f("partner.pem"), "--at", at}, nil, 0},
		{"check-trusted-full-pem", "check", []string{"--truststore", f("root.pem"), "--cert", f("partner-full.pem"), "--at", at}, nil, 0},
		{"check-chain-flag", "check", []string{"--truststore", f("root.pem"), "--cert", f("partner.pem"), "--chain", f("inter.pem"), "--at", at}, nil, 0},
		{"check-missing-intermediate", "check", []string{"--truststore", f("root.pem"), "--cert", f("partner.pem"), "--at", at}, nil, 1},
		{"check-unknown-issuer", "check", []string{"--truststore", f("good.pem"), "--cert", f("stranger.pem"), "--at", at}, nil, 1},
		{"check-self-signed", "check", []string{"--truststore", f("good.pem"), "--cert", f("self.pem"), "--at", at}, nil, 1},
		{"check-self-signed-pinned", "check", []string{"--truststore", f("self-store.pem"), "--cert", f("self.pem"), "--at", at}, nil, 0},
		{"check-expired", "check", []string{"--truststore", f("good.pem"), "--cert", f("expired.pem"), "--at", at}, nil, 1},
		{"check-server-cert", "check", []string{"--truststore", f("good.pem"), "--cert", f("server.pem"), "--at", at}, nil, 1},
		{"check-later", "check", []string{"--truststore", f("good.pem"), "--cert", f("partner.pem"), "--at", "2030-12-01T00:00:00Z"}, nil, 1},
		{"check-revoked", "check", []string{"--truststore", f("good.pem"), "--cert", f("revoked.pem"), "--crl", f("inter.crl"), "--crl", f("root.crl"), "--at", at}, nil, 1},
		{"check-not-revoked", "check", []string{"--truststore", f("good.pem"), "--cert", f("partner.pem"), "--crl", f("inter.crl"), "--crl", f("root.crl"), "--at", at}, nil, 0},
		{"check-crl-expired", "check", []string{"--truststore", f("good.pem"), "--cert", f("partner.pem"), "--crl", f("inter-stale.crl"), "--crl", f("root.crl"), "--at", at}, nil, 1},
		{"check-crl-expired-soft", "check", []string{"--truststore", f("good.pem"), "--cert", f("partner.pem"), "--crl", f("inter-stale.crl"), "--crl", f("root.crl"), "--soft-crl", "--at", at}, nil, 0},
		{"check-crl-unavailable", "check", []string{"--truststore", f("good.pem"), "--cert", f("partner.pem"), "--crl", f("root.crl"), "--at", at}, nil, 1},
		{"check-crl-is-certificate", "check", []string{"--truststore", f("good.pem"), "--cert", f("partner.pem"), "--crl", f("cert-as-crl.pem"), "--at", at}, nil, 2},
		{"check-bad-truststore", "check", []string{"--truststore", f("bad.pem"), "--cert", f("partner.pem"), "--at", at}, nil, 2},
		{"check-usage", "check", nil, nil, 2},
		{"check-bad-time", "check", []string{"--truststore", f("good.pem"), "--cert", f("partner.pem"), "--at", "yesterday"}, nil, 2},
		{"check-cert-is-key", "check", []string{"--truststore", f("good.pem"), "--cert", f("notpem.txt"), "--at", at}, nil, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			var code int
			switch tt.cmd {
			case "lint":
				code = Lint(context.Background(), tt.args, &stdout, &stderr, tt.fetch)
			case "check":
				code = Check(context.Background(), tt.args, &stdout, &stderr)
			}
			if code != tt.exit {
				t.Errorf("exit = %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.exit, stdout.String(), stderr.String())
			}
			got := "$ trustgate truststore " + tt.cmd + " " + strings.Join(tt.args, " ") + "\n" +
				"exit " + string(rune('0'+code)) + "\n--- stdout\n" + stdout.String() + "--- stderr\n" + stderr.String()
			got = strings.ReplaceAll(got, p.dir, "$DIR")
			compareGolden(t, filepath.Join("testdata", tt.name+".golden"), got)
		})
	}
}

func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (regenerate with go test -update): %v", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (regenerate with go test -update)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestHelpExitsZero(t *testing.T) {
	for _, run := range []func(io *bytes.Buffer) int{
		func(b *bytes.Buffer) int { return Lint(context.Background(), []string{"-h"}, b, b, nil) },
		func(b *bytes.Buffer) int { return Check(context.Background(), []string{"--help"}, b, b) },
	} {
		var out bytes.Buffer
		if code := run(&out); code != 0 || !strings.Contains(out.String(), "usage: trustgate truststore") {
			t.Errorf("exit %d, output %q", code, out.String())
		}
	}
}

func TestOutputNeverContainsKeys(t *testing.T) {
	p := newPKI(t)
	for _, args := range [][]string{
		{p.path("bad.pem")},
		{p.path("bad.pem"), "--json"},
	} {
		var out bytes.Buffer
		Lint(context.Background(), args, &out, &out, nil)
		if strings.Contains(out.String(), "TUlJRXZRSUJBREFOQmdr") || strings.Contains(out.String(), "-----BEGIN") {
			t.Errorf("lint %v echoes PEM data:\n%s", args, out.String())
		}
	}
	var out bytes.Buffer
	Check(context.Background(), []string{"--truststore", p.path("root.pem"), "--cert", p.path("partner-full.pem"), "--at", at}, &out, &out)
	if strings.Contains(out.String(), "PRIVATE KEY-----") || strings.Contains(out.String(), "-----BEGIN") {
		t.Errorf("check echoes PEM data:\n%s", out.String())
	}
}
