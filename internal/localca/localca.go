// Package localca is trustgate's own certificate authority, created in the
// data directory at first start. It issues the default certificate of the
// execute-api endpoint and the certificates of ACM RequestCertificate. Its
// files are 0600; it never logs key material.
//
// Users trust it with curl --cacert {data-dir}/ca.pem.
package localca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// File names inside the data directory.
const (
	CAFile          = "ca.pem"
	CAKeyFile       = "ca-key.pem"
	DefaultCertFile = "default.pem"
	DefaultKeyFile  = "default-key.pem"
)

// Validity of what the CA issues.
const (
	caValidity   = 10 * 365 * 24 * time.Hour
	leafValidity = 397 * 24 * time.Hour
	renewBefore  = 30 * 24 * time.Hour
)

// CA is the local certificate authority. It is safe for concurrent use.
type CA struct {
	dir  string
	cert *x509.Certificate
	key  crypto.Signer
	pem  []byte
	mu   sync.Mutex // serialises serial numbers and file writes
}

// LoadOrCreate opens the CA in dir, creating the directory (0700) and a new
// CA on first use.
func LoadOrCreate(dir string) (*CA, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating data dir %s: %w", dir, err)
	}
	certPath, keyPath := filepath.Join(dir, CAFile), filepath.Join(dir, CAKeyFile)
	certPEM, err := os.ReadFile(certPath)
	if errors.Is(err, fs.ErrNotExist) {
		return create(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("reading local CA %s: %w", certPath, err)
	}
	keyPEM, err := readPrivate(keyPath)
	if err != nil {
		return nil, err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("loading local CA from %s: %w", dir, err)
	}
	signer, ok := pair.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("loading local CA from %s: key cannot sign", dir)
	}
	return &CA{dir: dir, cert: pair.Leaf, key: signer, pem: certPEM}, nil
}

// readPrivate reads a key file and refuses one that others can read.
func readPrivate(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("refusing %s: mode %o lets others read a private key; chmod 600 it", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return b, nil
}

func create(dir string) (*CA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating local CA key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          randSerial(),
		Subject:               pkix.Name{CommonName: "trustgate local CA", Organization: []string{"trustgate"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(caValidity),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("creating local CA certificate: %w", err)
	}
	cert, _ := x509.ParseCertificate(der)
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM, err := encodeKey(key)
	if err != nil {
		return nil, err
	}
	// Key first: a crash between the two writes leaves no certificate
	// without its key, and the next start simply creates a new CA.
	if err := writePrivate(filepath.Join(dir, CAKeyFile), keyPEM); err != nil {
		return nil, err
	}
	if err := writeFile(filepath.Join(dir, CAFile), certPEM, 0o600); err != nil {
		return nil, err
	}
	return &CA{dir: dir, cert: cert, key: key, pem: certPEM}, nil
}

// CertificatePEM is the CA certificate, for clients to trust.
func (ca *CA) CertificatePEM() []byte { return slices.Clone(ca.pem) }

// Certificate is the parsed CA certificate.
func (ca *CA) Certificate() *x509.Certificate { return ca.cert }

// Issue makes a server certificate for names (the first is the common name)
// with a fresh ECDSA P-256 key. chainPEM is the CA certificate.
func (ca *CA) Issue(names []string) (certPEM, keyPEM, chainPEM []byte, err error) {
	if len(names) == 0 {
		return nil, nil, nil, errors.New("issuing certificate: no names")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("generating key: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          randSerial(),
		Subject:               pkix.Name{CommonName: names[0]},
		DNSNames:              names,
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(leafValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	if tmpl.NotAfter.After(ca.cert.NotAfter) {
		tmpl.NotAfter = ca.cert.NotAfter
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("issuing certificate for %s: %w", names[0], err)
	}
	keyPEM, err = encodeKey(key)
	if err != nil {
		return nil, nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), keyPEM, ca.CertificatePEM(), nil
}

// DefaultCertificate returns the certificate of the default endpoint,
// *.execute-api.{region}.{publicDomain}, issuing and saving a new one when
// there is none, when it names other hosts, or when it expires within 30 days.
func (ca *CA) DefaultCertificate(region, publicDomain string) (tls.Certificate, error) {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	name := "*.execute-api." + region + "." + publicDomain
	certPath, keyPath := filepath.Join(ca.dir, DefaultCertFile), filepath.Join(ca.dir, DefaultKeyFile)
	if certPEM, err := os.ReadFile(certPath); err == nil {
		if keyPEM, err := readPrivate(keyPath); err == nil {
			if pair, err := tls.X509KeyPair(certPEM, keyPEM); err == nil && ca.fits(pair.Leaf, name) {
				return pair, nil
			}
		}
	}
	certPEM, keyPEM, chainPEM, err := ca.Issue([]string{name})
	if err != nil {
		return tls.Certificate{}, err
	}
	full := append(certPEM, chainPEM...)
	if err := writePrivate(keyPath, keyPEM); err != nil {
		return tls.Certificate{}, err
	}
	if err := writeFile(certPath, full, 0o600); err != nil {
		return tls.Certificate{}, err
	}
	return tls.X509KeyPair(full, keyPEM)
}

func (ca *CA) fits(leaf *x509.Certificate, name string) bool {
	if leaf == nil || time.Until(leaf.NotAfter) < renewBefore {
		return false
	}
	if !slices.Contains(leaf.DNSNames, name) {
		return false
	}
	return leaf.CheckSignatureFrom(ca.cert) == nil
}

func encodeKey(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encoding key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

func writePrivate(path string, b []byte) error { return writeFile(path, b, 0o600) }

// writeFile writes atomically: a temp file with the final mode, then rename.
func writeFile(path string, b []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

func randSerial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return n.Add(n, big.NewInt(1))
}
