package model

// Store keys. Every resource lives under one key; a prefix lists a kind.
// Owners of a prefix: apigateway (restapis/, resources/, deployments/,
// stages/, domains/, mappings/), acm (certs/), s3 (buckets/, objects/),
// route53 (zones/, rrsets/, changes/).
const (
	PrefixRestAPIs    = "restapis/"
	PrefixResources   = "resources/"
	PrefixDeployments = "deployments/"
	PrefixStages      = "stages/"
	PrefixDomains     = "domains/"
	PrefixMappings    = "mappings/"
	PrefixCerts       = "certs/"
	PrefixBuckets     = "buckets/"
	PrefixObjects     = "objects/"
)

// RestAPIKey is the key of a RestAPI.
func RestAPIKey(id string) string { return PrefixRestAPIs + id }

// ResourcesPrefix lists an API's resources.
func ResourcesPrefix(apiID string) string { return PrefixResources + apiID + "/" }

// ResourceKey is the key of a Resource.
func ResourceKey(apiID, id string) string { return ResourcesPrefix(apiID) + id }

// DeploymentsPrefix lists an API's deployments.
func DeploymentsPrefix(apiID string) string { return PrefixDeployments + apiID + "/" }

// DeploymentKey is the key of a Deployment.
func DeploymentKey(apiID, id string) string { return DeploymentsPrefix(apiID) + id }

// StagesPrefix lists an API's stages.
func StagesPrefix(apiID string) string { return PrefixStages + apiID + "/" }

// StageKey is the key of a Stage.
func StageKey(apiID, name string) string { return StagesPrefix(apiID) + name }

// DomainKey is the key of a DomainName (names are stored lower-case).
func DomainKey(name string) string { return PrefixDomains + name }

// MappingsPrefix lists a domain's API mappings.
func MappingsPrefix(domain string) string { return PrefixMappings + domain + "/" }

// MappingKey is the key of an APIMapping.
func MappingKey(domain, id string) string { return MappingsPrefix(domain) + id }

// CertKey is the key of a Certificate, by the id at the end of its ARN.
func CertKey(id string) string { return PrefixCerts + id }

// BucketKey is the key of a Bucket.
func BucketKey(name string) string { return PrefixBuckets + name }

// ObjectsPrefix lists all versions of all objects in a bucket.
func ObjectsPrefix(bucket string) string { return PrefixObjects + bucket + "/" }
