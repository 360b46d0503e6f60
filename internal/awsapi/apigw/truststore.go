package apigw

import (
	"context"
	"strings"

	"trustgate/internal/model"
	"trustgate/internal/truststore"
)

const (
	maxTruststoreURILength     = 2048
	maxTruststoreVersionLength = 64
)

// parseS3URI splits s3://bucket/key.
func parseS3URI(uri string) (bucket, key string, err error) {
	rest, ok := strings.CutPrefix(uri, "s3://")
	if ok {
		bucket, key, ok = strings.Cut(rest, "/")
	}
	if !ok || bucket == "" || key == "" || len(uri) > maxTruststoreURILength {
		return "", "", badRequest("Invalid truststore URI specified: %s. The truststore URI must have the form s3://bucket-name/key-name", uri)
	}
	return bucket, key, nil
}

// fetchTruststore reads the truststore at uri, at version or (version "")
// the latest, and validates it. The result pins the version that was read, so
// later overwrites of the object change nothing until the domain is updated.
// Any read failure is AWS's "Unable to access truststore URI …" and a bundle
// that fails validation is a BadRequestException with the validator's
// message; either way nothing is returned to store.
func (s *Service) fetchTruststore(ctx context.Context, uri, version string) (*model.MutualTLS, error) {
	bucket, key, err := parseS3URI(uri)
	if err != nil {
		return nil, err
	}
	if len(version) > maxTruststoreVersionLength {
		return nil, badRequest("Invalid truststore version specified: at most %d characters", maxTruststoreVersionLength)
	}
	shown := version
	if shown == "" {
		shown = "N/A"
	}
	unreadable := badRequest("Unable to access truststore URI %s version %s.", uri, shown)
	if s.objects == nil {
		s.log.Warn("no object store configured for truststores", "uri", uri)
		return nil, unreadable
	}
	data, got, err := s.objects.GetObject(ctx, bucket, key, version)
	if err != nil {
		s.log.Info("truststore unreadable", "uri", uri, "version", version, "error", err)
		return nil, unreadable
	}
	b, err := truststore.Parse(data)
	if err != nil {
		return nil, badRequest("%s", err.Error())
	}
	if got == "" {
		got = version
	}
	now := s.now().UTC()
	return &model.MutualTLS{
		TruststoreURI:     uri,
		TruststoreVersion: got,
		Truststore:        data,
		Warnings:          truststore.Messages(b.Warnings(now)),
		FetchedAt:         now,
	}, nil
}

// currentWarnings recomputes a stored truststore's warnings as of now, so an
// expiry shows up without an update (AWS only reports at upload time; this is
// more useful and never less). If the stored copy no longer parses (it was
// valid when stored, so only a validator change can cause that), the
// warnings recorded at upload are shown.
func (s *Service) currentWarnings(m *model.MutualTLS) []string {
	b, err := truststore.Parse(m.Truststore)
	if err != nil {
		s.log.Warn("stored truststore does not parse", "uri", m.TruststoreURI, "version", m.TruststoreVersion, "error", err)
		return m.Warnings
	}
	return truststore.Messages(b.Warnings(s.now()))
}
