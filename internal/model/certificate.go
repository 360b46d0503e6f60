package model

import (
	"log/slog"
	"time"
)

// Certificate types, as ACM names them.
const (
	CertImported = "IMPORTED"
	CertPrivate  = "PRIVATE"
)

// Certificate is an ACM certificate: a server certificate with its chain and
// private key. The key never leaves the store through the management API and
// is redacted from logs.
type Certificate struct {
	ARN                string            `json:"arn"`
	DomainName         string            `json:"domainName"`
	SANs               []string          `json:"subjectAlternativeNames,omitempty"`
	Type               string            `json:"type"`
	Status             string            `json:"status"`
	CertificatePEM     string            `json:"certificatePem"`
	ChainPEM           string            `json:"chainPem,omitempty"`
	PrivateKeyPEM      Secret            `json:"privateKeyPem"`
	Subject            string            `json:"subject,omitempty"`
	Issuer             string            `json:"issuer,omitempty"`
	Serial             string            `json:"serial,omitempty"`
	KeyAlgorithm       string            `json:"keyAlgorithm,omitempty"`
	SignatureAlgorithm string            `json:"signatureAlgorithm,omitempty"`
	NotBefore          time.Time         `json:"notBefore"`
	NotAfter           time.Time         `json:"notAfter"`
	CreatedAt          time.Time         `json:"createdAt"`
	ImportedAt         time.Time         `json:"importedAt,omitempty"`
	Tags               map[string]string `json:"tags,omitempty"`
}

// Secret is a string that never prints: slog and fmt show it redacted.
type Secret string

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue("REDACTED") }

// String implements fmt.Stringer.
func (Secret) String() string { return "REDACTED" }

// GoString implements fmt.GoStringer.
func (Secret) GoString() string { return "REDACTED" }
