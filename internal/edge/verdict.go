package edge

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"sync/atomic"
	"time"

	"trustgate/internal/telemetry"
	"trustgate/internal/truststore"
)

// connInfo is the state of one client connection, shared by all its
// requests (several at once under HTTP/2).
type connInfo struct {
	remote string
	// sni is the server name the client sent, as sent.
	sni string
	// domain is the configured name of the custom domain the SNI selected
	// ("" for the default endpoint or an unknown name). Written once by
	// the handshake, read-only afterwards.
	domain  string
	metrics *telemetry.DomainMetrics
	// cert holds the client certificate's fields, nil without one.
	cert *certInfo
	// verdict is the cached mTLS verdict and the truststore generation it
	// was computed against.
	verdict atomic.Pointer[connVerdict]
}

type connKey struct{}

// connContext puts the connection's connInfo into every request's context
// (http.Server.ConnContext).
func (s *Server) connContext(ctx context.Context, c net.Conn) context.Context {
	if tc, ok := c.(*tls.Conn); ok {
		if t, ok := tc.NetConn().(*trackedConn); ok {
			return context.WithValue(ctx, connKey{}, &t.info)
		}
	}
	return ctx
}

// certInfo is a client certificate's fields as the access log and the
// context.identity.clientCert.* variables show them. Computed once per
// connection.
type certInfo struct {
	subject     string
	issuer      string
	serial      string
	fingerprint string
	notBefore   time.Time
	notAfter    time.Time
	// AWS renders validity like OpenSSL: "May 28 12:30:02 2019 GMT".
	notBeforeText string
	notAfterText  string
	pem           string
	// logJSON is the access log's encoding of the fields above, made once
	// for every request on the connection.
	logJSON []byte
}

func newCertInfo(c *x509.Certificate) *certInfo {
	ci := &certInfo{
		subject:       truststore.DNString(c.Subject),
		issuer:        truststore.DNString(c.Issuer),
		serial:        truststore.SerialHex(c.SerialNumber),
		fingerprint:   truststore.Fingerprint(c),
		notBefore:     c.NotBefore,
		notAfter:      c.NotAfter,
		notBeforeText: truststore.OpenSSLTime(c.NotBefore),
		notAfterText:  truststore.OpenSSLTime(c.NotAfter),
		pem:           string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})),
	}
	ci.logJSON = telemetry.AppendCertFields(nil, ci.subject, ci.issuer, ci.serial, ci.fingerprint, ci.notAfter)
	return ci
}

// connVerdict is a verdict cached on a connection.
type connVerdict struct {
	trust   *trustGen   // the truststore generation it was computed against
	crl     *crlBinding // and the revocation state (nil: none)
	verdict truststore.Verdict
	// until is when it must be recomputed even if the truststore and CRLs
	// stay: the earliest notAfter of a trusted chain or the next CRL
	// nextUpdate, whichever comes first, or a minute after a refusal (a
	// not-yet-valid certificate may become valid).
	until time.Time
}

// reasonTruststoreUnavailable refuses connections of an mTLS domain whose
// truststore is not available in the live snapshot (fail closed).
const reasonTruststoreUnavailable truststore.Reason = "truststore_unavailable"

// rejectedRecheck is how long a refusal is cached on a connection.
const rejectedRecheck = time.Minute

// verdictFor returns the connection's verdict against the domain's current
// truststore and CRLs, recomputing it only when either generation changed
// or the cached verdict ran out. Safe for concurrent use by a connection's
// requests; two racing recomputations give the same answer.
func (s *Server) verdictFor(info *connInfo, d *domain, peers []*x509.Certificate, now time.Time) *connVerdict {
	trust, crl := d.tls.trust, d.crl
	if cv := info.verdict.Load(); cv != nil && cv.trust == trust && cv.crl == crl && now.Before(cv.until) {
		return cv
	}
	cv := &connVerdict{trust: trust, crl: crl}
	if trust == nil {
		cv.verdict = truststore.Verdict{Reason: reasonTruststoreUnavailable,
			Message: "The domain's truststore is not available; every client certificate is refused."}
		if len(peers) > 0 {
			cv.verdict.Leaf = peers[0]
		}
	} else {
		opts := truststore.VerifyOptions{At: now}
		if crl != nil {
			opts.CRLs, opts.SoftCRL = crl.set, crl.soft
		}
		cv.verdict = trust.bundle.Verify(peers, opts)
	}
	if cv.verdict.Trusted {
		cv.until = chainExpiry(cv.verdict.Chain, peers)
		if crl != nil {
			// A CRL that passes its nextUpdate changes the answer (hard
			// mode): look again then.
			if t := crl.recheck(now); !t.IsZero() && t.Before(cv.until) {
				cv.until = t
			}
		}
	} else {
		cv.until = now.Add(rejectedRecheck)
	}
	info.verdict.Store(cv)
	d.metrics.Verdict(string(cv.verdict.Reason))
	if cv.verdict.SoftFailure != "" {
		s.crlMetrics.softFailure(d.name, cv.verdict.SoftFailure)
	}
	return cv
}

// chainExpiry is the earliest notAfter of a verified chain.
func chainExpiry(chain, peers []*x509.Certificate) time.Time {
	if len(chain) == 0 {
		chain = peers[:1]
	}
	t := chain[0].NotAfter
	for _, c := range chain[1:] {
		if c.NotAfter.Before(t) {
			t = c.NotAfter
		}
	}
	return t
}
