package truststore

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
)

// Limits of a truststore bundle.
//
// MaxBundleBytes is 1 MiB (1,048,576 bytes). AWS documents no figure; field
// tests found bundles just under 1,000 KB accepted, so 1 MiB accepts every
// bundle AWS accepts while still bounding parsing work.
const (
	MaxBundleBytes  = 1 << 20
	MaxCertificates = 1000
	// MaxDepth is the most CA certificates a client chain may have above the
	// leaf: a root and three intermediates.
	MaxDepth = 4
	// ExpiryWarningWindow is how close to its notAfter a truststore
	// certificate gets an "expires_soon" warning.
	ExpiryWarningWindow = 30 * 24 * time.Hour
)

// Bundle is a parsed truststore: its certificates are the trust anchors of a
// domain. A Bundle is immutable after Parse and safe for concurrent use;
// callers must not modify Certs or the certificates in it.
type Bundle struct {
	// Certs are the distinct certificates of the bundle in file order
	// (an exact duplicate of an earlier certificate is left out, with a
	// warning).
	Certs []*x509.Certificate

	pool   *x509.CertPool
	meta   []certMeta
	byRaw  map[string]int   // DER -> index in Certs
	byName map[string][]int // raw subject -> indexes in Certs
	// notes are warnings about blocks that did not become certificates.
	notes []Warning
	// cache holds chains crypto/x509 accepted (see chainCache).
	cache *chainCache
	// outside describes text outside PEM blocks.
	outside, outsideLine int
}

type certMeta struct {
	block, line int
	selfSigned  bool
	// issuers are the indexes in Certs of the certificates that signed this
	// one (itself for a self-signed certificate).
	issuers []int
	// static are the warnings that do not depend on the time.
	static []Warning
}

// Parse parses and validates a PEM truststore bundle. It fails, with a
// *BundleError, only for problems with the bundle as a whole: empty, larger
// than MaxBundleBytes, not PEM, a damaged PEM block, a private key or any
// other non-certificate block, more than MaxCertificates certificates, or no
// usable certificate. Problems with single certificates are reported by
// Warnings and do not fail Parse. If the bundle has several hard problems the
// error describes the first one in file order (Inspect returns all of them).
func Parse(data []byte) (*Bundle, error) {
	b, errs := Inspect(data)
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return b, nil
}

// Inspect parses as much of a bundle as it can and returns every hard problem
// with it, in file order, for tools that report all of them (lint). The Bundle
// holds the certificates that did parse; it is nil only when the data was not
// parsed at all (empty or too large). A Bundle returned together with errors
// must not be used as a truststore.
func Inspect(data []byte) (*Bundle, []*BundleError) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, []*BundleError{{Code: CodeEmpty, Message: "The truststore is empty: it contains no certificate."}}
	}
	if len(data) > MaxBundleBytes {
		return nil, []*BundleError{{Code: CodeTooLarge, Message: fmt.Sprintf(
			"The truststore is %d bytes, over the limit of %d bytes (1 MiB).", len(data), MaxBundleBytes)}}
	}
	scan := scanPEM(data)
	if len(scan.blocks) == 0 {
		msg := "The truststore is not PEM-encoded: it contains no \"-----BEGIN CERTIFICATE-----\" block."
		if _, err := x509.ParseCertificate(data); err == nil {
			msg = "The truststore is a DER-encoded certificate, not PEM; convert it with `openssl x509 -inform der -outform pem`."
		}
		return &Bundle{pool: x509.NewCertPool()}, []*BundleError{{Code: CodeNotPEM, Message: msg}}
	}

	b := &Bundle{pool: x509.NewCertPool(), byRaw: map[string]int{}, cache: newChainCache(), outside: scan.outside, outsideLine: scan.outsideLine}
	var errs []*BundleError
	certBlocks, malformed := 0, 0
	for _, blk := range scan.blocks {
		if len(errs) == maxErrors {
			errs = append(errs, &BundleError{Code: errs[0].Code, Block: blk.index, Line: blk.line, Message: fmt.Sprintf(
				"The truststore has more problems from PEM block %d on; fix the ones above first.", blk.index)})
			break
		}
		where := fmt.Sprintf("PEM block %d, line %d", blk.index, blk.line)
		switch {
		case isPrivateKeyType(blk.typ):
			errs = append(errs, &BundleError{Code: CodePrivateKey, Block: blk.index, Line: blk.line, Message: fmt.Sprintf(
				"The truststore contains a private key (%s). A truststore must hold only certificates: remove the key, and replace it if the file was shared.", where)})
		case blk.block == nil:
			errs = append(errs, &BundleError{Code: CodeMalformedPEM, Block: blk.index, Line: blk.line, Message: fmt.Sprintf(
				"The truststore has a damaged PEM block (%s): its BEGIN or END line is missing or malformed, or its base64 data cannot be decoded.", where)})
		case blk.typ != "CERTIFICATE":
			msg := fmt.Sprintf("The truststore contains %s (%s); only CERTIFICATE blocks are allowed.", describeType(blk.typ), where)
			if blk.typ == "TRUSTED CERTIFICATE" {
				msg += " Convert OpenSSL trusted certificates with `openssl x509 -in FILE -out FILE.pem`."
			}
			errs = append(errs, &BundleError{Code: CodeNotCertificate, Block: blk.index, Line: blk.line, Message: msg})
		default:
			certBlocks++
			if certBlocks > MaxCertificates {
				errs = append(errs, &BundleError{Code: CodeTooManyCertificates, Block: blk.index, Line: blk.line, Message: fmt.Sprintf(
					"The truststore has more than %d certificates (PEM block %d is certificate %d); the limit is %d.",
					MaxCertificates, blk.index, certBlocks, MaxCertificates)})
				return b.finish(), errs
			}
			cert, err := x509.ParseCertificate(blk.block.Bytes)
			if err != nil {
				malformed++
				b.notes = append(b.notes, Warning{Code: WarnMalformedCertificate, Index: -1, Block: blk.index, Message: fmt.Sprintf(
					"The certificate in %s is not a valid X.509 certificate (%s) and was ignored.", where, safeError(err))})
				continue
			}
			if first, dup := b.byRaw[string(cert.Raw)]; dup {
				b.meta[first].static = append(b.meta[first].static, Warning{
					Subject: DNString(cert.Subject), Code: WarnDuplicateCertificate, Index: first, Block: blk.index,
					Message: fmt.Sprintf("Certificate %s appears more than once in the truststore (PEM blocks %d and %d); the copy was ignored.",
						label(cert), b.meta[first].block, blk.index)})
				continue
			}
			b.byRaw[string(cert.Raw)] = len(b.Certs)
			b.Certs = append(b.Certs, cert)
			b.meta = append(b.meta, certMeta{block: blk.index, line: blk.line})
			b.pool.AddCert(cert)
		}
	}
	if len(b.Certs) == 0 {
		msg := "The truststore has no usable certificate."
		switch {
		case malformed > 0:
			msg = "The truststore has no usable certificate: every CERTIFICATE block failed to parse."
		case certBlocks == 0:
			msg = "The truststore has no certificate: it contains no \"-----BEGIN CERTIFICATE-----\" block."
		}
		errs = append(errs, &BundleError{Code: CodeNoCertificate, Message: msg})
	}
	return b.finish(), errs
}

// maxErrors bounds the hard errors Inspect reports for one bundle.
const maxErrors = 20

// finish computes the relations between certificates and the warnings that
// do not depend on the time.
func (b *Bundle) finish() *Bundle {
	byName := map[string][]int{}
	for i, c := range b.Certs {
		byName[string(c.RawSubject)] = append(byName[string(c.RawSubject)], i)
	}
	b.byName = byName
	firstDN := map[string]int{}
	for i, c := range b.Certs {
		m := &b.meta[i]
		cands := byName[string(c.RawIssuer)]
		if bytes.Equal(c.RawIssuer, c.RawSubject) {
			// Try the certificate itself first.
			cands = append([]int{i}, slices.DeleteFunc(slices.Clone(cands), func(j int) bool { return j == i })...)
		}
		if len(cands) > maxIssuerCandidates {
			// Many certificates with one name: check a few, so a crafted
			// bundle cannot cost a million signature checks.
			cands = cands[:maxIssuerCandidates]
		}
		for _, j := range cands {
			if signedBy(c, b.Certs[j]) {
				// One issuer is enough to know the certificate chains.
				m.issuers = append(m.issuers, j)
				m.selfSigned = j == i
				break
			}
		}
		subject := DNString(c.Subject)
		add := func(code, msg string) {
			m.static = append(m.static, Warning{Subject: subject, Code: code, Index: i, Block: m.block, Message: msg})
		}
		if weak, desc := weakKey(c); weak {
			add(WarnWeakKey, fmt.Sprintf("Certificate %s has a weak key (%s); %s.", label(c), desc, weakKeyAdvice))
		}
		if weakSignature(c.SignatureAlgorithm) {
			how := "signed"
			if m.selfSigned {
				how = "self-signed"
			}
			add(WarnWeakSignature, fmt.Sprintf("Certificate %s is %s with an insecure algorithm (%s); %s.",
				label(c), how, sigName(c.SignatureAlgorithm), weakSigAdvice))
		}
		if len(c.UnhandledCriticalExtensions) > 0 {
			add(WarnUnsupportedCritical, fmt.Sprintf("Certificate %s has a critical extension that is not supported (%s); no chain can use it.",
				label(c), c.UnhandledCriticalExtensions[0].String()))
		}
		isCA := c.BasicConstraintsValid && c.IsCA
		switch {
		case !isCA && !m.selfSigned:
			add(WarnNotCA, fmt.Sprintf("Certificate %s is neither a CA nor self-signed; it can only authenticate a client that presents exactly this certificate.", label(c)))
		case isCA && !m.selfSigned && len(m.issuers) == 0:
			if len(byName[string(c.RawIssuer)]) > 0 {
				add(WarnMissingIssuer, fmt.Sprintf("Certificate %s names issuer %s, but no certificate of that name in the truststore signed it; add the right issuer and the rest of its chain up to the root.",
					label(c), issuerLabel(c)))
			} else {
				add(WarnMissingIssuer, fmt.Sprintf("Certificate %s is an intermediate CA whose issuer %s is not in the truststore; add the issuer and the rest of its chain up to the root.",
					label(c), issuerLabel(c)))
			}
		}
		if first, dup := firstDN[subject]; dup {
			add(WarnDuplicateSubject, fmt.Sprintf("Certificate %s has the same subject as certificate %d (PEM block %d); subjects in a truststore should be unique.",
				label(c), first+1, b.meta[first].block))
		} else {
			firstDN[subject] = i
		}
	}
	b.depthWarnings()
	return b
}

// depthWarnings flags CA certificates that sit so deep below their root in
// the bundle that a client certificate they issue has a chain of more than
// MaxDepth CA certificates. trustgate still accepts such clients (every
// truststore certificate is an anchor, so the chain it builds stops at the
// issuing CA), but Amazon API Gateway refuses them, so a truststore meant to
// work on both should stay within the limit.
func (b *Bundle) depthWarnings() {
	level := make([]int, len(b.Certs)) // CA certificates above, to a root; -1 unknown
	for i := range level {
		level[i] = -2 // not computed
	}
	var walk func(i, hops int) int
	walk = func(i, hops int) int {
		if level[i] != -2 {
			return level[i]
		}
		m := &b.meta[i]
		switch {
		case m.selfSigned:
			level[i] = 0
		case len(m.issuers) == 0 || hops > len(b.Certs):
			level[i] = -1
		default:
			up := walk(m.issuers[0], hops+1)
			if up < 0 {
				level[i] = -1
			} else {
				level[i] = up + 1
			}
		}
		return level[i]
	}
	for i, c := range b.Certs {
		if !c.IsCA || walk(i, 0) < MaxDepth {
			continue
		}
		cas := level[i] + 1
		root := i
		for !b.meta[root].selfSigned {
			root = b.meta[root].issuers[0]
		}
		m := &b.meta[i]
		m.static = append(m.static, Warning{Subject: DNString(c.Subject), Code: WarnChainTooLong, Index: i, Block: m.block, Message: fmt.Sprintf(
			"Certificate %s is CA number %d in its chain from root %s; clients it issues have more than %d CA certificates above them, which Amazon API Gateway refuses (trustgate anchors trust at this certificate).",
			label(c), cas, label(b.Certs[root]), MaxDepth)})
	}
}

// maxIssuerCandidates bounds the certificates with a given subject that are
// tried as the issuer of one certificate (duplicate subjects are warned about).
const maxIssuerCandidates = 4

// signedBy reports whether parent's key made child's signature. A signature
// with an algorithm Go refuses to check (MD5) counts when the names chain:
// such certificates are reported as weak, not as unrelated.
func signedBy(child, parent *x509.Certificate) bool {
	if !bytes.Equal(child.RawIssuer, parent.RawSubject) || parent.PublicKey == nil {
		return false
	}
	err := parent.CheckSignature(child.SignatureAlgorithm, child.RawTBSCertificate, child.Signature)
	var insecure x509.InsecureAlgorithmError
	return err == nil || errors.As(err, &insecure)
}

// safeError renders a parse error for a user-facing message: printable and
// short, since some x509 errors quote parts of the certificate.
func safeError(err error) string {
	s := strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return '?'
	}, err.Error())
	if len(s) > 160 {
		s = s[:160] + "..."
	}
	return s
}

// Warnings returns the problems with single certificates in the bundle as of
// now: each names the certificate's subject and the problem. Time-dependent
// checks (expired, not yet valid, expiring within ExpiryWarningWindow) are
// evaluated at now, so calling it again later gives the current picture. The
// order is deterministic: by position in the bundle, then by check.
func (b *Bundle) Warnings(now time.Time) []Warning {
	if b == nil {
		return nil
	}
	var out []Warning
	notes := b.notes
	for i, c := range b.Certs {
		m := &b.meta[i]
		for len(notes) > 0 && notes[0].Block < m.block {
			out = append(out, notes[0])
			notes = notes[1:]
		}
		out = append(out, timeWarnings(c, i, m.block, now)...)
		out = append(out, m.static...)
	}
	out = append(out, notes...)
	if b.outside > 0 {
		out = append(out, Warning{Code: WarnNonPEMData, Index: -1, Message: fmt.Sprintf(
			"The truststore has %d bytes of text outside PEM blocks (first on line %d); it was ignored.", b.outside, b.outsideLine)})
	}
	return out
}

func timeWarnings(c *x509.Certificate, i, block int, now time.Time) []Warning {
	w := Warning{Subject: DNString(c.Subject), Index: i, Block: block}
	switch {
	case now.After(c.NotAfter):
		w.Code = WarnExpired
		w.Message = fmt.Sprintf("Certificate %s expired on %s.", label(c), c.NotAfter.UTC().Format(time.RFC3339))
	case now.Before(c.NotBefore):
		w.Code = WarnNotYetValid
		w.Message = fmt.Sprintf("Certificate %s is not valid until %s.", label(c), c.NotBefore.UTC().Format(time.RFC3339))
	case c.NotAfter.Sub(now) <= ExpiryWarningWindow:
		w.Code = WarnExpiresSoon
		w.Message = fmt.Sprintf("Certificate %s expires on %s (%s).", label(c), c.NotAfter.UTC().Format(time.RFC3339), inDays(c.NotAfter.Sub(now)))
	default:
		return nil
	}
	return []Warning{w}
}

func inDays(d time.Duration) string {
	days := int(d / (24 * time.Hour))
	switch days {
	case 0:
		return "in less than a day"
	case 1:
		return "in 1 day"
	}
	return fmt.Sprintf("in %d days", days)
}

// Pool returns a copy of the bundle's certificate pool, for example for
// tls.Config.ClientCAs (which lists acceptable CA names to clients).
func (b *Bundle) Pool() *x509.CertPool { return b.pool.Clone() }

// Position returns the 1-based PEM block and line where Certs[i] starts.
func (b *Bundle) Position(i int) (block, line int) { return b.meta[i].block, b.meta[i].line }

// SelfSigned reports whether Certs[i] is signed by its own key.
func (b *Bundle) SelfSigned(i int) bool { return b.meta[i].selfSigned }

// EarliestExpiry returns the soonest notAfter among the bundle's
// certificates, or the zero time for an empty bundle.
func (b *Bundle) EarliestExpiry() time.Time {
	var t time.Time
	for _, c := range b.Certs {
		if t.IsZero() || c.NotAfter.Before(t) {
			t = c.NotAfter
		}
	}
	return t
}
