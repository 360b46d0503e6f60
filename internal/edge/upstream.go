package edge

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
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

// The fast path. Most calls are a request without a body to a plain-HTTP
// backend: for them the reverse proxy's machinery (a cloned request, a
// context with a timer, the transport's reader and writer goroutines and the
// channels between them) costs more than the call itself. serveUpstream
// makes the same call on the request's own goroutine over a pooled
// connection, with the same header rules as rewrite and the reverse proxy,
// the same errors (502, 504, 499) and the same streaming. It writes the
// request head straight from the client's header and reads the response
// head into one string, as the h1 loop does for requests. Everything else
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

// upConn is one backend connection with its buffers and the state of its
// current response.
type upConn struct {
	net.Conn
	key    string
	br     *bufio.Reader
	bw     *bufio.Writer
	since  time.Time // idle since
	dl     time.Time // the deadline armed on it (zero: none)
	header http.Header
	fields headFields // which framing fields the last head had
	line   []byte
	resp   upResponse
	body   upBody
}

// headFields marks the framing and hop-by-hop fields a response head
// holds, noted while it is parsed, so that most heads (which have none but
// Content-Length) need no further map lookups.
type headFields uint8

const (
	fieldConnection headFields = 1 << iota
	fieldTrailer
	fieldTransferEncoding
	fieldContentLength
	fieldDrop // another field frame removes: hop-by-hop or a backend request id
)

func headField(name string) headFields {
	var f headFields
	switch name {
	case "Connection":
		f = fieldConnection
	case "Trailer":
		f = fieldTrailer
	case "Transfer-Encoding":
		f = fieldTransferEncoding
	case "Content-Length":
		f = fieldContentLength
	}
	if droppedField(name) {
		f |= fieldDrop
	}
	return f
}

// droppedField reports whether frame removes a response field whatever
// Connection says: hop-by-hop, or one of the request ids the gateway sets.
func droppedField(k string) bool {
	return hopByHop(k) || k == "X-Amzn-Requestid" || k == "X-Amz-Apigw-Id"
}

// maxUpstreamHead bounds a backend's response head (as the transport's
// MaxResponseHeaderBytes).
const maxUpstreamHead = 1 << 20

func newUpstreamPool() *upstreamPool {
	return &upstreamPool{
		idle:        make(map[string][]*upConn),
		maxIdle:     256,
		idleTimeout: 90 * time.Second,
		dialer:      net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second},
	}
}

// get returns an idle connection to addr (reused = true) or dials one,
// bounded by ctx and deadline.
func (p *upstreamPool) get(ctx context.Context, addr string, now, deadline time.Time) (*upConn, bool, error) {
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
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	nc, err := p.dialer.DialContext(dctx, "tcp", addr)
	if err != nil {
		return nil, false, err
	}
	return &upConn{Conn: nc, key: addr, br: bufio.NewReaderSize(nc, 4<<10), bw: bufio.NewWriterSize(nc, 4<<10),
		header: make(http.Header, 8)}, false, nil
}

// put keeps a connection whose last exchange ended cleanly. Its deadline
// stays: nothing reads an idle connection, and the next call sets its own.
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

// armDeadline makes the connection's read and write deadline fall in
// [want, want+slack] (see lazyDeadline). A connection whose deadline
// anything else changed is never reused: the client's cancellation
// closes it.
func (c *upConn) armDeadline(want time.Time, slack time.Duration) {
	if lazyDeadline(c.dl, want, slack) {
		c.dl = want.Add(slack)
		_ = c.SetDeadline(c.dl)
	}
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

// validHeaderName reports whether name is a non-empty RFC 9110 token.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !tokenChar[name[i]] {
			return false
		}
	}
	return true
}

// tokenChar marks the bytes a token may hold (RFC 9110 5.6.2).
var tokenChar = func() (t [256]bool) {
	for c := 0x21; c < 0x7f; c++ {
		t[c] = strings.IndexByte("\"(),/:;<=>?@[\\]{}", byte(c)) < 0
	}
	return t
}()

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

// notForwarded reports the client header fields the backend request
// never carries: hop-by-hop fields, what the request line and Host cover,
// what a body-less request must not carry, and the forwarding fields the
// gateway sets itself from what it saw.
func notForwarded(k string) bool {
	switch k {
	case "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
		"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
		"Host", "Content-Length",
		"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto":
		return true
	}
	return false
}

// forwarded reports whether the client's header field k goes to the
// backend: not excluded, not named by the client's Connection header, not
// one a client could use to claim an identity, and not replaced by a
// mapped header.
func (rs *reqState) forwarded(k string, connection []string) bool {
	if notForwarded(k) || isForgeable(k) {
		return false
	}
	for _, kv := range rs.headers {
		if kv[0] == k {
			return false
		}
	}
	for _, f := range connection {
		for t := range strings.SplitSeq(f, ",") {
			if strings.EqualFold(textproto.TrimString(t), k) {
				return false
			}
		}
	}
	return true
}

// writeUpstreamRequest writes the backend request head (there is no body)
// with the same fields as rewrite after the reverse proxy's clean-up.
func (rs *reqState) writeUpstreamRequest(bw *bufio.Writer, method string, u *url.URL, r *http.Request) error {
	writeField := func(k, v string) {
		_, _ = bw.WriteString(k)
		_, _ = bw.WriteString(": ")
		writeFieldValue(bw, v)
		_, _ = bw.WriteString("\r\n")
	}
	_, _ = bw.WriteString(method)
	_ = bw.WriteByte(' ')
	_, _ = bw.WriteString(u.RequestURI())
	_, _ = bw.WriteString(" HTTP/1.1\r\nHost: ")
	_, _ = bw.WriteString(u.Host)
	_, _ = bw.WriteString("\r\n")
	connection := r.Header["Connection"]
	for k, vv := range r.Header {
		if !rs.forwarded(k, connection) || !validHeaderName(k) {
			continue
		}
		for _, v := range vv {
			writeField(k, v)
		}
	}
	if hasToken(r.Header["Te"], "trailers") {
		writeField("Te", "trailers")
	}
	// httputil.ProxyRequest.SetXForwarded
	if ip, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		writeField("X-Forwarded-For", ip)
	}
	writeField("X-Forwarded-Host", r.Host)
	if r.TLS != nil {
		writeField("X-Forwarded-Proto", "https")
	} else {
		writeField("X-Forwarded-Proto", "http")
	}
	for _, kv := range rs.headers {
		writeField(kv[0], kv[1])
	}
	_, _ = bw.WriteString("\r\n")
	return bw.Flush()
}

// aLongTimeAgo is a deadline that aborts any pending I/O at once.
var aLongTimeAgo = time.Unix(1, 0)

// noStop stands for context.AfterFunc's stop when the client's context can
// never end (the h1 loop's).
func noStop() bool { return true }

// serveUpstream makes the call on the fast path and streams the answer.
func (s *Server) serveUpstream(p *upstreamPool, rs *reqState, w http.ResponseWriter, r *http.Request, timeout time.Duration) {
	u := rs.target
	method := upstreamMethod(rs, r)
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	ctx := r.Context()
	deadline := rs.upstreamStart.Add(timeout)

	var (
		c    *upConn
		err  error
		stop func() bool
	)
	for {
		var reused bool
		c, reused, err = p.get(ctx, addr, rs.upstreamStart, deadline)
		if err != nil {
			s.upstreamFailed(rs, w, r, err)
			return
		}
		stop = noStop
		if ctx.Done() != nil {
			// The client going away aborts the call, as the reverse
			// proxy's request context would.
			conn := c
			stop = context.AfterFunc(ctx, func() { _ = conn.SetDeadline(aLongTimeAgo) })
		}
		c.armDeadline(deadline, deadlineSlack(timeout))
		if err = rs.writeUpstreamRequest(c.bw, method, u, r); err == nil {
			err = c.readResponse(method, w)
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
	resp := &c.resp
	keep := false
	defer func() {
		if !stop() || !keep {
			_ = c.Close()
			return
		}
		// Idle since the head came, as far as the pool knows: a
		// connection that streamed for a long time is only redialled
		// sooner, and the clock is not read once more.
		p.put(c, rs.upstreamHead)
	}()

	if resp.status == http.StatusSwitchingProtocols {
		// No upgrade was asked for.
		s.upstreamFailed(rs, w, r, errors.New("backend switched protocols without an upgrade request"))
		return
	}
	s.recordUpstream(rs, resp.status) // frame dropped the backend's request ids
	dst := w.Header()
	for k, vv := range c.header {
		if old, ok := dst[k]; ok {
			dst[k] = append(old, vv...)
		} else {
			dst[k] = vv
		}
	}
	if len(resp.announced) > 0 {
		dst["Trailer"] = []string{strings.Join(resp.announced, ", ")}
	}
	w.WriteHeader(resp.status)

	flushEach := resp.length < 0 || isEventStream(c.header["Content-Type"])
	rc := http.NewResponseController(w)
	if flushEach {
		_ = rc.Flush() // the head goes out before a slow first chunk
	}
	if err := copyBody(w, &c.body, flushEach, rc, s.copyBufs); err != nil {
		rs.rec.Error = "response body copy failed: " + err.Error()
		panic(http.ErrAbortHandler) // as the reverse proxy: abort the response
	}
	keep = !resp.close && c.body.done
	trailer := c.body.trailer
	if len(trailer) == 0 {
		return
	}
	_ = rc.Flush()
	declared := true
	for k := range trailer {
		declared = declared && containsFold(resp.announced, k)
	}
	for k, vv := range trailer {
		if !declared {
			k = http.TrailerPrefix + k
		}
		dst[k] = append(dst[k], vv...)
	}
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// isEventStream reports whether a Content-Type is text/event-stream, whose
// events are flushed as they come.
func isEventStream(ct []string) bool {
	if len(ct) == 0 {
		return false
	}
	mt, _, _ := strings.Cut(ct[0], ";")
	return strings.EqualFold(strings.TrimSpace(mt), "text/event-stream")
}

// upResponse is what the response head says.
type upResponse struct {
	status    int
	length    int64 // -1: unknown (chunked or until the connection ends)
	close     bool
	announced []string // trailer names the Trailer field declared
}

// readResponse reads the final response head into c.resp and c.header and
// prepares c.body, forwarding 1xx informational responses to the client
// as the reverse proxy does.
func (c *upConn) readResponse(method string, w http.ResponseWriter) error {
	for {
		if err := c.readHead(method); err != nil {
			return err
		}
		st := c.resp.status
		if st >= 200 || st == http.StatusSwitchingProtocols {
			return nil
		}
		h := w.Header()
		var added []string
		for k, vv := range c.header {
			if _, had := h[k]; !had {
				added = append(added, k)
			}
			h[k] = append(h[k], vv...)
		}
		w.WriteHeader(st)
		for _, k := range added {
			delete(h, k)
		}
	}
}

// readHead reads one response head.
func (c *upConn) readHead(method string) error {
	c.line = c.line[:0]
	for {
		frag, err := c.br.ReadSlice('\n')
		c.line = append(c.line, frag...)
		if len(c.line) > maxUpstreamHead {
			return errors.New("backend response head too large")
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			if err == io.EOF && len(c.line) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		n := len(c.line)
		if n >= 2 && c.line[n-2] == '\n' || n >= 3 && c.line[n-3] == '\n' && c.line[n-2] == '\r' {
			break
		}
		if bytes.Equal(c.line, []byte("\r\n")) || bytes.Equal(c.line, []byte("\n")) {
			return errors.New("malformed backend response: empty status line")
		}
	}
	block := string(c.line)
	line, rest, _ := strings.Cut(block, "\n")
	line = strings.TrimSuffix(line, "\r")
	proto, status, _ := strings.Cut(line, " ")
	code, _, _ := strings.Cut(status, " ")
	if proto != "HTTP/1.1" && proto != "HTTP/1.0" || len(code) != 3 {
		return fmt.Errorf("malformed backend response status line %q", line)
	}
	n := parseContentLength(code)
	if n < 100 {
		return fmt.Errorf("malformed backend response status code %q", code)
	}
	resp := &c.resp
	*resp = upResponse{status: int(n), length: -1}

	h := c.header
	clear(h)
	c.fields = 0
	vals := make([]string, 0, strings.Count(rest, "\n"))
	for rest != "" {
		line, rest, _ = strings.Cut(rest, "\n")
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			break
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || !validHeaderName(name) || line[0] == ' ' || line[0] == '\t' {
			return fmt.Errorf("malformed backend response header line %q", line)
		}
		value = trimOWS(value)
		name = textproto.CanonicalMIMEHeaderKey(name)
		c.fields |= headField(name)
		vals = append(vals, value)
		if old, ok := h[name]; ok {
			h[name] = append(old, value)
		} else {
			h[name] = vals[len(vals)-1 : len(vals) : len(vals)]
		}
	}
	return c.frame(method, proto == "HTTP/1.0")
}

// frame decides how the response body is delimited (RFC 9112 6.3) and
// removes the hop-by-hop fields and the backend's own request ids.
func (c *upConn) frame(method string, http10 bool) error {
	h, resp, f := c.header, &c.resp, c.fields
	var conn, te, cl []string
	if f&fieldConnection != 0 {
		conn = h["Connection"]
	}
	resp.close = http10 && !hasToken(conn, "keep-alive") || hasToken(conn, "close")
	c.body = upBody{c: c}
	if f&fieldTrailer != 0 {
		for _, v := range h["Trailer"] {
			for name := range strings.SplitSeq(v, ",") {
				if name = textproto.TrimString(name); name != "" {
					resp.announced = append(resp.announced, textproto.CanonicalMIMEHeaderKey(name))
				}
			}
		}
	}
	hasTE, hasCL := f&fieldTransferEncoding != 0, f&fieldContentLength != 0
	if hasTE {
		te = h["Transfer-Encoding"]
	}
	if hasCL {
		cl = h["Content-Length"]
	}
	noBody := method == http.MethodHead || resp.status < 200 || resp.status == http.StatusNoContent ||
		resp.status == http.StatusNotModified
	switch {
	case noBody:
		c.body.done, resp.length = true, 0
	case hasTE:
		// Transfer-Encoding wins over Content-Length (RFC 9112 6.3); a
		// message with both is closed afterwards.
		delete(h, "Content-Length")
		if hasCL {
			resp.close = true
		}
		last := te[len(te)-1]
		if i := strings.LastIndexByte(last, ','); i >= 0 {
			last = last[i+1:]
		}
		if strings.EqualFold(textproto.TrimString(last), "chunked") && !http10 {
			c.body.chunked = httputil.NewChunkedReader(c.br)
		} else {
			c.body.untilEOF, resp.close = true, true
		}
	case hasCL:
		n := parseContentLength(cl[0])
		for _, v := range cl[1:] {
			if v != cl[0] {
				n = -1
			}
		}
		if n < 0 {
			return fmt.Errorf("malformed backend response: invalid Content-Length %q", cl)
		}
		if len(cl) > 1 {
			h["Content-Length"] = cl[:1]
		}
		resp.length = n
		c.body.remaining = n
		c.body.done = n == 0
	default:
		c.body.untilEOF, resp.close = true, true
	}
	// One pass instead of removeHopByHop's deletes (a response head has
	// few fields), and none when nothing is to go.
	if f&(fieldConnection|fieldDrop) == 0 {
		return nil
	}
	for k := range h {
		if droppedField(k) || hasToken(conn, k) {
			delete(h, k)
		}
	}
	return nil
}

// hopByHop reports the fields removeHopByHop always removes.
func hopByHop(k string) bool {
	switch k {
	case "Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
		"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade":
		return true
	}
	return false
}

// upBody reads a backend response body.
type upBody struct {
	c         *upConn
	remaining int64
	chunked   io.Reader
	untilEOF  bool
	done      bool
	trailer   http.Header
}

func (b *upBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	switch {
	case b.chunked != nil:
		n, err := b.chunked.Read(p)
		if err == io.EOF {
			if terr := b.readTrailer(); terr != nil {
				return n, terr
			}
			b.done = true
		}
		return n, err
	case b.untilEOF:
		n, err := b.c.br.Read(p)
		if err == io.EOF {
			b.done = true
		}
		return n, err
	}
	if int64(len(p)) > b.remaining {
		p = p[:b.remaining]
	}
	n, err := b.c.br.Read(p)
	b.remaining -= int64(n)
	if b.remaining == 0 {
		b.done = true
		return n, io.EOF
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

// readTrailer reads the trailer section after the last chunk.
func (b *upBody) readTrailer() error {
	size := 0
	for {
		line, err := b.c.br.ReadSlice('\n')
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		if size += len(line); size > maxUpstreamHead {
			return errors.New("backend response trailer too large")
		}
		s := strings.TrimSuffix(strings.TrimSuffix(string(line), "\n"), "\r")
		if s == "" {
			return nil
		}
		name, value, ok := strings.Cut(s, ":")
		if !ok || !validHeaderName(name) {
			return fmt.Errorf("malformed backend response trailer %q", s)
		}
		if b.trailer == nil {
			b.trailer = make(http.Header)
		}
		b.trailer.Add(name, trimOWS(value))
	}
}

// copyBody copies a response body, flushing after each chunk when asked.
func copyBody(w io.Writer, body io.Reader, flushEach bool, rc *http.ResponseController, bp *bufferPool) error {
	bufp := bp.get()
	defer bp.put(bufp)
	buf := *bufp
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
