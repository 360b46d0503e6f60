package model

import "time"

// Security policies a domain name may carry.
const (
	PolicyTLS10         = "TLS_1_0"
	PolicyTLS12         = "TLS_1_2"
	PolicyTLS13_2025_09 = "SecurityPolicy_TLS13_1_3_2025_09"
)

// Domain name statuses.
const (
	DomainAvailable = "AVAILABLE"
	DomainUpdating  = "UPDATING"
	DomainFailed    = "FAILED"
)

// DomainName is a custom domain: server certificate, security policy, and
// optional mutual TLS. Its tags carry trustgate-only settings ("trustgate:…").
type DomainName struct {
	Name string `json:"domainName"`
	// ID is the random part of the regional domain name d-{ID}.execute-api….
	ID                   string            `json:"id"`
	CertificateARN       string            `json:"certificateArn"`
	CertificateName      string            `json:"certificateName,omitempty"`
	EndpointType         string            `json:"endpointType"` // REGIONAL
	SecurityPolicy       string            `json:"securityPolicy"`
	MutualTLS            *MutualTLS        `json:"mutualTls,omitempty"`
	Tags                 map[string]string `json:"tags,omitempty"`
	CreatedDate          time.Time         `json:"createdDate"`
	Status               string            `json:"status"`
	StatusMessage        string            `json:"statusMessage,omitempty"`
	RoutingMode          string            `json:"routingMode,omitempty"`
	OwnershipCertificate string            `json:"ownershipVerificationCertificateArn,omitempty"`
}

// MutualTLS is a domain's truststore, pinned to one object version. The
// store keeps its own copy of the bundle (Truststore) so a node can start and
// rebuild without reaching S3; the copy is exactly the pinned version.
type MutualTLS struct {
	TruststoreURI     string    `json:"truststoreUri"`
	TruststoreVersion string    `json:"truststoreVersion,omitempty"`
	Truststore        []byte    `json:"truststore,omitempty"`
	Warnings          []string  `json:"warnings,omitempty"` // as of FetchedAt
	FetchedAt         time.Time `json:"fetchedAt"`
}

// NoneKey is how v1 names the empty base path.
const NoneKey = "(none)"

// APIMapping maps a path prefix of a domain to a stage of an API. v1 base
// path mappings and v2 API mappings are two views of these records. Key ""
// is the (none) mapping; multi-level keys contain "/".
type APIMapping struct {
	ID         string `json:"id"`
	DomainName string `json:"domainName"`
	Key        string `json:"key"`
	APIID      string `json:"apiId"`
	Stage      string `json:"stage"`
}
