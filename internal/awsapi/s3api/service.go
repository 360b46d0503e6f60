package s3api

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"

	"trustgate/internal/awsapi"
	"trustgate/internal/awsapi/awserr"
	"trustgate/internal/objects"
	"trustgate/internal/store"
)

const xmlns = "http://s3.amazonaws.com/doc/2006-03-01/"

// Config configures the S3 service.
type Config struct {
	// Store holds the objects when Objects is nil.
	Store store.Store
	// Objects is the object store; New builds one on Store when nil.
	Objects *objects.Store
	// Region is what GetBucketLocation and HeadBucket report (us-east-1 when empty).
	Region string
	Logger *slog.Logger
}

// Service is the S3 REST-XML service (path-style requests only). It expects
// requests the awsapi.Endpoint has authenticated, with the body verified,
// decoded and in memory. Safe for concurrent use.
type Service struct {
	objs   *objects.Store
	region string
	log    *slog.Logger
}

var _ awsapi.Service = (*Service)(nil)

// New builds the service.
func New(cfg Config) *Service {
	s := &Service{objs: cfg.Objects, region: cfg.Region, log: cfg.Logger}
	if s.objs == nil {
		s.objs = objects.New(cfg.Store)
	}
	if s.region == "" {
		s.region = "us-east-1"
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	return s
}

// request is one S3 call, parsed from the path and query.
type request struct {
	bucket, key string
	query       map[string][]string
	body        []byte
}

func (q *request) has(name string) bool { _, ok := q.query[name]; return ok }

func (q *request) get(name string) string {
	if v := q.query[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

type handler func(w http.ResponseWriter, r *http.Request, q *request) error

// ServeHTTP implements http.Handler: route, call, render errors.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q, err := s.parse(r)
	if err == nil {
		var h handler
		if h, err = s.route(r, q); err == nil {
			err = h(w, r, q)
		}
	}
	if err != nil {
		s.WriteError(w, r, err)
	}
}

func (s *Service) parse(r *http.Request) (*request, error) {
	path := strings.TrimPrefix(r.URL.Path, "/")
	bucket, key, _ := strings.Cut(path, "/")
	body, err := io.ReadAll(io.LimitReader(r.Body, objects.MaxObjectBytes+1))
	if err != nil {
		return nil, awserr.New(awserr.S3IncompleteBody, "The request body terminated unexpectedly")
	}
	if len(body) > objects.MaxObjectBytes {
		return nil, awserr.New(awserr.S3EntityTooLarge, "Your proposed upload exceeds the maximum allowed size")
	}
	q := &request{bucket: bucket, key: key, query: r.URL.Query(), body: body}
	if md := r.Header.Get("Content-Md5"); md != "" {
		want, err := base64.StdEncoding.DecodeString(md)
		if err != nil || len(want) != md5.Size {
			return nil, awserr.New(awserr.S3InvalidDigest, "The Content-MD5 you specified was invalid.")
		}
		if got := md5.Sum(body); !bytes.Equal(got[:], want) {
			return nil, awserr.New(awserr.S3BadDigest, "The Content-MD5 you specified did not match what we received.").
				With("ExpectedDigest", md).With("CalculatedDigest", base64.StdEncoding.EncodeToString(got[:]))
		}
	}
	return q, nil
}

// unsupported subresources: known S3 APIs trustgate does not implement.
var unsupported = []string{
	"acl", "tagging", "uploads", "uploadId", "partNumber", "torrent", "retention", "legal-hold",
	"attributes", "restore", "select", "cors", "policy", "policyStatus", "lifecycle", "encryption",
	"website", "logging", "notification", "replication", "requestPayment", "accelerate",
	"analytics", "inventory", "metrics", "intelligent-tiering", "object-lock", "ownershipControls",
	"publicAccessBlock", "renameObject", "session", "metadataConfiguration", "abac",
}

func (s *Service) route(r *http.Request, q *request) (handler, error) {
	for _, sub := range unsupported {
		if q.has(sub) {
			return nil, notImplemented()
		}
	}
	m := r.Method
	switch {
	case q.bucket == "":
		if m == http.MethodGet {
			return s.listBuckets, nil
		}
	case q.key == "":
		switch {
		case m == http.MethodPut && q.has("versioning"):
			return s.putBucketVersioning, nil
		case m == http.MethodGet && q.has("versioning"):
			return s.getBucketVersioning, nil
		case m == http.MethodGet && q.has("versions"):
			return s.listObjectVersions, nil
		case m == http.MethodGet && q.has("location"):
			return s.getBucketLocation, nil
		case m == http.MethodPost && q.has("delete"):
			return s.deleteObjects, nil
		case q.has("versioning") || q.has("versions") || q.has("location") || q.has("delete"):
			return nil, methodNotAllowed(m, "BUCKET")
		case m == http.MethodPut:
			return s.createBucket, nil
		case m == http.MethodHead:
			return s.headBucket, nil
		case m == http.MethodDelete:
			return s.deleteBucket, nil
		case m == http.MethodGet && q.get("list-type") == "2":
			return s.listObjectsV2, nil
		case m == http.MethodGet:
			return s.listObjectsV1, nil
		}
	default:
		switch m {
		case http.MethodPut:
			if r.Header.Get("X-Amz-Copy-Source") != "" {
				return nil, notImplemented()
			}
			return s.putObject, nil
		case http.MethodGet:
			return s.getObject, nil
		case http.MethodHead:
			return s.headObject, nil
		case http.MethodDelete:
			return s.deleteObject, nil
		}
	}
	return nil, methodNotAllowed(m, "OBJECT")
}

func notImplemented() error {
	return awserr.New(awserr.S3NotImplemented, "A header you provided implies functionality that is not implemented")
}

func methodNotAllowed(method, resource string) error {
	return awserr.New(awserr.S3MethodNotAllowed, "The specified method is not allowed against this resource.").
		With("Method", method).With("ResourceType", resource)
}

// WriteError implements awsapi.Service: S3's XML <Error>, or just the
// status for HEAD. Errors that are not *awserr.Error become InternalError
// and are logged.
func (s *Service) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	e := awserr.As(err)
	if e == nil {
		s.log.LogAttrs(r.Context(), slog.LevelError, "s3 internal error",
			slog.String("request_id", awsapi.RequestID(r.Context())), slog.String("error", err.Error()))
		e = awserr.New(awserr.S3InternalError, "We encountered an internal error. Please try again.")
		e.Status = http.StatusInternalServerError
	}
	status := e.HTTPStatus()
	h := w.Header()
	for _, k := range []string{"Etag", "Last-Modified", "Content-Range", "Accept-Ranges"} {
		h.Del(k)
	}
	if r.Method == http.MethodHead || status == http.StatusNotModified {
		h.Del("Content-Type")
		h.Del("Content-Length")
		w.WriteHeader(status)
		return
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString("<Error><Code>")
	xml.EscapeText(&b, []byte(e.Code))
	b.WriteString("</Code><Message>")
	xml.EscapeText(&b, []byte(e.Message))
	b.WriteString("</Message>")
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "<%s>", k)
		xml.EscapeText(&b, []byte(e.Fields[k]))
		fmt.Fprintf(&b, "</%s>", k)
	}
	b.WriteString("<RequestId>")
	xml.EscapeText(&b, []byte(awsapi.RequestID(r.Context())))
	b.WriteString("</RequestId><HostId>")
	xml.EscapeText(&b, []byte(h.Get("X-Amz-Id-2")))
	b.WriteString("</HostId></Error>")
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", fmt.Sprint(b.Len()))
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// writeXML renders v as an XML document with status 200.
func writeXML(w http.ResponseWriter, v any) error {
	b, err := xml.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding response: %w", err)
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", fmt.Sprint(len(xml.Header)+len(b)))
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, xml.Header)
	w.Write(b)
	return nil
}
