// Package awserr is the management API's one error type and its one table
// from AWS error code to HTTP status. Handlers return *Error (or wrap one);
// each service's writer renders it in that service's wire shape (REST-JSON
// x-amzn-ErrorType, JSON 1.1 __type, REST-XML <Error>). Any other error is an
// internal failure: the writer answers a generic 500 and the details go to
// the log only.
package awserr

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is an error the client may see.
type Error struct {
	Code    string
	Message string
	// Status overrides the table when not zero.
	Status int
	// Fields are extra members of the body (v2 resourceType, S3 Key/BucketName …).
	Fields map[string]string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// HTTPStatus is the status to answer with.
func (e *Error) HTTPStatus() int {
	if e.Status != 0 {
		return e.Status
	}
	if s, ok := statusByCode[e.Code]; ok {
		return s
	}
	return http.StatusBadRequest
}

// With returns a copy of e with an extra body field.
func (e *Error) With(key, value string) *Error {
	c := *e
	c.Fields = make(map[string]string, len(e.Fields)+1)
	for k, v := range e.Fields {
		c.Fields[k] = v
	}
	c.Fields[key] = value
	return &c
}

// New makes an Error with the table's status for code.
func New(code, message string) *Error { return &Error{Code: code, Message: message} }

// Errorf makes an Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// As returns the *Error inside err, or nil for an internal error.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// Codes used across services.
const (
	// apigateway v1/v2 (REST-JSON)
	BadRequest          = "BadRequestException"
	NotFound            = "NotFoundException"
	Conflict            = "ConflictException"
	LimitExceeded       = "LimitExceededException"
	TooManyRequests     = "TooManyRequestsException"
	Unauthorized        = "UnauthorizedException"
	AccessDenied        = "AccessDeniedException"
	ServiceUnavailable  = "ServiceUnavailableException"
	MissingAuthToken    = "MissingAuthenticationTokenException"
	UnrecognizedClient  = "UnrecognizedClientException"
	InvalidSignature    = "InvalidSignatureException"
	IncompleteSignature = "IncompleteSignatureException"
	RequestExpired      = "RequestExpired"
	SerializationError  = "SerializationException"
	UnknownOperation    = "UnknownOperationException"
	RequestTooLarge     = "RequestEntityTooLargeException"
	InternalFailure     = "InternalFailure"

	// acm (JSON 1.1)
	InvalidParameter   = "InvalidParameterException"
	InvalidARN         = "InvalidArnException"
	ResourceNotFound   = "ResourceNotFoundException"
	ResourceInUse      = "ResourceInUseException"
	InvalidTag         = "InvalidTagException"
	TooManyTags        = "TooManyTagsException"
	ValidationError    = "ValidationException"
	InvalidDomainValue = "InvalidDomainValidationOptionsException"

	// s3 (REST-XML)
	S3AccessDenied                 = "AccessDenied"
	S3InvalidAccessKeyID           = "InvalidAccessKeyId"
	S3SignatureDoesNotMatch        = "SignatureDoesNotMatch"
	S3RequestTimeTooSkewed         = "RequestTimeTooSkewed"
	S3MissingSecurityHeader        = "MissingSecurityHeader"
	S3AuthorizationMalformed       = "AuthorizationHeaderMalformed"
	S3BadDigest                    = "BadDigest"
	S3XAmzContentSHA256            = "XAmzContentSHA256Mismatch"
	S3NoSuchBucket                 = "NoSuchBucket"
	S3NoSuchKey                    = "NoSuchKey"
	S3NoSuchVersion                = "NoSuchVersion"
	S3BucketAlreadyOwned           = "BucketAlreadyOwnedByYou"
	S3BucketAlreadyExists          = "BucketAlreadyExists"
	S3BucketNotEmpty               = "BucketNotEmpty"
	S3InvalidBucketName            = "InvalidBucketName"
	S3InvalidArgument              = "InvalidArgument"
	S3InvalidRequest               = "InvalidRequest"
	S3MalformedXML                 = "MalformedXML"
	S3MethodNotAllowed             = "MethodNotAllowed"
	S3NotImplemented               = "NotImplemented"
	S3EntityTooLarge               = "EntityTooLarge"
	S3InternalError                = "InternalError"
	S3IncompleteBody               = "IncompleteBody"
	S3KeyTooLong                   = "KeyTooLongError"
	S3AuthorizationQueryParameters = "AuthorizationQueryParametersError"
	S3InvalidToken                 = "InvalidToken"
	S3InvalidDigest                = "InvalidDigest"
	S3PreconditionFailed           = "PreconditionFailed"
	S3InvalidRange                 = "InvalidRange"
	S3NotModified                  = "NotModified"
	S3MissingContentLength         = "MissingContentLength"
	S3InvalidLocationConstraint    = "InvalidLocationConstraint"
	S3IllegalVersioningConfig      = "IllegalVersioningConfigurationException"

	// route53 (REST-XML)
	R53NoSuchHostedZone         = "NoSuchHostedZone"
	R53HostedZoneAlreadyExists  = "HostedZoneAlreadyExists"
	R53HostedZoneNotEmpty       = "HostedZoneNotEmpty"
	R53InvalidChangeBatch       = "InvalidChangeBatch"
	R53InvalidInput             = "InvalidInput"
	R53InvalidDomainName        = "InvalidDomainName"
	R53NoSuchChange             = "NoSuchChange"
	R53InvalidPaginationToken   = "InvalidPaginationToken"
	R53ConflictingDomainExists  = "ConflictingDomainExists"
	R53DelegationSetNotReusable = "DelegationSetNotReusable"
)

// statusByCode is the one table from error code to HTTP status.
var statusByCode = map[string]int{
	BadRequest:          400,
	NotFound:            404,
	Conflict:            409,
	LimitExceeded:       429,
	TooManyRequests:     429,
	Unauthorized:        401,
	AccessDenied:        403,
	ServiceUnavailable:  503,
	MissingAuthToken:    403,
	UnrecognizedClient:  403,
	InvalidSignature:    403,
	IncompleteSignature: 400,
	RequestExpired:      400,
	SerializationError:  400,
	UnknownOperation:    400,
	RequestTooLarge:     413,
	InternalFailure:     500,

	InvalidParameter:   400,
	InvalidARN:         400,
	ResourceNotFound:   400,
	ResourceInUse:      400,
	InvalidTag:         400,
	TooManyTags:        400,
	ValidationError:    400,
	InvalidDomainValue: 400,

	S3AccessDenied:                 403,
	S3InvalidAccessKeyID:           403,
	S3SignatureDoesNotMatch:        403,
	S3RequestTimeTooSkewed:         403,
	S3MissingSecurityHeader:        400,
	S3AuthorizationMalformed:       400,
	S3BadDigest:                    400,
	S3XAmzContentSHA256:            400,
	S3NoSuchBucket:                 404,
	S3NoSuchKey:                    404,
	S3NoSuchVersion:                404,
	S3BucketAlreadyOwned:           409,
	S3BucketAlreadyExists:          409,
	S3BucketNotEmpty:               409,
	S3InvalidBucketName:            400,
	S3InvalidArgument:              400,
	S3InvalidRequest:               400,
	S3MalformedXML:                 400,
	S3MethodNotAllowed:             405,
	S3NotImplemented:               501,
	S3EntityTooLarge:               400,
	S3InternalError:                500,
	S3IncompleteBody:               400,
	S3KeyTooLong:                   400,
	S3AuthorizationQueryParameters: 400,
	S3InvalidToken:                 400,
	S3InvalidDigest:                400,
	S3PreconditionFailed:           412,
	S3InvalidRange:                 416,
	S3NotModified:                  304,
	S3MissingContentLength:         411,
	S3InvalidLocationConstraint:    400,
	S3IllegalVersioningConfig:      400,

	R53NoSuchHostedZone:         404,
	R53HostedZoneAlreadyExists:  409,
	R53HostedZoneNotEmpty:       400,
	R53InvalidChangeBatch:       400,
	R53InvalidInput:             400,
	R53InvalidDomainName:        400,
	R53NoSuchChange:             404,
	R53InvalidPaginationToken:   400,
	R53ConflictingDomainExists:  400,
	R53DelegationSetNotReusable: 400,
}
