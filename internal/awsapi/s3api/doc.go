// Package s3api is the S3 service of the management endpoint: REST-XML,
// path-style (http://host/bucket/key), on the embedded versioned object
// store. It covers what the truststore flow and the AWS CLI's s3/s3api
// commands need: buckets (create with any location constraint, head, list,
// delete, versioning, location), objects (put with Content-MD5 and
// x-amz-checksum-* kept and echoed, get with ranges, conditionals and
// versionId, head, delete with delete markers, multi-object delete) and
// listings (ListObjects v1 and v2, ListObjectVersions, encoding-type=url).
// Other S3 APIs (multipart upload, copy, ACLs, tagging, …) answer
// NotImplemented. Bodies and errors follow S3's wire format, with the
// request id from awsapi in <RequestId>.
package s3api
