package acm

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strconv"
	"strings"
	"time"

	"trustgate/internal/model"
)

// ACM's limits on ImportCertificate blobs (the model's).
const (
	maxCertBytes  = 32768
	maxKeyBytes   = 5120
	maxChainBytes = 2097152
)

// material is a certificate, its chain and key, parsed and checked.
type material struct {
	leaf     *x509.Certificate
	leafPEM  string
	chainPEM string
	keyPEM   string
	keyAlg   string
}

// parseImport checks an ImportCertificate's blobs the way ACM does: one
// PEM certificate, an unencrypted RSA or EC key of a supported size that
// matches it, and a chain that issued it. Messages follow ACM's.
func parseImport(certBlob, keyBlob, chainBlob []byte) (*material, error) {
	switch {
	case len(certBlob) == 0:
		return nil, validation("1 validation error detected: Value null at 'certificate' failed to satisfy constraint: Member must not be null")
	case len(keyBlob) == 0:
		return nil, validation("1 validation error detected: Value null at 'privateKey' failed to satisfy constraint: Member must not be null")
	case len(certBlob) > maxCertBytes:
		return nil, validation("1 validation error detected: Value at 'certificate' failed to satisfy constraint: Member must have length less than or equal to %d", maxCertBytes)
	case len(keyBlob) > maxKeyBytes:
		return nil, validation("1 validation error detected: Value at 'privateKey' failed to satisfy constraint: Member must have length less than or equal to %d", maxKeyBytes)
	case len(chainBlob) > maxChainBytes:
		return nil, validation("1 validation error detected: Value at 'certificateChain' failed to satisfy constraint: Member must have length less than or equal to %d", maxChainBytes)
	}
	certs, err := parseCerts(certBlob)
	if err != nil || len(certs) == 0 {
		return nil, validation("Unable to parse certificate. Be sure that the certificate is in PEM format.")
	}
	if len(certs) > 1 {
		return nil, validation("The certificate field contains more than one certificate. You can specify only one certificate in this field.")
	}
	m := &material{leaf: certs[0], leafPEM: pemCerts(certs)}
	key, keyPEM, err := parseKey(keyBlob)
	if err != nil {
		return nil, err
	}
	m.keyPEM = keyPEM
	if m.keyAlg, err = keyAlgorithm(key.Public()); err != nil {
		return nil, err
	}
	pub, ok := m.leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(key.Public()) {
		return nil, validation("The private key does not match the public key in the certificate.")
	}
	if len(strings.TrimSpace(string(chainBlob))) > 0 {
		chain, err := parseCerts(chainBlob)
		if err != nil || len(chain) == 0 {
			return nil, validation("The certificate chain provided is not in a valid PEM format.")
		}
		issued := false
		for _, c := range chain {
			if m.leaf.CheckSignatureFrom(c) == nil {
				issued = true
				break
			}
		}
		if !issued {
			return nil, validation("Could not validate the certificate with the certificate chain.")
		}
		m.chainPEM = pemCerts(chain)
	}
	return m, nil
}

// parseCerts reads every PEM block; each must be a certificate.
func parseCerts(b []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %q is not a certificate", block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parsing certificate: %w", err)
		}
		out = append(out, c)
	}
	if len(strings.TrimSpace(string(b))) > 0 {
		return nil, fmt.Errorf("trailing data after PEM blocks")
	}
	return out, nil
}

func pemCerts(cs []*x509.Certificate) string {
	var b strings.Builder
	for _, c := range cs {
		b.Write(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
	}
	return b.String()
}

// parseKey reads the first private key block (PKCS#8, PKCS#1 or SEC 1).
func parseKey(b []byte) (crypto.Signer, string, error) {
	unsupported := validation("The private key is not supported.")
	for {
		var block *pem.Block
		block, b = pem.Decode(b)
		if block == nil {
			return nil, "", unsupported
		}
		if !strings.HasSuffix(block.Type, "PRIVATE KEY") {
			continue
		}
		if block.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED") {
			return nil, "", validation("Your private key should not be encrypted.")
		}
		var (
			key any
			err error
		)
		switch block.Type {
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(block.Bytes)
		default:
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		}
		if err != nil {
			return nil, "", unsupported
		}
		switch k := key.(type) {
		case *rsa.PrivateKey, *ecdsa.PrivateKey:
			return k.(crypto.Signer), string(pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: block.Bytes})), nil
		}
		return nil, "", unsupported
	}
}

// keyAlgorithm names a public key as ACM does, refusing sizes ACM refuses.
func keyAlgorithm(pub crypto.PublicKey) (string, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		switch n := k.N.BitLen(); n {
		case 1024, 2048, 3072, 4096:
			return "RSA_" + strconv.Itoa(n), nil
		}
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return "EC_prime256v1", nil
		case elliptic.P384():
			return "EC_secp384r1", nil
		case elliptic.P521():
			return "EC_secp521r1", nil
		}
	}
	return "", validation("The private key length isn't supported for key algorithm.")
}

// fill copies what DescribeCertificate shows from the parsed leaf.
func fill(c *model.Certificate, leaf *x509.Certificate) {
	c.DomainName = leaf.Subject.CommonName
	if c.DomainName == "" && len(leaf.DNSNames) > 0 {
		c.DomainName = leaf.DNSNames[0]
	}
	c.SANs = nil
	seen := map[string]bool{}
	for _, n := range append([]string{c.DomainName}, leaf.DNSNames...) {
		if n != "" && !seen[strings.ToLower(n)] {
			seen[strings.ToLower(n)] = true
			c.SANs = append(c.SANs, n)
		}
	}
	c.Subject = leaf.Subject.String()
	c.Issuer = leaf.Issuer.String()
	c.Serial = serialString(leaf)
	c.SignatureAlgorithm = signatureAlgorithm(leaf.SignatureAlgorithm)
	c.NotBefore = leaf.NotBefore.UTC()
	c.NotAfter = leaf.NotAfter.UTC()
}

func serialString(c *x509.Certificate) string {
	b := c.SerialNumber.Bytes()
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = fmt.Sprintf("%02x", x)
	}
	return strings.Join(parts, ":")
}

func signatureAlgorithm(a x509.SignatureAlgorithm) string {
	switch a {
	case x509.SHA1WithRSA:
		return "SHA1WITHRSA"
	case x509.SHA256WithRSA:
		return "SHA256WITHRSA"
	case x509.SHA384WithRSA:
		return "SHA384WITHRSA"
	case x509.SHA512WithRSA:
		return "SHA512WITHRSA"
	case x509.SHA256WithRSAPSS:
		return "SHA256WITHRSAANDMGF1"
	case x509.SHA384WithRSAPSS:
		return "SHA384WITHRSAANDMGF1"
	case x509.SHA512WithRSAPSS:
		return "SHA512WITHRSAANDMGF1"
	case x509.ECDSAWithSHA1:
		return "SHA1WITHECDSA"
	case x509.ECDSAWithSHA256:
		return "SHA256WITHECDSA"
	case x509.ECDSAWithSHA384:
		return "SHA384WITHECDSA"
	case x509.ECDSAWithSHA512:
		return "SHA512WITHECDSA"
	}
	return strings.ToUpper(a.String())
}

type name struct {
	Name string `json:"Name"`
}

type extendedKeyUsage struct {
	Name string `json:"Name"`
	OID  string `json:"OID,omitempty"`
}

var keyUsageNames = []struct {
	bit  x509.KeyUsage
	name string
}{
	{x509.KeyUsageDigitalSignature, "DIGITAL_SIGNATURE"}, {x509.KeyUsageContentCommitment, "NON_REPUDIATION"},
	{x509.KeyUsageKeyEncipherment, "KEY_ENCIPHERMENT"}, {x509.KeyUsageDataEncipherment, "DATA_ENCIPHERMENT"},
	{x509.KeyUsageKeyAgreement, "KEY_AGREEMENT"}, {x509.KeyUsageCertSign, "CERTIFICATE_SIGNING"},
	{x509.KeyUsageCRLSign, "CRL_SIGNING"}, {x509.KeyUsageEncipherOnly, "ENCIPHER_ONLY"},
	{x509.KeyUsageDecipherOnly, "DECIPHER_ONLY"},
}

var extKeyUsageNames = map[x509.ExtKeyUsage]extendedKeyUsage{
	x509.ExtKeyUsageServerAuth:      {"TLS_WEB_SERVER_AUTHENTICATION", "1.3.6.1.5.5.7.3.1"},
	x509.ExtKeyUsageClientAuth:      {"TLS_WEB_CLIENT_AUTHENTICATION", "1.3.6.1.5.5.7.3.2"},
	x509.ExtKeyUsageCodeSigning:     {"CODE_SIGNING", "1.3.6.1.5.5.7.3.3"},
	x509.ExtKeyUsageEmailProtection: {"EMAIL_PROTECTION", "1.3.6.1.5.5.7.3.4"},
	x509.ExtKeyUsageIPSECEndSystem:  {"IPSEC_END_SYSTEM", "1.3.6.1.5.5.7.3.5"},
	x509.ExtKeyUsageIPSECTunnel:     {"IPSEC_TUNNEL", "1.3.6.1.5.5.7.3.6"},
	x509.ExtKeyUsageIPSECUser:       {"IPSEC_USER", "1.3.6.1.5.5.7.3.7"},
	x509.ExtKeyUsageTimeStamping:    {"TIME_STAMPING", "1.3.6.1.5.5.7.3.8"},
	x509.ExtKeyUsageOCSPSigning:     {"OCSP_SIGNING", "1.3.6.1.5.5.7.3.9"},
	x509.ExtKeyUsageAny:             {"ANY", "2.5.29.37.0"},
}

func usages(leaf *x509.Certificate) ([]name, []extendedKeyUsage) {
	ku := []name{}
	for _, u := range keyUsageNames {
		if leaf.KeyUsage&u.bit != 0 {
			ku = append(ku, name{u.name})
		}
	}
	eku := []extendedKeyUsage{}
	for _, u := range leaf.ExtKeyUsage {
		if n, ok := extKeyUsageNames[u]; ok {
			eku = append(eku, n)
		}
	}
	for _, oid := range leaf.UnknownExtKeyUsage {
		eku = append(eku, extendedKeyUsage{"CUSTOM", oid.String()})
	}
	return ku, eku
}

// epoch is a JSON 1.1 timestamp: seconds since the epoch, fractional.
type epoch time.Time

// MarshalJSON implements json.Marshaler.
func (e epoch) MarshalJSON() ([]byte, error) {
	ms := time.Time(e).UnixMilli()
	return []byte(strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)), nil
}

func epochPtr(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	e := epoch(t)
	return &e
}

// status is ISSUED until the certificate expires.
func status(c model.Certificate, now time.Time) string {
	if !c.NotAfter.IsZero() && now.After(c.NotAfter) {
		return "EXPIRED"
	}
	if c.Status == "" {
		return "ISSUED"
	}
	return c.Status
}
