package apigw

import (
	"fmt"
	"strings"

	"trustgate/internal/awsapi/awserr"
)

// badRequest, notFound and conflict make the three errors most operations
// answer; the status comes from awserr's table.
func badRequest(format string, args ...any) error {
	return awserr.Errorf(awserr.BadRequest, format, args...)
}

func notFound(format string, args ...any) error {
	return awserr.Errorf(awserr.NotFound, format, args...)
}

func conflict(format string, args ...any) error {
	return awserr.Errorf(awserr.Conflict, format, args...)
}

// notFoundV2 is a v2 NotFoundException, which names the kind of resource.
func notFoundV2(resourceType, format string, args ...any) error {
	return awserr.Errorf(awserr.NotFound, format, args...).With("resourceType", resourceType)
}

// validationError is AWS's model-validation failure for an enum member, in
// AWS's wording ("1 validation error detected: …").
func validationError(value, member string, allowed []string) error {
	return awserr.Errorf(awserr.ValidationError,
		"1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]",
		value, member, strings.Join(allowed, ", "))
}

// Messages AWS answers (as reproduced by LocalStack's and moto's tests
// against AWS) for missing resources.
func (s *Service) errAPINotFound(id string) error {
	return notFound("Invalid API identifier specified %s:%s", s.account, id)
}

var (
	errResourceNotFound       = notFound("Invalid Resource identifier specified")
	errMethodNotFound         = notFound("Invalid Method identifier specified")
	errIntegrationNotFound    = notFound("Invalid Integration identifier specified")
	errResponseNotFound       = notFound("Invalid Response status code specified")
	errDeploymentNotFound     = notFound("Invalid Deployment identifier specified")
	errStageNotFound          = notFound("Invalid Stage identifier specified")
	errDomainNotFound         = notFound("Invalid domain name identifier specified")
	errBasePathNotFound       = notFound("Invalid base path mapping identifier specified")
	errBasePathExists         = conflict("Base path already exists for this domain name")
	errNoneBasePathExists     = conflict("Only one base path mapping is allowed if the base path is empty.")
	errDomainNotFoundV2       = notFoundV2("DomainName", "The domain name resource specified in the request was not found.")
	errAPIMappingNotFoundV2   = notFoundV2("ApiMapping", "The api mapping resource specified in the request was not found.")
	errConcurrentModification = conflict("Unable to complete operation due to concurrent modification. Please try again later.")
)

// Patch operation errors, in AWS's wording (including its double space).
func errPatchPath(op patchOp, allowed []string) error {
	return badRequest("Invalid patch path  '%s' specified for op '%s'. Must be one of: [%s]", op.Path, op.Op, strings.Join(allowed, ", "))
}

func errPatchOp(op patchOp) error {
	return badRequest("Invalid patch path  '%s' specified for op '%s'. Please choose supported operations", op.Path, op.Op)
}

func errPatchValue(op patchOp, want string) error {
	return badRequest("Invalid patch value '%s' specified for op '%s' on path '%s'. %s", op.value(), op.Op, op.Path, want)
}

// wrapInternal adds context to an internal (non-client) error; client errors
// pass through unchanged so their code survives.
func wrapInternal(err error, action string) error {
	if err == nil || awserr.As(err) != nil {
		return err
	}
	return fmt.Errorf("%s: %w", action, err)
}
