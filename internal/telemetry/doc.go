// Package telemetry holds the data plane's access-log record and its
// Prometheus metrics.
//
// Access log: one JSON object per line, one line per request and one per
// rejected TLS handshake, with a fixed set of keys (AccessRecord). Records are
// encoded without reflection into pooled buffers and written through a
// buffered writer that flushes shortly after the last write, so logging costs
// a request one small copy under a short lock. A nil *AccessLog is a disabled
// log: every method is a no-op.
//
// Metrics: registered on the prometheus.Registerer passed in (never the
// default one). Labels carry only bounded values: the configured domain name
// (or "unknown" / "default"), a status class, or a reason from a fixed set.
// No label ever carries a client-controlled value such as the raw SNI, the
// Host header or a certificate subject.
package telemetry
