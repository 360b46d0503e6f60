package truststore

// Warning is a problem with one certificate of a truststore (or one CRL) that
// does not make the truststore unusable, like AWS's truststoreWarnings.
type Warning struct {
	// Subject is the DN (DNString) of the certificate, or of the CRL issuer,
	// the warning is about; empty for a problem that has no subject.
	Subject string
	// Code is a stable identifier, one of the Warn* constants.
	Code string
	// Message is a complete sentence that names the subject and the problem.
	Message string
	// Index is the position in Bundle.Certs of the certificate the warning is
	// about, or -1.
	Index int
	// Block is the 1-based PEM block the warning is about, or 0.
	Block int
}

// String returns Message.
func (w Warning) String() string { return w.Message }

// Warning codes.
const (
	WarnExpired              = "expired"
	WarnNotYetValid          = "not_yet_valid"
	WarnExpiresSoon          = "expires_soon"
	WarnWeakKey              = "weak_key"
	WarnWeakSignature        = "weak_signature"
	WarnMissingIssuer        = "missing_issuer"
	WarnNotCA                = "not_ca"
	WarnDuplicateSubject     = "duplicate_subject"
	WarnDuplicateCertificate = "duplicate_certificate"
	WarnUnsupportedCritical  = "unsupported_critical_extension"
	WarnChainTooLong         = "chain_too_long"
	WarnMalformedCertificate = "malformed_certificate"
	WarnNonPEMData           = "non_pem_data"

	// CRL warnings (CRLSet.Warnings).
	WarnCRLUnknownIssuer = "crl_unknown_issuer"
	WarnCRLBadSignature  = "crl_bad_signature"
	WarnCRLWeakSignature = "crl_weak_signature"
	WarnCRLExpired       = "crl_expired"
	WarnCRLNotYetValid   = "crl_not_yet_valid"
	WarnCRLMissing       = "crl_missing"
)

// Messages returns the Message of each warning, the form of AWS's
// truststoreWarnings.
func Messages(ws []Warning) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.Message
	}
	return out
}
