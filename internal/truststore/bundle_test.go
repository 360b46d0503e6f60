package truststore

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"trustgate/internal/testpki"
)

func pemOf(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

func mustParse(t *testing.T, data []byte) *Bundle {
	t.Helper()
	b, err := Parse(data)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return b
}

func codes(ws []Warning) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.Code)
	}
	return out
}

// years is a validity that raises no time warning around now.
func years() testpki.Option {
	return testpki.WithValidity(time.Now().Add(-time.Hour), time.Now().Add(5*365*24*time.Hour))
}

func TestParseErrors(t *testing.T) {
	root := testpki.NewCA(t, "Root")
	leaf := root.Leaf(t)
	good := root.CertPEM

	damagedB64 := bytes.Replace(good, []byte("\n"), []byte("\n!!"), 3)
	lines := strings.Split(string(good), "\n")
	truncatedDER := strings.Join(append(lines[:3:3], lines[len(lines)-2:]...), "\n") // whole base64 lines missing
	cut := slices.Clone(lines)
	cut[2] = cut[2][:len(cut[2])-1] // base64 cut mid-quantum
	truncatedB64 := strings.Join(cut, "\n")
	noEnd := []byte(strings.Join(lines[:len(lines)-2], "\n") + "\n")

	var many []byte
	for range MaxCertificates + 1 {
		many = append(many, good...)
	}
	garbageCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("not a certificate")})

	tests := []struct {
		name     string
		data     []byte
		code     string
		contains string
	}{
		{"empty", nil, CodeEmpty, "empty"},
		{"whitespace", []byte(" \n\t\r\n"), CodeEmpty, "empty"},
		{"too large", bytes.Repeat([]byte("A"), MaxBundleBytes+1), CodeTooLarge, "1048577 bytes"},
		{"not PEM", []byte("hello, this is not a certificate\n"), CodeNotPEM, "not PEM"},
		{"DER certificate", root.Cert.Raw, CodeNotPEM, "DER"},
		{"private key", testpki.Bundle(good, leaf.KeyPEM), CodePrivateKey, "private key (PEM block 2, line"},
		{"private key alone", leaf.KeyPEM, CodePrivateKey, "private key"},
		{"damaged private key", []byte("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n"), CodePrivateKey, "private key"},
		{"CRL block", testpki.Bundle(good, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: []byte{1, 2}})), CodeNotCertificate, `"X509 CRL" PEM block`},
		{"odd block type", []byte("-----BEGIN weird<script>-----\nAAAA\n-----END weird<script>-----\n"), CodeNotCertificate, "unrecognised type"},
		{"trusted certificate", pem.EncodeToMemory(&pem.Block{Type: "TRUSTED CERTIFICATE", Bytes: root.Cert.Raw}), CodeNotCertificate, "openssl x509"},
		{"damaged base64", damagedB64, CodeMalformedPEM, "damaged PEM block (PEM block 1, line 1)"},
		{"truncated base64", []byte(truncatedB64), CodeMalformedPEM, "damaged"},
		{"truncated certificate", []byte(truncatedDER), CodeNoCertificate, "failed to parse"},
		{"missing END", testpki.Bundle(noEnd, good), CodeMalformedPEM, "PEM block 1"},
		{"too many certificates", many, CodeTooManyCertificates, "more than 1000"},
		{"only a broken certificate", garbageCert, CodeNoCertificate, "failed to parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Parse(tt.data)
			if err == nil {
				t.Fatalf("Parse succeeded with %d certificates, want error %s", len(b.Certs), tt.code)
			}
			var be *BundleError
			if !errors.As(err, &be) {
				t.Fatalf("error %T %v is not a *BundleError", err, err)
			}
			if !errors.Is(err, ErrInvalidBundle) {
				t.Errorf("errors.Is(err, ErrInvalidBundle) = false")
			}
			if be.Code != tt.code {
				t.Errorf("code = %q, want %q (message %q)", be.Code, tt.code, be.Message)
			}
			if !strings.Contains(be.Message, tt.contains) {
				t.Errorf("message %q does not contain %q", be.Message, tt.contains)
			}
			assertNoEcho(t, be.Message, tt.data)
		})
	}
}

// assertNoEcho fails if msg contains a run of the input's base64 payload or a
// block type it should not quote.
func assertNoEcho(t *testing.T, msg string, data []byte) {
	t.Helper()
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if len(line) >= 16 && !strings.HasPrefix(line, "-----") && strings.Contains(msg, line[:16]) {
			t.Fatalf("message %q echoes input %q", msg, line[:16])
		}
	}
	if strings.Contains(msg, "<script>") {
		t.Fatalf("message %q echoes an unsafe block type", msg)
	}
}

func TestInspectReportsEveryError(t *testing.T) {
	root := testpki.NewCA(t, "Root")
	leaf := root.Leaf(t)
	data := testpki.Bundle(root.CertPEM, leaf.KeyPEM, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: []byte{1}}))
	b, errs := Inspect(data)
	if b == nil || len(b.Certs) != 1 {
		t.Fatalf("Inspect bundle = %+v, want the one certificate", b)
	}
	var got []string
	for _, e := range errs {
		got = append(got, e.Code)
	}
	if want := []string{CodePrivateKey, CodeNotCertificate}; !slices.Equal(got, want) {
		t.Fatalf("codes = %v, want %v", got, want)
	}
	if _, err := Parse(data); err == nil || err.(*BundleError).Code != CodePrivateKey {
		t.Fatalf("Parse error = %v, want the first problem (private key)", err)
	}
}

func TestParseAcceptsTextAroundBlocks(t *testing.T) {
	root := testpki.NewCA(t, "Root", years())
	inter := root.Intermediate(t, "Inter", years())
	data := testpki.Bundle([]byte("subject=CN = Root\nissuer=CN = Root\n"), root.CertPEM,
		[]byte("\x00\x01 garbage between blocks \xff\n"), bytes.ReplaceAll(inter.CertPEM, []byte("\n"), []byte("\r\n")))
	b := mustParse(t, data)
	if len(b.Certs) != 2 {
		t.Fatalf("got %d certificates, want 2", len(b.Certs))
	}
	ws := b.Warnings(time.Now())
	if got := codes(ws); !slices.Equal(got, []string{WarnNonPEMData}) {
		t.Fatalf("warnings = %v, want [non_pem_data]", ws)
	}
	if !strings.Contains(ws[0].Message, "first on line 1") || ws[0].Index != -1 {
		t.Errorf("warning = %+v", ws[0])
	}
}

func TestParseLongLine(t *testing.T) {
	root := testpki.NewCA(t, "Root", years())
	// A single 1,000,000-byte line before a valid block.
	data := append(bytes.Repeat([]byte("x"), 1_000_000), '\n')
	data = append(data, root.CertPEM...)
	b := mustParse(t, data)
	if len(b.Certs) != 1 || b.Certs[0].Subject.CommonName != "Root" {
		t.Fatalf("certs = %v", b.Certs)
	}
	// A base64 body on one line is still PEM.
	one := "-----BEGIN CERTIFICATE-----\n" + strings.ReplaceAll(strings.Split(string(root.CertPEM), "-----")[2], "\n", "") + "\n-----END CERTIFICATE-----\n"
	if b := mustParse(t, []byte(one)); len(b.Certs) != 1 {
		t.Fatalf("one-line body: %d certificates", len(b.Certs))
	}
	// A 1 MB line that is the only content is not PEM.
	if _, err := Parse(bytes.Repeat([]byte("y"), 1_000_000)); err == nil || err.(*BundleError).Code != CodeNotPEM {
		t.Fatalf("err = %v, want not_pem", err)
	}
}

func TestParsePositions(t *testing.T) {
	root := testpki.NewCA(t, "Root", years())
	inter := root.Intermediate(t, "Inter", years())
	b := mustParse(t, testpki.Bundle([]byte("# comment\n"), root.CertPEM, inter.CertPEM))
	if blk, line := b.Position(0); blk != 1 || line != 2 {
		t.Errorf("Position(0) = %d, %d, want 1, 2", blk, line)
	}
	rootLines := bytes.Count(root.CertPEM, []byte("\n"))
	if blk, line := b.Position(1); blk != 2 || line != 2+rootLines {
		t.Errorf("Position(1) = %d, %d, want 2, %d", blk, line, 2+rootLines)
	}
	if !b.SelfSigned(0) || b.SelfSigned(1) {
		t.Errorf("SelfSigned = %v, %v", b.SelfSigned(0), b.SelfSigned(1))
	}
	if got, want := b.EarliestExpiry(), root.Cert.NotAfter; !got.Equal(want) && !got.Equal(inter.Cert.NotAfter) {
		t.Errorf("EarliestExpiry = %v", got)
	}
	if b.Pool() == nil {
		t.Errorf("Pool() = nil")
	}
}

// withCriticalExtension issues a CA certificate carrying an unknown critical
// extension, which crypto/x509 refuses in any chain.
func withCriticalExtension(t *testing.T, parent *testpki.CA, cn string) *x509.Certificate {
	t.Helper()
	key := testpki.NewCA(t, "throwaway").Key
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(4242), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(5 * 365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 2, 3, 4, 5}, Critical: true, Value: []byte{5, 0}}},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent.Cert, key.Public(), parent.Key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestWarnings(t *testing.T) {
	now := time.Now()
	type tc struct {
		name    string
		bundle  func(t *testing.T) []byte
		want    []string // warning codes, in order
		subject string   // subject of the first warning
		message string   // substring of the first warning's message
	}
	tests := []tc{
		{"clean chain", func(t *testing.T) []byte {
			root := testpki.NewCA(t, "Root", years())
			return testpki.Bundle(root.CertPEM, root.Intermediate(t, "Inter", years()).CertPEM)
		}, nil, "", ""},
		{"self-signed client certificate", func(t *testing.T) []byte {
			return testpki.SelfSigned(t, testpki.Client("partner-1"), years()).CertPEM
		}, nil, "", ""},
		{"expired", func(t *testing.T) []byte {
			return testpki.NewCA(t, "Old Root", testpki.WithValidity(now.Add(-48*time.Hour), now.Add(-time.Hour))).CertPEM
		}, []string{WarnExpired}, "CN=Old Root", `Certificate "CN=Old Root" expired on`},
		{"not yet valid", func(t *testing.T) []byte {
			return testpki.NewCA(t, "Future Root", testpki.WithValidity(now.Add(time.Hour), now.Add(48*time.Hour))).CertPEM
		}, []string{WarnNotYetValid}, "CN=Future Root", "is not valid until"},
		{"expires within 30 days", func(t *testing.T) []byte {
			return testpki.NewCA(t, "Soon Root", testpki.WithValidity(now.Add(-time.Hour), now.Add(10*24*time.Hour+time.Hour))).CertPEM
		}, []string{WarnExpiresSoon}, "CN=Soon Root", "(in 10 days)"},
		{"expires in 31 days is fine", func(t *testing.T) []byte {
			return testpki.NewCA(t, "Later Root", testpki.WithValidity(now.Add(-time.Hour), now.Add(31*24*time.Hour))).CertPEM
		}, nil, "", ""},
		{"RSA 1024", func(t *testing.T) []byte {
			return testpki.NewCA(t, "Small Root", years(), testpki.WithKey(testpki.RSA1024)).CertPEM
		}, []string{WarnWeakKey}, "CN=Small Root", "weak key (RSA 1024-bit)"},
		{"ECDSA P-224", func(t *testing.T) []byte {
			return testpki.NewCA(t, "Small Curve", years(), testpki.WithKey(testpki.ECDSAP224)).CertPEM
		}, []string{WarnWeakKey}, "CN=Small Curve", "ECDSA P-224"},
		{"SHA-1 self-signed root", func(t *testing.T) []byte {
			return testpki.NewCA(t, "SHA1 Root", years(), testpki.WithKey(testpki.RSA2048), testpki.WithSigAlg(x509.SHA1WithRSA)).CertPEM
		}, []string{WarnWeakSignature}, "CN=SHA1 Root", "self-signed with an insecure algorithm (SHA1-RSA)"},
		{"SHA-1 intermediate", func(t *testing.T) []byte {
			root := testpki.NewCA(t, "Root", years(), testpki.WithKey(testpki.RSA2048))
			inter := root.Intermediate(t, "SHA1 Inter", years(), testpki.WithSigAlg(x509.SHA1WithRSA))
			return testpki.Bundle(root.CertPEM, inter.CertPEM)
		}, []string{WarnWeakSignature}, "CN=SHA1 Inter", "is signed with an insecure algorithm"},
		{"intermediate without its issuer", func(t *testing.T) []byte {
			return testpki.NewCA(t, "Missing Root", years()).Intermediate(t, "Orphan", years()).CertPEM
		}, []string{WarnMissingIssuer}, "CN=Orphan", `issuer "CN=Missing Root" is not in the truststore`},
		{"intermediate whose named issuer did not sign it", func(t *testing.T) []byte {
			real := testpki.NewCA(t, "Root", years())
			impostor := testpki.NewCA(t, "Root", years())
			return testpki.Bundle(impostor.CertPEM, real.Intermediate(t, "Inter", years()).CertPEM)
		}, []string{WarnMissingIssuer}, "CN=Inter", "no certificate of that name in the truststore signed it"},
		{"non-CA certificate that is not self-signed", func(t *testing.T) []byte {
			root := testpki.NewCA(t, "Root", years())
			return testpki.Bundle(root.CertPEM, root.Leaf(t, testpki.Client("partner-2"), years()).CertPEM)
		}, []string{WarnNotCA}, "CN=partner-2", "neither a CA nor self-signed"},
		{"duplicate subject", func(t *testing.T) []byte {
			return testpki.Bundle(testpki.NewCA(t, "Twin", years()).CertPEM, testpki.NewCA(t, "Twin", years()).CertPEM)
		}, []string{WarnDuplicateSubject}, "CN=Twin", "same subject as certificate 1 (PEM block 1)"},
		{"duplicate certificate", func(t *testing.T) []byte {
			root := testpki.NewCA(t, "Root", years())
			return testpki.Bundle(root.CertPEM, root.CertPEM)
		}, []string{WarnDuplicateCertificate}, "CN=Root", "appears more than once in the truststore (PEM blocks 1 and 2)"},
		{"certificate with trailing data", func(t *testing.T) []byte {
			root := testpki.NewCA(t, "Root", years())
			bad := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: append(append([]byte{}, root.Cert.Raw...), 0, 0)})
			return testpki.Bundle(bad, root.CertPEM)
		}, []string{WarnMalformedCertificate}, "", "PEM block 1, line 1 is not a valid X.509 certificate (x509: trailing data)"},
		{"unsupported critical extension", func(t *testing.T) []byte {
			root := testpki.NewCA(t, "Root", years())
			return testpki.Bundle(root.CertPEM, pemOf(withCriticalExtension(t, root, "Critical CA")))
		}, []string{WarnUnsupportedCritical}, "CN=Critical CA", "1.2.3.4.5"},
		{"chain longer than the limit", func(t *testing.T) []byte {
			root := testpki.NewCA(t, "Root", years())
			i1 := root.Intermediate(t, "I1", years())
			i2 := i1.Intermediate(t, "I2", years())
			i3 := i2.Intermediate(t, "I3", years())
			i4 := i3.Intermediate(t, "I4", years())
			return testpki.Bundle(i4.CertPEM, root.CertPEM, i1.CertPEM, i2.CertPEM, i3.CertPEM)
		}, []string{WarnChainTooLong}, "CN=I4", `Certificate "CN=I4" is CA number 5 in its chain from root "CN=Root"`},
		{"several problems, in bundle order", func(t *testing.T) []byte {
			root := testpki.NewCA(t, "Root", years(), testpki.WithKey(testpki.RSA1024))
			junk := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("junk")})
			orphan := testpki.NewCA(t, "Elsewhere", years()).Intermediate(t, "Orphan", testpki.WithValidity(now.Add(-48*time.Hour), now.Add(-time.Hour)))
			return testpki.Bundle(root.CertPEM, junk, orphan.CertPEM, []byte("trailing text"))
		}, []string{WarnWeakKey, WarnMalformedCertificate, WarnExpired, WarnMissingIssuer, WarnNonPEMData}, "CN=Root", "RSA 1024"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := mustParse(t, tt.bundle(t))
			ws := b.Warnings(now)
			if got := codes(ws); !slices.Equal(got, tt.want) {
				t.Fatalf("warning codes = %v, want %v\n%v", got, tt.want, Messages(ws))
			}
			if len(ws) == 0 {
				return
			}
			if ws[0].Subject != tt.subject {
				t.Errorf("subject = %q, want %q", ws[0].Subject, tt.subject)
			}
			if !strings.Contains(ws[0].Message, tt.message) {
				t.Errorf("message %q does not contain %q", ws[0].Message, tt.message)
			}
			for _, w := range ws {
				if w.String() != w.Message || !strings.HasSuffix(w.Message, ".") {
					t.Errorf("warning %+v: String() must be the full sentence", w)
				}
				if w.Subject != "" && !strings.Contains(w.Message, w.Subject) {
					t.Errorf("message %q does not name subject %q", w.Message, w.Subject)
				}
			}
			if again := b.Warnings(now); !slices.Equal(again, ws) {
				t.Errorf("Warnings is not deterministic: %v then %v", ws, again)
			}
		})
	}
}

func TestWarningsAreAsOfNow(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	root := testpki.NewCA(t, "Root", testpki.WithValidity(t0, t0.Add(90*24*time.Hour)))
	b := mustParse(t, root.CertPEM)
	steps := []struct {
		at   time.Time
		want []string
	}{
		{t0.Add(-time.Hour), []string{WarnNotYetValid}},
		{t0.Add(24 * time.Hour), nil},
		{t0.Add(70 * 24 * time.Hour), []string{WarnExpiresSoon}},
		{t0.Add(91 * 24 * time.Hour), []string{WarnExpired}},
	}
	for _, s := range steps {
		if got := codes(b.Warnings(s.at)); !slices.Equal(got, s.want) {
			t.Errorf("Warnings(%v) = %v, want %v", s.at, got, s.want)
		}
	}
}

func TestParseManyCertificatesIsBounded(t *testing.T) {
	// A thousand certificates with one subject, all signed by one key, so
	// each could be the issuer of every other one.
	key := testpki.NewCA(t, "Twin").Key
	var data []byte
	for i := range MaxCertificates {
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(int64(i + 1)), Subject: pkix.Name{CommonName: "Twin"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(5 * 365 * 24 * time.Hour),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
		if err != nil {
			t.Fatal(err)
		}
		data = append(data, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	if len(data) > MaxBundleBytes {
		t.Fatalf("bundle is %d bytes", len(data))
	}
	start := time.Now()
	b := mustParse(t, data)
	ws := b.Warnings(time.Now())
	if len(b.Certs) != MaxCertificates || len(ws) != MaxCertificates-1 {
		t.Fatalf("%d certificates, %d warnings", len(b.Certs), len(ws))
	}
	t.Logf("parsed %d certificates in %v", len(b.Certs), time.Since(start))
}

func TestInspectCapsErrors(t *testing.T) {
	data := bytes.Repeat([]byte("-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----\n"), 10000)
	_, errs := Inspect(data)
	if len(errs) != maxErrors+2 || !strings.Contains(errs[maxErrors].Message, "more problems") || errs[maxErrors+1].Code != CodeNoCertificate {
		t.Fatalf("%d errors, last %v", len(errs), errs[len(errs)-1])
	}
}
