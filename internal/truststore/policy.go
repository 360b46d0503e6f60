package truststore

import (
	"crypto"
	"crypto/dsa" //nolint:staticcheck // only to recognise (and refuse) DSA keys
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
)

// Algorithm policy, the same for truststore warnings and client verification:
// RSA keys of at least 2048 bits, ECDSA on P-256 or a larger curve, or Ed25519;
// signatures with SHA-256 or stronger (MD5 and SHA-1 are refused).
const (
	minRSABits   = 2048
	minECDSABits = 256
)

// weakKey reports whether a public key is below the policy, with a short
// description of the key ("RSA 1024-bit").
func weakKey(c *x509.Certificate) (weak bool, desc string) {
	desc = KeyDescription(c)
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		return k.N.BitLen() < minRSABits, desc
	case *ecdsa.PublicKey:
		return k.Curve == nil || k.Curve.Params().BitSize < minECDSABits, desc
	case ed25519.PublicKey:
		return false, desc
	default:
		// DSA and keys Go cannot parse are not allowed.
		return true, desc
	}
}

func describeKey(pub crypto.PublicKey, algo x509.PublicKeyAlgorithm) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d-bit", k.N.BitLen())
	case *ecdsa.PublicKey:
		if k.Curve == nil {
			return "ECDSA (unknown curve)"
		}
		return "ECDSA " + k.Curve.Params().Name
	case ed25519.PublicKey:
		return "Ed25519"
	case *dsa.PublicKey:
		return fmt.Sprintf("DSA %d-bit", k.P.BitLen())
	default:
		if algo == x509.UnknownPublicKeyAlgorithm {
			return "unsupported key algorithm"
		}
		return "unsupported " + algo.String() + " key"
	}
}

// weakSignature reports whether a certificate's signature algorithm is below
// the policy: MD2, MD5 and SHA-1 hashes, DSA, and algorithms Go does not know.
func weakSignature(algo x509.SignatureAlgorithm) bool {
	switch algo {
	case x509.MD2WithRSA, x509.MD5WithRSA, x509.SHA1WithRSA,
		x509.DSAWithSHA1, x509.DSAWithSHA256, x509.ECDSAWithSHA1,
		x509.UnknownSignatureAlgorithm:
		return true
	}
	return false
}

// sigName names a signature algorithm for messages.
func sigName(algo x509.SignatureAlgorithm) string {
	if algo == x509.UnknownSignatureAlgorithm {
		return "unknown algorithm"
	}
	return algo.String()
}

// weakKeyAdvice and weakSigAdvice end the sentences that report a policy
// violation, so every message states the rule.
const (
	weakKeyAdvice = "RSA 2048-bit, ECDSA P-256 or stronger is required"
	weakSigAdvice = "SHA-256 or stronger is required"
)
