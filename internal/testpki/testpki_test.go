package testpki

import (
	"crypto/x509"
	"testing"
)

func TestChainVerifies(t *testing.T) {
	root := NewCA(t, "Root")
	inter := root.Intermediate(t, "Inter")
	leaf := inter.Leaf(t, Client("partner"))
	inters := x509.NewCertPool()
	for _, c := range leaf.Chain {
		inters.AddCert(c)
	}
	_, err := leaf.Cert.Verify(x509.VerifyOptions{Roots: root.Pool(), Intermediates: inters, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if got := len(leaf.TLSCertificate().Certificate); got != 2 {
		t.Fatalf("tls chain length = %d, want 2", got)
	}
}

func TestSHA1Signature(t *testing.T) {
	root := NewCA(t, "Root", WithKey(RSA2048))
	leaf := root.Leaf(t, WithKey(RSA2048), WithSigAlg(x509.SHA1WithRSA))
	if leaf.Cert.SignatureAlgorithm != x509.SHA1WithRSA {
		t.Fatalf("sigalg = %v", leaf.Cert.SignatureAlgorithm)
	}
}
