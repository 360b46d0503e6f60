// Package testpki builds throwaway certificate authorities and certificates in
// memory for tests. Nothing here touches the disk and no key is ever checked in.
//
// A typical test builds root -> intermediate -> leaf:
//
//	root := testpki.NewCA(t, "Partner Root")
//	inter := root.Intermediate(t, "Partner Issuing CA")
//	leaf := inter.Leaf(t, testpki.Client("partner-1"))
//
// Options change one property of a certificate each (key type, validity,
// signature algorithm, key usage), so a test states exactly what is odd about
// the certificate it needs.
package testpki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"sync/atomic"
	"testing"
	"time"
)

// KeyType names the key algorithm of a generated certificate.
type KeyType string

// Key types a test can ask for.
const (
	ECDSAP256 KeyType = "ecdsa-p256"
	ECDSAP224 KeyType = "ecdsa-p224"
	ECDSAP384 KeyType = "ecdsa-p384"
	RSA1024   KeyType = "rsa-1024"
	RSA2048   KeyType = "rsa-2048"
	RSA4096   KeyType = "rsa-4096"
)

// Spec describes one certificate. Options fill it in.
type Spec struct {
	CommonName   string
	Organization string
	DNSNames     []string
	IPAddresses  []net.IP
	KeyType      KeyType
	NotBefore    time.Time
	NotAfter     time.Time
	SigAlg       x509.SignatureAlgorithm
	ExtKeyUsage  []x509.ExtKeyUsage
	NoEKU        bool
	IsCA         bool
	MaxPathLen   int
	Serial       *big.Int
}

// Option changes one property of a Spec.
type Option func(*Spec)

// Client makes a client-authentication leaf with the given common name.
func Client(cn string) Option {
	return func(s *Spec) {
		s.CommonName = cn
		s.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	}
}

// Server makes a server leaf for the given DNS names; the first is the common name.
func Server(names ...string) Option {
	return func(s *Spec) {
		if len(names) > 0 {
			s.CommonName = names[0]
		}
		s.DNSNames = append(s.DNSNames, names...)
		s.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
	}
}

// WithKey sets the key type.
func WithKey(k KeyType) Option { return func(s *Spec) { s.KeyType = k } }

// WithValidity sets notBefore and notAfter.
func WithValidity(notBefore, notAfter time.Time) Option {
	return func(s *Spec) { s.NotBefore, s.NotAfter = notBefore, notAfter }
}

// Expired makes a certificate that expired an hour ago.
func Expired() Option {
	return WithValidity(time.Now().Add(-48*time.Hour), time.Now().Add(-time.Hour))
}

// NotYetValid makes a certificate that becomes valid tomorrow.
func NotYetValid() Option {
	return WithValidity(time.Now().Add(24*time.Hour), time.Now().Add(48*time.Hour))
}

// WithSigAlg sets the signature algorithm the issuer signs with.
func WithSigAlg(a x509.SignatureAlgorithm) Option { return func(s *Spec) { s.SigAlg = a } }

// WithEKU sets the extended key usages.
func WithEKU(eku ...x509.ExtKeyUsage) Option {
	return func(s *Spec) { s.ExtKeyUsage = eku; s.NoEKU = len(eku) == 0 }
}

// WithOrganization sets the subject's O.
func WithOrganization(o string) Option { return func(s *Spec) { s.Organization = o } }

// WithSerial sets the serial number.
func WithSerial(n int64) Option { return func(s *Spec) { s.Serial = big.NewInt(n) } }

// WithMaxPathLen sets a CA's path length constraint: the most intermediates
// that may follow it (0: it may issue only leaves).
func WithMaxPathLen(n int) Option { return func(s *Spec) { s.MaxPathLen = n } }

// WithIPs adds IP SANs.
func WithIPs(ips ...net.IP) Option {
	return func(s *Spec) { s.IPAddresses = append(s.IPAddresses, ips...) }
}

// CA is a certificate authority that can issue certificates.
type CA struct {
	Cert    *x509.Certificate
	Key     crypto.Signer
	CertPEM []byte
	KeyPEM  []byte
	// Chain holds the CA's own issuers, nearest first, excluding the root.
	Chain []*x509.Certificate
	// Parent is the issuing CA, nil for a root.
	Parent *CA
}

// Leaf is an end-entity certificate with its key.
type Leaf struct {
	Cert    *x509.Certificate
	Key     crypto.Signer
	CertPEM []byte
	KeyPEM  []byte
	// Chain holds the issuing intermediates, nearest first, excluding the root.
	Chain []*x509.Certificate
}

var serial atomic.Int64

func init() { serial.Store(time.Now().UnixNano()) }

// NewCA makes a self-signed root CA.
func NewCA(tb testing.TB, cn string, opts ...Option) *CA {
	tb.Helper()
	spec := Spec{CommonName: cn, IsCA: true, MaxPathLen: -1, KeyType: ECDSAP256}
	for _, o := range opts {
		o(&spec)
	}
	spec.IsCA = true
	key := newKey(tb, spec.KeyType)
	cert, der := sign(tb, &spec, key.Public(), nil, key)
	return &CA{Cert: cert, Key: key, CertPEM: pemCert(der), KeyPEM: pemKey(tb, key)}
}

// Intermediate issues a subordinate CA.
func (ca *CA) Intermediate(tb testing.TB, cn string, opts ...Option) *CA {
	tb.Helper()
	spec := Spec{CommonName: cn, IsCA: true, MaxPathLen: -1, KeyType: ECDSAP256}
	for _, o := range opts {
		o(&spec)
	}
	spec.IsCA = true
	key := newKey(tb, spec.KeyType)
	cert, der := sign(tb, &spec, key.Public(), ca.Cert, ca.Key)
	chain := append([]*x509.Certificate{}, ca.Chain...)
	if ca.Parent != nil {
		chain = append([]*x509.Certificate{ca.Cert}, chain...)
	}
	return &CA{Cert: cert, Key: key, CertPEM: pemCert(der), KeyPEM: pemKey(tb, key), Chain: chain, Parent: ca}
}

// Leaf issues an end-entity certificate. Without options it is an ECDSA P-256
// client certificate named "leaf", valid from an hour ago for a day.
func (ca *CA) Leaf(tb testing.TB, opts ...Option) *Leaf {
	tb.Helper()
	spec := Spec{CommonName: "leaf", KeyType: ECDSAP256, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	for _, o := range opts {
		o(&spec)
	}
	key := newKey(tb, spec.KeyType)
	cert, der := sign(tb, &spec, key.Public(), ca.Cert, ca.Key)
	var chain []*x509.Certificate
	if ca.Parent != nil {
		chain = append([]*x509.Certificate{ca.Cert}, ca.Chain...)
	}
	return &Leaf{Cert: cert, Key: key, CertPEM: pemCert(der), KeyPEM: pemKey(tb, key), Chain: chain}
}

// SelfSigned makes a self-signed end-entity certificate (not a CA).
func SelfSigned(tb testing.TB, opts ...Option) *Leaf {
	tb.Helper()
	spec := Spec{CommonName: "self-signed", KeyType: ECDSAP256, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	for _, o := range opts {
		o(&spec)
	}
	key := newKey(tb, spec.KeyType)
	cert, der := sign(tb, &spec, key.Public(), nil, key)
	return &Leaf{Cert: cert, Key: key, CertPEM: pemCert(der), KeyPEM: pemKey(tb, key)}
}

// TLSCertificate returns the leaf with its chain for a tls.Config.
func (l *Leaf) TLSCertificate() tls.Certificate {
	c := tls.Certificate{Certificate: [][]byte{l.Cert.Raw}, PrivateKey: l.Key, Leaf: l.Cert}
	for _, ic := range l.Chain {
		c.Certificate = append(c.Certificate, ic.Raw)
	}
	return c
}

// ChainPEM returns the issuing intermediates as concatenated PEM.
func (l *Leaf) ChainPEM() []byte {
	var out []byte
	for _, c := range l.Chain {
		out = append(out, pemCert(c.Raw)...)
	}
	return out
}

// FullPEM returns the leaf followed by its intermediates.
func (l *Leaf) FullPEM() []byte { return append(append([]byte{}, l.CertPEM...), l.ChainPEM()...) }

// Pool returns a pool holding this CA.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.Cert)
	return p
}

// Bundle concatenates PEM blocks into one truststore-style bundle.
func Bundle(pems ...[]byte) []byte {
	var out []byte
	for _, p := range pems {
		out = append(out, p...)
	}
	return out
}

func newKey(tb testing.TB, k KeyType) crypto.Signer {
	tb.Helper()
	var (
		key crypto.Signer
		err error
	)
	switch k {
	case ECDSAP256, "":
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case ECDSAP224:
		key, err = ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	case ECDSAP384:
		key, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case RSA1024:
		key, err = rsa.GenerateKey(rand.Reader, 1024)
	case RSA2048:
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	case RSA4096:
		key, err = rsa.GenerateKey(rand.Reader, 4096)
	default:
		tb.Fatalf("testpki: unknown key type %q", k)
	}
	if err != nil {
		tb.Fatalf("testpki: generating %s key: %v", k, err)
	}
	return key
}

func sign(tb testing.TB, spec *Spec, pub crypto.PublicKey, parent *x509.Certificate, parentKey crypto.Signer) (*x509.Certificate, []byte) {
	tb.Helper()
	if spec.NotBefore.IsZero() {
		spec.NotBefore = time.Now().Add(-time.Hour)
	}
	if spec.NotAfter.IsZero() {
		if spec.IsCA {
			spec.NotAfter = time.Now().Add(365 * 24 * time.Hour)
		} else {
			spec.NotAfter = time.Now().Add(24 * time.Hour)
		}
	}
	sn := spec.Serial
	if sn == nil {
		sn = big.NewInt(serial.Add(1))
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		tb.Fatalf("testpki: marshal public key: %v", err)
	}
	ski := sha256.Sum256(pubDER)
	tmpl := &x509.Certificate{
		SerialNumber:       sn,
		Subject:            pkix.Name{CommonName: spec.CommonName},
		NotBefore:          spec.NotBefore,
		NotAfter:           spec.NotAfter,
		DNSNames:           spec.DNSNames,
		IPAddresses:        spec.IPAddresses,
		SignatureAlgorithm: spec.SigAlg,
		SubjectKeyId:       ski[:20],
	}
	if spec.Organization != "" {
		tmpl.Subject.Organization = []string{spec.Organization}
	}
	if spec.IsCA {
		tmpl.IsCA = true
		tmpl.BasicConstraintsValid = true
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
		if spec.MaxPathLen >= 0 {
			tmpl.MaxPathLen = spec.MaxPathLen
			tmpl.MaxPathLenZero = spec.MaxPathLen == 0
		}
		// A CA has no extended key usage unless a test asks for one
		// (an EKU on a CA restricts what it may issue).
		if !spec.NoEKU {
			tmpl.ExtKeyUsage = spec.ExtKeyUsage
		}
	} else {
		tmpl.BasicConstraintsValid = true
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature
		if _, ok := pub.(*rsa.PublicKey); ok {
			tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
		}
		if !spec.NoEKU {
			tmpl.ExtKeyUsage = spec.ExtKeyUsage
		}
	}
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, parentKey)
	if err != nil {
		tb.Fatalf("testpki: creating certificate %q: %v", spec.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatalf("testpki: parsing certificate %q: %v", spec.CommonName, err)
	}
	return cert, der
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func pemKey(tb testing.TB, key crypto.Signer) []byte {
	tb.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatalf("testpki: marshal key: %v", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// CRLSpec describes a certificate revocation list. Zero fields get defaults.
type CRLSpec struct {
	// Revoked lists the revoked serial numbers.
	Revoked []*big.Int
	// ThisUpdate defaults to an hour ago, NextUpdate to a day after ThisUpdate.
	ThisUpdate, NextUpdate time.Time
	// Number defaults to 1.
	Number int64
	// SigAlg defaults to the CA key's usual algorithm.
	SigAlg x509.SignatureAlgorithm
}

// CRL issues a revocation list signed by the CA and returns it parsed and as
// DER. Revocation times are ThisUpdate.
func (ca *CA) CRL(tb testing.TB, spec CRLSpec) (*x509.RevocationList, []byte) {
	tb.Helper()
	if spec.ThisUpdate.IsZero() {
		spec.ThisUpdate = time.Now().Add(-time.Hour)
	}
	if spec.NextUpdate.IsZero() {
		spec.NextUpdate = spec.ThisUpdate.Add(24 * time.Hour)
	}
	if spec.Number == 0 {
		spec.Number = 1
	}
	tmpl := &x509.RevocationList{
		Number:             big.NewInt(spec.Number),
		ThisUpdate:         spec.ThisUpdate,
		NextUpdate:         spec.NextUpdate,
		SignatureAlgorithm: spec.SigAlg,
	}
	for _, sn := range spec.Revoked {
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries,
			x509.RevocationListEntry{SerialNumber: sn, RevocationTime: spec.ThisUpdate})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, ca.Cert, ca.Key)
	if err != nil {
		tb.Fatalf("testpki: creating CRL of %q: %v", ca.Cert.Subject.CommonName, err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		tb.Fatalf("testpki: parsing CRL: %v", err)
	}
	return crl, der
}

// CRLPEM encodes a DER CRL as an "X509 CRL" PEM block.
func CRLPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})
}
