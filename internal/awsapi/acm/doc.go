// Package acm is the AWS Certificate Manager service of the management
// endpoint (JSON 1.1, X-Amz-Target: CertificateManager.*): the server
// certificates custom domains serve.
//
// ImportCertificate checks what ACM checks (one PEM certificate, an
// unencrypted RSA or EC key of a supported size that matches it, a chain
// that issued it) and keeps certificate, chain and key as a
// model.Certificate under model.CertKey(id). Re-importing with
// CertificateArn keeps the ARN. RequestCertificate is issued at once by
// trustgate's local CA (Type PRIVATE, Status ISSUED). DescribeCertificate
// reports InUseBy from the API Gateway domain names that reference the
// certificate, and DeleteCertificate is refused (ResourceInUseException)
// while one does, checked in the same transaction as the delete.
//
// The private key lives only in the store: no operation returns it
// (ExportCertificate is refused) and nothing logs it.
package acm
