// Package awsapi is trustgate's management endpoint: one HTTP listener that
// speaks the AWS services the mTLS flow needs (apigateway v1 and v2, acm, s3,
// route53) to the real AWS CLI and SDKs.
//
// The Endpoint authenticates every request with SigV4 before any service
// sees it: header or presigned-query form, the configured access key only,
// a 15-minute clock window, the payload hash (X-Amz-Content-Sha256, or the
// body's own hash for services that do not send one), and for S3 the
// aws-chunked streaming bodies with their chunk signatures, trailers and
// x-amz-checksum-* values. Signatures are recomputed with the AWS SDK's own
// signer; only the chunk-signature chain is written here. The service is
// chosen by the service name in the credential scope. A request that fails
// any check is answered with that service's own error (Service.WriteError)
// and never reaches it.
//
// Services receive the request with the body fully read, verified and
// decoded (at most MaxBodyBytes), Content-Length set to the decoded size,
// trailers moved into the headers, the Authorization header removed, and a
// request id on the context (RequestID) that is also sent as
// x-amzn-RequestId (and x-amz-request-id for S3).
//
// Only GET /healthz, /readyz and /metrics are served without a signature,
// and only to requests that carry none.
package awsapi
