package truststore

import "errors"

// ErrInvalidBundle is matched (errors.Is) by every *BundleError.
var ErrInvalidBundle = errors.New("invalid truststore")

// ErrInvalidCRL is matched (errors.Is) by every *CRLError.
var ErrInvalidCRL = errors.New("invalid certificate revocation list")

// Codes of hard bundle errors (BundleError.Code). They are stable and may be
// used in metrics and tests.
const (
	CodeEmpty               = "empty"
	CodeTooLarge            = "too_large"
	CodeNotPEM              = "not_pem"
	CodeMalformedPEM        = "malformed_pem"
	CodePrivateKey          = "private_key"
	CodeNotCertificate      = "not_certificate"
	CodeTooManyCertificates = "too_many_certificates"
	CodeNoCertificate       = "no_certificate"
)

// BundleError is a hard problem with a truststore bundle: the bundle as a
// whole is refused (the management API answers BadRequestException with
// Message). Message is a complete, user-facing sentence. It never contains
// bytes of the bundle: PEM data, private keys and unrecognised block content
// are not echoed.
type BundleError struct {
	Code    string // one of the Code* constants
	Message string
	Block   int // 1-based PEM block the problem is in, 0 if none
	Line    int // 1-based line the problem starts on, 0 if none
}

func (e *BundleError) Error() string { return e.Message }

// Unwrap makes errors.Is(err, ErrInvalidBundle) true.
func (e *BundleError) Unwrap() error { return ErrInvalidBundle }

// Codes of CRL parse errors (CRLError.Code).
const (
	CodeCRLEmpty          = "crl_empty"
	CodeCRLTooLarge       = "crl_too_large"
	CodeCRLIsCertificate  = "crl_is_certificate"
	CodeCRLNotCRL         = "crl_not_crl"
	CodeCRLMalformed      = "crl_malformed"
	CodeCRLPrivateKey     = "crl_private_key"
	CodeCRLMalformedBlock = "crl_malformed_pem"
)

// CRLError is a CRL that cannot be used at all. Message is a complete,
// user-facing sentence that never echoes the input.
type CRLError struct {
	Code    string // one of the CodeCRL* constants
	Message string
}

func (e *CRLError) Error() string { return e.Message }

// Unwrap makes errors.Is(err, ErrInvalidCRL) true.
func (e *CRLError) Unwrap() error { return ErrInvalidCRL }
