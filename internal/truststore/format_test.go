package truststore

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"math/big"
	"testing"
	"time"

	"trustgate/internal/testpki"
)

var (
	oidCN    = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidO     = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidC     = asn1.ObjectIdentifier{2, 5, 4, 6}
	oidDC    = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}
	oidEmail = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}
)

// certWithSubject issues a certificate whose subject has exactly the given
// RDNs, in that order, the way `openssl req -subj` would encode them.
func certWithSubject(t *testing.T, rdns pkix.RDNSequence) *x509.Certificate {
	t.Helper()
	raw, err := asn1.Marshal(rdns)
	if err != nil {
		t.Fatal(err)
	}
	ca := testpki.NewCA(t, "Root")
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), RawSubject: raw, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, ca.Key.Public(), ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func rdn(oid asn1.ObjectIdentifier, v any) pkix.RelativeDistinguishedNameSET {
	return pkix.RelativeDistinguishedNameSET{{Type: oid, Value: v}}
}

func TestDNString(t *testing.T) {
	tests := []struct {
		name string
		rdns pkix.RDNSequence
		want string
	}{
		{"openssl -subj /CN=partner-1/O=Partner Ltd", pkix.RDNSequence{rdn(oidCN, "partner-1"), rdn(oidO, "Partner Ltd")}, "O=Partner Ltd,CN=partner-1"},
		{"conventional order", pkix.RDNSequence{rdn(oidC, "US"), rdn(oidO, "Partner Ltd"), rdn(oidCN, "partner-1")}, "CN=partner-1,O=Partner Ltd,C=US"},
		{"special characters", pkix.RDNSequence{rdn(oidCN, `a,b+c"d\e<f>g;h=i`)}, `CN=a\,b\+c\"d\\e\<f\>g\;h=i`},
		{"leading hash and spaces", pkix.RDNSequence{rdn(oidCN, "# x ")}, `CN=\# x\ `},
		{"control characters", pkix.RDNSequence{rdn(oidCN, "evil\ninjected\x00")}, `CN=evil\0Ainjected\00`},
		{"domain components", pkix.RDNSequence{rdn(oidDC, "com"), rdn(oidDC, "example"), rdn(oidCN, "svc")}, "CN=svc,DC=example,DC=com"},
		{"unknown attribute as hex", pkix.RDNSequence{rdn(oidEmail, "a@b.c"), rdn(oidCN, "x")}, "CN=x,1.2.840.113549.1.9.1=#0c056140622e63"},
		{"unicode", pkix.RDNSequence{rdn(oidCN, "Zürich Ütility")}, "CN=Zürich Ütility"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := certWithSubject(t, tt.rdns)
			if got := DNString(c.Subject); got != tt.want {
				t.Errorf("DNString = %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("constructed name", func(t *testing.T) {
		n := pkix.Name{CommonName: "x", Organization: []string{"o"}, Country: []string{"DE"}}
		if got, want := DNString(n), "CN=x,O=o,C=DE"; got != want {
			t.Errorf("DNString = %q, want %q", got, want)
		}
	})
	t.Run("invalid UTF-8", func(t *testing.T) {
		n := pkix.Name{Names: []pkix.AttributeTypeAndValue{{Type: oidCN, Value: "a\xffb"}}}
		if got, want := DNString(n), `CN=a\FFb`; got != want {
			t.Errorf("DNString = %q, want %q", got, want)
		}
	})
	t.Run("empty", func(t *testing.T) {
		if got := DNString(pkix.Name{}); got != "" {
			t.Errorf("DNString = %q", got)
		}
	})
}

func TestSerialHex(t *testing.T) {
	for _, tt := range []struct {
		n    *big.Int
		want string
	}{
		{nil, ""},
		{big.NewInt(0), "00"},
		{big.NewInt(1), "01"},
		{big.NewInt(256), "01:00"},
		{big.NewInt(0xa1b2c3), "a1:b2:c3"},
		{big.NewInt(-1), "-01"},
		{new(big.Int).SetBytes([]byte{0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1, 0xa1}), "a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1:a1"},
	} {
		if got := SerialHex(tt.n); got != tt.want {
			t.Errorf("SerialHex(%v) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestOpenSSLTime(t *testing.T) {
	for _, tt := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2019, 5, 28, 12, 30, 2, 0, time.UTC), "May 28 12:30:02 2019 GMT"},
		{time.Date(2021, 8, 5, 9, 36, 4, 0, time.UTC), "Aug  5 09:36:04 2021 GMT"},
		{time.Date(2021, 8, 5, 11, 36, 4, 0, time.FixedZone("CEST", 2*3600)), "Aug  5 09:36:04 2021 GMT"},
	} {
		if got := OpenSSLTime(tt.t); got != tt.want {
			t.Errorf("OpenSSLTime(%v) = %q, want %q", tt.t, got, tt.want)
		}
	}
}

func TestFingerprint(t *testing.T) {
	c := testpki.NewCA(t, "Root").Cert
	sum := sha256.Sum256(c.Raw)
	if got := Fingerprint(c); got != hex.EncodeToString(sum[:]) {
		t.Errorf("Fingerprint = %s", got)
	}
}

func TestLabelIsBounded(t *testing.T) {
	long := make([]byte, 1000)
	for i := range long {
		long[i] = 'a'
	}
	c := certWithSubject(t, pkix.RDNSequence{rdn(oidCN, string(long))})
	if l := label(c); len(l) > maxLabel+5 {
		t.Errorf("label is %d bytes", len(l))
	}
	empty := certWithSubject(t, pkix.RDNSequence{})
	if got := label(empty); got != "with empty subject and serial 01" {
		t.Errorf("label = %q", got)
	}
}
