package truststore

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"math/big"
	"slices"
	"strings"
	"testing"
	"time"

	"trustgate/internal/testpki"
)

func TestParseCRL(t *testing.T) {
	root := testpki.NewCA(t, "Root")
	_, der := root.CRL(t, testpki.CRLSpec{Revoked: []*big.Int{big.NewInt(7)}})
	_, der2 := root.CRL(t, testpki.CRLSpec{Number: 2})
	leaf := root.Leaf(t)

	for _, tt := range []struct {
		name string
		data []byte
	}{
		{"DER", der},
		{"PEM", testpki.CRLPEM(der)},
		{"PEM with text around it", append(append([]byte("CRL of Root\n"), testpki.CRLPEM(der)...), "\ntrailer\n"...)},
		{"legacy CRL label", pem.EncodeToMemory(&pem.Block{Type: "CRL", Bytes: der})},
	} {
		t.Run(tt.name, func(t *testing.T) {
			crl, err := ParseCRL(tt.data)
			if err != nil {
				t.Fatalf("ParseCRL: %v", err)
			}
			if len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].SerialNumber.Int64() != 7 {
				t.Fatalf("entries = %v", crl.RevokedCertificateEntries)
			}
		})
	}

	two := testpki.Bundle(testpki.CRLPEM(der), testpki.CRLPEM(der2))
	if crls, err := ParseCRLs(two); err != nil || len(crls) != 2 {
		t.Fatalf("ParseCRLs = %d, %v; want 2 CRLs", len(crls), err)
	}

	lines := strings.Split(string(testpki.CRLPEM(der)), "\n")
	lines[1] = lines[1][:len(lines[1])-1]
	for _, tt := range []struct {
		name, code, contains string
		data                 []byte
	}{
		{"empty", CodeCRLEmpty, "empty", []byte("\n")},
		{"too large", CodeCRLTooLarge, "limit", make([]byte, MaxCRLBytes+1)},
		{"certificate as PEM", CodeCRLIsCertificate, "certificate (PEM block 1, line 1), not a CRL", root.CertPEM},
		{"certificate as DER", CodeCRLIsCertificate, "is a certificate, not a CRL", root.Cert.Raw},
		{"certificate labelled as CRL", CodeCRLIsCertificate, "labelled as a CRL", pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: root.Cert.Raw})},
		{"garbage", CodeCRLMalformed, "neither a PEM nor a DER CRL", []byte("this is not a CRL at all")},
		{"CRL with trailing data", CodeCRLMalformed, "cannot be parsed", testpki.CRLPEM(append(append([]byte{}, der...), 1, 2, 3))},
		{"private key", CodeCRLPrivateKey, "private key", leaf.KeyPEM},
		{"damaged PEM", CodeCRLMalformedBlock, "damaged", []byte(strings.Join(lines, "\n"))},
		{"other block", CodeCRLNotCRL, `"PUBLIC KEY" PEM block`, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1}})},
		{"two CRLs where one is expected", CodeCRLNotCRL, "holds 2 CRLs", two},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCRL(tt.data)
			var ce *CRLError
			if !errors.As(err, &ce) || !errors.Is(err, ErrInvalidCRL) {
				t.Fatalf("err = %v (%T), want *CRLError", err, err)
			}
			if ce.Code != tt.code || !strings.Contains(ce.Message, tt.contains) {
				t.Fatalf("error = %s %q, want %s containing %q", ce.Code, ce.Message, tt.code, tt.contains)
			}
			assertNoEcho(t, ce.Message, tt.data)
		})
	}
}

func TestCRLSetWarnings(t *testing.T) {
	now := time.Now()
	root := testpki.NewCA(t, "Root", years())
	inter := root.Intermediate(t, "Inter", years())
	b := mustParse(t, testpki.Bundle(root.CertPEM, inter.CertPEM))

	good, _ := root.CRL(t, testpki.CRLSpec{})
	interCRL, _ := inter.CRL(t, testpki.CRLSpec{})
	stranger, _ := testpki.NewCA(t, "Stranger").CRL(t, testpki.CRLSpec{})
	impostor, _ := testpki.NewCA(t, "Root").CRL(t, testpki.CRLSpec{})
	stale, _ := inter.CRL(t, testpki.CRLSpec{ThisUpdate: now.Add(-72 * time.Hour), NextUpdate: now.Add(-24 * time.Hour)})
	early, _ := inter.CRL(t, testpki.CRLSpec{ThisUpdate: now.Add(time.Hour)})

	tests := []struct {
		name    string
		crls    []*x509.RevocationList
		want    []string
		message string
		len     int
	}{
		{"complete", []*x509.RevocationList{good, interCRL}, nil, "", 2},
		{"CA without CRL", []*x509.RevocationList{good}, []string{WarnCRLMissing}, `CA certificate "CN=Inter" has no CRL`, 1},
		{"unknown issuer", []*x509.RevocationList{good, interCRL, stranger, nil}, []string{WarnCRLUnknownIssuer},
			`CRL 3, issued by "CN=Stranger", was ignored: no certificate in the truststore has that subject.`, 2},
		{"signed by the wrong key", []*x509.RevocationList{impostor, interCRL}, []string{WarnCRLBadSignature, WarnCRLMissing},
			`CRL 1, issued by "CN=Root", was ignored: its signature does not verify`, 1},
		{"expired", []*x509.RevocationList{good, stale}, []string{WarnCRLExpired}, `CRL 2, issued by "CN=Inter", expired on`, 2},
		{"dated in the future", []*x509.RevocationList{good, early}, []string{WarnCRLNotYetValid}, "dated in the future", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ws := b.NewCRLSet(tt.crls, now)
			if got := codes(ws); !slices.Equal(got, tt.want) {
				t.Fatalf("warnings = %v, want %v\n%v", got, tt.want, Messages(ws))
			}
			if s.Len() != tt.len {
				t.Errorf("Len = %d, want %d", s.Len(), tt.len)
			}
			if len(ws) > 0 && !strings.Contains(ws[0].Message, tt.message) {
				t.Errorf("message %q does not contain %q", ws[0].Message, tt.message)
			}
			if again := s.Warnings(now); !slices.Equal(again, ws) {
				t.Errorf("Warnings(now) = %v, want %v", again, ws)
			}
		})
	}
}

func TestCRLSetSHA1(t *testing.T) {
	root := testpki.NewCA(t, "RSA Root", testpki.WithKey(testpki.RSA2048))
	crl, _ := root.CRL(t, testpki.CRLSpec{SigAlg: x509.SHA1WithRSA, Revoked: []*big.Int{big.NewInt(99)}})
	b := mustParse(t, root.CertPEM)
	s, ws := b.NewCRLSet([]*x509.RevocationList{crl}, time.Now())
	if got := codes(ws); !slices.Equal(got, []string{WarnCRLWeakSignature}) || s.Len() != 1 {
		t.Fatalf("warnings = %v, len %d; want a weak-signature warning and the CRL kept", Messages(ws), s.Len())
	}
	leaf := root.Leaf(t, testpki.WithSerial(99))
	if v := b.Verify(clientChain(leaf), VerifyOptions{CRLs: s}); v.Reason != ReasonRevoked {
		t.Fatalf("verdict = %v", v)
	}
}

func TestVerifyRevocation(t *testing.T) {
	now := time.Now()
	type setup struct {
		bundle []byte
		crls   []*x509.RevocationList
		chain  []*x509.Certificate
	}
	tests := []struct {
		name    string
		setup   func(t *testing.T) setup
		soft    bool
		reason  Reason
		softFx  Reason
		subject string
		message string
	}{
		{"not revoked", func(t *testing.T) setup {
			root := testpki.NewCA(t, "Root")
			crl, _ := root.CRL(t, testpki.CRLSpec{Revoked: []*big.Int{big.NewInt(5)}})
			return setup{root.CertPEM, []*x509.RevocationList{crl}, clientChain(root.Leaf(t, testpki.WithSerial(6)))}
		}, false, ReasonTrusted, "", "", "trusted"},
		{"revoked leaf", func(t *testing.T) setup {
			root := testpki.NewCA(t, "Root")
			crl, _ := root.CRL(t, testpki.CRLSpec{Revoked: []*big.Int{big.NewInt(5)}})
			return setup{root.CertPEM, []*x509.RevocationList{crl}, clientChain(root.Leaf(t, testpki.WithSerial(5), testpki.Client("gone")))}
		}, false, ReasonRevoked, "", "gone", `Client certificate "CN=gone" (serial 05) was revoked by "CN=Root" on`},
		{"revoked leaf in soft mode", func(t *testing.T) setup {
			root := testpki.NewCA(t, "Root")
			crl, _ := root.CRL(t, testpki.CRLSpec{Revoked: []*big.Int{big.NewInt(5)}})
			return setup{root.CertPEM, []*x509.RevocationList{crl}, clientChain(root.Leaf(t, testpki.WithSerial(5)))}
		}, true, ReasonRevoked, "", "leaf", "revoked"},
		{"revoked by an expired CRL", func(t *testing.T) setup {
			root := testpki.NewCA(t, "Root")
			crl, _ := root.CRL(t, testpki.CRLSpec{Revoked: []*big.Int{big.NewInt(5)}, ThisUpdate: now.Add(-72 * time.Hour), NextUpdate: now.Add(-time.Hour)})
			return setup{root.CertPEM, []*x509.RevocationList{crl}, clientChain(root.Leaf(t, testpki.WithSerial(5)))}
		}, true, ReasonRevoked, "", "leaf", "revoked"},
		{"revoked intermediate sent by the client", func(t *testing.T) setup {
			root := testpki.NewCA(t, "Root")
			inter := root.Intermediate(t, "Bad Inter", testpki.WithSerial(77))
			crl, _ := root.CRL(t, testpki.CRLSpec{Revoked: []*big.Int{big.NewInt(77)}})
			return setup{root.CertPEM, []*x509.RevocationList{crl}, clientChain(inter.Leaf(t))}
		}, false, ReasonRevoked, "", "Bad Inter", `Intermediate certificate "CN=Bad Inter" (serial 4d) was revoked`},
		{"revoked intermediate in the truststore", func(t *testing.T) setup {
			root := testpki.NewCA(t, "Root")
			inter := root.Intermediate(t, "Bad Inter", testpki.WithSerial(77))
			crl, _ := root.CRL(t, testpki.CRLSpec{Revoked: []*big.Int{big.NewInt(77)}})
			interCRL, _ := inter.CRL(t, testpki.CRLSpec{})
			return setup{testpki.Bundle(root.CertPEM, inter.CertPEM), []*x509.RevocationList{crl, interCRL}, []*x509.Certificate{inter.Leaf(t).Cert}}
		}, false, ReasonRevoked, "", "Bad Inter", `Truststore certificate "CN=Bad Inter"`},
		{"CRL expired", func(t *testing.T) setup {
			root := testpki.NewCA(t, "Root")
			crl, _ := root.CRL(t, testpki.CRLSpec{ThisUpdate: now.Add(-72 * time.Hour), NextUpdate: now.Add(-time.Hour)})
			return setup{root.CertPEM, []*x509.RevocationList{crl}, clientChain(root.Leaf(t))}
		}, false, ReasonCRLExpired, "", "leaf", `The CRL from "CN=Root" expired at`},
		{"CRL expired, soft mode", func(t *testing.T) setup {
			root := testpki.NewCA(t, "Root")
			crl, _ := root.CRL(t, testpki.CRLSpec{ThisUpdate: now.Add(-72 * time.Hour), NextUpdate: now.Add(-time.Hour)})
			return setup{root.CertPEM, []*x509.RevocationList{crl}, clientChain(root.Leaf(t))}
		}, true, ReasonTrusted, ReasonCRLExpired, "leaf", "without a revocation check (soft CRL mode)"},
		{"a newer CRL replaces an expired one", func(t *testing.T) setup {
			root := testpki.NewCA(t, "Root")
			old, _ := root.CRL(t, testpki.CRLSpec{ThisUpdate: now.Add(-72 * time.Hour), NextUpdate: now.Add(-time.Hour)})
			cur, _ := root.CRL(t, testpki.CRLSpec{Number: 2})
			return setup{root.CertPEM, []*x509.RevocationList{old, cur}, clientChain(root.Leaf(t))}
		}, false, ReasonTrusted, "", "", "trusted"},
		{"no CRL for the issuer", func(t *testing.T) setup {
			root := testpki.NewCA(t, "Root")
			inter := root.Intermediate(t, "Inter")
			crl, _ := root.CRL(t, testpki.CRLSpec{})
			return setup{testpki.Bundle(root.CertPEM, inter.CertPEM), []*x509.RevocationList{crl}, []*x509.Certificate{inter.Leaf(t).Cert}}
		}, false, ReasonCRLUnavailable, "", "leaf", `No CRL from "CN=Inter" is loaded`},
		{"no CRL at all, soft mode", func(t *testing.T) setup {
			root := testpki.NewCA(t, "Root")
			return setup{root.CertPEM, []*x509.RevocationList{}, clientChain(root.Leaf(t))}
		}, true, ReasonTrusted, ReasonCRLUnavailable, "leaf", "soft CRL mode"},
		{"CRL signed by the wrong key does not count", func(t *testing.T) setup {
			root := testpki.NewCA(t, "Root")
			forged, _ := testpki.NewCA(t, "Root").CRL(t, testpki.CRLSpec{})
			return setup{root.CertPEM, []*x509.RevocationList{forged}, clientChain(root.Leaf(t))}
		}, false, ReasonCRLUnavailable, "", "leaf", "No CRL"},
		{"pinned self-signed certificate needs no CRL", func(t *testing.T) setup {
			self := testpki.SelfSigned(t, testpki.Client("pinned"))
			return setup{self.CertPEM, nil, []*x509.Certificate{self.Cert}}
		}, false, ReasonTrusted, "", "", "trusted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.setup(t)
			b := mustParse(t, s.bundle)
			set, _ := b.NewCRLSet(s.crls, now)
			v := b.Verify(s.chain, VerifyOptions{At: now, CRLs: set, SoftCRL: tt.soft})
			if v.Reason != tt.reason || v.SoftFailure != tt.softFx {
				t.Fatalf("verdict = %s / soft %q, want %s / soft %q (%s)", v.Reason, v.SoftFailure, tt.reason, tt.softFx, v.Message)
			}
			if !strings.Contains(v.Message, tt.message) {
				t.Errorf("message %q does not contain %q", v.Message, tt.message)
			}
			if tt.subject != "" && (v.Cert == nil || v.Cert.Subject.CommonName != tt.subject) {
				t.Errorf("Cert = %v, want CN=%s", v.Cert, tt.subject)
			}
			// Without a CRL set, revocation is not checked (AWS behaviour).
			if plain := b.Verify(s.chain, VerifyOptions{At: now}); !plain.Trusted {
				t.Errorf("without CRLs: %v", plain)
			}
		})
	}
}
