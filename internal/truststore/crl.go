package truststore

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// MaxCRLBytes bounds the size of one CRL file (PEM or DER). CRLs of large CAs
// run to megabytes; 32 MiB leaves room while bounding parsing work.
const MaxCRLBytes = 32 << 20

// ParseCRL parses one certificate revocation list, PEM ("X509 CRL" block) or
// DER. It returns a *CRLError, never echoing the input, for anything else:
// a certificate, a private key, another PEM block, damaged data, or more
// than one CRL (use ParseCRLs). The signature is not checked here; NewCRLSet
// checks it against the truststore.
func ParseCRL(data []byte) (*x509.RevocationList, error) {
	crls, err := ParseCRLs(data)
	if err != nil {
		return nil, err
	}
	if len(crls) != 1 {
		return nil, &CRLError{Code: CodeCRLNotCRL, Message: fmt.Sprintf("The file holds %d CRLs where one was expected.", len(crls))}
	}
	return crls[0], nil
}

// ParseCRLs parses a file of one or more PEM CRL blocks, or one DER CRL.
// Text outside PEM blocks is ignored.
func ParseCRLs(data []byte) ([]*x509.RevocationList, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &CRLError{Code: CodeCRLEmpty, Message: "The CRL is empty."}
	}
	if len(data) > MaxCRLBytes {
		return nil, &CRLError{Code: CodeCRLTooLarge, Message: fmt.Sprintf("The CRL is %d bytes, over the limit of %d bytes (32 MiB).", len(data), MaxCRLBytes)}
	}
	scan := scanPEM(data)
	if len(scan.blocks) == 0 {
		crl, err := parseCRLDER(data)
		if err == nil {
			return []*x509.RevocationList{crl}, nil
		}
		if _, cerr := x509.ParseCertificate(data); cerr == nil {
			return nil, &CRLError{Code: CodeCRLIsCertificate, Message: "The file is a certificate, not a CRL."}
		}
		return nil, &CRLError{Code: CodeCRLMalformed, Message: fmt.Sprintf("The file is neither a PEM nor a DER CRL (%s).", safeError(err))}
	}
	var out []*x509.RevocationList
	for _, blk := range scan.blocks {
		where := fmt.Sprintf("PEM block %d, line %d", blk.index, blk.line)
		switch {
		case isPrivateKeyType(blk.typ):
			return nil, &CRLError{Code: CodeCRLPrivateKey, Message: fmt.Sprintf("The file contains a private key (%s), not a CRL.", where)}
		case blk.block == nil:
			return nil, &CRLError{Code: CodeCRLMalformedBlock, Message: fmt.Sprintf(
				"The CRL has a damaged PEM block (%s): its BEGIN or END line is missing or malformed, or its base64 data cannot be decoded.", where)}
		case blk.typ == "CERTIFICATE":
			return nil, &CRLError{Code: CodeCRLIsCertificate, Message: fmt.Sprintf("The file contains a certificate (%s), not a CRL.", where)}
		case blk.typ != "X509 CRL" && blk.typ != "CRL":
			return nil, &CRLError{Code: CodeCRLNotCRL, Message: fmt.Sprintf("The file contains %s (%s); a CRL is an \"X509 CRL\" block.", describeType(blk.typ), where)}
		}
		crl, err := parseCRLDER(blk.block.Bytes)
		if err != nil {
			if _, cerr := x509.ParseCertificate(blk.block.Bytes); cerr == nil {
				return nil, &CRLError{Code: CodeCRLIsCertificate, Message: fmt.Sprintf("The file contains a certificate labelled as a CRL (%s).", where)}
			}
			return nil, &CRLError{Code: CodeCRLMalformed, Message: fmt.Sprintf("The CRL in %s cannot be parsed (%s).", where, safeError(err))}
		}
		out = append(out, crl)
	}
	return out, nil
}

// parseCRLDER is x509.ParseRevocationList, refusing trailing data as
// x509.ParseCertificate does.
func parseCRLDER(der []byte) (*x509.RevocationList, error) {
	var outer asn1.RawValue
	rest, err := asn1.Unmarshal(der, &outer)
	if err != nil {
		return nil, fmt.Errorf("x509: malformed crl")
	}
	if len(rest) > 0 {
		return nil, fmt.Errorf("x509: trailing data")
	}
	return x509.ParseRevocationList(der)
}

// CRLSet holds the CRLs whose signatures verified against a bundle's
// certificates, indexed for Verify. It is immutable and safe for concurrent
// use. CRLs are treated as complete lists for their issuer: delta CRLs,
// indirect CRLs and issuing-distribution-point scopes are not interpreted.
type CRLSet struct {
	bundle *Bundle
	// byKey indexes accepted CRLs by their issuer's public key.
	byKey map[string][]*crlInfo
	crls  []*crlInfo
	// notes are the warnings about CRLs that were dropped or are weak.
	notes []Warning
}

type crlInfo struct {
	n          int // 1-based position in the input
	issuer     *x509.Certificate
	index      int // issuer's index in Bundle.Certs
	thisUpdate time.Time
	nextUpdate time.Time
	revoked    map[string]time.Time // serial key -> revocation time
}

// NewCRLSet checks each CRL's signature against the certificates of the
// bundle with the CRL's issuer name and keeps those that verify. A CRL from
// an issuer that is not in the bundle, or signed by another key, or by a
// certificate not allowed to sign CRLs, is dropped with a warning. The
// warnings returned are those of Warnings(now).
func (b *Bundle) NewCRLSet(crls []*x509.RevocationList, now time.Time) (*CRLSet, []Warning) {
	s := &CRLSet{bundle: b, byKey: map[string][]*crlInfo{}}
	for k, crl := range crls {
		if crl == nil {
			continue
		}
		s.add(k+1, crl)
	}
	return s, s.Warnings(now)
}

func (s *CRLSet) add(n int, crl *x509.RevocationList) {
	b := s.bundle
	issuerDN := DNString(crl.Issuer)
	name := quoteName(issuerDN, nil)
	cands := b.byName[string(crl.RawIssuer)]
	if len(cands) == 0 {
		// Same name, different encoding (PrintableString vs UTF8String).
		for i, c := range b.Certs {
			if DNString(c.Subject) == issuerDN {
				cands = append(cands, i)
			}
		}
	}
	note := func(code, msg string, index int) {
		s.notes = append(s.notes, Warning{Subject: issuerDN, Code: code, Index: index, Message: msg})
	}
	if len(cands) == 0 {
		note(WarnCRLUnknownIssuer, fmt.Sprintf("CRL %d, issued by %s, was ignored: no certificate in the truststore has that subject.", n, name), -1)
		return
	}
	accepted := false
	var lastErr error
	if len(cands) > maxIssuerCandidates {
		cands = cands[:maxIssuerCandidates]
	}
	for _, i := range cands {
		issuer := b.Certs[i]
		if err := crl.CheckSignatureFrom(issuer); err != nil {
			lastErr = err
			continue
		}
		info := &crlInfo{n: n, issuer: issuer, index: i, thisUpdate: crl.ThisUpdate, nextUpdate: crl.NextUpdate,
			revoked: make(map[string]time.Time, len(crl.RevokedCertificateEntries))}
		for _, e := range crl.RevokedCertificateEntries {
			if e.SerialNumber != nil {
				info.revoked[serialKey(e.SerialNumber)] = e.RevocationTime
			}
		}
		key := string(issuer.RawSubjectPublicKeyInfo)
		s.byKey[key] = append(s.byKey[key], info)
		s.crls = append(s.crls, info)
		accepted = true
	}
	switch {
	case !accepted && errors.As(lastErr, new(x509.ConstraintViolationError)):
		note(WarnCRLBadSignature, fmt.Sprintf("CRL %d, issued by %s, was ignored: the truststore certificate of that name is not allowed to sign CRLs.", n, name), cands[0])
	case !accepted:
		note(WarnCRLBadSignature, fmt.Sprintf("CRL %d, issued by %s, was ignored: its signature does not verify with the truststore certificate of that name.", n, name), cands[0])
	case weakSignature(crl.SignatureAlgorithm):
		note(WarnCRLWeakSignature, fmt.Sprintf("CRL %d, issued by %s, is signed with an insecure algorithm (%s); %s.", n, name, sigName(crl.SignatureAlgorithm), weakSigAdvice), cands[0])
	}
}

func serialKey(n *big.Int) string {
	if n.Sign() < 0 {
		return "-" + string(n.Bytes())
	}
	return string(n.Bytes())
}

// Len returns the number of accepted CRLs (a CRL accepted for two
// certificates with the same name and key counts twice).
func (s *CRLSet) Len() int { return len(s.crls) }

// Warnings returns the problems with the set as of now: CRLs that were
// dropped or are weakly signed, CRLs past their nextUpdate or not yet valid,
// and CA certificates of the bundle without any CRL (with revocation
// enforced, certificates they issue are refused as crl_unavailable).
func (s *CRLSet) Warnings(now time.Time) []Warning {
	if s == nil {
		return nil
	}
	out := append([]Warning(nil), s.notes...)
	for _, c := range s.crls {
		name := quoteName(DNString(c.issuer.Subject), nil)
		w := Warning{Subject: DNString(c.issuer.Subject), Index: c.index}
		switch {
		case !c.nextUpdate.IsZero() && now.After(c.nextUpdate):
			w.Code = WarnCRLExpired
			w.Message = fmt.Sprintf("CRL %d, issued by %s, expired on %s (nextUpdate).", c.n, name, c.nextUpdate.UTC().Format(time.RFC3339))
		case now.Before(c.thisUpdate):
			w.Code = WarnCRLNotYetValid
			w.Message = fmt.Sprintf("CRL %d, issued by %s, is dated in the future (thisUpdate %s).", c.n, name, c.thisUpdate.UTC().Format(time.RFC3339))
		default:
			continue
		}
		out = append(out, w)
	}
	for i, c := range s.bundle.Certs {
		if !c.IsCA || len(s.lookup(c)) > 0 {
			continue
		}
		out = append(out, Warning{Subject: DNString(c.Subject), Code: WarnCRLMissing, Index: i, Message: fmt.Sprintf(
			"CA certificate %s has no CRL; with revocation enforced, certificates it issues are refused.", label(c))})
	}
	return out
}

// lookup returns the CRLs issued by the key and name of issuer.
func (s *CRLSet) lookup(issuer *x509.Certificate) []*crlInfo {
	infos := s.byKey[string(issuer.RawSubjectPublicKeyInfo)]
	for _, in := range infos {
		if !bytes.Equal(in.issuer.RawSubject, issuer.RawSubject) {
			// Rare: one key under several names. Filter without allocating
			// in the common case.
			var out []*crlInfo
			for _, x := range infos {
				if bytes.Equal(x.issuer.RawSubject, issuer.RawSubject) {
					out = append(out, x)
				}
			}
			return out
		}
	}
	return infos
}

type revocation struct {
	reason  Reason // "" when everything is fine
	cert    *x509.Certificate
	message string
}

// check establishes the revocation status of a verified chain: every
// certificate below the truststore certificate must be covered by a current
// CRL of its issuer; the truststore certificate itself is checked against
// CRLs of its issuers in the bundle when there are any. A listed serial gives
// revoked, whatever the CRL's age.
func (s *CRLSet) check(b *Bundle, chain []*x509.Certificate, at time.Time) revocation {
	type link struct {
		cert, issuer *x509.Certificate
		required     bool
	}
	leaf, n := chain[0], len(chain)-1
	links := make([]link, 0, n+1)
	for i := 0; i < n; i++ {
		links = append(links, link{chain[i], chain[i+1], true})
	}
	anchor := chain[n]
	if i, ok := b.byRaw[string(anchor.Raw)]; ok && !b.meta[i].selfSigned {
		for _, j := range b.meta[i].issuers {
			links = append(links, link{anchor, b.Certs[j], false})
		}
	}
	for _, l := range links {
		for _, in := range s.lookup(l.issuer) {
			if when, ok := in.revoked[serialKey(l.cert.SerialNumber)]; ok {
				return revocation{ReasonRevoked, l.cert, fmt.Sprintf("%s %s (serial %s) was revoked by %s on %s.",
					b.role(leaf, l.cert), label(l.cert), SerialHex(l.cert.SerialNumber), label(l.issuer), when.UTC().Format(time.RFC3339))}
			}
		}
	}
	for _, l := range links {
		infos := s.lookup(l.issuer)
		if len(infos) == 0 {
			if !l.required {
				continue
			}
			return revocation{ReasonCRLUnavailable, l.cert, fmt.Sprintf("No CRL from %s is loaded, so the revocation status of %s %s is unknown.",
				label(l.issuer), strings.ToLower(b.role(leaf, l.cert)), label(l.cert))}
		}
		var latest time.Time
		fresh := false
		for _, in := range infos {
			if in.nextUpdate.IsZero() || !at.After(in.nextUpdate) {
				fresh = true
				break
			}
			if in.nextUpdate.After(latest) {
				latest = in.nextUpdate
			}
		}
		if !fresh {
			return revocation{ReasonCRLExpired, l.cert, fmt.Sprintf("The CRL from %s expired at %s (checked at %s), so the revocation status of %s %s is unknown.",
				label(l.issuer), latest.UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339), strings.ToLower(b.role(leaf, l.cert)), label(l.cert))}
		}
	}
	return revocation{}
}
