package s3api

import (
	"errors"

	"trustgate/internal/awsapi/awserr"
	"trustgate/internal/objects"
)

// toAWS maps the object store's errors to S3's codes and wording; anything
// else stays an internal error.
func toAWS(err error, q *request) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(err, objects.ErrNoSuchBucket):
		return awserr.New(awserr.S3NoSuchBucket, "The specified bucket does not exist").With("BucketName", q.bucket)
	case errors.Is(err, objects.ErrBucketExists):
		return awserr.New(awserr.S3BucketAlreadyOwned, "Your previous request to create the named bucket succeeded and you already own it.").With("BucketName", q.bucket)
	case errors.Is(err, objects.ErrBucketNotEmpty):
		return awserr.New(awserr.S3BucketNotEmpty, "The bucket you tried to delete is not empty").With("BucketName", q.bucket)
	case errors.Is(err, objects.ErrInvalidBucketName):
		return awserr.New(awserr.S3InvalidBucketName, "The specified bucket is not valid.").With("BucketName", q.bucket)
	case errors.Is(err, objects.ErrNoSuchKey):
		return awserr.New(awserr.S3NoSuchKey, "The specified key does not exist.").With("Key", q.key)
	case errors.Is(err, objects.ErrNoSuchVersion):
		return awserr.New(awserr.S3NoSuchVersion, "The specified version does not exist.").With("Key", q.key).With("VersionId", q.get("versionId"))
	case errors.Is(err, objects.ErrDeleteMarker):
		return methodNotAllowed("GET", "DeleteMarker")
	case errors.Is(err, objects.ErrKeyTooLong):
		return awserr.New(awserr.S3KeyTooLong, "Your key is too long")
	case errors.Is(err, objects.ErrInvalidKey):
		return awserr.New(awserr.S3InvalidArgument, "Object key is not valid UTF-8 or contains NUL.")
	case errors.Is(err, objects.ErrTooLarge):
		return awserr.New(awserr.S3EntityTooLarge, "Your proposed upload exceeds the maximum allowed size")
	case errors.Is(err, objects.ErrInvalidVersioning):
		return malformedXML()
	}
	return err
}

func malformedXML() error {
	return awserr.New(awserr.S3MalformedXML, "The XML you provided was not well-formed or did not validate against our published schema")
}
