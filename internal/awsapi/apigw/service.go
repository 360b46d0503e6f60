package apigw

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"trustgate/internal/awsapi"
	"trustgate/internal/awsapi/awserr"
	"trustgate/internal/store"
)

// ObjectGetter reads a truststore object from S3-compatible storage: the
// embedded object store or an external S3. versionID "" means the latest
// version; gotVersionID is the version actually read (what a domain pins).
// Any error means the object could not be read.
type ObjectGetter interface {
	GetObject(ctx context.Context, bucket, key, versionID string) (data []byte, gotVersionID string, err error)
}

// Config configures the apigateway service.
type Config struct {
	// Store holds every resource (required).
	Store store.Store
	// Region and AccountID appear in ARNs and host names.
	Region, AccountID string
	// PublicDomain is the suffix of regionalDomainName and execute-api hosts.
	PublicDomain string
	// Objects reads truststores (required for mutual TLS).
	Objects ObjectGetter
	// Logger receives internal errors; nil discards.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// CheckDomainTags, when set, validates the trustgate:* tags of a domain
	// name (CreateDomainName, TagResource); its error message, which names
	// the tag, becomes a BadRequestException.
	CheckDomainTags func(tags map[string]string) error
	// DomainHealth, when set, reports how the data plane serves a domain
	// name; ok is false when it does not know the domain (yet).
	DomainHealth func(domain string) (h DomainHealth, ok bool)
}

// DomainHealth is what the data plane reports about a domain name.
type DomainHealth struct {
	// Message explains why the domain is not served as configured, or
	// what is wrong with its revocation checking; it becomes
	// domainNameStatusMessage. "" when all is well.
	Message string
	// Warnings are added to truststoreWarnings (problems with its CRLs).
	Warnings []string
}

// Service is Amazon API Gateway's management API, v1 and v2, over the
// store. It is safe for concurrent use.
type Service struct {
	store        store.Store
	region       string
	account      string
	publicDomain string
	objects      ObjectGetter
	log          *slog.Logger
	now          func() time.Time
	checkTags    func(map[string]string) error
	health       func(string) (DomainHealth, bool)
	routes       []route
}

var _ awsapi.Service = (*Service)(nil)

// New returns the service.
func New(cfg Config) *Service {
	s := &Service{
		store:        cfg.Store,
		region:       cfg.Region,
		account:      cfg.AccountID,
		publicDomain: cfg.PublicDomain,
		objects:      cfg.Objects,
		log:          cfg.Logger,
		now:          cfg.Now,
		checkTags:    cfg.CheckDomainTags,
		health:       cfg.DomainHealth,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("component", "apigateway")
	if s.now == nil {
		s.now = time.Now
	}
	s.routes = s.routeTable()
	return s
}

// handler is one operation. It writes its response only after every check
// has passed (through writeJSON or writeEmpty) and otherwise returns an
// error that the adapter renders; nothing is written before an error.
type handler func(w http.ResponseWriter, r *http.Request) error

// ServeHTTP is the one adapter: it assigns a request id when the endpoint
// has not, finds the operation, runs it, renders any error through
// WriteError, and turns a panic into a 500.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if awsapi.RequestID(r.Context()) == "" {
		r = r.WithContext(awsapi.WithRequestID(r.Context(), newRequestID()))
	}
	rt, err := s.match(r)
	op := "unknown"
	if rt != nil {
		op = rt.op
	}
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("handler panic", "op", op, "request_id", awsapi.RequestID(r.Context()),
				"panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			s.WriteError(w, r, fmt.Errorf("panic in %s: %v", op, p))
		}
	}()
	if err == nil {
		err = rt.h(w, r)
	}
	if err != nil {
		s.WriteError(w, r, err)
	}
}

// WriteError renders err as REST-JSON: x-amzn-ErrorType, the table's status,
// and {"message": …} plus the error's extra fields. An error that is not an
// *awserr.Error is logged and answered as a generic 500.
func (s *Service) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	e := awserr.As(err)
	if e == nil {
		s.log.Error("internal error", "request_id", awsapi.RequestID(r.Context()),
			"method", r.Method, "path", r.URL.Path, "error", err)
		e = &awserr.Error{Code: awserr.InternalFailure, Message: "Internal server error"}
	}
	body := make(map[string]string, len(e.Fields)+1)
	for k, v := range e.Fields {
		body[k] = v
	}
	body["message"] = e.Message
	b, mErr := json.Marshal(body)
	if mErr != nil { // cannot happen for map[string]string
		b = []byte(`{"message":"Internal server error"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("x-amzn-ErrorType", e.Code)
	setRequestID(w, r)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(e.HTTPStatus())
	_, _ = w.Write(b)
}

// writeJSON marshals v and only then writes status and body.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding response: %w", err)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	setRequestID(w, r)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
	return nil
}

// writeEmpty answers a success without a body (202 and 204 deletes).
func writeEmpty(w http.ResponseWriter, r *http.Request, status int) error {
	w.Header().Set("Content-Type", "application/json")
	setRequestID(w, r)
	w.WriteHeader(status)
	return nil
}

func setRequestID(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-amzn-RequestId", awsapi.RequestID(r.Context()))
}

// newRequestID makes a random UUID (version 4), the shape of AWS request ids.
func newRequestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
