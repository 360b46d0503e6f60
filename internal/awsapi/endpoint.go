package awsapi

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Config configures the management endpoint.
type Config struct {
	// Credentials is the one access key requests must be signed with.
	Credentials Credentials
	// Region is the region credential scopes must name ("" accepts any).
	// route53, a global service, may also be signed for us-east-1.
	Region string
	// Services by SigV4 service name: "apigateway", "acm", "s3", "route53".
	Services map[string]Service
	Logger   *slog.Logger
	// Now is the clock for signature time checks (time.Now when nil).
	Now func() time.Time
	// Extra is served, unauthenticated, for GET /metrics only; may be nil.
	Extra http.Handler
	// Ready reports readiness for /readyz; nil means always ready.
	Ready func() error
	// Registerer receives the endpoint's metrics; nil means none.
	Registerer prometheus.Registerer
}

// Endpoint is the management endpoint: an http.Handler that authenticates
// every request with SigV4 and hands it, body verified and decoded, to the
// service named in the credential scope. Only GET /healthz, /readyz and
// /metrics are served without a signature, and only to requests that carry
// none. Safe for concurrent use.
type Endpoint struct {
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	metrics *metrics
}

// New builds the endpoint. Registering its metrics twice on one Registerer
// panics, like any collector.
func New(cfg Config) *Endpoint {
	e := &Endpoint{cfg: cfg, log: cfg.Logger, now: cfg.Now}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	e.log = e.log.With("component", "awsapi")
	if e.now == nil {
		e.now = time.Now
	}
	e.metrics = newMetrics(cfg.Registerer)
	return e
}

// ServeHTTP implements http.Handler.
func (e *Endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := newRequestID()
	r = r.WithContext(WithRequestID(r.Context(), id))
	rec := &recorder{ResponseWriter: w}
	w.Header().Set("x-amzn-RequestId", id)

	if !hasSigV4(r) && e.serveOpen(rec, r) {
		return
	}

	sig, aerr := parseSigV4(r)
	name := guessService(r)
	if sig != nil && sig.service != "" {
		name = sig.service
	}
	svc := e.cfg.Services[name]
	if svc == nil {
		e.metrics.request("unknown", http.StatusBadRequest)
		if sig == nil {
			http.Error(rec, "Missing Authentication Token", http.StatusForbidden)
			return
		}
		http.Error(rec, fmt.Sprintf("trustgate: no AWS service %q on this endpoint (it serves %s)", truncate(name, 40), e.serviceList()), http.StatusBadRequest)
		e.log.LogAttrs(r.Context(), slog.LevelInfo, "request for unknown service", slog.String("request_id", id), slog.String("method", r.Method))
		return
	}
	if name == "s3" {
		w.Header().Set("x-amz-request-id", id)
		w.Header().Set("x-amz-id-2", newID2())
	}

	var out *http.Request
	if aerr == nil {
		out, aerr = e.admit(r, sig)
	}
	if aerr != nil {
		e.metrics.authFailure(name, aerr.reason())
		svc.WriteError(rec, r, aerr.render(name))
		e.logRequest(r, name, rec, start, aerr)
		return
	}
	e.dispatch(svc, rec, out)
	e.logRequest(r, name, rec, start, nil)
}

func (e *Endpoint) serviceList() string {
	names := make([]string, 0, len(e.cfg.Services))
	for n := range e.cfg.Services {
		names = append(names, n)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// serveOpen answers the unauthenticated paths; false means "not one of them".
func (e *Endpoint) serveOpen(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	switch r.URL.Path {
	case "/healthz":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	case "/readyz":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if e.cfg.Ready != nil {
			if err := e.cfg.Ready(); err != nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				fmt.Fprintf(w, "not ready: %v\n", err)
				return true
			}
		}
		io.WriteString(w, "ready\n")
	case "/metrics":
		if e.cfg.Extra == nil {
			return false
		}
		e.cfg.Extra.ServeHTTP(w, r)
	default:
		return false
	}
	return true
}

// guessService names the service an unsigned or unparsable request was
// probably meant for, so that it gets that service's own auth error.
func guessService(r *http.Request) string {
	if strings.HasPrefix(r.Header.Get("X-Amz-Target"), "CertificateManager.") {
		return "acm"
	}
	p := r.URL.Path
	if strings.HasPrefix(p, "/2013-04-01/") {
		return "route53"
	}
	first, _, _ := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	switch first {
	case "restapis", "domainnames", "v2", "apikeys", "usageplans", "account", "clientcertificates",
		"vpclinks", "tags", "sdktypes", "domainnameaccessassociations", "apis":
		return "apigateway"
	}
	return "s3"
}

// admit runs every check that needs the key and the body, and returns the
// request the service will see: body verified, decoded and in memory.
func (e *Endpoint) admit(r *http.Request, sig *sigV4) (*http.Request, *authError) {
	creds := e.cfg.Credentials
	isS3 := sig.service == "s3"
	if sig.accessKeyID != creds.AccessKeyID {
		return nil, fail(failUnknownKey, "unknown access key id").with("AWSAccessKeyId", truncate(sig.accessKeyID, 128))
	}
	if r.Header.Get("X-Amz-Security-Token") != "" || r.URL.Query().Get("X-Amz-Security-Token") != "" {
		return nil, fail(failToken, "session tokens are not issued here")
	}
	if err := e.checkRegion(sig); err != nil {
		return nil, err
	}
	if err := sig.checkTime(e.now()); err != nil {
		return nil, err
	}
	// JSON services name the operation in X-Amz-Target: it must be covered
	// by the signature (every SDK signs it), or the operation could change.
	if r.Header.Get("X-Amz-Target") != "" && !sig.signs("x-amz-target") {
		return nil, fail(failSignature, "x-amz-target is not signed")
	}
	if isS3 && !sig.presigned {
		if un := sig.unsignedAmzHeaders(r.Header); len(un) > 0 {
			sort.Strings(un)
			return nil, fail(failUnsignedHeaders, "unsigned x-amz headers").with("HeadersNotSigned", strings.Join(un, ", "))
		}
	}

	declared := r.Header.Get("X-Amz-Content-Sha256")
	if declared == "" && sig.presigned {
		declared = r.URL.Query().Get("X-Amz-Content-Sha256")
	}
	if declared != "" && !validContentSHA(declared) {
		return nil, fail(failContentSHA, "x-amz-content-sha256 is not a known value")
	}
	streaming := strings.HasPrefix(declared, "STREAMING-")
	if !isS3 && (streaming || declared == unsignedPayload) {
		// Only S3 takes unsigned or streamed payloads.
		return nil, fail(failPayloadHash, "payload must be signed for "+sig.service)
	}
	if isS3 && declared == "" && sig.presigned {
		declared = unsignedPayload
	}

	// Refuse what is declared too large before reading anything.
	if streaming {
		if n, err := strconv.ParseInt(r.Header.Get("X-Amz-Decoded-Content-Length"), 10, 64); err == nil && n > MaxBodyBytes {
			return nil, fail(failTooLarge, "declared decoded length over limit").with("ProposedSize", strconv.FormatInt(n, 10))
		}
	} else if r.ContentLength > MaxBodyBytes {
		return nil, fail(failTooLarge, "declared length over limit").with("ProposedSize", strconv.FormatInt(r.ContentLength, 10))
	}

	// With the payload hash in a header the signature can be checked before
	// the body is read (and before 100-continue is sent).
	hashKnown := isS3 && declared != ""
	if hashKnown {
		if err := sig.verifySignature(r.Context(), r, creds, declared); err != nil {
			return nil, err
		}
	}

	rawLimit := int64(MaxBodyBytes)
	if streaming {
		rawLimit += 1 << 20 // room for chunk framing around 10 MiB of data
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, rawLimit+1))
	if err != nil {
		return nil, fail(failIncompleteBody, "reading body: "+err.Error())
	}
	if int64(len(body)) > rawLimit {
		return nil, fail(failTooLarge, "body over limit")
	}
	if r.ContentLength > 0 && int64(len(body)) != r.ContentLength {
		return nil, fail(failIncompleteBody, "body shorter than Content-Length")
	}

	if !hashKnown {
		computed := sha256Hex(body)
		if declared != "" && declared != computed {
			return nil, fail(failPayloadHash, "body does not match x-amz-content-sha256")
		}
		if err := sig.verifySignature(r.Context(), r, creds, computed); err != nil {
			return nil, err
		}
	} else if !streaming && declared != unsignedPayload {
		if computed := sha256Hex(body); computed != declared {
			return nil, fail(failPayloadHash, "body does not match x-amz-content-sha256").
				with("ClientComputedContentSHA256", declared).with("S3ComputedContentSHA256", computed)
		}
	}

	out := r.Clone(r.Context())
	out.Header.Del("Authorization")
	if streaming {
		var signer *chunkSigner
		if declared == streamingSigned || declared == streamingSignedTrailer {
			signer = newChunkSigner(string(creds.Secret), sig)
		}
		withTrailer := declared == streamingSignedTrailer || declared == streamingUnsignedTrailer
		var names []string
		if t := r.Header.Get("X-Amz-Trailer"); t != "" {
			names = strings.Split(t, ",")
		}
		data, trailers, aerr := decodeChunked(body, signer, withTrailer, names, MaxBodyBytes)
		if aerr != nil {
			return nil, aerr
		}
		if dl := r.Header.Get("X-Amz-Decoded-Content-Length"); dl != "" && dl != strconv.Itoa(len(data)) {
			return nil, fail(failIncompleteBody, "decoded length differs from x-amz-decoded-content-length")
		}
		body = data
		for k, v := range trailers {
			out.Header[k] = v
		}
		out.Header.Del("X-Amz-Decoded-Content-Length")
		out.Header.Del("X-Amz-Trailer")
		if enc := stripAWSChunked(out.Header.Values("Content-Encoding")); len(enc) > 0 {
			out.Header["Content-Encoding"] = enc
		} else {
			out.Header.Del("Content-Encoding")
		}
	}
	if isS3 {
		if err := verifyChecksums(out.Header, body); err != nil {
			return nil, err
		}
	}
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	out.ContentLength = int64(len(body))
	out.TransferEncoding = nil
	out.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return out, nil
}

func (e *Endpoint) checkRegion(sig *sigV4) *authError {
	want := e.cfg.Region
	if want == "" || sig.region == want || (sig.service == "route53" && sig.region == "us-east-1") {
		return nil
	}
	return fail(failRegion, fmt.Sprintf("the region '%s' is wrong; expecting '%s'", truncate(sig.region, 40), want)).with("Region", want)
}

// stripAWSChunked removes the aws-chunked coding from Content-Encoding values.
func stripAWSChunked(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, c := range strings.Split(v, ",") {
			if c = strings.TrimSpace(c); c != "" && !strings.EqualFold(c, "aws-chunked") {
				out = append(out, c)
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return []string{strings.Join(out, ",")}
}

// dispatch runs the service; a panic becomes the service's internal error.
func (e *Endpoint) dispatch(svc Service, w *recorder, r *http.Request) {
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		if p == http.ErrAbortHandler {
			panic(p)
		}
		e.log.LogAttrs(r.Context(), slog.LevelError, "service panicked",
			slog.String("request_id", RequestID(r.Context())), slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
		if !w.wrote {
			svc.WriteError(w, r, fmt.Errorf("service panicked: %v", p))
		}
	}()
	svc.ServeHTTP(w, r)
}

func (e *Endpoint) logRequest(r *http.Request, service string, w *recorder, start time.Time, aerr *authError) {
	e.metrics.request(service, w.status)
	attrs := []slog.Attr{
		slog.String("request_id", RequestID(r.Context())),
		slog.String("service", service),
		slog.String("method", r.Method),
		slog.String("path", truncate(r.URL.Path, 256)),
		slog.Int("status", w.status),
		slog.Duration("duration", time.Since(start)),
	}
	if aerr != nil {
		attrs = append(attrs, slog.String("auth_failure", aerr.reason()), slog.String("detail", aerr.detail))
	}
	e.log.LogAttrs(r.Context(), slog.LevelInfo, "admin request", attrs...)
}

// recorder remembers the status for logs and whether anything was written.
type recorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *recorder) WriteHeader(code int) {
	if !w.wrote && code >= 200 {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if !w.wrote {
		w.status, w.wrote = http.StatusOK, true
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *recorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush implements http.Flusher.
func (w *recorder) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// newRequestID returns a random UUID (version 4), the shape AWS uses.
func newRequestID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Errorf("reading random bytes: %w", err)) // crypto/rand never fails on supported platforms
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func newID2() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Errorf("reading random bytes: %w", err))
	}
	return base64.StdEncoding.EncodeToString(b[:])
}
