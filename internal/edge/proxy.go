package edge

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httputil"
	"net/textproto"
	"net/url"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

type reqKey struct{}

// serveHTTPIntegration runs an HTTP or HTTP_PROXY integration through the
// reverse proxy: request and response bodies are streamed, the backend
// connection comes from the one pooled transport, and the call is bounded by
// the integration's timeout (504 when it runs out, 502 when the backend
// cannot be reached or breaks off).
func (s *Server) serveHTTPIntegration(rs *reqState, w http.ResponseWriter, r *http.Request, ib *integrationBuild) {
	rs.integ = ib
	target, err := rs.upstreamURL(ib, r)
	if err != nil {
		s.log.Error("integration URI cannot be built", "api", rs.rec.APIID, "resource", rs.rec.Resource, "error", err)
		rs.fail(w, errInternal, err.Error())
		return
	}
	rs.target = target
	timeout := ib.timeout
	if timeout <= 0 {
		timeout = s.upstreamTimeout
	}
	rs.clientCtx = r.Context()
	if up := s.upstream; up != nil && fastEligible(rs, r) {
		rs.upstreamStart = s.now()
		s.serveUpstream(up, rs, w, r, timeout)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithValue(r.Context(), reqKey{}, rs), timeout)
	defer cancel()
	rs.upstreamStart = s.now()
	s.proxy.ServeHTTP(w, r.WithContext(ctx))
}

// rewrite prepares the backend request (httputil.ProxyRequest.Out): target
// URL and method, no header a client could use to claim an identity, and
// X-Forwarded-For from the real peer only. The reverse proxy has already
// removed hop-by-hop headers and the client's Forwarded and X-Forwarded-*.
func (s *Server) rewrite(pr *httputil.ProxyRequest) {
	rs := pr.In.Context().Value(reqKey{}).(*reqState)
	out := pr.Out
	out.URL = rs.target
	out.Host = ""
	if rs.integ.method != "" {
		out.Method = rs.integ.method
	}
	stripForgeable(out.Header)
	pr.SetXForwarded()
	for _, kv := range rs.headers {
		out.Header[kv[0]] = []string{kv[1]}
	}
}

// modifyResponse records the backend's answer and keeps the gateway's own
// request ids authoritative.
func (s *Server) modifyResponse(resp *http.Response) error {
	s.recordUpstream(resp.Request.Context().Value(reqKey{}).(*reqState), resp)
	return nil
}

func (s *Server) recordUpstream(rs *reqState, resp *http.Response) {
	lat := s.now().Sub(rs.upstreamStart)
	rs.rec.UpstreamStatus = resp.StatusCode
	rs.rec.UpstreamLatency = lat
	rs.metrics.Upstream(lat)
	resp.Header.Del("X-Amzn-Requestid")
	resp.Header.Del("X-Amz-Apigw-Id")
}

// proxyError answers a backend call that produced no response.
func (s *Server) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	rs := r.Context().Value(reqKey{}).(*reqState)
	rs.rec.UpstreamLatency = s.now().Sub(rs.upstreamStart)
	switch {
	case rs.clientCtx.Err() != nil:
		// The client went away; nobody reads an answer.
		rs.rec.Error = "client closed the request: " + err.Error()
		rs.sw.status = 499
	case errors.Is(r.Context().Err(), context.DeadlineExceeded):
		rs.fail(w, errTimeout, "backend did not answer in time: "+err.Error())
	default:
		rs.fail(w, errBadGateway, "backend call failed: "+err.Error())
	}
}

// upstreamURL evaluates the integration's request parameters and renders
// its URI.
func (rs *reqState) upstreamURL(ib *integrationBuild, r *http.Request) (*url.URL, error) {
	var pathVals, queryVals [][2]string
	for i := range ib.params {
		op := &ib.params[i]
		switch op.dest {
		case destPath:
			pathVals = append(pathVals, [2]string{op.destName, rs.escapedSource(op, r)})
		case destQuery:
			queryVals = append(queryVals, [2]string{op.destName, rs.source(op, r)})
		case destHeader:
			rs.headers = append(rs.headers, [2]string{op.destName, headerValue(rs.source(op, r))})
		}
	}
	var pathBuf, queryBuf [256]byte
	pb, qb := pathBuf[:0], queryBuf[:0]
	for _, part := range ib.tmpl {
		if part.inQuery {
			switch part.kind {
			case partLiteral:
				qb = append(qb, part.text...)
			case partPath:
				qb = append(qb, url.QueryEscape(rs.pathParamValue(part.text, pathVals, false))...)
			case partStageVar:
				qb = append(qb, url.QueryEscape(rs.stage.vars[part.text])...)
			}
			continue
		}
		switch part.kind {
		case partLiteral:
			pb = append(pb, part.text...)
		case partPath:
			pb = append(pb, rs.pathParamValue(part.text, pathVals, true)...)
		case partStageVar:
			pb = append(pb, rs.stage.vars[part.text]...)
		}
	}
	var u *url.URL
	if ib.base != nil {
		c := *ib.base
		u = &c
		esc := string(pb)
		if strings.IndexByte(esc, '%') < 0 {
			u.Path = esc
		} else {
			p, err := url.PathUnescape(esc)
			if err != nil {
				return nil, fmt.Errorf("rendering integration path %q: %w", esc, err)
			}
			u.Path, u.RawPath = p, esc
		}
	} else {
		var err error
		if u, err = url.Parse(string(pb)); err != nil {
			return nil, fmt.Errorf("rendering integration uri: %w", err)
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("rendered integration uri %q is not an http(s) URL", u.Redacted())
		}
	}
	q := string(qb)
	if cq := r.URL.RawQuery; cq != "" {
		if q == "" {
			q = cq
		} else {
			q += "&" + cq
		}
	}
	if len(queryVals) > 0 {
		vals, _ := url.ParseQuery(q) // keeps what parses
		for _, kv := range queryVals {
			vals.Set(kv[0], kv[1])
		}
		q = vals.Encode()
	}
	u.RawQuery = q
	return u, nil
}

// pathParamValue is the value of {name} in an integration URI: the mapped
// integration.request.path.name if any, else the method's own path
// parameter of that name. escaped selects the path-escaped form (a greedy
// parameter keeps its "/" separators and its %2F).
func (rs *reqState) pathParamValue(name string, mapped [][2]string, escaped bool) string {
	for _, kv := range mapped {
		if kv[0] == name {
			if escaped {
				return kv[1]
			}
			v, _ := url.PathUnescape(kv[1])
			return v
		}
	}
	p := rs.param(name)
	if p == nil {
		return ""
	}
	switch {
	case p.greedyFrom >= 0 && escaped:
		return rs.path.escapedFrom(p.greedyFrom)
	case p.greedyFrom >= 0:
		return rs.path.decodedFrom(p.greedyFrom)
	case escaped:
		return url.PathEscape(p.value)
	}
	return p.value
}

func (rs *reqState) param(name string) *pathParam {
	for i := range rs.params {
		if rs.params[i].name == name {
			return &rs.params[i]
		}
	}
	return nil
}

// escapedSource is a source value escaped for a URL path.
func (rs *reqState) escapedSource(op *paramOp, r *http.Request) string {
	if op.src == srcPath {
		return rs.pathParamValue(op.srcName, nil, true)
	}
	return url.PathEscape(rs.source(op, r))
}

// source evaluates a requestParameters source. Headers a client could forge
// to claim an identity read as empty, so no mapping can pass them on.
func (rs *reqState) source(op *paramOp, r *http.Request) string {
	switch op.src {
	case srcStatic:
		return op.srcName
	case srcPath:
		return rs.pathParamValue(op.srcName, nil, false)
	case srcQuery:
		if rs.query == nil {
			rs.query = r.URL.Query()
		}
		return pick(rs.query[op.srcName], op.multi)
	case srcHeader:
		if isForgeable(op.srcName) {
			return ""
		}
		return pick(r.Header[op.srcName], op.multi)
	case srcCert:
		return rs.certField(op.srcName)
	case srcContext:
		return rs.contextField(op.srcName, r)
	case srcStageVar:
		return rs.stage.vars[op.srcName]
	}
	return ""
}

// pick returns the last value (as API Gateway does for single-value
// parameters) or all of them joined by ",".
func pick(vs []string, multi bool) string {
	switch {
	case len(vs) == 0:
		return ""
	case multi:
		return strings.Join(vs, ",")
	}
	return vs[len(vs)-1]
}

func (rs *reqState) certField(name string) string {
	c := rs.cert
	if c == nil {
		return ""
	}
	switch name {
	case "clientCertPem":
		return c.pem
	case "subjectDN":
		return c.subject
	case "issuerDN":
		return c.issuer
	case "serialNumber":
		return c.serial
	case "validity.notBefore":
		return c.notBeforeText
	case "validity.notAfter":
		return c.notAfterText
	}
	return ""
}

func (rs *reqState) contextField(name string, r *http.Request) string {
	switch name {
	case "requestId":
		return rs.rec.RequestID
	case "extendedRequestId":
		return rs.apigwID
	case "identity.sourceIp":
		if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			return h
		}
		return r.RemoteAddr
	case "stage":
		return rs.stage.name
	case "apiId":
		return rs.stage.apiID
	case "domainName":
		return rs.host
	case "resourcePath":
		return rs.rec.Resource
	case "httpMethod":
		return r.Method
	case "path":
		return r.URL.Path
	}
	return ""
}

// headerValue makes a value safe for a header: one with control characters
// (a PEM certificate's newlines, a decoded %0A) is percent-encoded, keeping
// only RFC 3986 unreserved characters, so every URL decoder restores it.
func headerValue(v string) string {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return escapeComponent(v)
		}
	}
	return v
}

func escapeComponent(v string) string {
	const hexd = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(v) * 3 / 2)
	for i := 0; i < len(v); i++ {
		c := v[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexd[c>>4])
		b.WriteByte(hexd[c&0xf])
	}
	return b.String()
}

// isForgeable reports whether a client could use a header to claim an
// identity toward a backend: RFC 9440 Client-Cert and Client-Cert-Chain,
// Envoy's X-Forwarded-Client-Cert, any X-Amzn-*, and X-Real-IP.
func isForgeable(name string) bool {
	if len(name) >= 7 && strings.EqualFold(name[:7], "x-amzn-") {
		return true
	}
	return strings.EqualFold(name, "Client-Cert") || strings.EqualFold(name, "Client-Cert-Chain") ||
		strings.EqualFold(name, "X-Forwarded-Client-Cert") || strings.EqualFold(name, "X-Real-Ip")
}

func stripForgeable(h http.Header) {
	for k := range h {
		if isForgeable(k) {
			delete(h, k)
		}
	}
}

// bufferPool recycles the reverse proxy's copy buffers.
type bufferPool struct {
	p sync.Pool
}

func newBufferPool() *bufferPool {
	bp := &bufferPool{}
	bp.p.New = func() any { b := make([]byte, 32<<10); return &b }
	return bp
}

func (bp *bufferPool) Get() []byte  { return *bp.p.Get().(*[]byte) }
func (bp *bufferPool) Put(b []byte) { bp.p.Put(&b) }

// The fast path. Most calls are a request without a body to a plain-HTTP
// backend: for them the reverse proxy's machinery (a cloned request, a
// context with a timer, the transport's reader and writer goroutines and the
// channels between them) costs more than the call itself. serveUpstream
// makes the same call on the request's own goroutine over a pooled
// connection, with the same header rules as rewrite and the reverse proxy,
// the same errors (502, 504, 499) and the same streaming. Everything else
// (a body, an upgrade, https, a method that may not be replayed, a custom
// transport) goes through the reverse proxy.

// upstreamPool keeps idle keep-alive connections to backends, by host:port.
// Safe for concurrent use; it starts no goroutine.
type upstreamPool struct {
	mu          sync.Mutex
	idle        map[string][]*upConn
	maxIdle     int // per host
	idleTimeout time.Duration
	dialer      net.Dialer
}

// upConn is one backend connection with its buffers.
type upConn struct {
	net.Conn
	key   string
	br    *bufio.Reader
	bw    *bufio.Writer
	since time.Time // idle since
}

func newUpstreamPool() *upstreamPool {
	return &upstreamPool{
		idle:        make(map[string][]*upConn),
		maxIdle:     256,
		idleTimeout: 90 * time.Second,
		dialer:      net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second},
	}
}

// get returns an idle connection to addr (reused = true) or dials one.
func (p *upstreamPool) get(ctx context.Context, addr string, now time.Time) (*upConn, bool, error) {
	p.mu.Lock()
	for l := p.idle[addr]; len(l) > 0; l = p.idle[addr] {
		c := l[len(l)-1]
		l[len(l)-1] = nil
		p.idle[addr] = l[:len(l)-1]
		if now.Sub(c.since) < p.idleTimeout {
			p.mu.Unlock()
			return c, true, nil
		}
		_ = c.Close()
	}
	p.mu.Unlock()
	nc, err := p.dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, false, err
	}
	return &upConn{Conn: nc, key: addr, br: bufio.NewReaderSize(nc, 4<<10), bw: bufio.NewWriterSize(nc, 4<<10)}, false, nil
}

// put keeps a connection whose last exchange ended cleanly.
func (p *upstreamPool) put(c *upConn, now time.Time) {
	c.since = now
	p.mu.Lock()
	if l := p.idle[c.key]; len(l) < p.maxIdle {
		p.idle[c.key] = append(l, c)
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	_ = c.Close()
}

// closeIdle closes every idle connection (on shutdown).
func (p *upstreamPool) closeIdle() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, l := range p.idle {
		for _, c := range l {
			_ = c.Close()
		}
		delete(p.idle, k)
	}
}

// fastEligible reports whether a call can take the fast path: no request
// body, no protocol upgrade, plain HTTP, and a method the pooled call may
// replay on a fresh connection when a kept one turns out closed (as
// net/http's transport does).
func fastEligible(rs *reqState, r *http.Request) bool {
	if rs.target.Scheme != "http" || rs.target.Host == "" || r.Body != http.NoBody || r.ContentLength != 0 {
		return false
	}
	if _, up := r.Header["Upgrade"]; up {
		return false
	}
	// Mapped header names come from configuration; one that is not a valid
	// token takes the transport's path, which refuses it.
	for _, kv := range rs.headers {
		if !validHeaderName(kv[0]) {
			return false
		}
	}
	switch upstreamMethod(rs, r) {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return false
}

// validHeaderName reports whether name is a non-empty RFC 7230 token.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\"(),/:;<=>?@[\\]{}", c) >= 0 {
			return false
		}
	}
	return true
}

func upstreamMethod(rs *reqState, r *http.Request) string {
	if rs.integ.method != "" {
		return rs.integ.method
	}
	return r.Method
}

// hopHeaders are removed in both directions (RFC 7230 6.1), as the reverse
// proxy does.
var hopHeaders = []string{"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade"}

func removeHopByHop(h http.Header) {
	for _, f := range h["Connection"] {
		for sf := range strings.SplitSeq(f, ",") {
			if sf = textproto.TrimString(sf); sf != "" {
				h.Del(sf)
			}
		}
	}
	for _, f := range hopHeaders {
		delete(h, f)
	}
}

// hasToken reports whether a comma-separated header value list holds token
// (case-insensitive; parameters such as ";q=1" ignored).
func hasToken(vs []string, token string) bool {
	for _, v := range vs {
		for t := range strings.SplitSeq(v, ",") {
			if i := strings.IndexByte(t, ';'); i >= 0 {
				t = t[:i]
			}
			if strings.EqualFold(textproto.TrimString(t), token) {
				return true
			}
		}
	}
	return false
}

// reqWriteExclude are the headers the request line and Host cover, or that
// a body-less request must not carry (as net/http's request writer).
var reqWriteExclude = map[string]bool{"Host": true, "User-Agent": true, "Content-Length": true,
	"Transfer-Encoding": true, "Trailer": true}

// upstreamHeader builds the backend request's header exactly as rewrite
// does after the reverse proxy's own clean-up.
func (rs *reqState) upstreamHeader(r *http.Request) http.Header {
	h := r.Header.Clone()
	if h == nil {
		h = make(http.Header)
	}
	removeHopByHop(h)
	if hasToken(r.Header["Te"], "trailers") {
		h["Te"] = []string{"trailers"}
	}
	delete(h, "Forwarded")
	delete(h, "X-Forwarded-For")
	delete(h, "X-Forwarded-Host")
	delete(h, "X-Forwarded-Proto")
	stripForgeable(h)
	// httputil.ProxyRequest.SetXForwarded
	if ip, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		h["X-Forwarded-For"] = []string{ip}
	}
	h["X-Forwarded-Host"] = []string{r.Host}
	if r.TLS != nil {
		h["X-Forwarded-Proto"] = []string{"https"}
	} else {
		h["X-Forwarded-Proto"] = []string{"http"}
	}
	for _, kv := range rs.headers {
		h[kv[0]] = []string{kv[1]}
	}
	return h
}

// writeUpstreamRequest writes the request head (there is no body).
func writeUpstreamRequest(bw *bufio.Writer, method string, u *url.URL, h http.Header) error {
	bw.WriteString(method)
	bw.WriteByte(' ')
	bw.WriteString(u.RequestURI())
	bw.WriteString(" HTTP/1.1\r\nHost: ")
	bw.WriteString(u.Host)
	bw.WriteString("\r\n")
	if ua := h["User-Agent"]; len(ua) > 0 && ua[0] != "" {
		bw.WriteString("User-Agent: ")
		bw.WriteString(strings.NewReplacer("\n", " ", "\r", " ").Replace(ua[0]))
		bw.WriteString("\r\n")
	}
	if err := h.WriteSubset(bw, reqWriteExclude); err != nil {
		return err
	}
	bw.WriteString("\r\n")
	return bw.Flush()
}

// aLongTimeAgo is a deadline that aborts any pending I/O at once.
var aLongTimeAgo = time.Unix(1, 0)

// serveUpstream makes the call on the fast path and streams the answer.
func (s *Server) serveUpstream(p *upstreamPool, rs *reqState, w http.ResponseWriter, r *http.Request, timeout time.Duration) {
	u := rs.target
	method := upstreamMethod(rs, r)
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	h := rs.upstreamHeader(r)
	ctx := r.Context()
	deadline := rs.upstreamStart.Add(timeout)

	var (
		c    *upConn
		resp *http.Response
		err  error
		stop func() bool
	)
	for {
		var reused bool
		dctx, cancel := context.WithDeadline(ctx, deadline)
		c, reused, err = p.get(dctx, addr, rs.upstreamStart)
		cancel()
		if err != nil {
			s.upstreamFailed(rs, w, r, err)
			return
		}
		conn := c
		// The client going away aborts the call, as the reverse proxy's
		// request context would.
		stop = context.AfterFunc(ctx, func() { _ = conn.SetDeadline(aLongTimeAgo) })
		_ = c.SetDeadline(deadline)
		if err = writeUpstreamRequest(c.bw, method, u, h); err == nil {
			resp, err = readUpstreamResponse(c.br, method, w)
		}
		if err == nil {
			break
		}
		stop()
		_ = c.Close()
		// A kept connection the backend closed meanwhile: try again on
		// another one (the method is replayable and there is no body).
		if reused && ctx.Err() == nil && isStaleConnError(err) {
			continue
		}
		s.upstreamFailed(rs, w, r, err)
		return
	}
	keep := false
	defer func() {
		if !stop() || !keep {
			_ = c.Close()
			return
		}
		_ = c.SetDeadline(time.Time{})
		p.put(c, s.now())
	}()

	if resp.StatusCode == http.StatusSwitchingProtocols {
		// No upgrade was asked for.
		s.upstreamFailed(rs, w, r, errors.New("backend switched protocols without an upgrade request"))
		return
	}
	removeHopByHop(resp.Header)
	s.recordUpstream(rs, resp)
	dst := w.Header()
	for k, vv := range resp.Header {
		dst[k] = append(dst[k], vv...)
	}
	announced := len(resp.Trailer)
	if announced > 0 {
		keys := make([]string, 0, announced)
		for k := range resp.Trailer {
			keys = append(keys, k)
		}
		dst.Add("Trailer", strings.Join(keys, ", "))
	}
	w.WriteHeader(resp.StatusCode)

	flushEach := resp.ContentLength == -1
	if !flushEach {
		if ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); ct == "text/event-stream" {
			flushEach = true
		}
	}
	rc := http.NewResponseController(w)
	if flushEach {
		_ = rc.Flush() // the head goes out before a slow first chunk
	}
	if err := copyBody(w, resp.Body, flushEach, rc, s.proxy.BufferPool); err != nil {
		rs.rec.Error = "response body copy failed: " + err.Error()
		panic(http.ErrAbortHandler) // as the reverse proxy: abort the response
	}
	_ = resp.Body.Close() // populates resp.Trailer
	keep = !resp.Close
	if len(resp.Trailer) > 0 {
		_ = rc.Flush()
	}
	if len(resp.Trailer) == announced {
		for k, vv := range resp.Trailer {
			dst[k] = append(dst[k], vv...)
		}
		return
	}
	for k, vv := range resp.Trailer {
		k = http.TrailerPrefix + k
		dst[k] = append(dst[k], vv...)
	}
}

// readUpstreamResponse reads the final response head, forwarding 1xx
// informational responses to the client as the reverse proxy does.
func readUpstreamResponse(br *bufio.Reader, method string, w http.ResponseWriter) (*http.Response, error) {
	req := &http.Request{Method: method}
	for {
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode < 100 || resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			return resp, nil
		}
		h := w.Header()
		var added []string
		for k, vv := range resp.Header {
			if _, had := h[k]; !had {
				added = append(added, k)
			}
			h[k] = append(h[k], vv...)
		}
		w.WriteHeader(resp.StatusCode)
		for _, k := range added {
			delete(h, k)
		}
	}
}

// copyBody copies a response body, flushing after each chunk when asked.
func copyBody(w io.Writer, body io.Reader, flushEach bool, rc *http.ResponseController, bp httputil.BufferPool) error {
	buf := bp.Get()
	defer bp.Put(buf)
	for {
		n, rerr := body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return werr
			}
			if flushEach {
				if ferr := rc.Flush(); ferr != nil {
					return ferr
				}
			}
		}
		if rerr == io.EOF {
			return nil
		}
		if rerr != nil {
			return rerr
		}
	}
}

// isStaleConnError reports whether a call on a kept connection failed the
// way a connection the backend had already closed fails.
func isStaleConnError(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// upstreamFailed answers a fast-path call that produced no response, as
// proxyError does for the reverse proxy.
func (s *Server) upstreamFailed(rs *reqState, w http.ResponseWriter, r *http.Request, err error) {
	rs.rec.UpstreamLatency = s.now().Sub(rs.upstreamStart)
	switch {
	case r.Context().Err() != nil:
		rs.rec.Error = "client closed the request: " + err.Error()
		rs.sw.status = 499
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		rs.fail(w, errTimeout, "backend did not answer in time: "+err.Error())
	default:
		rs.fail(w, errBadGateway, "backend call failed: "+err.Error())
	}
}
