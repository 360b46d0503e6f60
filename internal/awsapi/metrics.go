package awsapi

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics counts management requests. Labels are bounded: service is one of
// the configured names or "unknown", code a status class, reason a fixed set.
type metrics struct {
	requests     *prometheus.CounterVec
	authFailures *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	if reg == nil {
		return nil
	}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "trustgate", Subsystem: "admin", Name: "requests_total",
			Help: "Management API requests by service and status class.",
		}, []string{"service", "code"}),
		authFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "trustgate", Subsystem: "admin", Name: "auth_failures_total",
			Help: "Management API requests refused before reaching a service, by reason.",
		}, []string{"service", "reason"}),
	}
	reg.MustRegister(m.requests, m.authFailures)
	return m
}

func (m *metrics) request(service string, status int) {
	if m == nil {
		return
	}
	if status == 0 {
		status = 200
	}
	m.requests.WithLabelValues(service, strconv.Itoa(status/100)+"xx").Inc()
}

func (m *metrics) authFailure(service, reason string) {
	if m == nil {
		return
	}
	m.authFailures.WithLabelValues(service, reason).Inc()
}
