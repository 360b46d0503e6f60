package telemetry

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Label values for traffic that has no configured domain.
const (
	DomainUnknown = "unknown" // SNI/Host that names no configured domain
	DomainDefault = "default" // the default execute-api endpoint
)

// Handshake results (label "result" of trustgate_edge_handshakes_total).
const (
	HandshakeOK                  = "ok"
	HandshakeNoClientCertificate = "no_client_certificate"
	HandshakeTimeout             = "timeout"
	HandshakeNotTLS              = "not_tls"
	HandshakeProtocol            = "protocol"
	HandshakeClosed              = "closed"
	HandshakeDomainUnavailable   = "domain_unavailable"
	HandshakeError               = "error"
)

// Metrics are the data plane's Prometheus metrics. Safe for concurrent use.
type Metrics struct {
	handshakes     *prometheus.CounterVec
	verdicts       *prometheus.CounterVec
	requests       *prometheus.CounterVec
	duration       *prometheus.HistogramVec
	upstream       *prometheus.HistogramVec
	revision       prometheus.Gauge
	buildFailures  prometheus.Counter
	domainFailures *prometheus.CounterVec
	domainStale    *prometheus.GaugeVec
	domainDown     *prometheus.GaugeVec
	trustCerts     *prometheus.GaugeVec
	trustExpiry    *prometheus.GaugeVec

	mu      sync.Mutex
	domains map[string]*DomainMetrics
}

// NewMetrics creates the metrics and registers them on reg. With a nil reg
// the metrics work but are not exported.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	latencyBuckets := []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30}
	m := &Metrics{
		handshakes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trustgate_edge_handshakes_total",
			Help: "TLS handshakes by configured domain and result (ok or the reason it failed).",
		}, []string{"domain", "result"}),
		verdicts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trustgate_edge_mtls_verdicts_total",
			Help: "mTLS verdicts computed (once per connection and truststore generation) by domain and reason.",
		}, []string{"domain", "reason"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trustgate_edge_requests_total",
			Help: "HTTP requests by configured domain and status class.",
		}, []string{"domain", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "trustgate_edge_request_duration_seconds",
			Help:    "Time from request headers to the end of the response, by domain.",
			Buckets: latencyBuckets,
		}, []string{"domain"}),
		upstream: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "trustgate_edge_upstream_duration_seconds",
			Help:    "Time from sending a request to a backend to its response headers, by domain.",
			Buckets: latencyBuckets,
		}, []string{"domain"}),
		revision: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "trustgate_edge_snapshot_revision",
			Help: "Store revision of the snapshot the data plane serves.",
		}),
		buildFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "trustgate_edge_snapshot_build_failures_total",
			Help: "Snapshot builds that failed as a whole; the previous snapshot kept serving.",
		}),
		domainFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trustgate_edge_domain_build_failures_total",
			Help: "Domain builds that failed (certificate, truststore or mappings); the domain's previous build, if any, kept serving.",
		}, []string{"domain"}),
		domainStale: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "trustgate_edge_domain_stale",
			Help: "1 when a domain serves a previous build because its current configuration failed to build.",
		}, []string{"domain"}),
		domainDown: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "trustgate_edge_domain_unavailable",
			Help: "1 when a domain has no usable build and refuses every handshake.",
		}, []string{"domain"}),
		trustCerts: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "trustgate_edge_truststore_certificates",
			Help: "Certificates in the truststore a domain serves.",
		}, []string{"domain"}),
		trustExpiry: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "trustgate_edge_truststore_earliest_expiry_timestamp_seconds",
			Help: "Earliest notAfter among a domain's truststore certificates, as a Unix time.",
		}, []string{"domain"}),
		domains: make(map[string]*DomainMetrics),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.handshakes, m.verdicts, m.requests, m.duration, m.upstream,
			m.revision, m.buildFailures, m.domainFailures, m.domainStale, m.domainDown, m.trustCerts, m.trustExpiry} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("registering edge metrics: %w", err)
			}
		}
	}
	return m, nil
}

// Domain returns the metric handle of a domain label value (a configured
// domain name, DomainUnknown or DomainDefault). Handles are cached: calling
// it again with the same name returns the same handle.
func (m *Metrics) Domain(name string) *DomainMetrics {
	m.mu.Lock()
	defer m.mu.Unlock()
	d := m.domains[name]
	if d == nil {
		d = &DomainMetrics{m: m, name: name}
		m.domains[name] = d
	}
	return d
}

// SetRevision records the revision of the live snapshot.
func (m *Metrics) SetRevision(rev int64) { m.revision.Set(float64(rev)) }

// BuildFailed counts a snapshot build that failed as a whole.
func (m *Metrics) BuildFailed() { m.buildFailures.Inc() }

// DomainBuildFailed counts a failed domain build.
func (m *Metrics) DomainBuildFailed(domain string) {
	m.domainFailures.WithLabelValues(domain).Inc()
}

// SetDomainHealth records whether a domain serves a previous build (stale)
// or nothing at all (unavailable). Healthy domains have no series.
func (m *Metrics) SetDomainHealth(domain string, stale, unavailable bool) {
	setFlag(m.domainStale, domain, stale)
	setFlag(m.domainDown, domain, unavailable)
}

func setFlag(g *prometheus.GaugeVec, domain string, on bool) {
	if on {
		g.WithLabelValues(domain).Set(1)
	} else {
		g.DeleteLabelValues(domain)
	}
}

// SetTruststore records a domain's truststore size and earliest expiry.
func (m *Metrics) SetTruststore(domain string, certs int, earliest time.Time) {
	m.trustCerts.WithLabelValues(domain).Set(float64(certs))
	if !earliest.IsZero() {
		m.trustExpiry.WithLabelValues(domain).Set(float64(earliest.Unix()))
	}
}

// ForgetTruststore drops a domain's truststore gauges (mTLS turned off).
func (m *Metrics) ForgetTruststore(domain string) {
	m.trustCerts.DeleteLabelValues(domain)
	m.trustExpiry.DeleteLabelValues(domain)
}

// ForgetDomain drops every per-domain gauge of a domain that is gone.
func (m *Metrics) ForgetDomain(domain string) {
	m.ForgetTruststore(domain)
	m.domainStale.DeleteLabelValues(domain)
	m.domainDown.DeleteLabelValues(domain)
}

// DomainMetrics is one domain's share of the metrics, with the hot-path
// series bound on first use so a request costs no label lookup. Safe for
// concurrent use.
type DomainMetrics struct {
	m    *Metrics
	name string

	requests [6]atomic.Pointer[prometheus.Counter]
	duration atomic.Pointer[prometheus.Observer]
	upstream atomic.Pointer[prometheus.Observer]
}

// Name returns the domain label value.
func (d *DomainMetrics) Name() string { return d.name }

var classes = [6]string{"other", "1xx", "2xx", "3xx", "4xx", "5xx"}

// Request counts a finished request with its status and duration.
func (d *DomainMetrics) Request(status int, dur time.Duration) {
	i := status / 100
	if i < 1 || i > 5 {
		i = 0
	}
	c := d.requests[i].Load()
	if c == nil {
		v := d.m.requests.WithLabelValues(d.name, classes[i])
		c = &v
		d.requests[i].Store(c)
	}
	(*c).Inc()
	o := d.duration.Load()
	if o == nil {
		v := d.m.duration.WithLabelValues(d.name)
		o = &v
		d.duration.Store(o)
	}
	(*o).Observe(dur.Seconds())
}

// Upstream records how long a backend took to answer.
func (d *DomainMetrics) Upstream(dur time.Duration) {
	o := d.upstream.Load()
	if o == nil {
		v := d.m.upstream.WithLabelValues(d.name)
		o = &v
		d.upstream.Store(o)
	}
	(*o).Observe(dur.Seconds())
}

// Handshake counts a handshake with its result (one of the Handshake*
// constants).
func (d *DomainMetrics) Handshake(result string) {
	d.m.handshakes.WithLabelValues(d.name, result).Inc()
}

// Verdict counts an mTLS verdict by its reason (a bounded set: the
// truststore package's reasons).
func (d *DomainMetrics) Verdict(reason string) {
	d.m.verdicts.WithLabelValues(d.name, reason).Inc()
}
