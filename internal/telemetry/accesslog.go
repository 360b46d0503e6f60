package telemetry

import (
	"bufio"
	"io"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// Access-log event kinds.
const (
	EventRequest   = "request"
	EventHandshake = "handshake"
)

// mTLS verdicts as the access log spells them.
const (
	VerdictNone     = ""         // the domain does not use mTLS
	VerdictTrusted  = "trusted"  // the certificate chains to the truststore
	VerdictRejected = "rejected" // it does not: see MTLSReason
)

// AccessRecord is one access-log line: a request, or a rejected handshake
// (Event = EventHandshake, most request fields empty). Every key is written
// on every line, empty when unknown, so the schema is stable.
type AccessRecord struct {
	Time      time.Time
	Event     string
	RequestID string
	// Remote is the peer address (ip:port) of the TCP connection.
	Remote string
	// Domain is the configured custom domain the connection's SNI selected
	// ("" for the default endpoint or an unknown name).
	Domain   string
	SNI      string
	Host     string
	Method   string
	Path     string
	Protocol string
	TLS      string
	// Mapping is the API mapping key that matched ("(none)" for the empty key).
	Mapping  string
	APIID    string
	Stage    string
	Resource string
	Status   int
	Latency  time.Duration
	// UpstreamStatus is the backend's status code (0: no backend call).
	UpstreamStatus  int
	UpstreamLatency time.Duration
	BytesOut        int64

	CertSubject     string
	CertIssuer      string
	CertSerial      string
	CertFingerprint string // lower-case hex SHA-256 of the DER
	CertNotAfter    time.Time
	// CertJSON, when set, is what AppendCertFields made of the five Cert
	// fields above, and is written in their place: the requests of one
	// connection share a certificate, so the edge encodes it once.
	CertJSON []byte

	MTLS       string // VerdictNone, VerdictTrusted or VerdictRejected
	MTLSReason string // machine-readable reason, e.g. "unknown_issuer"
	// Error is a human-readable explanation of a failure (why the
	// certificate was refused, why the handshake or the backend failed).
	Error string
}

// AppendJSON appends r as one JSON object (no newline) to b.
func (r *AccessRecord) AppendJSON(b []byte) []byte {
	b = append(b, `{"time":"`...)
	b = r.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	b = appendField(b, "event", r.Event)
	b = appendField(b, "requestId", r.RequestID)
	b = appendField(b, "remote", r.Remote)
	b = appendField(b, "domain", r.Domain)
	b = appendField(b, "sni", r.SNI)
	b = appendField(b, "host", r.Host)
	b = appendField(b, "method", r.Method)
	b = appendField(b, "path", r.Path)
	b = appendField(b, "protocol", r.Protocol)
	b = appendField(b, "tls", r.TLS)
	b = appendField(b, "mapping", r.Mapping)
	b = appendField(b, "apiId", r.APIID)
	b = appendField(b, "stage", r.Stage)
	b = appendField(b, "resource", r.Resource)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(r.Status), 10)
	b = append(b, `,"latencyMs":`...)
	b = appendMillis(b, r.Latency)
	b = append(b, `,"upstreamStatus":`...)
	b = strconv.AppendInt(b, int64(r.UpstreamStatus), 10)
	b = append(b, `,"upstreamLatencyMs":`...)
	b = appendMillis(b, r.UpstreamLatency)
	b = append(b, `,"bytesOut":`...)
	b = strconv.AppendInt(b, r.BytesOut, 10)
	if r.CertJSON != nil {
		b = append(b, r.CertJSON...)
	} else {
		b = AppendCertFields(b, r.CertSubject, r.CertIssuer, r.CertSerial, r.CertFingerprint, r.CertNotAfter)
	}
	b = appendField(b, "mtls", r.MTLS)
	b = appendField(b, "mtlsReason", r.MTLSReason)
	b = appendField(b, "error", r.Error)
	return append(b, '}')
}

// AppendCertFields appends the client-certificate fields of a record
// (certSubject to certNotAfter, each after a comma) as AppendJSON writes
// them; the result may be kept in AccessRecord.CertJSON.
func AppendCertFields(b []byte, subject, issuer, serial, fingerprint string, notAfter time.Time) []byte {
	b = appendField(b, "certSubject", subject)
	b = appendField(b, "certIssuer", issuer)
	b = appendField(b, "certSerial", serial)
	b = appendField(b, "certSha256", fingerprint)
	b = append(b, `,"certNotAfter":"`...)
	if !notAfter.IsZero() {
		b = notAfter.UTC().AppendFormat(b, time.RFC3339)
	}
	return append(b, '"')
}

func appendField(b []byte, key, val string) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return AppendString(b, val)
}

// appendMillis writes d in milliseconds with microsecond precision.
func appendMillis(b []byte, d time.Duration) []byte {
	if d < 0 {
		d = 0
	}
	us := int64(d / time.Microsecond)
	b = strconv.AppendInt(b, us/1000, 10)
	frac := us % 1000
	b = append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
	return b
}

const hexDigits = "0123456789abcdef"

// jsonPlain marks the ASCII bytes a JSON string holds as they are.
var jsonPlain = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// AppendString appends s as a JSON string. Control characters, quotes,
// backslashes and invalid UTF-8 (replaced by U+FFFD) are escaped, so a
// client-controlled value can never break the line or the object.
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if jsonPlain[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		// U+2028 and U+2029 are valid JSON but break JavaScript readers.
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// AccessLog writes AccessRecords as JSON lines through a buffer that is
// flushed FlushDelay after the first unflushed write, and by Flush. It is safe
// for concurrent use. A nil *AccessLog is a disabled log.
//
// Writes to the underlying writer happen under a short lock when the buffer
// fills or on flush; a writer that blocks therefore slows logging requests
// rather than losing lines. The first write error is kept and returned by
// Flush; later lines are dropped after an error.
type AccessLog struct {
	mu      sync.Mutex
	w       *bufio.Writer
	timer   *time.Timer
	pending bool
	err     error
	delay   time.Duration
	bufs    sync.Pool
}

// FlushDelay is how long a line may sit in the buffer before it is written.
const FlushDelay = 200 * time.Millisecond

// NewAccessLog returns a log writing to w, or nil (a disabled log) if w is nil.
func NewAccessLog(w io.Writer) *AccessLog {
	if w == nil {
		return nil
	}
	l := &AccessLog{w: bufio.NewWriterSize(w, 64<<10), delay: FlushDelay}
	l.bufs.New = func() any { b := make([]byte, 0, 1024); return &b }
	return l
}

// Enabled reports whether records are written.
func (l *AccessLog) Enabled() bool { return l != nil }

// Log encodes r and queues it. It does not keep r.
func (l *AccessLog) Log(r *AccessRecord) {
	if l == nil {
		return
	}
	bp := l.bufs.Get().(*[]byte)
	b := r.AppendJSON((*bp)[:0])
	b = append(b, '\n')
	l.mu.Lock()
	if l.err == nil {
		_, l.err = l.w.Write(b)
		if !l.pending {
			l.pending = true
			if l.timer == nil {
				l.timer = time.AfterFunc(l.delay, l.flushLater)
			} else {
				l.timer.Reset(l.delay)
			}
		}
	}
	l.mu.Unlock()
	if cap(b) <= 64<<10 { // do not pool huge one-off buffers
		*bp = b[:0]
		l.bufs.Put(bp)
	}
}

func (l *AccessLog) flushLater() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending = false
	if l.err == nil {
		l.err = l.w.Flush()
	}
}

// Flush writes every queued line and returns the first write error, if any.
func (l *AccessLog) Flush() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err == nil {
		l.err = l.w.Flush()
	}
	return l.err
}
