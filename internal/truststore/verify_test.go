package truststore

import (
	"crypto/x509"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"trustgate/internal/testpki"
)

// clientChain is what a client sends: its certificate, then intermediates.
func clientChain(l *testpki.Leaf, extra ...*x509.Certificate) []*x509.Certificate {
	return append(append([]*x509.Certificate{l.Cert}, l.Chain...), extra...)
}

func TestVerify(t *testing.T) {
	now := time.Now()
	past := testpki.WithValidity(now.Add(-48*time.Hour), now.Add(-time.Hour))
	future := testpki.WithValidity(now.Add(time.Hour), now.Add(48*time.Hour))

	type setup struct {
		bundle []byte
		chain  []*x509.Certificate
	}
	tests := []struct {
		name    string
		setup   func(t *testing.T) setup
		reason  Reason
		subject string // CN of Verdict.Cert
		message string // substring of Verdict.Message
	}{
		{"leaf issued by the root", func(t *testing.T) setup {
			root := testpki.NewCA(t, "Root")
			return setup{root.CertPEM, clientChain(root.Leaf(t, testpki.Client("partner-1")))}
		}, ReasonTrusted, "", `Client certificate "CN=partner-1" is trusted: it chains to truststore certificate "CN=Root".`},
		{"intermediate sent by the client", func(t *testing.T) setup {
			root := testpki.NewCA(t, "Root")
			return setup{root.CertPEM, clientChain(root.Intermediate(t, "Inter").Leaf(t))}
		}, ReasonTrusted, "", "trusted"},
		{"intermediate in the truststore anchors trust", func(t *testing.T) setup {
			inter := testpki.NewCA(t, "Root").Intermediate(t, "Inter")
			return setup{inter.CertPEM, []*x509.Certificate{inter.Leaf(t).Cert}}
		}, ReasonTrusted, "", `truststore certificate "CN=Inter"`},
		{"self-signed client certificate in the truststore", func(t *testing.T) setup {
			self := testpki.SelfSigned(t, testpki.Client("partner-1"))
			return setup{self.CertPEM, []*x509.Certificate{self.Cert}}
		}, ReasonTrusted, "", "it is in the truststore"},
		{"junk intermediates are ignored", func(t *testing.T) setup {
			root := testpki.NewCA(t, "Root")
			inter := root.Intermediate(t, "Inter")
			leaf := inter.Leaf(t)
			other := testpki.NewCA(t, "Other")
			return setup{root.CertPEM, []*x509.Certificate{leaf.Cert, nil, other.Cert, leaf.Cert, {}, inter.Cert, other.Leaf(t).Cert}}
		}, ReasonTrusted, "", "trusted"},
		{"no extended key usage", func(t *testing.T) setup {
			root := testpki.NewCA(t, "Root")
			return setup{root.CertPEM, clientChain(root.Leaf(t, testpki.WithEKU()))}
		}, ReasonTrusted, "", "trusted"},
		{"any extended key usage", func(t *testing.T) setup {
			root := testpki.NewCA(t, "Root")
			return setup{root.CertPEM, clientChain(root.Leaf(t, testpki.WithEKU(x509.ExtKeyUsageAny)))}
		}, ReasonTrusted, "", "trusted"},
		{"three intermediates", func(t *testing.T) setup {
			root := testpki.NewCA(t, "Root")
			return setup{root.CertPEM, clientChain(root.Intermediate(t, "I1").Intermediate(t, "I2").Intermediate(t, "I3").Leaf(t))}
		}, ReasonTrusted, "", "trusted"},
		{"mix of strong RSA and ECDSA keys", func(t *testing.T) setup {
			root := testpki.NewCA(t, "Root", testpki.WithKey(testpki.RSA2048))
			inter := root.Intermediate(t, "Inter", testpki.WithKey(testpki.ECDSAP384))
			return setup{root.CertPEM, clientChain(inter.Leaf(t, testpki.WithKey(testpki.RSA2048)))}
		}, ReasonTrusted, "", "trusted"},

		{"no certificate", func(t *testing.T) setup {
			return setup{testpki.NewCA(t, "Root").CertPEM, nil}
		}, ReasonNoCertificate, "", "sent no certificate"},
		{"nil leaf", func(t *testing.T) setup {
			return setup{testpki.NewCA(t, "Root").CertPEM, []*x509.Certificate{nil}}
		}, ReasonNoCertificate, "", "sent no certificate"},
		{"unparsed certificate", func(t *testing.T) setup {
			return setup{testpki.NewCA(t, "Root").CertPEM, []*x509.Certificate{{}}}
		}, ReasonMalformed, "", "not a parsed"},
		{"unknown issuer", func(t *testing.T) setup {
			other := testpki.NewCA(t, "Other CA")
			return setup{testpki.NewCA(t, "Root").CertPEM, clientChain(other.Leaf(t, testpki.Client("stranger")))}
		}, ReasonUnknownIssuer, "stranger", `Client certificate "CN=stranger" was issued by "CN=Other CA", which is not in the truststore.`},
		{"intermediate not sent and not in the truststore", func(t *testing.T) setup {
			root := testpki.NewCA(t, "Root")
			leaf := root.Intermediate(t, "Inter").Leaf(t)
			return setup{root.CertPEM, []*x509.Certificate{leaf.Cert}}
		}, ReasonUnknownIssuer, "leaf", `issued by "CN=Inter", which is not in the truststore`},
		{"chain ends below an unknown root", func(t *testing.T) setup {
			other := testpki.NewCA(t, "Other Root")
			return setup{testpki.NewCA(t, "Root").CertPEM, clientChain(other.Intermediate(t, "Other Inter").Leaf(t))}
		}, ReasonUnknownIssuer, "Other Inter", `ends at "CN=Other Inter", which was issued by "CN=Other Root"`},
		{"issuer name in the truststore but another key", func(t *testing.T) setup {
			impostor := testpki.NewCA(t, "Root")
			return setup{testpki.NewCA(t, "Root").CertPEM, clientChain(impostor.Leaf(t))}
		}, ReasonUnknownIssuer, "leaf", "was not signed by the truststore certificate of that name"},
		{"self-signed, not in the truststore", func(t *testing.T) setup {
			return setup{testpki.NewCA(t, "Root").CertPEM, clientChain(testpki.SelfSigned(t, testpki.Client("selfie")))}
		}, ReasonSelfSigned, "selfie", `Client certificate "CN=selfie" is self-signed and is not in the truststore.`},
		{"expired leaf", func(t *testing.T) setup {
			root := testpki.NewCA(t, "Root")
			return setup{root.CertPEM, clientChain(root.Leaf(t, past))}
		}, ReasonExpired, "leaf", `Client certificate "CN=leaf" expired at`},
		{"leaf not yet valid", func(t *testing.T) setup {
			root := testpki.NewCA(t, "Root")
			return setup{root.CertPEM, clientChain(root.Leaf(t, future))}
		}, ReasonNotYetValid, "leaf", "is not valid until"},
		{"expired intermediate sent by the client", func(t *testing.T) setup {
			root := testpki.NewCA(t, "Root")
			return setup{root.CertPEM, clientChain(root.Intermediate(t, "Old Inter", past).Leaf(t))}
		}, ReasonExpired, "Old Inter", `Intermediate certificate "CN=Old Inter" expired at`},
		{"expired intermediate in the truststore", func(t *testing.T) setup {
			root := testpki.NewCA(t, "Root")
			inter := root.Intermediate(t, "Old Inter", past)
			return setup{testpki.Bundle(root.CertPEM, inter.CertPEM), clientChain(inter.Leaf(t))}
		}, ReasonExpired, "Old Inter", `Truststore certificate "CN=Old Inter" expired at`},
		{"expired root", func(t *testing.T) setup {
			root := testpki.NewCA(t, "Old Root", past)
			return setup{root.CertPEM, clientChain(root.Leaf(t))}
		}, ReasonExpired, "Old Root", "Truststore certificate"},
		{"intermediate not yet valid", func(t *testing.T) setup {
			root := testpki.NewCA(t, "Root")
			return setup{root.CertPEM, clientChain(root.Intermediate(t, "New Inter", future).Leaf(t))}
		}, ReasonNotYetValid, "New Inter", "not valid until"},
		{"weak leaf key", func(t *testing.T) setup {
			root := testpki.NewCA(t, "Root")
			return setup{root.CertPEM, clientChain(root.Leaf(t, testpki.WithKey(testpki.RSA1024)))}
		}, ReasonWeakKey, "leaf", "weak key (RSA 1024-bit)"},
		{"weak intermediate key", func(t *testing.T) setup {
			root := testpki.NewCA(t, "Root")
			return setup{root.CertPEM, clientChain(root.Intermediate(t, "Small Inter", testpki.WithKey(testpki.ECDSAP224)).Leaf(t))}
		}, ReasonWeakKey, "Small Inter", "ECDSA P-224"},
		{"weak root key", func(t *testing.T) setup {
			root := testpki.NewCA(t, "Small Root", testpki.WithKey(testpki.RSA1024))
			return setup{root.CertPEM, clientChain(root.Leaf(t))}
		}, ReasonWeakKey, "Small Root", `Truststore certificate "CN=Small Root" has a weak key`},
		{"SHA-1 leaf", func(t *testing.T) setup {
			root := testpki.NewCA(t, "Root", testpki.WithKey(testpki.RSA2048))
			return setup{root.CertPEM, clientChain(root.Leaf(t, testpki.WithSigAlg(x509.SHA1WithRSA)))}
		}, ReasonWeakSignature, "leaf", "insecure algorithm (SHA1-RSA)"},
		{"SHA-1 intermediate", func(t *testing.T) setup {
			root := testpki.NewCA(t, "Root", testpki.WithKey(testpki.RSA2048))
			inter := root.Intermediate(t, "SHA1 Inter", testpki.WithSigAlg(x509.SHA1WithRSA))
			return setup{root.CertPEM, clientChain(inter.Leaf(t))}
		}, ReasonWeakSignature, "SHA1 Inter", `Intermediate certificate "CN=SHA1 Inter" is signed with an insecure algorithm`},
		{"SHA-1 intermediate in the truststore", func(t *testing.T) setup {
			root := testpki.NewCA(t, "Root", testpki.WithKey(testpki.RSA2048))
			inter := root.Intermediate(t, "SHA1 Inter", testpki.WithSigAlg(x509.SHA1WithRSA))
			return setup{inter.CertPEM, []*x509.Certificate{inter.Leaf(t).Cert}}
		}, ReasonWeakSignature, "SHA1 Inter", "Truststore certificate"},
		{"SHA-1 self-signed root", func(t *testing.T) setup {
			root := testpki.NewCA(t, "SHA1 Root", testpki.WithKey(testpki.RSA2048), testpki.WithSigAlg(x509.SHA1WithRSA))
			return setup{root.CertPEM, clientChain(root.Leaf(t))}
		}, ReasonWeakSignature, "SHA1 Root", "insecure algorithm"},
		{"four intermediates", func(t *testing.T) setup {
			root := testpki.NewCA(t, "Root")
			return setup{root.CertPEM, clientChain(root.Intermediate(t, "I1").Intermediate(t, "I2").Intermediate(t, "I3").Intermediate(t, "I4").Leaf(t))}
		}, ReasonDepthExceeded, "leaf", "has 5 CA certificates above it; the limit is 4"},
		{"server certificate", func(t *testing.T) setup {
			root := testpki.NewCA(t, "Root")
			return setup{root.CertPEM, clientChain(root.Leaf(t, testpki.Server("www.example.com")))}
		}, ReasonBadEKU, "www.example.com", "not valid for client authentication (extended key usage: serverAuth)"},
		{"intermediate restricted to server auth", func(t *testing.T) setup {
			root := testpki.NewCA(t, "Root")
			inter := root.Intermediate(t, "TLS Server CA", testpki.WithEKU(x509.ExtKeyUsageServerAuth))
			return setup{root.CertPEM, clientChain(inter.Leaf(t))}
		}, ReasonBadEKU, "leaf", "client authentication"},
		{"path length constraint", func(t *testing.T) setup {
			root := testpki.NewCA(t, "Root", testpki.WithMaxPathLen(0))
			return setup{root.CertPEM, clientChain(root.Intermediate(t, "Inter").Leaf(t))}
		}, ReasonInvalidChain, "Root", "path length"},
		{"issuer is not a CA", func(t *testing.T) setup {
			root := testpki.NewCA(t, "Root")
			partner := root.Leaf(t, testpki.Client("partner"))
			fake := &testpki.CA{Cert: partner.Cert, Key: partner.Key}
			return setup{testpki.Bundle(root.CertPEM, partner.CertPEM), clientChain(fake.Leaf(t, testpki.Client("sub")))}
		}, ReasonInvalidChain, "partner", `Truststore certificate "CN=partner" is not a CA certificate`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.setup(t)
			b := mustParse(t, s.bundle)
			v := b.Verify(s.chain, VerifyOptions{At: now})
			// The second time may be answered from the chain cache.
			if again := b.Verify(s.chain, VerifyOptions{At: now}); again.Reason != v.Reason || again.Message != v.Message {
				t.Errorf("second verification = %v, first = %v", again, v)
			}
			if v.Reason != tt.reason {
				t.Fatalf("reason = %q, want %q (%s)", v.Reason, tt.reason, v.Message)
			}
			if v.Trusted != (tt.reason == ReasonTrusted) {
				t.Errorf("Trusted = %v with reason %q", v.Trusted, v.Reason)
			}
			if !strings.Contains(v.Message, tt.message) {
				t.Errorf("message %q does not contain %q", v.Message, tt.message)
			}
			if !strings.HasSuffix(v.Message, ".") {
				t.Errorf("message %q is not a sentence", v.Message)
			}
			if tt.subject != "" {
				if v.Cert == nil || v.Cert.Subject.CommonName != tt.subject {
					t.Errorf("Cert = %v, want CN=%s", v.Cert, tt.subject)
				}
			}
			if len(s.chain) > 0 && v.Leaf != s.chain[0] {
				t.Errorf("Leaf = %v, want the client certificate", v.Leaf)
			}
			if v.Trusted {
				if len(v.Chain) == 0 || v.Chain[0] != s.chain[0] || !b.contains(v.Chain[len(v.Chain)-1]) {
					t.Errorf("Chain = %v, want leaf ... truststore certificate", v.Chain)
				}
				if v.String() != "trusted" {
					t.Errorf("String() = %q", v.String())
				}
			} else if want := "rejected: " + string(v.Reason) + ": " + v.Message; v.String() != want {
				t.Errorf("String() = %q, want %q", v.String(), want)
			}
		})
	}
}

func TestVerifyCriticalExtension(t *testing.T) {
	root := testpki.NewCA(t, "Root")
	crit := withCriticalExtension(t, root, "Critical CA")
	// A chain through a CA with an unsupported critical extension: the
	// extension's key is thrown away, so use the CA certificate itself as a
	// client certificate anchored in the truststore.
	b := mustParse(t, testpki.Bundle(root.CertPEM))
	v := b.Verify([]*x509.Certificate{crit}, VerifyOptions{})
	if v.Reason != ReasonMalformed || !strings.Contains(v.Message, "1.2.3.4.5") {
		t.Fatalf("verdict = %v", v)
	}
}

func TestVerifyZeroTimeIsNow(t *testing.T) {
	root := testpki.NewCA(t, "Root")
	b := mustParse(t, root.CertPEM)
	if v := b.Verify(clientChain(root.Leaf(t)), VerifyOptions{}); !v.Trusted {
		t.Fatalf("verdict = %v", v)
	}
	if v := b.Verify(clientChain(root.Leaf(t, testpki.Expired())), VerifyOptions{}); v.Reason != ReasonExpired {
		t.Fatalf("verdict = %v", v)
	}
}

func TestVerifyNilBundle(t *testing.T) {
	var b *Bundle
	leaf := testpki.NewCA(t, "Root").Leaf(t)
	if v := b.Verify(clientChain(leaf), VerifyOptions{}); v.Trusted || v.Reason != ReasonUnknownIssuer {
		t.Fatalf("verdict = %v", v)
	}
}

func TestVerifyConcurrent(t *testing.T) {
	root := testpki.NewCA(t, "Root")
	inter := root.Intermediate(t, "Inter")
	good := clientChain(inter.Leaf(t))
	bad := clientChain(testpki.NewCA(t, "Other").Leaf(t))
	b := mustParse(t, testpki.Bundle(root.CertPEM, inter.CertPEM))
	crl, _ := root.CRL(t, testpki.CRLSpec{Revoked: []*big.Int{big.NewInt(1)}})
	interCRL, _ := inter.CRL(t, testpki.CRLSpec{})
	set, _ := b.NewCRLSet([]*x509.RevocationList{crl, interCRL}, time.Now())
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 20 {
				if v := b.Verify(good, VerifyOptions{CRLs: set}); !v.Trusted {
					t.Errorf("worker %d: %v", i, v)
				}
				if v := b.Verify(bad, VerifyOptions{}); v.Trusted {
					t.Errorf("worker %d: trusted a stranger", i)
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkVerify(b *testing.B) {
	root := testpki.NewCA(b, "Root")
	inter := root.Intermediate(b, "Inter")
	chain := clientChain(inter.Leaf(b))
	bundle, err := Parse(root.CertPEM)
	if err != nil {
		b.Fatal(err)
	}
	at := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if v := bundle.Verify(chain, VerifyOptions{At: at}); !v.Trusted {
			b.Fatal(v)
		}
	}
}

// BenchmarkVerifyUncached measures the full crypto/x509 path, as for a
// client's first connection.
func BenchmarkVerifyUncached(b *testing.B) {
	root := testpki.NewCA(b, "Root")
	inter := root.Intermediate(b, "Inter")
	chain := clientChain(inter.Leaf(b))
	bundle, err := Parse(root.CertPEM)
	if err != nil {
		b.Fatal(err)
	}
	bundle.cache = nil
	at := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if v := bundle.Verify(chain, VerifyOptions{At: at}); !v.Trusted {
			b.Fatal(v)
		}
	}
}

func TestVerifyCacheRechecksValidity(t *testing.T) {
	t0 := time.Now()
	root := testpki.NewCA(t, "Root")
	inter := root.Intermediate(t, "Inter", testpki.WithValidity(t0.Add(-time.Hour), t0.Add(time.Hour)))
	leaf := inter.Leaf(t, testpki.WithValidity(t0.Add(-time.Hour), t0.Add(48*time.Hour)))
	b := mustParse(t, root.CertPEM)
	chain := clientChain(leaf)
	if v := b.Verify(chain, VerifyOptions{At: t0}); !v.Trusted {
		t.Fatalf("at t0: %v", v)
	}
	// Two hours later the cached chain's intermediate has expired.
	if v := b.Verify(chain, VerifyOptions{At: t0.Add(2 * time.Hour)}); v.Reason != ReasonExpired || v.Cert.Subject.CommonName != "Inter" {
		t.Fatalf("at t0+2h: %v", v)
	}
	if v := b.Verify(chain, VerifyOptions{At: t0}); !v.Trusted || v.Leaf != leaf.Cert || v.Chain[0] != leaf.Cert {
		t.Fatalf("back at t0: %v", v)
	}
	// The verdict names this connection's leaf object, not the cached one.
	copyLeaf := *leaf.Cert
	if v := b.Verify([]*x509.Certificate{&copyLeaf, inter.Cert}, VerifyOptions{At: t0}); !v.Trusted || v.Chain[0] != &copyLeaf {
		t.Fatalf("copy: %v", v)
	}
}

func TestChainCacheIsBounded(t *testing.T) {
	c := newChainCache()
	for i := range 3 * chainCacheSize {
		var k [32]byte
		k[0], k[1] = byte(i), byte(i>>8)
		c.put(k, nil)
	}
	if n := c.gen.Load().n.Load(); n > chainCacheSize {
		t.Fatalf("generation holds %d entries", n)
	}
}

func BenchmarkVerifyRejected(b *testing.B) {
	root := testpki.NewCA(b, "Root")
	chain := clientChain(testpki.NewCA(b, "Other").Intermediate(b, "Inter").Leaf(b))
	bundle, err := Parse(root.CertPEM)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if v := bundle.Verify(chain, VerifyOptions{}); v.Reason != ReasonUnknownIssuer {
			b.Fatal(v)
		}
	}
}
