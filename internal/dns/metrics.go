package dns

import (
	"strconv"

	mdns "github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the DNS server's Prometheus metrics. Labels are bounded: the
// protocol and the response code's name.
type metrics struct {
	queries       *prometheus.CounterVec
	truncated     *prometheus.CounterVec
	revision      prometheus.Gauge
	zones         prometheus.Gauge
	buildFailures prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trustgate_dns_responses_total",
			Help: "DNS responses sent, by protocol and response code.",
		}, []string{"proto", "rcode"}),
		truncated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trustgate_dns_truncated_total",
			Help: "DNS responses truncated to the client's buffer (TC set), by protocol.",
		}, []string{"proto"}),
		revision: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "trustgate_dns_snapshot_revision",
			Help: "Store revision of the zone snapshot the DNS server answers from.",
		}),
		zones: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "trustgate_dns_zones",
			Help: "Hosted zones in the served snapshot.",
		}),
		buildFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "trustgate_dns_snapshot_build_failures_total",
			Help: "DNS zone snapshots that failed to build (the previous one kept serving).",
		}),
	}
	if reg != nil {
		for _, c := range []prometheus.Collector{m.queries, m.truncated, m.revision, m.zones, m.buildFailures} {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

func (m *metrics) observe(proto string, rcode int, truncated bool) {
	name, ok := mdns.RcodeToString[rcode]
	if !ok {
		name = strconv.Itoa(rcode)
	}
	m.queries.WithLabelValues(proto, name).Inc()
	if truncated {
		m.truncated.WithLabelValues(proto).Inc()
	}
}
