package edge

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httputil"
	"net/textproto"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
)

// Reading HTTP/1.1 requests (RFC 9112) for the h1 loop. The parser is
// strict where leniency lets two parsers disagree about where a request
// ends (request smuggling): one Host, one Content-Length, chunked as the
// only transfer coding and never together with a Content-Length, no
// obs-fold, no whitespace before a colon, no bare CR, no control bytes.
// A request it refuses gets a 4xx or 5xx and the connection is closed.

// errRequest is a request the loop refuses, with the status to answer.
type errRequest struct {
	status int
	msg    string
}

func (e *errRequest) Error() string { return e.msg }

func badRequest(msg string) error { return &errRequest{http.StatusBadRequest, msg} }

var (
	errHeaderTooLarge = &errRequest{http.StatusRequestHeaderFieldsTooLarge, "request header too large"}
	errVersion        = &errRequest{http.StatusHTTPVersionNotSupported, "unsupported HTTP version"}
	errTransferCoding = &errRequest{http.StatusNotImplemented, "unsupported transfer encoding"}
	errExpectation    = &errRequest{http.StatusExpectationFailed, "unsupported Expect header"}
)

// chunkedOnly is the TransferEncoding of a chunked request.
var chunkedOnly = []string{"chunked"}

// readHead reads one request head into c.req. The whole head is copied
// into one string, and the method, target, header names and values are
// substrings of it: one allocation for all of them.
func (c *h1Conn) readHead() error {
	block, err := c.headBlock()
	if err != nil {
		return err
	}
	line, rest, _ := strings.Cut(block, "\n")
	line = strings.TrimSuffix(line, "\r")
	method, rest2, ok1 := strings.Cut(line, " ")
	target, proto, ok2 := strings.Cut(rest2, " ")
	if !ok1 || !ok2 || !validHeaderName(method) || target == "" || !validTarget(target) {
		return badRequest("malformed request line")
	}
	r := &c.req
	*r = *c.tmpl
	switch proto {
	case "HTTP/1.1":
		r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/1.1", 1, 1
	case "HTTP/1.0":
		r.Proto, r.ProtoMajor, r.ProtoMinor = "HTTP/1.0", 1, 0
	default:
		if strings.HasPrefix(proto, "HTTP/") && len(proto) == 8 && proto[6] == '.' {
			return errVersion
		}
		return badRequest("malformed HTTP version")
	}
	r.Method = internMethod(method)
	r.RequestURI = target
	if err := c.parseTarget(target); err != nil {
		return err
	}
	r.URL = &c.url

	h := c.header
	clear(h)
	c.fields = 0
	c.vals, c.hosts = c.vals[:0], c.hosts[:0]
	for rest != "" {
		line, rest, _ = strings.Cut(rest, "\n")
		line = strings.TrimSuffix(line, "\r")
		if line == "" {
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			return badRequest("obsolete line folding in a header")
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || !validHeaderName(name) {
			return badRequest("malformed header line")
		}
		value = trimOWS(value)
		if !validFieldValue(value) {
			return badRequest("invalid character in header " + name)
		}
		name = textproto.CanonicalMIMEHeaderKey(name)
		if name == "Host" {
			// Kept out of the header, as net/http does: it becomes r.Host.
			c.hosts = append(c.hosts, value)
			continue
		}
		c.fields |= requestField(name)
		c.vals = append(c.vals, value)
		v := c.vals[len(c.vals)-1 : len(c.vals) : len(c.vals)]
		if old, ok := h[name]; ok {
			h[name] = append(old, value)
		} else {
			h[name] = v
		}
	}
	r.Header = h
	return c.interpretHead(r)
}

// interpretHead applies the header rules that decide how the request is
// framed and routed.
func (c *h1Conn) interpretHead(r *http.Request) error {
	h := r.Header
	hosts := c.hosts
	switch {
	case len(hosts) > 1:
		return badRequest("too many Host headers")
	case len(hosts) == 0 && r.ProtoMinor == 1:
		return badRequest("missing required Host header")
	case len(hosts) == 1 && !validHost(hosts[0]):
		return badRequest("malformed Host header")
	}
	r.Host = c.url.Host // absolute-form wins (RFC 9112 3.2.2)
	if r.Host == "" && len(hosts) == 1 {
		r.Host = hosts[0]
	}

	var conn, te, cl []string
	f := c.fields
	if f&fieldConnection != 0 {
		conn = h["Connection"]
	}
	r.Close = shouldClose(r.ProtoMinor, conn)
	r.ContentLength = 0
	r.Body = http.NoBody
	c.body.reset()

	hasTE, hasCL := f&fieldTransferEncoding != 0, f&fieldContentLength != 0
	if hasTE {
		te = h["Transfer-Encoding"]
	}
	if hasCL {
		cl = h["Content-Length"]
	}
	switch {
	case hasTE && r.ProtoMinor == 0:
		return badRequest("transfer encoding in an HTTP/1.0 request")
	case hasTE && hasCL:
		return badRequest("both Transfer-Encoding and Content-Length")
	case hasTE:
		if len(te) != 1 || !strings.EqualFold(te[0], "chunked") {
			return errTransferCoding
		}
		delete(h, "Transfer-Encoding")
		r.TransferEncoding = chunkedOnly
		r.ContentLength = -1
		c.body.chunked = httputil.NewChunkedReader(c.br)
		r.Body = &c.body
	case hasCL:
		n := parseContentLength(cl[0])
		for _, v := range cl[1:] {
			if v != cl[0] {
				n = -1
			}
		}
		if n < 0 {
			return badRequest("invalid Content-Length")
		}
		if len(cl) > 1 {
			h["Content-Length"] = cl[:1]
		}
		r.ContentLength = n
		if n > 0 {
			c.body.remaining = n
			r.Body = &c.body
		}
	}
	if f&fieldExpect != 0 {
		e := h["Expect"]
		if r.ProtoMinor == 0 || len(e) != 1 || !strings.EqualFold(e[0], "100-continue") {
			return errExpectation
		}
		if r.Body != http.NoBody {
			c.body.continueW = c.bw
		}
	}
	if r.Body != http.NoBody {
		c.body.c = c
	}
	return nil
}

// fieldExpect marks an Expect field in a request head (see headFields).
const fieldExpect = fieldDrop << 1

// requestField is headField plus Expect, the one request-only field
// interpretHead acts on.
func requestField(name string) headFields {
	if name == "Expect" {
		return fieldExpect
	}
	return headField(name)
}

// headBlock returns the request head up to and including its blank line.
// Blank lines before the request line are skipped (RFC 9112 2.2).
func (c *h1Conn) headBlock() (string, error) {
	for range 4 {
		b, err := c.br.Peek(1)
		if err != nil {
			return "", err
		}
		if b[0] != '\r' && b[0] != '\n' {
			break
		}
		if b[0] == '\r' {
			if b, _ := c.br.Peek(2); len(b) == 2 && b[1] == '\n' {
				_, _ = c.br.Discard(1)
			} else {
				return "", badRequest("bare CR before the request line")
			}
		}
		_, _ = c.br.Discard(1)
	}
	// The usual case: the whole head is already buffered.
	if buf, _ := c.br.Peek(c.br.Buffered()); len(buf) > 0 {
		if end := headEnd(buf); end > 0 {
			if end > c.s.http.MaxHeaderBytes {
				return "", errHeaderTooLarge
			}
			s := string(buf[:end])
			_, _ = c.br.Discard(end)
			return s, nil
		}
	}
	c.line = c.line[:0]
	for {
		frag, err := c.br.ReadSlice('\n')
		c.line = append(c.line, frag...)
		if len(c.line) > c.s.http.MaxHeaderBytes {
			return "", errHeaderTooLarge
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err != nil:
			if len(c.line) == 0 {
				return "", err
			}
			return "", io.ErrUnexpectedEOF
		}
		if n := len(c.line); n >= 2 && c.line[n-2] == '\n' || n >= 3 && c.line[n-3] == '\n' && c.line[n-2] == '\r' {
			return string(c.line), nil
		}
	}
}

// headEnd returns the length of the head at the start of b (through the
// blank line that ends it), or -1 when b holds no complete head.
func headEnd(b []byte) int {
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1
		}
		i += j + 1
		switch {
		case i < len(b) && b[i] == '\n':
			return i + 1
		case i+1 < len(b) && b[i] == '\r' && b[i+1] == '\n':
			return i + 2
		}
	}
}

// parseTarget sets c.url from the request target. Origin-form targets made
// only of characters a URL path never escapes are split without
// allocating; anything else goes through url.ParseRequestURI, as net/http
// does, so both give the same URL.
func (c *h1Conn) parseTarget(target string) error {
	u := &c.url
	*u = url.URL{}
	if target[0] == '/' {
		path, query, hasQuery := strings.Cut(target, "?")
		if plainPath(path) && (!hasQuery || query != "") {
			u.Path, u.RawQuery = path, query
			return nil
		}
	}
	pu, err := url.ParseRequestURI(target)
	if err != nil {
		return badRequest("malformed request target")
	}
	if pu.Host != "" || pu.Scheme != "" {
		// absolute-form (RFC 9112 3.2.2): an http(s) URI whose authority
		// becomes the Host, so it gets the Host header's checks.
		if sc := strings.ToLower(pu.Scheme); sc != "http" && sc != "https" || pu.Host == "" || !validHost(pu.Host) || pu.User != nil {
			return badRequest("malformed absolute-form request target")
		}
	}
	*u = *pu
	return nil
}

// plainPath reports whether a path is its own escaped form (url.URL then
// keeps no RawPath).
func plainPath(p string) bool {
	for i := 0; i < len(p); i++ {
		c := p[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			continue
		}
		switch c {
		case '/', '-', '_', '.', '~', '$', '&', '+', ',', ':', ';', '=', '@':
			continue
		}
		return false
	}
	return true
}

// validTarget refuses control bytes, spaces and DEL in a request target.
func validTarget(t string) bool {
	for i := 0; i < len(t); i++ {
		if t[i] <= ' ' || t[i] == 0x7f {
			return false
		}
	}
	return true
}

// validFieldValue allows visible characters, obs-text, SP and HTAB (RFC
// 9110 5.5): no CR, LF, NUL or other control byte.
func validFieldValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// validHost allows what a host[:port] or an IP literal can hold, as
// net/http's check does.
func validHost(h string) bool {
	for i := 0; i < len(h); i++ {
		c := h[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			continue
		}
		if strings.IndexByte("!$%&'()*+,-.:;=[]_~", c) < 0 {
			return false
		}
	}
	return true
}

// parseContentLength parses a Content-Length value: digits only, no sign,
// no overflow; -1 when invalid.
func parseContentLength(v string) int64 {
	if v == "" || len(v) > 18 {
		return -1
	}
	var n int64
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return -1
		}
		n = n*10 + int64(v[i]-'0')
	}
	return n
}

// shouldClose reports whether the connection ends after this request.
func shouldClose(minor int, conn []string) bool {
	if minor == 0 {
		return !hasToken(conn, "keep-alive")
	}
	return hasToken(conn, "close")
}

// internMethod returns a constant for the common methods, so a request
// keeps no reference to its head for its method.
func internMethod(m string) string {
	switch m {
	case http.MethodGet:
		return http.MethodGet
	case http.MethodPost:
		return http.MethodPost
	case http.MethodPut:
		return http.MethodPut
	case http.MethodDelete:
		return http.MethodDelete
	case http.MethodHead:
		return http.MethodHead
	case http.MethodPatch:
		return http.MethodPatch
	case http.MethodOptions:
		return http.MethodOptions
	}
	return m
}

// maxDrain is how much of a body the handler left unread is read and
// dropped to keep the connection (net/http reads 256 KiB).
const maxDrain = 256 << 10

// h1Body is a request body: Content-Length bytes, or chunked. It is reused
// by the connection's requests. The reverse proxy's transport may read it
// from its own goroutine, even after the handler returned, so reads take
// mu, and the loop closes the body (under mu) before it reads on.
type h1Body struct {
	mu        sync.Mutex
	c         *h1Conn
	remaining int64     // Content-Length bytes left
	chunked   io.Reader // the chunked decoder, nil for Content-Length
	done      bool      // the body was read to its end
	closed    bool      // the handler is over: reads fail
	err       error     // a framing error: the connection cannot be reused
	trailer   http.Header
	// failed is set with err, for readers that must not wait on mu (the
	// reverse proxy's error handler).
	failed atomic.Bool

	// contMu guards the automatic 100 Continue, which a body read sends
	// and a handler's own 1xx or final answer cancels (they may run on
	// different goroutines, as net/http allows).
	contMu    sync.Mutex
	continueW *bufio.Writer // sends 100 Continue on the first read
	// noContinue: the answer went out before 100 Continue, so the client
	// may not send the body; the connection cannot be reused unless the
	// handler read it.
	noContinue bool
	// sentContinue: the automatic 100 went out; a handler's own 100 (the
	// backend's, forwarded) is then not sent again.
	sentContinue bool
}

// errBodyClosed is a read of a body after its handler returned.
var errBodyClosed = errors.New("edge: read on a request body after its handler returned")

func (b *h1Body) setErr(err error) {
	b.err = err
	b.failed.Store(true)
}

// bodyFailed reports whether a request body (an h1 one) broke off or was
// malformed: the client's fault, not the backend's.
func bodyFailed(body io.Reader) bool {
	b, ok := body.(*h1Body)
	return ok && b.failed.Load()
}

func (b *h1Body) reset() {
	b.failed.Store(false)
	b.c, b.remaining, b.chunked, b.done, b.closed, b.err, b.trailer = nil, 0, nil, false, false, nil, nil
	b.continueW, b.noContinue, b.sentContinue = nil, false, false
}

func (b *h1Body) Read(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return 0, errBodyClosed
	}
	return b.read(p)
}

func (b *h1Body) read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	if b.err != nil {
		return 0, b.err
	}
	if err := b.sendContinue(); err != nil {
		b.setErr(err)
		return 0, err
	}
	if b.chunked != nil {
		n, err := b.chunked.Read(p)
		if err == io.EOF {
			if terr := b.readTrailer(); terr != nil {
				b.setErr(terr)
				return n, terr
			}
			b.done = true
		} else if err != nil {
			b.setErr(err)
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
	if err != nil {
		b.setErr(err)
	}
	return n, err
}

// sendContinue sends the automatic 100 Continue, once, unless the
// handler's answer cancelled it.
func (b *h1Body) sendContinue() error {
	b.contMu.Lock()
	defer b.contMu.Unlock()
	w := b.continueW
	if w == nil {
		return nil
	}
	b.continueW, b.sentContinue = nil, true
	_, _ = w.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
	return w.Flush()
}

// answered cancels the automatic 100 Continue for a handler's answer with
// code; it reports whether the client may now never send the body.
func (b *h1Body) answered(code int) bool {
	b.contMu.Lock()
	defer b.contMu.Unlock()
	if b.continueW != nil && (code == http.StatusContinue || code >= 200) {
		b.continueW, b.noContinue = nil, code != http.StatusContinue
	}
	return b.noContinue
}

// Close leaves the rest of the body to the connection, which drains or
// closes.
func (b *h1Body) Close() error { return nil }

// readTrailer reads the trailer section after the last chunk into the
// request's Trailer.
func (b *h1Body) readTrailer() error {
	c := b.c
	size := 0
	for {
		line, err := c.br.ReadSlice('\n')
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return err
		}
		size += len(line)
		if size > c.s.http.MaxHeaderBytes {
			return errHeaderTooLarge
		}
		s := strings.TrimSuffix(strings.TrimSuffix(string(line), "\n"), "\r")
		if s == "" {
			return nil
		}
		name, value, ok := strings.Cut(s, ":")
		value = trimOWS(value)
		if !ok || !validHeaderName(name) || !validFieldValue(value) {
			return badRequest("malformed trailer")
		}
		if b.trailer == nil {
			b.trailer = make(http.Header)
			c.req.Trailer = b.trailer
		}
		b.trailer.Add(name, value)
	}
}

// finish closes the body to the handler's goroutines and reads what they
// left of it, up to maxDrain. It reports whether the connection can serve
// another request.
func (b *h1Body) finish() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	if b.c == nil || b.done {
		return b.err == nil
	}
	b.contMu.Lock()
	waiting := b.continueW != nil || b.noContinue
	b.contMu.Unlock()
	if b.err != nil || waiting {
		// A client still waiting for 100 Continue never sends the body.
		return false
	}
	var buf [4 << 10]byte
	for n := 0; n <= maxDrain; {
		m, err := b.read(buf[:])
		n += m
		if err == io.EOF {
			return n <= maxDrain
		}
		if err != nil {
			return false
		}
	}
	return false
}
