package truststore

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"trustgate/internal/testpki"
)

var genCorpus = flag.Bool("gencorpus", false, "rewrite the fuzz seed corpora in testdata/fuzz")

// checkMessage asserts a user-facing message is one printable, bounded line.
func checkMessage(t *testing.T, msg string) {
	t.Helper()
	if msg == "" || len(msg) > 1000 {
		t.Fatalf("message has length %d: %q", len(msg), msg)
	}
	for _, r := range msg {
		if !unicode.IsPrint(r) {
			t.Fatalf("message has unprintable %U: %q", r, msg)
		}
	}
}

func FuzzParse(f *testing.F) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := Parse(data)
		if err != nil {
			var be *BundleError
			if !errors.As(err, &be) {
				t.Fatalf("error %T is not a *BundleError: %v", err, err)
			}
			checkMessage(t, be.Message)
			if strings.Contains(string(data), "PRIVATE KEY") && be.Code != CodePrivateKey && strings.Contains(be.Message, "PRIVATE KEY") {
				t.Fatalf("message quotes a key block: %q", be.Message)
			}
			return
		}
		if len(b.Certs) == 0 || len(b.Certs) > MaxCertificates {
			t.Fatalf("parsed %d certificates", len(b.Certs))
		}
		for _, w := range b.Warnings(now) {
			checkMessage(t, w.Message)
		}
		for i, c := range b.Certs {
			v := b.Verify(b.Certs[i:i+1], VerifyOptions{At: now})
			checkMessage(t, v.Message)
			if v.Trusted && v.Chain[len(v.Chain)-1] != c && !b.contains(v.Chain[len(v.Chain)-1]) {
				t.Fatalf("trusted chain does not end in the truststore")
			}
		}
	})
}

func FuzzParseCRL(f *testing.F) {
	root := testpki.NewCA(f, "Root")
	b, err := Parse(root.CertPEM)
	if err != nil {
		f.Fatal(err)
	}
	leaf := root.Leaf(f)
	now := time.Now()
	f.Fuzz(func(t *testing.T, data []byte) {
		crls, err := ParseCRLs(data)
		if err != nil {
			var ce *CRLError
			if !errors.As(err, &ce) {
				t.Fatalf("error %T is not a *CRLError: %v", err, err)
			}
			checkMessage(t, ce.Message)
			return
		}
		set, ws := b.NewCRLSet(crls, now)
		for _, w := range ws {
			checkMessage(t, w.Message)
		}
		v := b.Verify(clientChain(leaf), VerifyOptions{At: now, CRLs: set})
		checkMessage(t, v.Message)
		if _, err := ParseCRL(data); err != nil && len(crls) == 1 {
			t.Fatalf("ParseCRLs found one CRL but ParseCRL failed: %v", err)
		}
	})
}

// TestFuzzCorpus regenerates the checked-in seed corpora with -gencorpus;
// otherwise it checks they exist. The seeds hold public test certificates
// and CRLs only; the "private key" seeds are fake blocks, not keys.
func TestFuzzCorpus(t *testing.T) {
	dirs := map[string]func(t *testing.T) map[string][]byte{
		"FuzzParse":    bundleSeeds,
		"FuzzParseCRL": crlSeeds,
	}
	for name, seeds := range dirs {
		dir := filepath.Join("testdata", "fuzz", name)
		if !*genCorpus {
			entries, err := os.ReadDir(dir)
			if err != nil || len(entries) < 5 {
				t.Errorf("%s: seed corpus missing (%v); run go test -run TestFuzzCorpus -gencorpus", dir, err)
			}
			continue
		}
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for seed, data := range seeds(t) {
			body := "go test fuzz v1\n[]byte(" + strconv.Quote(string(data)) + ")\n"
			if err := os.WriteFile(filepath.Join(dir, seed), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func bundleSeeds(t *testing.T) map[string][]byte {
	root := testpki.NewCA(t, "Root", testpki.WithOrganization("Partner Ltd"))
	inter := root.Intermediate(t, "Inter")
	self := testpki.SelfSigned(t, testpki.Client("partner-1"))
	rsa := testpki.NewCA(t, "RSA Root", testpki.WithKey(testpki.RSA2048), testpki.WithSigAlg(x509.SHA1WithRSA))
	lines := strings.Split(string(root.CertPEM), "\n")
	cut := append([]string{}, lines...)
	cut[2] = cut[2][:len(cut[2])-1]
	fakeKey := "-----BEGIN PRIVATE KEY-----\nAAAAAAAAAAAAAAAA\n-----END PRIVATE KEY-----\n"
	return map[string][]byte{
		"root":            root.CertPEM,
		"chain":           testpki.Bundle(root.CertPEM, inter.CertPEM),
		"self-signed":     self.CertPEM,
		"sha1":            rsa.CertPEM,
		"crlf":            bytes.ReplaceAll(root.CertPEM, []byte("\n"), []byte("\r\n")),
		"garbage-between": testpki.Bundle(root.CertPEM, []byte("\x00garbage\xff\n"), inter.CertPEM),
		"truncated-b64":   []byte(strings.Join(cut, "\n")),
		"missing-end":     []byte(strings.Join(lines[:len(lines)-2], "\n") + "\n" + string(inter.CertPEM)),
		"fake-key":        testpki.Bundle(root.CertPEM, []byte(fakeKey)),
		"crl-block":       pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: []byte{0x30, 0}}),
		"trailing-data":   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: append(append([]byte{}, root.Cert.Raw...), 0)}),
		"der":             root.Cert.Raw,
		"empty":           {},
		"long-line":       append(bytes.Repeat([]byte("x"), 4096), root.CertPEM...),
		"begin-only":      []byte("-----BEGIN CERTIFICATE-----\n"),
		"nested-begin":    []byte("-----BEGIN CERTIFICATE-----\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
		"duplicates":      testpki.Bundle(root.CertPEM, root.CertPEM),
		"headers":         []byte("-----BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\n\n" + strings.Join(lines[1:], "\n")),
	}
}

func crlSeeds(t *testing.T) map[string][]byte {
	root := testpki.NewCA(t, "Root")
	_, der := root.CRL(t, testpki.CRLSpec{Revoked: []*big.Int{big.NewInt(1), big.NewInt(2)}})
	_, empty := root.CRL(t, testpki.CRLSpec{Number: 2})
	_, other := testpki.NewCA(t, "Root").CRL(t, testpki.CRLSpec{})
	p := testpki.CRLPEM(der)
	return map[string][]byte{
		"der":           der,
		"pem":           p,
		"two":           testpki.Bundle(p, testpki.CRLPEM(empty)),
		"wrong-key":     testpki.CRLPEM(other),
		"certificate":   root.CertPEM,
		"certificate-d": root.Cert.Raw,
		"garbage":       []byte("not a crl"),
		"truncated":     der[:len(der)/2],
		"trailing":      append(append([]byte{}, der...), 1, 2),
		"labelled-cert": pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: root.Cert.Raw}),
		"fake-key":      []byte("-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"),
		"empty":         {},
		"number":        []byte(fmt.Sprint(12345)),
	}
}
