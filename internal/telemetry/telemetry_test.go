package telemetry

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func sampleRecord() *AccessRecord {
	return &AccessRecord{
		Time:            time.Date(2025, 3, 4, 5, 6, 7, 890000000, time.UTC),
		Event:           EventRequest,
		RequestID:       "6f1c8a52-8f0e-4a39-9f5e-2b1f4c0d7e11",
		Remote:          "127.0.0.1:51234",
		Domain:          "api.example.com",
		SNI:             "api.example.com",
		Host:            "api.example.com",
		Method:          "GET",
		Path:            "/c360/customer/42",
		Protocol:        "HTTP/2.0",
		TLS:             "TLS 1.3",
		Mapping:         "c360",
		APIID:           "a1b2c3d4e5",
		Stage:           "DEV",
		Resource:        "/customer/{id}",
		Status:          200,
		Latency:         1234567 * time.Nanosecond,
		UpstreamStatus:  200,
		UpstreamLatency: 800 * time.Microsecond,
		BytesOut:        42,
		CertSubject:     "CN=partner-1,O=Partner",
		CertIssuer:      "CN=Partner Issuing CA",
		CertSerial:      "0a:1b",
		CertFingerprint: strings.Repeat("ab", 32),
		CertNotAfter:    time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		MTLS:            VerdictTrusted,
		MTLSReason:      "trusted",
	}
}

func TestAppendJSONDecodes(t *testing.T) {
	r := sampleRecord()
	var got map[string]any
	if err := json.Unmarshal(r.AppendJSON(nil), &got); err != nil {
		t.Fatalf("record is not JSON: %v\n%s", err, r.AppendJSON(nil))
	}
	want := map[string]any{
		"time": "2025-03-04T05:06:07.89Z", "event": "request", "domain": "api.example.com",
		"status": 200.0, "latencyMs": 1.234, "upstreamStatus": 200.0, "upstreamLatencyMs": 0.8,
		"certSerial": "0a:1b", "certNotAfter": "2026-01-01T00:00:00Z", "mtls": "trusted",
		"mapping": "c360", "resource": "/customer/{id}", "bytesOut": 42.0,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
	// Every key is present, even when empty.
	empty := (&AccessRecord{}).AppendJSON(nil)
	var e map[string]any
	if err := json.Unmarshal(empty, &e); err != nil {
		t.Fatal(err)
	}
	if len(e) != len(got) {
		t.Errorf("empty record has %d keys, full one %d", len(e), len(got))
	}
}

// A connection's pre-encoded certificate fields give the very line the
// fields themselves give.
func TestAppendJSONCertFields(t *testing.T) {
	r := sampleRecord()
	r.CertSubject = "CN=a \"quoted\"\npartner"
	want := string(r.AppendJSON(nil))
	r.CertJSON = AppendCertFields(nil, r.CertSubject, r.CertIssuer, r.CertSerial, r.CertFingerprint, r.CertNotAfter)
	if got := string(r.AppendJSON(nil)); got != want {
		t.Errorf("with CertJSON:\n%s\nwant\n%s", got, want)
	}
	empty := &AccessRecord{CertJSON: AppendCertFields(nil, "", "", "", "", time.Time{})}
	if got, want := string(empty.AppendJSON(nil)), string((&AccessRecord{}).AppendJSON(nil)); got != want {
		t.Errorf("empty certificate fields:\n%s\nwant\n%s", got, want)
	}
}

func TestAppendStringHostile(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "abc", `"abc"`},
		{"quote and backslash", `a"b\c`, `"a\"b\\c"`},
		{"newline cannot split the line", "a\nb\r\t", `"a\nb\r\t"`},
		{"control", "\x00\x1f\x7f", `"\u0000\u001f\u007f"`},
		{"invalid utf8", "a\xffb", `"a\ufffdb"`},
		{"utf8", "é✓", `"é✓"`},
		{"line separators", "\u2028\u2029", `"\u2028\u2029"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(AppendString(nil, tt.in))
			if got != tt.want {
				t.Errorf("AppendString(%q) = %s, want %s", tt.in, got, tt.want)
			}
			var s string
			if err := json.Unmarshal([]byte(got), &s); err != nil {
				t.Errorf("not valid JSON: %v", err)
			}
		})
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestAccessLogLinesAndFlush(t *testing.T) {
	var buf syncBuffer
	l := NewAccessLog(&buf)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				l.Log(sampleRecord())
			}
		}()
	}
	wg.Wait()
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 400 {
		t.Fatalf("got %d lines, want 400", len(lines))
	}
	for _, ln := range lines {
		if !json.Valid([]byte(ln)) {
			t.Fatalf("invalid line %q", ln)
		}
	}
}

func TestAccessLogFlushesByItself(t *testing.T) {
	var buf syncBuffer
	l := NewAccessLog(&buf)
	l.Log(sampleRecord())
	deadline := time.Now().Add(5 * time.Second)
	for buf.String() == "" {
		if time.Now().After(deadline) {
			t.Fatal("line not flushed within 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestNilAccessLogIsDisabled(t *testing.T) {
	l := NewAccessLog(nil)
	if l.Enabled() {
		t.Fatal("nil writer gives an enabled log")
	}
	l.Log(sampleRecord())
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	d := m.Domain("api.example.com")
	if m.Domain("api.example.com") != d {
		t.Fatal("Domain does not cache handles")
	}
	d.Request(200, time.Millisecond)
	d.Request(204, time.Millisecond)
	d.Request(403, time.Millisecond)
	d.Request(999, time.Millisecond)
	d.Handshake(HandshakeOK)
	d.Verdict("unknown_issuer")
	d.Upstream(time.Millisecond)
	m.SetRevision(7)
	m.BuildFailed()
	m.DomainBuildFailed("api.example.com")
	m.SetDomainHealth("api.example.com", true, false)
	m.SetTruststore("api.example.com", 3, time.Unix(1700000000, 0))

	checks := []struct {
		c    prometheus.Collector
		want float64
	}{
		{m.requests.WithLabelValues("api.example.com", "2xx"), 2},
		{m.requests.WithLabelValues("api.example.com", "4xx"), 1},
		{m.requests.WithLabelValues("api.example.com", "other"), 1},
		{m.handshakes.WithLabelValues("api.example.com", "ok"), 1},
		{m.verdicts.WithLabelValues("api.example.com", "unknown_issuer"), 1},
		{m.revision, 7},
		{m.buildFailures, 1},
		{m.domainStale.WithLabelValues("api.example.com"), 1},
		{m.domainFailures.WithLabelValues("api.example.com"), 1},
		{m.trustCerts.WithLabelValues("api.example.com"), 3},
		{m.trustExpiry.WithLabelValues("api.example.com"), 1700000000},
	}
	for i, c := range checks {
		if got := testutil.ToFloat64(c.c); got != c.want {
			t.Errorf("check %d: got %v, want %v", i, got, c.want)
		}
	}
	if n := testutil.CollectAndCount(m.domainDown); n != 0 {
		t.Errorf("unavailable gauge has %d series for a stale domain", n)
	}
	m.ForgetDomain("api.example.com")
	if n := testutil.CollectAndCount(m.trustCerts) + testutil.CollectAndCount(m.domainStale); n != 0 {
		t.Errorf("%d per-domain series left after ForgetDomain", n)
	}
	if _, err := NewMetrics(reg); err == nil {
		t.Error("registering twice on one registry did not fail")
	}
	if _, err := NewMetrics(nil); err != nil {
		t.Errorf("nil registry: %v", err)
	}
}

func BenchmarkAccessRecordEncode(b *testing.B) {
	r := sampleRecord()
	buf := make([]byte, 0, 2048)
	b.ReportAllocs()
	for b.Loop() {
		buf = r.AppendJSON(buf[:0])
	}
	b.SetBytes(int64(len(buf)))
}

// BenchmarkAccessRecordEncodeCertJSON is a record as the edge logs it: the
// certificate fields encoded once per connection.
func BenchmarkAccessRecordEncodeCertJSON(b *testing.B) {
	r := sampleRecord()
	r.CertJSON = AppendCertFields(nil, r.CertSubject, r.CertIssuer, r.CertSerial, r.CertFingerprint, r.CertNotAfter)
	buf := make([]byte, 0, 2048)
	b.ReportAllocs()
	for b.Loop() {
		buf = r.AppendJSON(buf[:0])
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkAccessRecordEncodeStdlibJSON(b *testing.B) {
	r := sampleRecord()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAccessLog(b *testing.B) {
	l := NewAccessLog(discard{})
	r := sampleRecord()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.Log(r)
		}
	})
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
