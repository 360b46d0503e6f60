package edge

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"time"

	"trustgate/internal/telemetry"
)

// reqState is one request's working state: what routing found and what the
// access log will say.
type reqState struct {
	s       *Server
	start   time.Time
	rec     telemetry.AccessRecord
	info    *connInfo
	cert    *certInfo // the client certificate, when the domain verified it
	metrics *telemetry.DomainMetrics
	sw      statusWriter

	path     reqPath
	params   []pathParam
	paramBuf [4]pathParam

	host    string
	stage   *stageBuild
	method  *methodBuild
	apigwID string

	// proxy state
	integ         *integrationBuild
	target        *url.URL
	targetURL     url.URL     // target's storage when built from a fixed base
	headers       [][2]string // mapped backend headers
	clientCtx     context.Context
	clientBody    io.Reader // the client's request body (the error handler sees the proxy's)
	upstreamStart time.Time
	upstreamHead  time.Time  // when the backend's response head came
	query         url.Values // the request's query, parsed on first use
}

// ServeHTTP serves one request on the data plane. It loads the live snapshot
// once, so a request never sees two configurations.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rs := s.reqs.Get().(*reqState)
	rs.s, rs.start = s, s.now()
	if hw, ok := w.(*h1Writer); ok {
		hw.now = rs.start // for the Date field: one clock read fewer
	}
	rs.sw.ResponseWriter = w
	rs.params = rs.paramBuf[:0]
	info, _ := r.Context().Value(connKey{}).(*connInfo)
	if info == nil {
		info = &connInfo{metrics: s.unknownMetrics}
	}
	rs.info = info
	rs.metrics = info.metrics

	id, gw := newRequestIDs()
	rs.apigwID = gw
	h := w.Header()
	ids := []string{id, gw} // one allocation for both headers
	h["x-amzn-RequestId"] = ids[0:1:1]
	h["x-amz-apigw-id"] = ids[1:2:2]

	rec := &rs.rec
	rec.Time = rs.start
	rec.Event = telemetry.EventRequest
	rec.RequestID = id
	rec.Remote = r.RemoteAddr
	rec.Domain = info.domain
	rec.SNI = info.sni
	rec.Host = r.Host
	rec.Method = r.Method
	rec.Path = r.URL.RawPath
	if rec.Path == "" {
		rec.Path = r.URL.Path
	}
	rec.Protocol = r.Proto
	if r.TLS != nil {
		rec.TLS = tlsVersionName(r.TLS.Version)
	}

	defer rs.finish()
	s.serve(rs, &rs.sw, r)
}

// finish records the request in the metrics and the access log. It also
// runs when the handler panics (a backend body cut off mid-stream aborts
// the response with http.ErrAbortHandler).
func (rs *reqState) finish() {
	p := recover()
	rec := &rs.rec
	rec.Latency = rs.s.now().Sub(rs.start)
	rec.Status = rs.sw.status
	if rec.Status == 0 {
		rec.Status = http.StatusOK // nothing written: net/http sends 200
	}
	rec.BytesOut = rs.sw.bytes
	if p != nil && rec.Error == "" {
		rec.Error = fmt.Sprintf("response aborted: %v", p)
	}
	rs.metrics.Request(rec.Status, rec.Latency)
	rs.s.accessLog.Log(rec)
	if p != nil {
		panic(p) // not recycled: the panic may still reach code holding it
	}
	// Every callback that can see rs (reverse proxy hooks) ran inside
	// ServeHTTP, so it can be reused.
	s := rs.s
	*rs = reqState{}
	s.reqs.Put(rs)
}

// fail answers with one of the gateway's own errors and records why.
func (rs *reqState) fail(w http.ResponseWriter, e gatewayError, why string) {
	if rs.rec.Error == "" {
		rs.rec.Error = why
	}
	e.write(w)
}

func (s *Server) serve(rs *reqState, w http.ResponseWriter, r *http.Request) {
	snap := s.snap.Load()
	info := rs.info
	rs.host = hostOnly(r.Host)
	d := snap.lookupHost(rs.host)
	// The Host must name the domain the SNI chose: otherwise a client could
	// pass one domain's TLS checks and reach another's routes.
	if (d == nil && info.domain != "") || (d != nil && d.name != info.domain) {
		rs.fail(w, errMisdirected, "host header names another domain than the TLS server name")
		return
	}
	if d == nil {
		if apiID, ok := s.executeAPIID(rs.host); ok {
			rs.metrics = s.defaultMetrics
			s.serveDefaultEndpoint(rs, w, r, snap, apiID)
			return
		}
		rs.fail(w, errForbidden, "no custom domain or default endpoint for this host")
		return
	}
	rs.metrics = d.metrics
	if d.tls.mtls {
		cv := s.verdictFor(info, d, peerCertificates(r), rs.start)
		rs.recordVerdict(cv)
		if !cv.verdict.Trusted {
			rs.fail(w, errForbidden, cv.verdict.Message)
			return
		}
		rs.cert = info.cert
	} else if d.tls.config == nil {
		rs.fail(w, errForbidden, "domain unavailable: "+errString(d.tls.err))
		return
	}
	if err := rs.path.parse(r.URL.EscapedPath()); err != nil {
		rs.fail(w, errBadRequest, err.Error())
		return
	}
	m, consumed := d.mappings.lookup(&rs.path)
	if m == nil {
		rs.fail(w, errForbidden, "no API mapping matches the path")
		return
	}
	rs.rec.Mapping = m.logKey()
	rs.rec.APIID = m.apiID
	rs.rec.Stage = m.stage
	if m.target == nil || m.target.deployment == nil {
		rs.fail(w, errForbidden, "the mapping's API stage or deployment does not exist")
		return
	}
	s.route(rs, w, r, m.target, consumed)
}

func (s *Server) serveDefaultEndpoint(rs *reqState, w http.ResponseWriter, r *http.Request, snap *Snapshot, apiID string) {
	rs.rec.APIID = apiID
	stages := snap.apis[apiID]
	if stages == nil {
		rs.fail(w, errForbidden, "no such API")
		return
	}
	if err := rs.path.parse(r.URL.EscapedPath()); err != nil {
		rs.fail(w, errBadRequest, err.Error())
		return
	}
	if len(rs.path.segs) == 0 {
		rs.fail(w, errForbidden, "no stage in the path")
		return
	}
	st := stages[rs.path.segs[0]]
	if st == nil || st.deployment == nil {
		rs.fail(w, errForbidden, "no such stage")
		return
	}
	rs.rec.Stage = st.name
	if st.deployment.disableExecuteAPI {
		rs.fail(w, errForbidden, "the default endpoint is disabled in the deployed API")
		return
	}
	s.route(rs, w, r, st, 1)
}

// route finds the resource and method in the stage's deployment and runs
// its integration.
func (s *Server) route(rs *reqState, w http.ResponseWriter, r *http.Request, st *stageBuild, consumed int) {
	dep := st.deployment
	rs.stage = st
	if dep.err != nil {
		s.log.Error("deployment cannot be served", "api", dep.apiID, "deployment", dep.id, "error", dep.err)
		rs.fail(w, errInternal, dep.err.Error())
		return
	}
	node := dep.root.match(&rs.path, consumed, &rs.params)
	if node == nil {
		rs.fail(w, errMissingToken, "no resource matches the path")
		return
	}
	rs.rec.Resource = node.path
	mb := node.method(r.Method)
	if mb == nil {
		rs.fail(w, errMissingToken, "the resource has no "+r.Method+" or ANY method")
		return
	}
	rs.method = mb
	ib := mb.integ
	switch ib.kind {
	case kindHTTP:
		s.serveHTTPIntegration(rs, w, r, ib)
	case kindMock:
		s.serveMock(rs, w, r, ib.mock)
	default:
		s.log.Error("integration cannot be served", "api", dep.apiID, "deployment", dep.id,
			"resource", node.path, "method", mb.httpMethod, "reason", ib.err)
		rs.fail(w, errInternal, "integration: "+ib.err)
	}
}

// serveMock answers a MOCK integration: the status from the request
// template, then the integration response selected by it.
func (s *Server) serveMock(rs *reqState, w http.ResponseWriter, r *http.Request, mb *mockBuild) {
	status := mb.status(r.Header.Get("Content-Type"))
	resp := mb.response(status)
	if resp == nil {
		rs.fail(w, errInternal, fmt.Sprintf("Execution failed due to configuration error: No match for output mapping "+
			"and no default output mapping configured. Endpoint Response Status Code: %d", status))
		return
	}
	ct, body := resp.body(r.Header.Get("Accept"))
	h := w.Header()
	for _, kv := range resp.headers {
		h[kv[0]] = []string{kv[1]}
	}
	h["Content-Type"] = []string{ct}
	w.WriteHeader(resp.status)
	_, _ = io.WriteString(w, body)
}

func (rs *reqState) recordVerdict(cv *connVerdict) {
	rec := &rs.rec
	if cv.verdict.Trusted {
		rec.MTLS = telemetry.VerdictTrusted
	} else {
		rec.MTLS = telemetry.VerdictRejected
	}
	rec.MTLSReason = string(cv.verdict.Reason)
	if cv.verdict.Trusted && cv.verdict.SoftFailure != "" {
		// Let through by trustgate:crl-mode=soft: say which check was
		// waived, so the log shows what hard mode would have refused.
		rec.MTLSReason = string(cv.verdict.SoftFailure)
	}
	if c := rs.info.cert; c != nil {
		rec.CertSubject = c.subject
		rec.CertIssuer = c.issuer
		rec.CertSerial = c.serial
		rec.CertFingerprint = c.fingerprint
		rec.CertNotAfter = c.notAfter
		rec.CertJSON = c.logJSON
	}
}

func peerCertificates(r *http.Request) []*x509.Certificate {
	if r.TLS == nil {
		return nil
	}
	return r.TLS.PeerCertificates
}

func errString(err error) string {
	if err == nil {
		return "unknown"
	}
	return err.Error()
}

// newRequestIDs returns a request id (a UUID v4, as AWS's x-amzn-RequestId)
// and an x-amz-apigw-id lookalike, in one allocation.
func newRequestIDs() (string, string) {
	// math/rand/v2's global source is the runtime's per-thread ChaCha8,
	// seeded from the OS: unpredictable like crypto/rand, without its
	// per-call cost.
	var b [32]byte
	for i := 0; i < len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], rand.Uint64())
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hexd = "0123456789abcdef"
	var out [36 + 16]byte
	j := 0
	for i := 0; i < 16; i++ {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out[j] = '-'
			j++
		}
		out[j], out[j+1] = hexd[b[i]>>4], hexd[b[i]&0xf]
		j += 2
	}
	base64.StdEncoding.Encode(out[36:], b[16:27])
	s := string(out[:])
	return s[:36], s[36:]
}

func tlsVersionName(v uint16) string {
	switch v {
	case 0x0301:
		return "TLSv1"
	case 0x0302:
		return "TLSv1.1"
	case 0x0303:
		return "TLSv1.2"
	case 0x0304:
		return "TLSv1.3"
	}
	return ""
}

// statusWriter records the status and size of a response.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	return n, err
}

// FlushError lets http.ResponseController (and so the reverse proxy)
// stream through the wrapper.
func (w *statusWriter) FlushError() error {
	return http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap exposes the underlying writer to http.ResponseController.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
