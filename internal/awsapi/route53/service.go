package route53

import (
	"bytes"
	"crypto/rand"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"trustgate/internal/awsapi"
	"trustgate/internal/awsapi/awserr"
	"trustgate/internal/store"
)

// Config is what the route53 service needs.
type Config struct {
	Store store.Store
	// Region and PublicDomain name the gateway's regional domain names
	// (d-{id}.execute-api.{Region}.{PublicDomain}) that alias records may
	// target, and PublicDomain names the zones' name servers.
	Region, PublicDomain string
	// PublicIP is what alias records to the gateway resolve to; the DNS
	// server answers with it, this service only reports it in logs.
	PublicIP net.IP
	// Served returns the store revision the DNS server answers from. A change
	// recorded at revision R is INSYNC once Served() >= R. nil, or a negative
	// result (no DNS server runs), means every change is INSYNC at once.
	Served func() int64
	// NameServers are the delegation set of every zone and the apex NS
	// values; default ns1.{PublicDomain}. and ns2.{PublicDomain}.
	NameServers []string
	Logger      *slog.Logger
	Now         func() time.Time
}

// Service is Route 53's REST-XML API on the management endpoint: hosted
// zones, record sets (alias records included) and changes. It is safe for
// concurrent use; every write is one store transaction.
type Service struct {
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	ns      []string
	changes *changeRevisions
}

var _ awsapi.Service = (*Service)(nil)

// New returns the route53 service.
func New(cfg Config) *Service {
	s := &Service{cfg: cfg, log: cfg.Logger, now: cfg.Now, changes: newChangeRevisions(changeMemory)}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	pd := strings.TrimSuffix(strings.ToLower(cfg.PublicDomain), ".")
	if pd == "" {
		pd = "localhost"
	}
	for _, n := range cfg.NameServers {
		s.ns = append(s.ns, strings.TrimSuffix(strings.ToLower(n), ".")+".")
	}
	if len(s.ns) == 0 {
		s.ns = []string{"ns1." + pd + ".", "ns2." + pd + "."}
	}
	return s
}

// apiPrefix is the version prefix of every Route 53 path.
const apiPrefix = "/2013-04-01"

// ServeHTTP dispatches one authenticated request by method and path.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if awsapi.RequestID(r.Context()) == "" {
		// Called directly, not through the endpoint (tests).
		r = r.WithContext(awsapi.WithRequestID(r.Context(), newRequestID()))
	}
	if err := s.route(w, r); err != nil {
		s.WriteError(w, r, err)
	}
}

func (s *Service) route(w http.ResponseWriter, r *http.Request) error {
	p, ok := strings.CutPrefix(r.URL.Path, apiPrefix+"/")
	if !ok {
		return unknownOperation(r)
	}
	// The CLI and SDKs strip "/hostedzone/" and "/change/" from ids, but a
	// client that does not sends them inside the path segment, escaped or
	// not: "hostedzone//hostedzone/Z1" once decoded.
	p = strings.Replace(p, "hostedzone//hostedzone/", "hostedzone/", 1)
	p = strings.Replace(p, "change//change/", "change/", 1)
	seg := strings.Split(strings.TrimSuffix(p, "/"), "/")
	switch {
	case len(seg) == 1 && seg[0] == "hostedzone":
		switch r.Method {
		case http.MethodPost:
			return s.createHostedZone(w, r)
		case http.MethodGet:
			return s.listHostedZones(w, r)
		}
	case len(seg) == 1 && seg[0] == "hostedzonesbyname" && r.Method == http.MethodGet:
		return s.listHostedZonesByName(w, r)
	case len(seg) == 1 && seg[0] == "hostedzonecount" && r.Method == http.MethodGet:
		return s.getHostedZoneCount(w, r)
	case len(seg) == 2 && seg[0] == "hostedzone":
		switch r.Method {
		case http.MethodGet:
			return s.getHostedZone(w, r, seg[1])
		case http.MethodDelete:
			return s.deleteHostedZone(w, r, seg[1])
		}
	case len(seg) == 3 && seg[0] == "hostedzone" && seg[2] == "rrset":
		switch r.Method {
		case http.MethodPost:
			return s.changeRRSets(w, r, seg[1])
		case http.MethodGet:
			return s.listRRSets(w, r, seg[1])
		}
	case len(seg) == 2 && seg[0] == "change" && r.Method == http.MethodGet:
		return s.getChange(w, r, seg[1])
	}
	return unknownOperation(r)
}

func unknownOperation(r *http.Request) error {
	return &awserr.Error{
		Code:    awserr.UnknownOperation,
		Message: fmt.Sprintf("trustgate's Route 53 does not implement %s %s", r.Method, r.URL.Path),
		Status:  http.StatusNotFound,
	}
}

// WriteError renders err as Route 53's ErrorResponse document. Anything but
// an *awserr.Error is an internal failure: a generic 500, details logged.
func (s *Service) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	e := awserr.As(err)
	if e == nil {
		s.log.Error("route53 request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		e = &awserr.Error{Code: awserr.InternalFailure, Message: "An internal error occurred.", Status: 500}
	}
	typ := "Sender"
	if e.HTTPStatus() >= 500 {
		typ = "Receiver"
	}
	s.writeXML(w, r, e.HTTPStatus(), errorResponse{
		Xmlns:     xmlns,
		Error:     errorXML{Type: typ, Code: e.Code, Message: e.Message},
		RequestID: requestID(r),
	})
}

// writeXML renders v as the response document with status.
func (s *Service) writeXML(w http.ResponseWriter, r *http.Request, status int, v any) {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	if err := xml.NewEncoder(&b).Encode(v); err != nil {
		s.log.Error("encoding route53 response", "err", err)
		status = http.StatusInternalServerError
		b.Reset()
	}
	h := w.Header()
	h.Set("Content-Type", "text/xml")
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	h.Set("x-amzn-RequestId", requestID(r))
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// requestID is the request id the endpoint (or ServeHTTP) assigned.
func requestID(r *http.Request) string {
	if id := awsapi.RequestID(r.Context()); id != "" {
		return id
	}
	return newRequestID()
}

func newRequestID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// decodeXML reads a request document into v. A body that is not the
// expected XML is InvalidInput, as Route 53 answers.
func decodeXML(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, awsapi.MaxBodyBytes+1))
	if err != nil {
		return fmt.Errorf("reading request body: %w", err)
	}
	if len(body) > awsapi.MaxBodyBytes {
		return awserr.New(awserr.R53InvalidInput, "The request body is too large.")
	}
	if err := xml.Unmarshal(body, v); err != nil {
		return awserr.New(awserr.R53InvalidInput, "Invalid XML ; "+err.Error())
	}
	return nil
}

// validation is AWS's constraint-violation wording.
func validation(format string, args ...any) error {
	return awserr.New(awserr.R53InvalidInput, "1 validation error detected: "+fmt.Sprintf(format, args...))
}

// idAlphabet is what Route 53 ids are made of.
const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// newID returns prefix followed by n random upper-case letters and digits.
func newID(prefix string, n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return prefix + string(b)
}

// validID reports whether id could be one of ours: only letters and digits,
// so it is safe inside a store key.
func validID(id string) bool {
	if id == "" || len(id) > 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// timestamp is Route 53's SubmittedAt form.
func timestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// isNotFound reports a missing store key.
func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// hostedZoneRef is the "/hostedzone/ID" form responses use.
func hostedZoneRef(id string) string { return "/hostedzone/" + id }

// changeRef is the "/change/ID" form responses use.
func changeRef(id string) string { return "/change/" + id }
