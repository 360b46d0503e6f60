package edge

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
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
	rs.clientCtx, rs.clientBody = r.Context(), r.Body
	if up := s.upstream; up != nil && fastEligible(rs, r) {
		rs.upstreamStart = s.now()
		s.serveUpstream(up, rs, w, r, timeout)
		return
	}
	if rs.target == &rs.targetURL {
		// The transport may look at the URL after the handler returned
		// and rs is recycled: give it a copy of its own.
		t := rs.targetURL
		rs.target = &t
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
	s.recordUpstream(resp.Request.Context().Value(reqKey{}).(*reqState), resp.StatusCode)
	delete(resp.Header, "X-Amzn-Requestid")
	delete(resp.Header, "X-Amz-Apigw-Id")
	return nil
}

// recordUpstream records the backend's answer (its head has come).
func (s *Server) recordUpstream(rs *reqState, status int) {
	rs.upstreamHead = s.now()
	lat := rs.upstreamHead.Sub(rs.upstreamStart)
	rs.rec.UpstreamStatus = status
	rs.rec.UpstreamLatency = lat
	rs.metrics.Upstream(lat)
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
	case bodyFailed(rs.clientBody):
		rs.fail(w, errBadRequest, "reading the request body: "+err.Error())
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
		rs.targetURL = *ib.base
		u = &rs.targetURL
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
	bp := new(bufferPool)
	bp.p.New = func() any { b := make([]byte, 32<<10); return &b }
	return bp
}

func (bp *bufferPool) Get() []byte  { return *bp.p.Get().(*[]byte) }
func (bp *bufferPool) Put(b []byte) { bp.p.Put(&b) }

// get and put are Get and Put without the allocation Put makes (the
// fast path's own use).
func (bp *bufferPool) get() *[]byte  { return bp.p.Get().(*[]byte) }
func (bp *bufferPool) put(b *[]byte) { bp.p.Put(b) }
