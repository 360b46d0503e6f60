package edge

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"sort"
	"strings"
	"time"

	"trustgate/internal/model"
	"trustgate/internal/truststore"
)

// alpn is offered on every tls.Config the edge returns.
var alpn = []string{"h2", "http/1.1"}

// tls12Suites are the TLS 1.2 suites of the TLS_1_2 policy: forward secret
// AEAD suites only. AWS also offers CBC and RSA key-exchange suites, which Go
// either lacks or considers insecure; they are not offered (DESIGN §5).
var tls12Suites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// tlsPolicy is a security policy compiled to version bounds and suites.
type tlsPolicy struct {
	min    uint16
	suites []uint16 // nil: Go's defaults for the versions allowed
	// note explains a departure from the policy as named, for the log.
	note string
}

// policyFor maps a security policy name to TLS settings:
//   - TLS_1_0: TLS 1.0 to 1.3, Go's default suites (which include the ECDHE
//     CBC suites old clients need); with mTLS it is raised to TLS_1_2, since
//     AWS refuses mTLS on TLS_1_0 and the management API should never have
//     stored it;
//   - TLS_1_2 and any other SecurityPolicy_TLS12* name: TLS 1.2 and 1.3;
//   - any SecurityPolicy_TLS13_* name: TLS 1.3 only (stricter than some of
//     AWS's names suggest, e.g. …TLS13_1_2_…; documented);
//   - anything else: TLS_1_2, with a note.
func policyFor(name string, mtls bool) tlsPolicy {
	switch {
	case name == model.PolicyTLS10:
		if mtls {
			return tlsPolicy{min: tls.VersionTLS12, suites: tls12Suites,
				note: "security policy TLS_1_0 cannot be combined with mutual TLS; serving TLS_1_2"}
		}
		return tlsPolicy{min: tls.VersionTLS10}
	case name == model.PolicyTLS12, name == "":
		return tlsPolicy{min: tls.VersionTLS12, suites: tls12Suites}
	case strings.HasPrefix(name, "SecurityPolicy_TLS13_"):
		return tlsPolicy{min: tls.VersionTLS13}
	case strings.HasPrefix(name, "SecurityPolicy_TLS12"):
		return tlsPolicy{min: tls.VersionTLS12, suites: tls12Suites}
	default:
		return tlsPolicy{min: tls.VersionTLS12, suites: tls12Suites,
			note: fmt.Sprintf("unknown security policy %q; serving TLS_1_2", name)}
	}
}

// trustGen is one parsed truststore: a generation of a domain's trust
// anchors. Its identity (the pointer) is the generation: a connection's
// cached verdict is valid only for the trustGen (and crlBinding) it was
// computed against. Revocation state lives apart, in the domain's
// crlBinding, so a new CRL does not re-parse the truststore. Immutable.
type trustGen struct {
	bundle   *truststore.Bundle
	sum      [32]byte // SHA-256 of the bundle bytes
	certs    int
	earliest time.Time
}

// parseTrust parses truststore bytes into a generation.
func parseTrust(data []byte, sum [32]byte) (*trustGen, error) {
	b, err := truststore.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("parsing truststore: %w", err)
	}
	return &trustGen{bundle: b, sum: sum, certs: len(b.Certs), earliest: b.EarliestExpiry()}, nil
}

// domainTLS is the TLS side of one custom domain: everything built from its
// record, certificate and truststore. It is reused, pointer for pointer, by
// later snapshots while those inputs do not change. Immutable.
type domainTLS struct {
	name string
	// inputs is a digest of everything the build depends on; equal inputs
	// give an equal build.
	inputs [32]byte
	// recordSum and certSum digest the stored domain and certificate
	// records the build was made from, certID names the latter: the same
	// bytes are reused without decoding.
	recordSum, certSum [32]byte
	certID             string
	// config is nil when the domain has no usable build: every handshake
	// for it is refused.
	config *tls.Config
	mtls   bool
	trust  *trustGen // nil unless mtls
	// trustURI and trustVersion name the truststore object version the
	// build serves (status and metrics).
	trustURI, trustVersion string
	// err is why the current configuration could not be built (for a
	// stale or unavailable domain).
	err error
}

// domainInputs digests what a domain build depends on.
func domainInputs(d *model.DomainName, certRaw []byte, trustSum [32]byte) [32]byte {
	h := sha256.New()
	w := func(s string) { h.Write([]byte(s)); h.Write([]byte{0}) }
	w(d.Name)
	w(d.SecurityPolicy)
	w(d.CertificateARN)
	h.Write(certRaw)
	h.Write([]byte{0})
	if d.MutualTLS != nil && d.MutualTLS.TruststoreURI != "" {
		w("mtls")
		h.Write(trustSum[:])
		w(d.MutualTLS.TruststoreVersion)
	}
	// trustgate:* tags will carry CRL settings; they are part of the inputs
	// so a change rebuilds the domain.
	keys := make([]string, 0, len(d.Tags))
	for k := range d.Tags {
		if strings.HasPrefix(k, "trustgate:") {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		w(k)
		w(d.Tags[k])
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// serverCertificate parses an ACM certificate record into a tls.Certificate
// (leaf, chain, key).
func serverCertificate(c *model.Certificate) (tls.Certificate, error) {
	certPEM := c.CertificatePEM
	if c.ChainPEM != "" {
		if !strings.HasSuffix(certPEM, "\n") {
			certPEM += "\n"
		}
		certPEM += c.ChainPEM
	}
	kp, err := tls.X509KeyPair([]byte(certPEM), []byte(string(c.PrivateKeyPEM)))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("parsing certificate %s: %w", c.ARN, err)
	}
	return kp, nil
}

// ticketKey derives a session ticket key for one domain and truststore
// generation from the server's random secret. A ticket issued under one
// (domain, truststore) pair cannot be decrypted under any other, so trust
// never travels with a resumed session.
func ticketKey(secret []byte, domain string, trust *trustGen) [32]byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("trustgate session ticket key\x00"))
	m.Write([]byte(domain))
	m.Write([]byte{0})
	if trust != nil {
		m.Write(trust.sum[:])
	} else {
		m.Write([]byte("no-mtls"))
	}
	var k [32]byte
	m.Sum(k[:0])
	return k
}

// newTLSConfig builds the tls.Config of a domain (or the default endpoint,
// domain "").
func newTLSConfig(cert tls.Certificate, p tlsPolicy, mtls bool, key [32]byte) *tls.Config {
	cfg := &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   p.min,
		MaxVersion:   tls.VersionTLS13,
		CipherSuites: p.suites,
		NextProtos:   alpn,
		ClientAuth:   tls.NoClientCert,
	}
	if mtls {
		// No certificate, no handshake. The chain itself is judged after
		// the handshake against the domain's current truststore, so a
		// refused chain becomes an HTTP 403 (as on AWS) and the verdict
		// can follow truststore updates on open connections.
		cfg.ClientAuth = tls.RequireAnyClientCert
	}
	// Keys set explicitly: without them Go would share the base config's
	// keys across every domain.
	cfg.SetSessionTicketKeys([][32]byte{key})
	return cfg
}
