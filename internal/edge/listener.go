package edge

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"trustgate/internal/telemetry"
)

// trackedConn is the TCP connection under a tls.Conn. It carries the
// connection's own state (connInfo) from the handshake to every request.
type trackedConn struct {
	net.Conn
	info connInfo
	// readAny is set once the peer sent a byte: a connection that fails
	// its handshake without sending anything (a port probe) is counted but
	// not written to the access log.
	readAny atomic.Bool
}

func (c *trackedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && !c.readAny.Load() {
		c.readAny.Store(true)
	}
	return n, err
}

// handshakeListener accepts TCP connections, runs each TLS handshake in its
// own goroutine under the handshake timeout, then serves HTTP/1.x on that
// goroutine (the h1 loop) and hands h2 connections to net/http. Failed handshakes are counted and logged here.
type handshakeListener struct {
	net.Listener
	s    *Server
	base *tls.Config

	conns   chan net.Conn
	errs    chan error
	done    chan struct{}
	stopped chan struct{}
	termErr error

	closeOnce sync.Once
	mu        sync.Mutex
	closed    bool
	pending   map[net.Conn]struct{}
}

func (s *Server) newListener(ln net.Listener) *handshakeListener {
	l := &handshakeListener{
		Listener: ln,
		s:        s,
		base:     &tls.Config{GetConfigForClient: s.configForClient, NextProtos: alpn},
		conns:    make(chan net.Conn),
		errs:     make(chan error),
		done:     make(chan struct{}),
		stopped:  make(chan struct{}),
		pending:  make(map[net.Conn]struct{}),
	}
	go l.acceptLoop()
	return l
}

func (l *handshakeListener) acceptLoop() {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			// Temporary accept errors (EMFILE, ...) go to net/http, which
			// backs off and calls Accept again.
			var te interface{ Temporary() bool }
			if errors.As(err, &te) && te.Temporary() {
				select {
				case l.errs <- err:
					continue
				case <-l.done:
					return
				}
			}
			l.termErr = err
			close(l.stopped)
			return
		}
		if !l.track(c) {
			c.Close()
			continue
		}
		go l.handshake(c)
	}
}

func (l *handshakeListener) track(c net.Conn) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return false
	}
	l.pending[c] = struct{}{}
	return true
}

func (l *handshakeListener) untrack(c net.Conn) {
	l.mu.Lock()
	delete(l.pending, c)
	l.mu.Unlock()
}

func (l *handshakeListener) handshake(raw net.Conn) {
	tc := &trackedConn{Conn: raw}
	tc.info.remote = raw.RemoteAddr().String()
	tc.info.metrics = l.s.unknownMetrics
	conn := tls.Server(tc, l.base)
	_ = raw.SetDeadline(l.s.now().Add(l.s.handshakeTimeout))
	err := conn.Handshake()
	l.untrack(raw)
	if err != nil {
		l.s.handshakeFailed(tc, err)
		_ = conn.Close()
		return
	}
	_ = raw.SetDeadline(time.Time{})
	l.s.handshakeDone(tc, conn)
	if conn.ConnectionState().NegotiatedProtocol != "h2" {
		l.s.serveH1(conn, tc)
		return
	}
	select {
	case l.conns <- conn:
	case <-l.done:
		_ = conn.Close()
	}
}

// Accept returns the next connection whose handshake completed.
func (l *handshakeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case err := <-l.errs:
		return nil, err
	case <-l.stopped:
		return nil, l.termErr
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops accepting and aborts handshakes in progress.
func (l *handshakeListener) Close() error {
	var err error
	l.closeOnce.Do(func() {
		close(l.done)
		err = l.Listener.Close()
		l.mu.Lock()
		l.closed = true
		for c := range l.pending {
			_ = c.Close()
		}
		l.mu.Unlock()
	})
	return err
}

// handshakeResult classifies a handshake error into a bounded label.
func handshakeResult(err error) string {
	var rhe tls.RecordHeaderError
	switch {
	case errors.Is(err, ErrDomainUnavailable):
		return telemetry.HandshakeDomainUnavailable
	case errors.As(err, &rhe):
		return telemetry.HandshakeNotTLS
	case errors.Is(err, os.ErrDeadlineExceeded):
		return telemetry.HandshakeTimeout
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return telemetry.HandshakeClosed
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "client didn't provide a certificate"),
		strings.Contains(msg, "certificate required"):
		return telemetry.HandshakeNoClientCertificate
	case strings.Contains(msg, "version"), strings.Contains(msg, "cipher"),
		strings.Contains(msg, "application protocol"), strings.Contains(msg, "no mutual"),
		strings.Contains(msg, "curve"), strings.Contains(msg, "signature"):
		return telemetry.HandshakeProtocol
	case strings.Contains(msg, "connection reset"), strings.Contains(msg, "broken pipe"):
		return telemetry.HandshakeClosed
	}
	return telemetry.HandshakeError
}

// looksLikeHTTP reports whether a TLS record header is really the start of a
// plain HTTP request (as net/http checks).
func looksLikeHTTP(hdr [5]byte) bool {
	switch string(hdr[:]) {
	case "GET /", "HEAD ", "POST ", "PUT /", "OPTIO":
		return true
	}
	return false
}

// handshakeFailed counts and logs a failed handshake.
func (s *Server) handshakeFailed(tc *trackedConn, err error) {
	result := handshakeResult(err)
	tc.info.metrics.Handshake(result)
	var rhe tls.RecordHeaderError
	if errors.As(err, &rhe) && rhe.Conn != nil && looksLikeHTTP(rhe.RecordHeader) {
		_, _ = io.WriteString(rhe.Conn, "HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n")
	}
	if !tc.readAny.Load() || !s.accessLog.Enabled() {
		return
	}
	rec := telemetry.AccessRecord{
		Time:   s.now(),
		Event:  telemetry.EventHandshake,
		Remote: tc.info.remote,
		Domain: tc.info.domain,
		SNI:    tc.info.sni,
		Error:  err.Error(),
	}
	if result == telemetry.HandshakeNoClientCertificate {
		rec.MTLS = telemetry.VerdictRejected
		rec.MTLSReason = "no_certificate"
	} else {
		rec.MTLSReason = result
	}
	s.accessLog.Log(&rec)
}

// handshakeDone records a completed handshake: the client certificate's
// fields are extracted once, and an mTLS domain's verdict is computed now,
// off the request path.
func (s *Server) handshakeDone(tc *trackedConn, conn *tls.Conn) {
	tc.info.metrics.Handshake(telemetry.HandshakeOK)
	st := conn.ConnectionState()
	if len(st.PeerCertificates) == 0 {
		return
	}
	tc.info.cert = newCertInfo(st.PeerCertificates[0])
	if tc.info.domain == "" {
		return
	}
	snap := s.snap.Load()
	if d := snap.domains[tc.info.domain]; d != nil && d.tls.mtls {
		s.verdictFor(&tc.info, d, st.PeerCertificates, s.now())
	}
}
