package acm

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"trustgate/internal/awsapi"
	"trustgate/internal/awsapi/awserr"
	"trustgate/internal/store"
)

// Issuer issues a certificate for names at once (trustgate's local CA).
type Issuer interface {
	Issue(names []string) (certPEM, keyPEM, chainPEM []byte, err error)
}

// Config configures the ACM service.
type Config struct {
	Store     store.Store
	Region    string
	AccountID string
	// Issuer serves RequestCertificate; nil makes it fail.
	Issuer Issuer
	Logger *slog.Logger
	Now    func() time.Time
}

// Service is ACM over JSON 1.1 (X-Amz-Target: CertificateManager.*). It
// expects requests the awsapi.Endpoint has authenticated. Safe for
// concurrent use.
type Service struct {
	st        store.Store
	region    string
	account   string
	issuer    Issuer
	log       *slog.Logger
	now       func() time.Time
	operation map[string]operation
}

var _ awsapi.Service = (*Service)(nil)

type operation func(r *http.Request, body []byte) (any, error)

// New builds the service.
func New(cfg Config) *Service {
	s := &Service{st: cfg.Store, region: cfg.Region, account: cfg.AccountID, issuer: cfg.Issuer, log: cfg.Logger, now: cfg.Now}
	if s.region == "" {
		s.region = "us-east-1"
	}
	if s.account == "" {
		s.account = "000000000000"
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.operation = map[string]operation{
		"ImportCertificate":         s.importCertificate,
		"DescribeCertificate":       s.describeCertificate,
		"GetCertificate":            s.getCertificate,
		"ListCertificates":          s.listCertificates,
		"DeleteCertificate":         s.deleteCertificate,
		"RequestCertificate":        s.requestCertificate,
		"AddTagsToCertificate":      s.addTags,
		"RemoveTagsFromCertificate": s.removeTags,
		"ListTagsForCertificate":    s.listTags,
		"ExportCertificate":         s.exportCertificate,
	}
	return s
}

const targetPrefix = "CertificateManager."

// ServeHTTP implements http.Handler: POST / with X-Amz-Target.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	name, ok := strings.CutPrefix(target, targetPrefix)
	op := s.operation[name]
	if !ok || op == nil || r.Method != http.MethodPost {
		s.WriteError(w, r, awserr.New(awserr.UnknownOperation, ""))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, awsapi.MaxBodyBytes+1))
	if err != nil {
		s.WriteError(w, r, fmt.Errorf("reading request: %w", err))
		return
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		body = []byte("{}")
	}
	out, err := op(r, body)
	if err != nil {
		s.WriteError(w, r, err)
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		s.WriteError(w, r, fmt.Errorf("encoding %s response: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

// WriteError implements awsapi.Service: {"__type","message"}; anything
// that is not an *awserr.Error is an InternalFailure, logged, not shown.
func (s *Service) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	e := awserr.As(err)
	if e == nil {
		s.log.LogAttrs(r.Context(), slog.LevelError, "acm internal error",
			slog.String("request_id", awsapi.RequestID(r.Context())), slog.String("error", err.Error()))
		e = &awserr.Error{Code: awserr.InternalFailure, Message: "An internal error occurred.", Status: http.StatusInternalServerError}
	}
	body := map[string]string{"__type": e.Code}
	if e.Message != "" {
		body["message"] = e.Message
	}
	for k, v := range e.Fields {
		body[k] = v
	}
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(e.HTTPStatus())
	w.Write(b)
}

// clientError is an ACM error: JSON 1.1 services answer 400 for every
// client fault, whatever other services use for the same code.
func clientError(code, format string, args ...any) *awserr.Error {
	return &awserr.Error{Code: code, Message: fmt.Sprintf(format, args...), Status: http.StatusBadRequest}
}

func validation(format string, args ...any) *awserr.Error {
	return clientError(awserr.ValidationError, format, args...)
}

// decode reads the JSON body into v.
func decode(body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return clientError(awserr.SerializationError, "Could not parse the request body as JSON: %s", truncate(err.Error(), 200))
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
