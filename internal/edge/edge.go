package edge

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"trustgate/internal/store"
	"trustgate/internal/telemetry"
)

// Defaults of the optional Config knobs.
const (
	DefaultUpstreamTimeout   = 29 * time.Second // API Gateway's integration timeout
	DefaultHandshakeTimeout  = 10 * time.Second
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout       = 120 * time.Second
	DefaultMaxHeaderBytes    = 32 << 10
)

// Config configures the data plane.
type Config struct {
	Store store.Store
	// Region, AccountID and PublicDomain name the default endpoint hosts
	// {apiId}.execute-api.{Region}.{PublicDomain}.
	Region, AccountID, PublicDomain string
	// DefaultCertificate is served for *.execute-api.{Region}.{PublicDomain}
	// and for an unknown or absent SNI.
	DefaultCertificate tls.Certificate
	Logger             *slog.Logger
	// AccessLog receives one JSON line per request and per rejected
	// handshake; nil turns the access log off.
	AccessLog io.Writer
	// Registry receives the edge's metrics; nil leaves them unexported.
	Registry prometheus.Registerer
	// Now is the clock (certificate validity, logs); nil means time.Now.
	Now func() time.Time
	// UpstreamTimeout bounds a backend call when the integration sets no
	// timeoutInMillis; 0 means DefaultUpstreamTimeout.
	UpstreamTimeout time.Duration

	// Optional knobs; zero means the Default* constant.
	HandshakeTimeout  time.Duration
	ReadHeaderTimeout time.Duration
	IdleTimeout       time.Duration
	MaxHeaderBytes    int
	// UpstreamTransport replaces the tuned default transport to backends
	// (for example to trust a private CA).
	UpstreamTransport *http.Transport

	// CRLSource reads the CRL objects that domains' trustgate:crl tags
	// name. Nil leaves every such CRL unread: the certificates it would
	// cover are refused (crl_unavailable) unless the domain is in soft mode.
	CRLSource ObjectGetter
	// CRLSourceInStore is true when CRLSource reads objects kept in Store
	// (the embedded object store): CRLs are then read again at every
	// snapshot build, so a new version is served with the revision that
	// wrote it. Otherwise (external S3) they are polled at each domain's
	// trustgate:crl-refresh interval.
	CRLSourceInStore bool
	// CRLFetchTimeout bounds one CRL read; 0 means DefaultCRLFetchTimeout.
	CRLFetchTimeout time.Duration
}

// Server is the data plane. Its methods are safe for concurrent use.
type Server struct {
	cfg              Config
	log              *slog.Logger
	now              func() time.Time
	snap             atomic.Pointer[Snapshot]
	metrics          *telemetry.Metrics
	accessLog        *telemetry.AccessLog
	defaultTLS       *tls.Config
	ticketSecret     []byte
	execSuffix       string
	upstreamTimeout  time.Duration
	handshakeTimeout time.Duration
	transport        *http.Transport
	proxy            *httputil.ReverseProxy
	copyBufs         *bufferPool // body copy buffers, shared with the reverse proxy
	// upstream holds the fast path's idle backend connections; nil when a
	// custom UpstreamTransport is configured, whose settings must then
	// apply to every call.
	upstream *upstreamPool
	http     *http.Server // h2, and the timeouts and limits of h1
	h1       h1Conns
	date     atomic.Pointer[dateText]

	defaultMetrics *telemetry.DomainMetrics
	unknownMetrics *telemetry.DomainMetrics

	crls       *crlManager
	crlMetrics *crlMetrics

	runMu sync.Mutex
	reqs  sync.Pool // *reqState
}

// New checks cfg and prepares a server that serves an empty configuration
// (every request 403) until Run installs the first snapshot.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, fmt.Errorf("%w: no store", ErrConfig)
	}
	if cfg.Region == "" || cfg.PublicDomain == "" {
		return nil, fmt.Errorf("%w: region and public domain are required", ErrConfig)
	}
	if len(cfg.DefaultCertificate.Certificate) == 0 || cfg.DefaultCertificate.PrivateKey == nil {
		return nil, fmt.Errorf("%w: no default certificate", ErrConfig)
	}
	s := &Server{
		cfg:              cfg,
		log:              cfg.Logger,
		now:              cfg.Now,
		accessLog:        telemetry.NewAccessLog(cfg.AccessLog),
		execSuffix:       ".execute-api." + strings.ToLower(cfg.Region) + "." + strings.ToLower(strings.TrimSuffix(cfg.PublicDomain, ".")),
		upstreamTimeout:  orDefault(cfg.UpstreamTimeout, DefaultUpstreamTimeout),
		handshakeTimeout: orDefault(cfg.HandshakeTimeout, DefaultHandshakeTimeout),
		transport:        cfg.UpstreamTransport,
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("component", "edge")
	if s.now == nil {
		s.now = time.Now
	}
	m, err := telemetry.NewMetrics(cfg.Registry)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	if s.crlMetrics, err = newCRLMetrics(cfg.Registry, s); err != nil {
		return nil, err
	}
	s.crls = newCRLManager(cfg.CRLSource, cfg.CRLSourceInStore, cfg.CRLFetchTimeout, s.now, s.log, s.crlMetrics)
	s.defaultMetrics = m.Domain(telemetry.DomainDefault)
	s.unknownMetrics = m.Domain(telemetry.DomainUnknown)
	s.ticketSecret = make([]byte, 32)
	if _, err := rand.Read(s.ticketSecret); err != nil {
		return nil, fmt.Errorf("generating session ticket secret: %w", err)
	}
	s.defaultTLS = defaultTLSConfig(cfg.DefaultCertificate, s.ticketSecret)
	if s.transport == nil {
		s.transport = newTransport()
		s.upstream = newUpstreamPool()
	}
	s.copyBufs = newBufferPool()
	s.proxy = &httputil.ReverseProxy{
		Rewrite:   s.rewrite,
		Transport: s.transport,
		// FlushInterval 0: a response of unknown length (chunked, SSE) is
		// flushed as each chunk arrives; one with a Content-Length is
		// copied through the usual buffers, in fewer TLS records.
		FlushInterval:  0,
		BufferPool:     s.copyBufs,
		ModifyResponse: s.modifyResponse,
		ErrorHandler:   s.proxyError,
		ErrorLog:       log.New(io.Discard, "", 0),
	}
	s.http = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: orDefault(cfg.ReadHeaderTimeout, DefaultReadHeaderTimeout),
		IdleTimeout:       orDefault(cfg.IdleTimeout, DefaultIdleTimeout),
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ConnContext:       s.connContext,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	if s.http.MaxHeaderBytes <= 0 {
		s.http.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	s.reqs.New = func() any { return new(reqState) }
	s.snap.Store(emptySnapshot())
	return s, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// newTransport is the one pooled, keep-alive transport to every backend.
func newTransport() *http.Transport {
	return &http.Transport{
		Proxy: nil, // a gateway does not route its backends through environment proxies
		DialContext: (&net.Dialer{
			Timeout:   10 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           1024,
		MaxIdleConnsPerHost:    256,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 1 << 20,
		// Bodies pass through as the backend encoded them.
		DisableCompression: true,
	}
}

// Revision returns the store revision of the live snapshot, or -1 before the
// first snapshot is installed.
func (s *Server) Revision() int64 { return s.snap.Load().rev }

// Run watches the store and rebuilds the snapshot after every change until
// ctx ends (it then returns nil). A build that fails is retried with backoff
// until it succeeds or the next change arrives; meanwhile the previous
// snapshot keeps serving. With an external CRL source it also polls CRLs and
// rebuilds when one changes. It returns an error if the store's watch ends
// before ctx.
func (s *Server) Run(ctx context.Context) error {
	if !s.runMu.TryLock() {
		return errors.New("edge: Run is already running")
	}
	defer s.runMu.Unlock()
	ctx, cancel := context.WithCancel(ctx)
	var poller sync.WaitGroup
	defer func() {
		cancel()
		poller.Wait()
		s.crls.bg.Wait()
	}()
	poller.Go(func() { s.crls.run(ctx) })
	watch := s.cfg.Store.Watch(ctx)
	var retry <-chan time.Time
	backoff := 100 * time.Millisecond
	for {
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-watch:
			if !ok {
				if ctx.Err() != nil {
					return nil
				}
				return errors.New("edge: store watch ended")
			}
		case <-s.crls.changed:
		case <-retry:
		}
		if err := s.rebuild(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			retry = time.After(backoff)
			backoff = min(2*backoff, 5*time.Second)
			continue
		}
		retry, backoff = nil, 100*time.Millisecond
	}
}

// rebuild builds a snapshot from the store and installs it. On failure the
// previous snapshot stays.
func (s *Server) rebuild(ctx context.Context) error {
	prev := s.snap.Load()
	var (
		next   *Snapshot
		report *buildReport
	)
	start := time.Now()
	rev, err := s.cfg.Store.View(ctx, func(tx store.Tx) error {
		var err error
		next, report, err = s.build(tx, prev)
		return err
	})
	if err != nil {
		if ctx.Err() == nil {
			s.metrics.BuildFailed()
			s.log.Error("snapshot build failed; the previous snapshot keeps serving",
				"serving_revision", prev.rev, "error", err)
		}
		return fmt.Errorf("building snapshot: %w", err)
	}
	// CRLs are read after the transaction (never inside it: the embedded
	// object store is this very store, and an external S3 must not hold a
	// read transaction open); what is read is at least as new as rev.
	s.crls.sync(ctx, report.crls)
	// The generation is read before the CRLs are attached: a change that
	// lands in between is attached now and rebuilt once more, never lost.
	gen := s.crls.gen.Load()
	if rev == prev.rev && gen == prev.crlGen {
		return nil
	}
	next.rev, next.crlGen = rev, gen
	s.attachRevocation(next, prev)
	s.install(next, report)
	s.log.Debug("snapshot built", "revision", rev, "duration", time.Since(start))
	return nil
}

// Serve serves TLS on ln, a plain TCP listener, until Shutdown; it then
// returns http.ErrServerClosed. It may be called for several listeners.
func (s *Server) Serve(ln net.Listener) error {
	return s.http.Serve(s.newListener(ln))
}

// Shutdown stops accepting connections, aborts handshakes in progress, lets
// in-flight requests finish (bounded by ctx), then closes idle backend
// connections and flushes the access log.
func (s *Server) Shutdown(ctx context.Context) error {
	var (
		wg    sync.WaitGroup
		h1err error
	)
	wg.Go(func() { h1err = s.h1.shutdown(ctx) })
	err := s.http.Shutdown(ctx)
	wg.Wait()
	if err == nil {
		err = h1err
	}
	s.transport.CloseIdleConnections()
	if s.upstream != nil {
		s.upstream.closeIdle()
	}
	if ferr := s.accessLog.Flush(); ferr != nil && err == nil {
		err = fmt.Errorf("flushing access log: %w", ferr)
	}
	return err
}

// configForClient selects the tls.Config for a ClientHello: exact domain,
// then wildcard, then the default certificate. It records the choice on the
// connection. No lock, no I/O.
func (s *Server) configForClient(hello *tls.ClientHelloInfo) (*tls.Config, error) {
	snap := s.snap.Load()
	name := normalizeHost(hello.ServerName)
	d := snap.lookupHost(name)
	if tc, ok := hello.Conn.(*trackedConn); ok {
		tc.info.sni = hello.ServerName
		switch {
		case d != nil:
			tc.info.domain = d.name
			tc.info.metrics = d.metrics
		case s.isExecuteAPIHost(name):
			tc.info.metrics = s.defaultMetrics
		}
	}
	if d == nil {
		return s.defaultTLS, nil
	}
	if d.tls.config == nil {
		return nil, fmt.Errorf("%w: %s", ErrDomainUnavailable, d.name)
	}
	return d.tls.config, nil
}

// normalizeHost lower-cases a host name and drops a trailing dot, without
// allocating when it is already normal.
func normalizeHost(h string) string {
	h = strings.TrimSuffix(h, ".")
	for i := 0; i < len(h); i++ {
		if c := h[i]; c >= 'A' && c <= 'Z' {
			return strings.ToLower(h)
		}
	}
	return h
}

// hostOnly strips the port from a Host header value and normalizes it.
func hostOnly(h string) string {
	if strings.HasPrefix(h, "[") {
		if i := strings.IndexByte(h, ']'); i > 0 {
			return strings.ToLower(h[1:i])
		}
		return h
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 {
		h = h[:i]
	}
	return normalizeHost(h)
}

func (s *Server) isExecuteAPIHost(host string) bool {
	_, ok := s.executeAPIID(host)
	return ok
}

// executeAPIID returns the API id of a default endpoint host
// {apiId}.execute-api.{region}.{publicDomain}.
func (s *Server) executeAPIID(host string) (string, bool) {
	id, ok := strings.CutSuffix(host, s.execSuffix)
	if !ok || id == "" || strings.IndexByte(id, '.') >= 0 {
		return "", false
	}
	return id, true
}

// DomainStatus is how the live snapshot serves one custom domain, for the
// management API's domainNameStatus / domainNameStatusMessage.
type DomainStatus struct {
	// Serving is false when every handshake for the domain is refused
	// (its configuration never built).
	Serving bool
	// Stale is true when the domain's current configuration failed to
	// build and a previous build keeps serving.
	Stale bool
	// Err is why the current configuration failed to build; nil when it
	// built.
	Err error
	// MutualTLS reports whether the served build requires client
	// certificates; TruststoreCerts counts its trust anchors, and
	// TruststoreURI and TruststoreVersion name the object version served.
	MutualTLS         bool
	TruststoreCerts   int
	TruststoreURI     string
	TruststoreVersion string
	// Revocation describes CRL checking; nil when it is off (no
	// trustgate:crl tag, or no mutual TLS).
	Revocation *RevocationStatus
	// Revision is the store revision of the snapshot this describes.
	Revision int64
}

// DomainStatus reports how a custom domain (by configured name) is served,
// and false if the live snapshot does not have it.
func (s *Server) DomainStatus(name string) (DomainStatus, bool) {
	snap := s.snap.Load()
	d := snap.domains[name]
	if d == nil {
		return DomainStatus{}, false
	}
	st := DomainStatus{Serving: d.tls.config != nil, Stale: d.stale, MutualTLS: d.tls.mtls, Revision: snap.rev,
		TruststoreURI: d.tls.trustURI, TruststoreVersion: d.tls.trustVersion}
	if f := snap.failures[name]; f != nil {
		st.Err = f.err
	}
	if d.tls.trust != nil {
		st.TruststoreCerts = d.tls.trust.certs
	}
	if d.crl != nil {
		st.Revocation = s.revocationStatus(d)
	}
	return st, true
}
