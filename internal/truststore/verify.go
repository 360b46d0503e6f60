package truststore

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Reason is the stable code of a verification verdict. It is safe to use as a
// metric label: the set is fixed (Reasons).
type Reason string

// Verdict reasons.
const (
	ReasonTrusted        Reason = "trusted"
	ReasonNoCertificate  Reason = "no_certificate"
	ReasonUnknownIssuer  Reason = "unknown_issuer"
	ReasonSelfSigned     Reason = "self_signed_not_trusted"
	ReasonExpired        Reason = "expired"
	ReasonNotYetValid    Reason = "not_yet_valid"
	ReasonWeakKey        Reason = "weak_key"
	ReasonWeakSignature  Reason = "weak_signature"
	ReasonDepthExceeded  Reason = "depth_exceeded"
	ReasonBadEKU         Reason = "eku_not_client_auth"
	ReasonRevoked        Reason = "revoked"
	ReasonCRLExpired     Reason = "crl_expired"
	ReasonCRLUnavailable Reason = "crl_unavailable"
	ReasonMalformed      Reason = "malformed_certificate"
	// ReasonInvalidChain is a chain that reaches the truststore but breaks a
	// CA constraint: an issuer that is not a CA, a path length or name
	// constraint, or a certificate policy.
	ReasonInvalidChain Reason = "invalid_chain"
)

// Reasons returns every Reason, for pre-declaring metric label values.
func Reasons() []Reason {
	return []Reason{
		ReasonTrusted, ReasonNoCertificate, ReasonUnknownIssuer, ReasonSelfSigned,
		ReasonExpired, ReasonNotYetValid, ReasonWeakKey, ReasonWeakSignature,
		ReasonDepthExceeded, ReasonBadEKU, ReasonRevoked, ReasonCRLExpired,
		ReasonCRLUnavailable, ReasonMalformed, ReasonInvalidChain,
	}
}

// Verdict is the outcome of verifying a client chain.
type Verdict struct {
	Trusted bool
	Reason  Reason
	// Message is one human sentence explaining the verdict. It quotes
	// certificate names (escaped, shortened) but never PEM data; it is meant
	// for logs and operators, not for the client.
	Message string
	// Leaf is the client certificate (chain[0]); nil for no_certificate.
	Leaf *x509.Certificate
	// Cert is the certificate the reason is about: the leaf, an intermediate
	// the client sent, or a truststore certificate. Nil when there is none.
	Cert *x509.Certificate
	// Chain is, for a trusted verdict, the verified chain from the leaf to a
	// truststore certificate.
	Chain []*x509.Certificate
	// SoftFailure is crl_expired or crl_unavailable when revocation could not
	// be checked and VerifyOptions.SoftCRL let the certificate through;
	// otherwise empty.
	SoftFailure Reason
}

// String returns "trusted", or "rejected: <reason>: <message>".
func (v Verdict) String() string {
	if v.Trusted {
		return string(ReasonTrusted)
	}
	return fmt.Sprintf("rejected: %s: %s", v.Reason, v.Message)
}

// VerifyOptions tune Verify.
type VerifyOptions struct {
	// At is the time to verify at; zero means time.Now().
	At time.Time
	// CRLs, when not nil, turns on revocation checking: every certificate in
	// the chain below the truststore certificate must be covered by a current
	// CRL of its issuer (see CRLSet). Nil means no revocation checking, as on
	// AWS.
	CRLs *CRLSet
	// SoftCRL accepts a chain whose revocation status cannot be established
	// (CRL missing or past nextUpdate) and reports it in
	// Verdict.SoftFailure. A revoked certificate is refused either way.
	SoftCRL bool
}

// maxSentIntermediates caps how many certificates the client sent are used
// to build chains; MaxDepth makes more of them useless.
const maxSentIntermediates = 16

// Verify verifies a client chain against the bundle. chain[0] is the client's
// certificate; the rest are the intermediates it sent, in any order, possibly
// irrelevant or duplicated. Every certificate in the bundle is a trust anchor.
//
// Chains are built and checked by crypto/x509 (signatures, validity, CA and
// path-length constraints, clientAuth usage); Verify adds the algorithm
// policy, the depth limit and revocation, and, when x509 refuses a chain,
// works out the most precise reason. It never turns a refusal by crypto/x509
// into trust. Verify does no I/O and is safe for concurrent use.
func (b *Bundle) Verify(chain []*x509.Certificate, opts VerifyOptions) Verdict {
	at := opts.At
	if at.IsZero() {
		at = time.Now()
	}
	if len(chain) == 0 || chain[0] == nil {
		return Verdict{Reason: ReasonNoCertificate, Message: "The client sent no certificate."}
	}
	leaf := chain[0]
	if len(leaf.Raw) == 0 || len(leaf.RawTBSCertificate) == 0 {
		return reject(leaf, leaf, ReasonMalformed, "The client certificate is not a parsed X.509 certificate.")
	}
	if b == nil || len(b.Certs) == 0 {
		return reject(leaf, leaf, ReasonUnknownIssuer, fmt.Sprintf("Client certificate %s cannot be trusted: the truststore is empty.", label(leaf)))
	}
	if v, bad := b.checkValidity(leaf, leaf, at); bad {
		return v
	}
	if v, bad := b.checkKey(leaf, leaf); bad {
		return v
	}
	if weakSignature(leaf.SignatureAlgorithm) {
		return reject(leaf, leaf, ReasonWeakSignature, fmt.Sprintf("Client certificate %s is signed with an insecure algorithm (%s); %s.",
			label(leaf), sigName(leaf.SignatureAlgorithm), weakSigAdvice))
	}

	sent := make([]*x509.Certificate, 0, min(len(chain)-1, maxSentIntermediates))
	for _, c := range chain[1:] {
		if len(sent) == maxSentIntermediates {
			break
		}
		if c != nil && len(c.Raw) > 0 {
			sent = append(sent, c)
		}
	}
	var key [32]byte
	var chains [][]*x509.Certificate
	if b.cache != nil {
		key = chainKey(leaf, sent)
		chains = b.cache.get(key, leaf, at)
	}
	if len(chains) == 0 {
		inters := x509.NewCertPool()
		for _, c := range sent {
			inters.AddCert(c)
		}
		var err error
		chains, err = leaf.Verify(x509.VerifyOptions{
			Roots:         b.pool,
			Intermediates: inters,
			CurrentTime:   at,
			KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		})
		if err != nil {
			return b.classify(leaf, sent, at, err)
		}
		if b.cache != nil {
			b.cache.put(key, chains)
		}
	}
	// Prefer the shortest chain; any chain that passes every check wins.
	slices.SortStableFunc(chains, func(x, y []*x509.Certificate) int { return len(x) - len(y) })
	var first Verdict
	for i, ch := range chains {
		v := b.checkChain(ch, at, opts)
		if v.Trusted {
			return v
		}
		if i == 0 {
			first = v
		}
	}
	return first
}

// checkChain applies trustgate's policy to a chain crypto/x509 accepted.
func (b *Bundle) checkChain(chain []*x509.Certificate, at time.Time, opts VerifyOptions) Verdict {
	leaf := chain[0]
	for _, c := range chain[1:] {
		if v, bad := b.checkKey(leaf, c); bad {
			return v
		}
	}
	for _, c := range chain[1:] {
		if weakSignature(c.SignatureAlgorithm) {
			return reject(leaf, c, ReasonWeakSignature, fmt.Sprintf("%s %s is signed with an insecure algorithm (%s); %s.",
				b.role(leaf, c), label(c), sigName(c.SignatureAlgorithm), weakSigAdvice))
		}
	}
	if cas := len(chain) - 1; cas > MaxDepth {
		return reject(leaf, leaf, ReasonDepthExceeded, depthMessage(leaf, cas))
	}
	v := Verdict{Trusted: true, Reason: ReasonTrusted, Leaf: leaf, Chain: chain}
	if opts.CRLs != nil {
		rv := opts.CRLs.check(b, chain, at)
		switch {
		case rv.reason == "":
		case rv.reason == ReasonRevoked || !opts.SoftCRL:
			return reject(leaf, rv.cert, rv.reason, rv.message)
		default:
			v.SoftFailure = rv.reason
			v.Cert = rv.cert
			v.Message = fmt.Sprintf("Client certificate %s is trusted without a revocation check (soft CRL mode): %s", label(leaf), rv.message)
			return v
		}
	}
	anchor := chain[len(chain)-1]
	if anchor == leaf {
		v.Message = fmt.Sprintf("Client certificate %s is trusted: it is in the truststore.", label(leaf))
	} else {
		v.Message = fmt.Sprintf("Client certificate %s is trusted: it chains to truststore certificate %s.", label(leaf), label(anchor))
	}
	return v
}

func depthMessage(leaf *x509.Certificate, cas int) string {
	return fmt.Sprintf("The chain of client certificate %s has %d CA certificates above it; the limit is %d (a root and %d intermediates).",
		label(leaf), cas, MaxDepth, MaxDepth-1)
}

func reject(leaf, cert *x509.Certificate, r Reason, msg string) Verdict {
	return Verdict{Reason: r, Message: msg, Leaf: leaf, Cert: cert}
}

// role names a certificate's place in a chain for messages.
func (b *Bundle) role(leaf, c *x509.Certificate) string {
	switch {
	case c == leaf:
		return "Client certificate"
	case b.contains(c):
		return "Truststore certificate"
	default:
		return "Intermediate certificate"
	}
}

func (b *Bundle) contains(c *x509.Certificate) bool {
	_, ok := b.byRaw[string(c.Raw)]
	return ok
}

func (b *Bundle) checkValidity(leaf, c *x509.Certificate, at time.Time) (Verdict, bool) {
	switch {
	case at.Before(c.NotBefore):
		return reject(leaf, c, ReasonNotYetValid, fmt.Sprintf("%s %s is not valid until %s (checked at %s).",
			b.role(leaf, c), label(c), c.NotBefore.UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339))), true
	case at.After(c.NotAfter):
		return reject(leaf, c, ReasonExpired, fmt.Sprintf("%s %s expired at %s (checked at %s).",
			b.role(leaf, c), label(c), c.NotAfter.UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339))), true
	}
	return Verdict{}, false
}

func (b *Bundle) checkKey(leaf, c *x509.Certificate) (Verdict, bool) {
	if weak, desc := weakKey(c); weak {
		return reject(leaf, c, ReasonWeakKey, fmt.Sprintf("%s %s has a weak key (%s); %s.", b.role(leaf, c), label(c), desc, weakKeyAdvice)), true
	}
	return Verdict{}, false
}

// classify turns a crypto/x509 refusal into a precise verdict.
func (b *Bundle) classify(leaf *x509.Certificate, sent []*x509.Certificate, at time.Time, err error) Verdict {
	var invalid x509.CertificateInvalidError
	if errors.As(err, &invalid) && invalid.Cert != nil {
		c := invalid.Cert
		switch invalid.Reason {
		case x509.Expired:
			if v, bad := b.checkValidity(leaf, c, at); bad {
				return v
			}
		case x509.IncompatibleUsage:
			return reject(leaf, leaf, ReasonBadEKU, fmt.Sprintf("Client certificate %s is not valid for client authentication (extended key usage: %s).",
				label(leaf), ekuList(leaf)))
		case x509.NotAuthorizedToSign:
			return reject(leaf, c, ReasonInvalidChain, fmt.Sprintf("%s %s is not a CA certificate, so it cannot issue certificates.", b.role(leaf, c), label(c)))
		case x509.TooManyIntermediates:
			return reject(leaf, c, ReasonInvalidChain, fmt.Sprintf("%s %s allows at most %d intermediates below it (path length constraint).",
				b.role(leaf, c), label(c), c.MaxPathLen))
		case x509.CANotAuthorizedForThisName, x509.NameConstraintsWithoutSANs, x509.UnconstrainedName, x509.TooManyConstraints:
			return reject(leaf, leaf, ReasonInvalidChain, fmt.Sprintf("Client certificate %s violates a name constraint of a CA in its chain.", label(leaf)))
		case x509.CANotAuthorizedForExtKeyUsage:
			return reject(leaf, leaf, ReasonBadEKU, fmt.Sprintf("A CA in the chain of client certificate %s is not allowed to issue client-authentication certificates.", label(leaf)))
		case x509.NoValidChains:
			return reject(leaf, leaf, ReasonInvalidChain, fmt.Sprintf("Client certificate %s has no chain to the truststore that satisfies the CAs' certificate policies.", label(leaf)))
		}
	}
	if errors.As(err, new(x509.UnhandledCriticalExtension)) {
		return b.diagnoseCritical(leaf, sent)
	}
	return b.diagnose(leaf, sent, at)
}

func (b *Bundle) diagnoseCritical(leaf *x509.Certificate, sent []*x509.Certificate) Verdict {
	for _, c := range append([]*x509.Certificate{leaf}, sent...) {
		if len(c.UnhandledCriticalExtensions) > 0 {
			return reject(leaf, c, ReasonMalformed, fmt.Sprintf("%s %s has a critical extension that is not supported (%s).",
				b.role(leaf, c), label(c), c.UnhandledCriticalExtensions[0].String()))
		}
	}
	return reject(leaf, leaf, ReasonMalformed, fmt.Sprintf("A certificate in the chain of client certificate %s has a critical extension that is not supported.", label(leaf)))
}

func ekuList(c *x509.Certificate) string {
	var names []string
	for _, u := range c.ExtKeyUsage {
		names = append(names, ekuName(u))
	}
	for _, u := range c.UnknownExtKeyUsage {
		names = append(names, u.String())
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func ekuName(u x509.ExtKeyUsage) string {
	switch u {
	case x509.ExtKeyUsageAny:
		return "any"
	case x509.ExtKeyUsageServerAuth:
		return "serverAuth"
	case x509.ExtKeyUsageClientAuth:
		return "clientAuth"
	case x509.ExtKeyUsageCodeSigning:
		return "codeSigning"
	case x509.ExtKeyUsageEmailProtection:
		return "emailProtection"
	case x509.ExtKeyUsageTimeStamping:
		return "timeStamping"
	case x509.ExtKeyUsageOCSPSigning:
		return "OCSPSigning"
	}
	return fmt.Sprintf("usage %d", int(u))
}

// Diagnosis. crypto/x509 reports "unknown authority" for several distinct
// problems (an SHA-1 link, a key it will not use, an unrelated issuer), so a
// refused chain is walked again with relaxed rules: issuers matched by name
// and key, weak algorithms allowed, validity and CA flags ignored. If that
// finds a path to a truststore certificate, the first policy problem on it is
// the reason; otherwise the issuer is unknown. The walk only explains a
// refusal; it is never used to accept a chain.

// maxDiagnoseChecks bounds the signature checks of one diagnosis, like
// crypto/x509's own limit, since a client controls what it sends.
const maxDiagnoseChecks = 64

type diagnosis struct {
	b      *Bundle
	sent   []*x509.Certificate
	checks int
	// deepest is the longest relaxed partial chain seen, for the message.
	deepest []*x509.Certificate
}

func (b *Bundle) diagnose(leaf *x509.Certificate, sent []*x509.Certificate, at time.Time) Verdict {
	d := &diagnosis{b: b, sent: sent}
	path := d.walk([]*x509.Certificate{leaf})
	if path == nil {
		return b.unknownIssuer(leaf, d.deepest)
	}
	for i := 0; i+1 < len(path); i++ {
		child, parent := path[i], path[i+1]
		if weakSignature(child.SignatureAlgorithm) {
			return reject(leaf, child, ReasonWeakSignature, fmt.Sprintf("%s %s is signed with an insecure algorithm (%s); %s.",
				b.role(leaf, child), label(child), sigName(child.SignatureAlgorithm), weakSigAdvice))
		}
		if v, bad := b.checkKey(leaf, parent); bad {
			return v
		}
		if v, bad := b.checkValidity(leaf, parent, at); bad {
			return v
		}
		if !parent.BasicConstraintsValid || !parent.IsCA {
			return reject(leaf, parent, ReasonInvalidChain, fmt.Sprintf("%s %s is not a CA certificate, so it cannot issue certificates.",
				b.role(leaf, parent), label(parent)))
		}
	}
	if anchor := path[len(path)-1]; weakSignature(anchor.SignatureAlgorithm) {
		return reject(leaf, anchor, ReasonWeakSignature, fmt.Sprintf("%s %s is signed with an insecure algorithm (%s); %s.",
			b.role(leaf, anchor), label(anchor), sigName(anchor.SignatureAlgorithm), weakSigAdvice))
	}
	if cas := len(path) - 1; cas > MaxDepth {
		return reject(leaf, leaf, ReasonDepthExceeded, depthMessage(leaf, cas))
	}
	return reject(leaf, leaf, ReasonInvalidChain, fmt.Sprintf("Client certificate %s has no valid chain to the truststore.", label(leaf)))
}

// walk extends chain towards a truststore certificate, depth first, truststore
// candidates before sent ones. It returns the first complete path or nil.
func (d *diagnosis) walk(chain []*x509.Certificate) []*x509.Certificate {
	if len(chain) > len(d.deepest) {
		d.deepest = chain
	}
	c := chain[len(chain)-1]
	if len(chain) > MaxDepth+3 {
		return nil
	}
	try := func(p *x509.Certificate, anchor bool) []*x509.Certificate {
		if d.checks >= maxDiagnoseChecks || inChain(chain, p) {
			return nil
		}
		d.checks++
		if !signedBy(c, p) {
			return nil
		}
		next := append(slices.Clip(chain), p)
		if anchor {
			return next
		}
		return d.walk(next)
	}
	for _, i := range d.b.byName[string(c.RawIssuer)] {
		if p := try(d.b.Certs[i], true); p != nil {
			return p
		}
	}
	for _, s := range d.sent {
		if !bytes.Equal(s.RawSubject, c.RawIssuer) {
			continue
		}
		if p := try(s, d.b.contains(s)); p != nil {
			return p
		}
	}
	return nil
}

func inChain(chain []*x509.Certificate, c *x509.Certificate) bool {
	for _, x := range chain {
		if bytes.Equal(x.Raw, c.Raw) {
			return true
		}
	}
	return false
}

func (b *Bundle) unknownIssuer(leaf *x509.Certificate, partial []*x509.Certificate) Verdict {
	top := leaf
	if len(partial) > 0 {
		top = partial[len(partial)-1]
	}
	if top == leaf && bytes.Equal(leaf.RawIssuer, leaf.RawSubject) && signedBy(leaf, leaf) {
		return reject(leaf, leaf, ReasonSelfSigned, fmt.Sprintf("Client certificate %s is self-signed and is not in the truststore.", label(leaf)))
	}
	what := fmt.Sprintf("Client certificate %s", label(leaf))
	if top != leaf {
		what = fmt.Sprintf("The chain of client certificate %s ends at %s, which", label(leaf), label(top))
	}
	if len(b.byName[string(top.RawIssuer)]) > 0 {
		return reject(leaf, top, ReasonUnknownIssuer, fmt.Sprintf("%s names issuer %s, but was not signed by the truststore certificate of that name.",
			what, issuerLabel(top)))
	}
	return reject(leaf, top, ReasonUnknownIssuer, fmt.Sprintf("%s was issued by %s, which is not in the truststore.", what, issuerLabel(top)))
}
