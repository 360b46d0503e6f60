package edge

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"trustgate/internal/truststore"
)

// crlMetrics are the revocation and truststore-version metrics. Counters are
// updated as things happen; the per-domain gauges are computed from the live
// snapshot at scrape time, so they never outlive a domain. Safe for
// concurrent use.
type crlMetrics struct {
	fetchFailures *prometheus.CounterVec
	softFailures  *prometheus.CounterVec
}

var (
	descTruststoreVersion = prometheus.NewDesc("trustgate_edge_truststore_version_info",
		"The truststore object version a domain serves (value 1).", []string{"domain", "version"}, nil)
	descCRLSources = prometheus.NewDesc("trustgate_edge_crl_sources",
		"A domain's CRL objects by state: current (last read succeeded), stale (last read failed; the last good copy is used) or missing (never read: the certificates it covers are refused unless in soft mode).",
		[]string{"domain", "state"}, nil)
	descCRLAge = prometheus.NewDesc("trustgate_edge_crl_age_seconds",
		"Seconds since the oldest CRL copy a domain uses was last read successfully.", []string{"domain"}, nil)
	descCRLNextUpdate = prometheus.NewDesc("trustgate_edge_crl_next_update_timestamp_seconds",
		"Earliest nextUpdate among the CRLs a domain uses, as a Unix time; past it the CRL is expired (crl_expired, or soft mode).",
		[]string{"domain"}, nil)
)

func newCRLMetrics(reg prometheus.Registerer, s *Server) (*crlMetrics, error) {
	m := &crlMetrics{
		fetchFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trustgate_edge_crl_fetch_failures_total",
			Help: "Failed reads of a CRL object (unreadable, or not a CRL), by domain using it; the last good copy stays in use.",
		}, []string{"domain"}),
		softFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trustgate_edge_crl_soft_failures_total",
			Help: "mTLS verdicts that accepted a certificate without a revocation status (trustgate:crl-mode=soft), by domain and reason (crl_expired, crl_unavailable).",
		}, []string{"domain", "reason"}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.fetchFailures, m.softFailures, &crlCollector{s: s}} {
			if err := reg.Register(c); err != nil {
				return nil, fmt.Errorf("registering revocation metrics: %w", err)
			}
		}
	}
	return m, nil
}

func (m *crlMetrics) fetchFailed(domain string) { m.fetchFailures.WithLabelValues(domain).Inc() }

func (m *crlMetrics) softFailure(domain string, reason truststore.Reason) {
	m.softFailures.WithLabelValues(domain, string(reason)).Inc()
}

// forget drops a removed domain's counters.
func (m *crlMetrics) forget(domain string) {
	m.fetchFailures.DeleteLabelValues(domain)
	m.softFailures.DeletePartialMatch(prometheus.Labels{"domain": domain})
}

// crlCollector computes the per-domain gauges from the live snapshot.
type crlCollector struct{ s *Server }

func (c *crlCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descTruststoreVersion
	ch <- descCRLSources
	ch <- descCRLAge
	ch <- descCRLNextUpdate
}

func (c *crlCollector) Collect(ch chan<- prometheus.Metric) {
	snap := c.s.snap.Load()
	now := c.s.now()
	for name, d := range snap.domains {
		if d.tls.trust != nil && d.tls.trustVersion != "" {
			ch <- prometheus.MustNewConstMetric(descTruststoreVersion, prometheus.GaugeValue, 1, name, d.tls.trustVersion)
		}
		if d.crl == nil {
			continue
		}
		var current, stale, missing int
		var oldest, next time.Time
		for _, st := range c.s.crls.state(d.revocation.uris()) {
			switch {
			case st.good == nil:
				missing++
				continue
			case st.err != nil:
				stale++
			default:
				current++
			}
			if oldest.IsZero() || st.lastSuccess.Before(oldest) {
				oldest = st.lastSuccess
			}
			if len(st.good.nextUpdates) > 0 && (next.IsZero() || st.good.nextUpdates[0].Before(next)) {
				next = st.good.nextUpdates[0]
			}
		}
		if d.revocation.err != nil {
			missing++ // the tag itself is unusable
		}
		for state, n := range map[string]int{"current": current, "stale": stale, "missing": missing} {
			ch <- prometheus.MustNewConstMetric(descCRLSources, prometheus.GaugeValue, float64(n), name, state)
		}
		if !oldest.IsZero() {
			ch <- prometheus.MustNewConstMetric(descCRLAge, prometheus.GaugeValue, now.Sub(oldest).Seconds(), name)
		}
		if !next.IsZero() {
			ch <- prometheus.MustNewConstMetric(descCRLNextUpdate, prometheus.GaugeValue, float64(next.Unix()), name)
		}
	}
}
