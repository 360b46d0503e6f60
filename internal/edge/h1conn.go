package edge

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"trustgate/internal/telemetry"
)

// The h1 loop serves the HTTP/1.x connections of the TLS listener on the
// handshake's own goroutine; h2 connections go to net/http. It exists for
// speed: per request it allocates a few objects where net/http's server
// allocates dozens, and it starts no background read (net/http starts one
// per request to notice a client that goes away, at the cost of a
// goroutine, a wake-up and two deadline changes). What that costs: a
// client that disconnects while its request waits on the backend is
// noticed when the answer is written, not at once; the backend call is
// still bounded by the integration timeout. Handlers see the usual
// *http.Request and http.ResponseWriter (with Flusher, Hijacker and
// ResponseController support), so the rest of the edge is shared with h2.

// h1Conn is one HTTP/1.x connection. Its request, URL, header map and
// buffers are reused by every request on it.
type h1Conn struct {
	s    *Server
	conn *tls.Conn
	raw  *trackedConn
	br   *bufio.Reader
	bw   *bufio.Writer

	tmpl   *http.Request // carries the connection's context
	req    http.Request
	url    url.URL
	header http.Header
	fields headFields // the framing fields of the current head
	vals   []string
	hosts  []string // the head's Host values
	line   []byte
	body   h1Body
	w      h1Writer
	rdl    time.Time // the read deadline the loop armed (zero: none)

	// state is h1Idle while waiting for a request, h1Active while serving
	// one, h1Closed once Shutdown (or the loop) closed it.
	state atomic.Int32
}

const (
	h1Idle int32 = iota
	h1Active
	h1Closed
)

// h1Conns tracks the open h1 connections for Shutdown.
type h1Conns struct {
	mu       sync.Mutex
	conns    map[*h1Conn]struct{}
	shutting atomic.Bool
	empty    chan struct{} // closed when shutting and the last one ends
}

func (t *h1Conns) add(c *h1Conn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.shutting.Load() {
		return false
	}
	if t.conns == nil {
		t.conns = make(map[*h1Conn]struct{})
	}
	t.conns[c] = struct{}{}
	return true
}

func (t *h1Conns) remove(c *h1Conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.conns, c)
	if len(t.conns) == 0 && t.empty != nil {
		close(t.empty)
		t.empty = nil
	}
}

// shutdown closes idle connections, lets active ones finish their request
// (they close after it), and waits for them until ctx ends; it then
// closes the rest.
func (t *h1Conns) shutdown(ctx context.Context) error {
	t.mu.Lock()
	t.shutting.Store(true)
	var wait chan struct{}
	if len(t.conns) > 0 {
		if t.empty == nil {
			t.empty = make(chan struct{})
		}
		wait = t.empty
	}
	for c := range t.conns {
		c.closeIfIdle()
	}
	t.mu.Unlock()
	if wait == nil {
		return nil
	}
	select {
	case <-wait:
		return nil
	case <-ctx.Done():
		t.mu.Lock()
		for c := range t.conns {
			_ = c.raw.Close()
		}
		t.mu.Unlock()
		return ctx.Err()
	}
}

func (c *h1Conn) closeIfIdle() {
	if c.state.CompareAndSwap(h1Idle, h1Closed) {
		_ = c.raw.Close()
	}
}

// closing reports whether the server is shutting down.
func (c *h1Conn) closing() bool { return c.s.h1.shutting.Load() }

// serveH1 serves an HTTP/1.x connection until it ends.
func (s *Server) serveH1(conn *tls.Conn, raw *trackedConn) {
	c := &h1Conn{
		s:      s,
		conn:   conn,
		raw:    raw,
		br:     bufio.NewReaderSize(conn, 4<<10),
		bw:     bufio.NewWriterSize(conn, 4<<10),
		header: make(http.Header, 8),
	}
	st := conn.ConnectionState()
	ctx := context.WithValue(context.Background(), connKey{}, &raw.info)
	c.tmpl = (&http.Request{RemoteAddr: raw.info.remote, TLS: &st}).WithContext(ctx)
	c.w.c, c.w.header = c, make(http.Header, 8)
	if !s.h1.add(c) {
		_ = conn.Close()
		return
	}
	defer s.h1.remove(c)
	if c.serve() {
		return // hijacked: the handler owns the connection
	}
	c.state.Store(h1Closed)
	c.closeGracefully()
}

// serve runs the request loop; it reports whether the connection was
// hijacked.
func (c *h1Conn) serve() (hijacked bool) {
	s := c.s
	idle := s.http.ReadHeaderTimeout // the first request comes at once
	for {
		c.armRead(time.Now().Add(idle), deadlineSlack(idle))
		if _, err := c.br.Peek(1); err != nil {
			return false
		}
		if !c.state.CompareAndSwap(h1Idle, h1Active) {
			return false // closed by Shutdown
		}
		if buf, _ := c.br.Peek(c.br.Buffered()); headEnd(buf) < 0 {
			// Slow headers get the read-header timeout from here.
			c.armRead(time.Now().Add(s.http.ReadHeaderTimeout), deadlineSlack(s.http.ReadHeaderTimeout))
		}
		err := c.readHead()
		if err != nil {
			c.refuse(err)
			return false
		}
		if c.req.Body != http.NoBody {
			c.rdl = time.Time{}
			_ = c.raw.SetReadDeadline(c.rdl) // bodies may be slow
		}
		c.w.reset(c.req.Method == http.MethodHead, c.req.Close || c.closing())
		if !c.run() {
			return false
		}
		if c.w.hijacked {
			return true
		}
		if err := c.w.finish(); err != nil || c.w.closeAfter || !c.body.finish() {
			return false
		}
		c.state.Store(h1Idle)
		if c.closing() {
			return false
		}
		idle = s.http.IdleTimeout
	}
}

// deadlineSlack is how much later than asked a lazily armed timeout may
// fire: 1/64 of it, at most a second.
func deadlineSlack(d time.Duration) time.Duration { return min(d/64, time.Second) }

// lazyDeadline reports whether a deadline armed at armed must be moved for
// a timeout due at want: it stays while it lies in [want, want+slack]. On a
// busy keep-alive connection a deadline armed at want+slack then lasts for
// many requests, so the runtime's timer is changed about once per slack
// instead of once per request (each change takes a clock read and a timer
// update); the timeout fires no earlier than asked and at most slack later.
func lazyDeadline(armed, want time.Time, slack time.Duration) bool {
	return armed.IsZero() || want.After(armed) || armed.Sub(want) > slack
}

// armRead makes the connection's read deadline fall in [want, want+slack].
func (c *h1Conn) armRead(want time.Time, slack time.Duration) {
	if lazyDeadline(c.rdl, want, slack) {
		c.rdl = want.Add(slack)
		_ = c.raw.SetReadDeadline(c.rdl)
	}
}

// run calls the handler; it reports false when the handler panicked, in
// which case the connection is closed without finishing the response.
func (c *h1Conn) run() (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			if p != http.ErrAbortHandler {
				buf := make([]byte, 16<<10)
				buf = buf[:runtime.Stack(buf, false)]
				c.s.log.Error("panic serving a request", "remote", c.raw.info.remote, "panic", p, "stack", string(buf))
			}
			ok = false
		}
	}()
	c.s.ServeHTTP(&c.w, &c.req)
	return true
}

// refuse answers a request the loop could not read (unless the client
// just went away) and records why.
func (c *h1Conn) refuse(err error) {
	var re *errRequest
	if !errors.As(err, &re) {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
			return
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return // read-header timeout: nothing useful to say
		}
		re = &errRequest{http.StatusBadRequest, err.Error()}
	}
	body := strconv.Itoa(re.status) + " " + http.StatusText(re.status) + ": " + re.msg
	bw := c.bw
	_, _ = bw.WriteString("HTTP/1.1 ")
	_, _ = bw.WriteString(strconv.Itoa(re.status))
	_, _ = bw.WriteString(" ")
	_, _ = bw.WriteString(http.StatusText(re.status))
	_, _ = bw.WriteString("\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: ")
	_, _ = bw.WriteString(strconv.Itoa(len(body)))
	_, _ = bw.WriteString("\r\n\r\n")
	_, _ = bw.WriteString(body)
	_ = bw.Flush()

	info := &c.raw.info
	info.metrics.Request(re.status, 0)
	if !c.s.accessLog.Enabled() {
		return
	}
	c.s.accessLog.Log(&telemetry.AccessRecord{
		Time:     c.s.now(),
		Event:    telemetry.EventRequest,
		Remote:   info.remote,
		Domain:   info.domain,
		SNI:      info.sni,
		Protocol: "HTTP/1.1",
		TLS:      tlsVersionName(c.tmpl.TLS.Version),
		Status:   re.status,
		Error:    "malformed request: " + re.msg,
	})
}

// closeGracefully ends the connection: close_notify, then a short read of
// whatever the client still sends, so a reset does not destroy the last
// response before the client reads it.
func (c *h1Conn) closeGracefully() {
	_ = c.conn.CloseWrite()
	_ = c.raw.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	_, _ = io.CopyN(io.Discard, c.raw.Conn, 256<<10)
	_ = c.raw.Close()
}
