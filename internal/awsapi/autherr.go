package awsapi

import (
	"fmt"
	"strconv"

	"trustgate/internal/awsapi/awserr"
)

// failure names why the endpoint refused a request before any service saw it.
type failure int

const (
	failMissing         failure = iota + 1 // no SigV4 at all
	failMalformed                          // Authorization / X-Amz-* query unusable
	failUnsupported                        // another algorithm (SigV2, SigV4a)
	failUnknownKey                         // access key id is not ours
	failToken                              // a session token we never issued
	failSignature                          // signature (or a chunk's) does not match
	failDate                               // X-Amz-Date missing or malformed
	failSkewed                             // outside the 15-minute window
	failPresignExpired                     // presigned URL past X-Amz-Expires
	failRegion                             // credential scope names another region
	failPayloadHash                        // body does not hash to X-Amz-Content-Sha256
	failContentSHA                         // X-Amz-Content-Sha256 is not a value we know
	failIncompleteBody                     // aws-chunked framing broken or short
	failChecksum                           // x-amz-checksum-* does not match the body
	failTooLarge                           // body over MaxBodyBytes
	failUnsignedHeaders                    // S3: x-amz-* headers present but not signed
)

// authError is a refusal with the facts each service's wording needs.
type authError struct {
	why    failure
	detail string            // for the log and the non-S3 message where useful
	fields map[string]string // extra S3 <Error> members
}

func (e *authError) Error() string {
	return fmt.Sprintf("authentication failure %d: %s", e.why, e.detail)
}

func fail(why failure, detail string) *authError { return &authError{why: why, detail: detail} }

func (e *authError) with(k, v string) *authError {
	if e.fields == nil {
		e.fields = map[string]string{}
	}
	e.fields[k] = v
	return e
}

// reason is a short, bounded label for logs and metrics.
func (e *authError) reason() string {
	switch e.why {
	case failMissing:
		return "missing"
	case failMalformed:
		return "malformed"
	case failUnsupported:
		return "unsupported_algorithm"
	case failUnknownKey:
		return "unknown_key"
	case failToken:
		return "session_token"
	case failSignature:
		return "signature_mismatch"
	case failDate:
		return "bad_date"
	case failSkewed:
		return "clock_skew"
	case failPresignExpired:
		return "presign_expired"
	case failRegion:
		return "wrong_region"
	case failPayloadHash:
		return "payload_hash"
	case failContentSHA:
		return "bad_content_sha256"
	case failIncompleteBody:
		return "incomplete_body"
	case failChecksum:
		return "checksum"
	case failTooLarge:
		return "too_large"
	case failUnsignedHeaders:
		return "unsigned_headers"
	}
	return "other"
}

const (
	msgInvalidSignature = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgS3Signature      = "The request signature we calculated does not match the signature you provided. Check your key and signing method."
)

// render turns the refusal into the error the named service's clients expect.
func (e *authError) render(service string) *awserr.Error {
	if service == "s3" {
		return e.renderS3()
	}
	var out *awserr.Error
	switch e.why {
	case failMissing:
		out = awserr.New(awserr.MissingAuthToken, "Missing Authentication Token")
	case failMalformed, failDate, failUnsupported:
		out = awserr.New(awserr.IncompleteSignature, e.detail)
	case failUnknownKey, failToken:
		out = awserr.New(awserr.UnrecognizedClient, "The security token included in the request is invalid.")
	case failSkewed:
		out = awserr.New(awserr.InvalidSignature, e.detail)
	case failPresignExpired:
		out = awserr.New(awserr.InvalidSignature, "Signature expired: "+e.detail)
	case failRegion:
		out = awserr.New(awserr.InvalidSignature, "Credential should be scoped to a valid region. "+e.detail)
	case failTooLarge:
		out = awserr.New(awserr.RequestTooLarge, fmt.Sprintf("Request body is larger than the %d bytes allowed.", MaxBodyBytes))
	case failIncompleteBody, failChecksum, failContentSHA:
		out = awserr.New(awserr.SerializationError, e.detail)
	default: // failSignature, failPayloadHash, failUnsignedHeaders
		out = awserr.New(awserr.InvalidSignature, msgInvalidSignature)
	}
	return out
}

func (e *authError) renderS3() *awserr.Error {
	var out *awserr.Error
	switch e.why {
	case failMissing:
		out = awserr.New(awserr.S3AccessDenied, "Access Denied")
	case failMalformed:
		out = awserr.New(awserr.S3AuthorizationMalformed, "The authorization header is malformed; "+e.detail)
		if e.fields["query"] != "" {
			out = awserr.New(awserr.S3AuthorizationQueryParameters, e.detail)
		}
	case failUnsupported:
		out = awserr.New(awserr.S3InvalidRequest, "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.")
	case failUnknownKey:
		out = awserr.New(awserr.S3InvalidAccessKeyID, "The AWS Access Key Id you provided does not exist in our records.")
	case failToken:
		out = awserr.New(awserr.S3InvalidToken, "The provided token is malformed or otherwise invalid.")
	case failSignature:
		out = awserr.New(awserr.S3SignatureDoesNotMatch, msgS3Signature)
	case failDate:
		out = awserr.New(awserr.S3AccessDenied, "AWS authentication requires a valid Date or x-amz-date header")
	case failSkewed:
		out = awserr.New(awserr.S3RequestTimeTooSkewed, "The difference between the request time and the current time is too large.")
	case failPresignExpired:
		out = awserr.New(awserr.S3AccessDenied, "Request has expired")
	case failRegion:
		out = awserr.New(awserr.S3AuthorizationMalformed, "The authorization header is malformed; "+e.detail)
	case failPayloadHash:
		out = awserr.New(awserr.S3XAmzContentSHA256, "The provided 'x-amz-content-sha256' header does not match what was computed.")
	case failContentSHA:
		out = awserr.New(awserr.S3InvalidArgument, "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.")
	case failIncompleteBody:
		out = awserr.New(awserr.S3IncompleteBody, "The request body terminated unexpectedly")
	case failChecksum:
		out = awserr.New(awserr.S3BadDigest, e.detail)
	case failTooLarge:
		out = awserr.New(awserr.S3EntityTooLarge, "Your proposed upload exceeds the maximum allowed size").
			With("MaxSizeAllowed", strconv.Itoa(MaxBodyBytes))
	case failUnsignedHeaders:
		out = awserr.New(awserr.S3AccessDenied, "There were headers present in the request which were not signed")
	default:
		out = awserr.New(awserr.S3AccessDenied, "Access Denied")
	}
	for k, v := range e.fields {
		if k != "query" {
			out = out.With(k, v)
		}
	}
	return out
}
