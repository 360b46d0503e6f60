package dns

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"trustgate/internal/store"
)

// Config is what the DNS server needs.
type Config struct {
	Store store.Store
	// Region and PublicDomain name the gateway's regional domain names that
	// alias records target.
	Region, PublicDomain string
	// PublicIP is what an alias A record to the gateway answers (default
	// 127.0.0.1); an IPv6 PublicIP answers AAAA instead.
	PublicIP net.IP
	// PublicIPv6 is what an alias AAAA record to the gateway answers; with
	// neither it nor an IPv6 PublicIP, such AAAA queries get NODATA.
	PublicIPv6 net.IP
	Logger     *slog.Logger
	// Registry receives the server's metrics; nil registers none.
	Registry prometheus.Registerer
}

// Limits on the serving side.
const (
	udpWorkers     = 4
	maxTCPConns    = 256
	maxTCPQueries  = 128
	tcpIdleTimeout = 10 * time.Second
	tcpIOTimeout   = 5 * time.Second
	retryBuild     = time.Second
)

// Server is an authoritative DNS server for every hosted zone in the store.
// It answers from an immutable snapshot that Run rebuilds after each store
// change and swaps in with one atomic store; answering takes no lock and
// does no I/O beyond the socket. Methods are safe for concurrent use.
type Server struct {
	st      store.Store
	log     *slog.Logger
	b       builder
	snap    atomic.Pointer[snapshot]
	metrics *metrics

	mu     sync.Mutex
	closed bool
	pcs    []net.PacketConn
	lns    []net.Listener
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

// New builds the first snapshot from the store and returns a server ready to
// Serve. It fails if the store cannot be read or the metrics cannot be
// registered.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("dns: no store")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	b := builder{region: cfg.Region, publicDomain: cfg.PublicDomain, log: log}
	ip := cfg.PublicIP
	if ip == nil {
		ip = net.IPv4(127, 0, 0, 1)
	}
	if v4 := ip.To4(); v4 != nil {
		b.ipv4 = v4
	} else {
		b.ipv6 = ip.To16()
	}
	if cfg.PublicIPv6 != nil {
		if cfg.PublicIPv6.To4() != nil {
			return nil, fmt.Errorf("dns: public IPv6 address %s is an IPv4 address", cfg.PublicIPv6)
		}
		b.ipv6 = cfg.PublicIPv6.To16()
	}
	m, err := newMetrics(cfg.Registry)
	if err != nil {
		return nil, fmt.Errorf("registering dns metrics: %w", err)
	}
	s := &Server{st: cfg.Store, log: log, b: b, metrics: m, conns: map[net.Conn]struct{}{}}
	snap, err := b.build(context.Background(), cfg.Store)
	if err != nil {
		return nil, fmt.Errorf("building the first dns snapshot: %w", err)
	}
	s.install(snap)
	return s, nil
}

// Revision returns the store revision of the snapshot being served.
func (s *Server) Revision() int64 {
	if snap := s.snap.Load(); snap != nil {
		return snap.rev
	}
	return 0
}

func (s *Server) install(snap *snapshot) {
	s.snap.Store(snap)
	s.metrics.revision.Set(float64(snap.rev))
	s.metrics.zones.Set(float64(len(snap.zones)))
}

// Run watches the store and rebuilds the snapshot after every change until
// ctx ends. A snapshot that fails to build is not installed: the previous
// one keeps serving, the failure is logged and counted, and the build is
// retried.
func (s *Server) Run(ctx context.Context) error {
	watch := s.st.Watch(ctx)
	var retry <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case rev, ok := <-watch:
			if !ok {
				return nil
			}
			if rev <= s.Revision() {
				continue
			}
		case <-retry:
		}
		retry = nil
		snap, err := s.b.build(ctx, s.st)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.metrics.buildFailures.Inc()
			s.log.Error("dns snapshot build failed; the previous one keeps serving", "revision", s.Revision(), "err", err)
			retry = time.After(retryBuild)
			continue
		}
		if snap.rev > s.Revision() {
			s.install(snap)
			s.log.Debug("dns snapshot installed", "revision", snap.rev, "zones", len(snap.zones))
		}
	}
}

// Serve answers queries on pc (UDP) and ln (TCP); either may be nil. It
// returns nil after Shutdown, or the first error that stops a listener.
func (s *Server) Serve(pc net.PacketConn, ln net.Listener) error {
	n := 0
	if pc != nil {
		n += udpWorkers
	}
	if ln != nil {
		n++
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		if pc != nil {
			pc.Close()
		}
		if ln != nil {
			ln.Close()
		}
		return nil
	}
	if pc != nil {
		s.pcs = append(s.pcs, pc)
	}
	if ln != nil {
		s.lns = append(s.lns, ln)
	}
	// Added under the lock, so Shutdown's Wait never races an Add.
	s.wg.Add(n)
	s.mu.Unlock()

	errc := make(chan error, n)
	if pc != nil {
		for range udpWorkers {
			go func() {
				defer s.wg.Done()
				errc <- s.serveUDP(pc)
			}()
		}
	}
	if ln != nil {
		go func() {
			defer s.wg.Done()
			errc <- s.serveTCP(ln)
		}()
	}
	var first error
	for range n {
		if err := <-errc; err != nil && first == nil {
			first = err
			// One listener failed: stop the others too.
			if pc != nil {
				pc.Close()
			}
			if ln != nil {
				ln.Close()
			}
		}
	}
	return first
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *Server) serveUDP(pc net.PacketConn) error {
	buf := make([]byte, 65535)
	for {
		n, addr, err := pc.ReadFrom(buf)
		if err != nil {
			if s.isClosed() {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("reading dns over udp: %w", err)
		}
		if resp := s.respond(buf[:n], false); resp != nil {
			pc.WriteTo(resp, addr)
		}
	}
}

func (s *Server) serveTCP(ln net.Listener) error {
	backoff := 5 * time.Millisecond
	for {
		conn, err := ln.Accept()
		if err != nil {
			if s.isClosed() {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(backoff)
				backoff = min(2*backoff, time.Second)
				continue
			}
			return fmt.Errorf("accepting dns over tcp: %w", err)
		}
		backoff = 5 * time.Millisecond
		s.mu.Lock()
		if s.closed || len(s.conns) >= maxTCPConns {
			s.mu.Unlock()
			conn.Close()
			continue
		}
		s.conns[conn] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.serveConn(conn)
			s.mu.Lock()
			delete(s.conns, conn)
			s.mu.Unlock()
			conn.Close()
		}()
	}
}

// serveConn answers length-prefixed queries on one TCP connection, in
// order, until the client closes, idles, or sends something unusable.
func (s *Server) serveConn(conn net.Conn) {
	var lenBuf [2]byte
	buf := make([]byte, maxTCPMsg)
	for range maxTCPQueries {
		conn.SetReadDeadline(time.Now().Add(tcpIdleTimeout))
		if _, err := io.ReadFull(conn, lenBuf[:]); err != nil {
			return
		}
		n := int(binary.BigEndian.Uint16(lenBuf[:]))
		if n < headerLen {
			return
		}
		conn.SetReadDeadline(time.Now().Add(tcpIOTimeout))
		if _, err := io.ReadFull(conn, buf[:n]); err != nil {
			return
		}
		resp := s.respond(buf[:n], true)
		if resp == nil {
			return
		}
		out := make([]byte, 2+len(resp))
		binary.BigEndian.PutUint16(out, uint16(len(resp)))
		copy(out[2:], resp)
		conn.SetWriteDeadline(time.Now().Add(tcpIOTimeout))
		if _, err := conn.Write(out); err != nil {
			return
		}
	}
}

// Shutdown stops serving: listeners and open TCP connections are closed and
// Shutdown waits, until ctx ends, for the serving goroutines to return.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	for _, pc := range s.pcs {
		pc.Close()
	}
	for _, ln := range s.lns {
		ln.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for dns connections to close: %w", ctx.Err())
	}
}
