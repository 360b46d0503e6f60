package edge

import (
	"fmt"
	"strings"
	"time"

	"trustgate/internal/truststore"
)

// RevocationStatus is how a domain's CRL checking stands on this node.
type RevocationStatus struct {
	// Soft is trustgate:crl-mode=soft: certificates whose revocation
	// status is unknown are accepted.
	Soft bool
	// Refresh is the polling interval for an external S3.
	Refresh time.Duration
	// ConfigErr is why the trustgate:crl* tags cannot be used; every
	// client certificate is then refused.
	ConfigErr error
	// Sources are the CRL objects, in tag order.
	Sources []CRLSourceStatus
	// Warnings are the problems with the CRLs in use, as of now: CRLs
	// ignored (issuer not in the truststore, bad signature), past their
	// nextUpdate, and CA certificates without a CRL.
	Warnings []truststore.Warning
}

// CRLSourceStatus is one CRL object as this node holds it.
type CRLSourceStatus struct {
	URI string
	// Loaded reports whether a copy is in use; VersionID, CRLs and ReadAt
	// describe it (ReadAt: when these bytes were first read).
	Loaded    bool
	VersionID string
	CRLs      int
	ReadAt    time.Time
	// LastSuccess and LastAttempt are the last successful and the last
	// read; Err is why the last read failed (nil if it succeeded).
	LastSuccess time.Time
	LastAttempt time.Time
	Err         error
}

func (s *Server) revocationStatus(d *domain) *RevocationStatus {
	rc := d.revocation
	rs := &RevocationStatus{Soft: rc.soft(), ConfigErr: rc.err}
	if rc.err == nil {
		rs.Refresh = rc.rev.Refresh
	}
	for _, st := range s.crls.state(rc.uris()) {
		cs := CRLSourceStatus{URI: st.uri, LastSuccess: st.lastSuccess, LastAttempt: st.lastAttempt, Err: st.err}
		if st.good != nil {
			cs.Loaded, cs.VersionID, cs.CRLs, cs.ReadAt = true, st.good.version, len(st.good.crls), st.good.readAt
		}
		rs.Sources = append(rs.Sources, cs)
	}
	rs.Warnings = d.crl.set.Warnings(s.now())
	return rs
}

// Message is the domain's domainNameStatusMessage: why it is not served as
// configured, or what is wrong with its revocation checking; "" when all
// is well. Times are UTC, RFC 3339.
func (st DomainStatus) Message() string {
	var parts []string
	switch {
	case st.Err != nil && !st.Serving:
		parts = append(parts, fmt.Sprintf("The domain cannot be served (%s): every TLS handshake for it is refused until its configuration is fixed.", st.Err))
	case st.Err != nil:
		parts = append(parts, fmt.Sprintf("The current configuration could not be applied (%s); the previous one is still served.", st.Err))
	}
	if r := st.Revocation; r != nil {
		parts = append(parts, r.messages()...)
	}
	return strings.Join(parts, " ")
}

func (r *RevocationStatus) messages() []string {
	if r.ConfigErr != nil {
		return []string{r.ConfigErr.Error() + " Every client certificate is refused until the tag is fixed."}
	}
	unknown := "refused (%s)"
	if r.Soft {
		unknown = "accepted without a revocation check (soft mode, %s)"
	}
	var out []string
	for _, s := range r.Sources {
		switch {
		case s.Err != nil && s.Loaded:
			out = append(out, fmt.Sprintf("CRL %s could not be refreshed (%s); the copy last read at %s is still used.",
				s.URI, describeCRLError(s.Err), stamp(s.LastSuccess)))
		case s.Err != nil:
			out = append(out, fmt.Sprintf("CRL %s could not be read (%s): the certificates it covers are "+unknown+" until it can be.",
				s.URI, describeCRLError(s.Err), truststore.ReasonCRLUnavailable))
		case !s.Loaded:
			out = append(out, fmt.Sprintf("CRL %s has not been read yet: the certificates it covers are "+unknown+".",
				s.URI, truststore.ReasonCRLUnavailable))
		}
	}
	for _, w := range r.Warnings {
		if w.Code == truststore.WarnCRLExpired {
			out = append(out, fmt.Sprintf("%s The certificates it covers are "+unknown+" until a newer CRL is published.",
				w.Message, truststore.ReasonCRLExpired))
		}
	}
	return out
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
