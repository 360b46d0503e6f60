package edge

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"trustgate/internal/model"
	"trustgate/internal/store"
	"trustgate/internal/telemetry"
)

// Snapshot is one complete, immutable build of the data plane's
// configuration at one store revision. It is built off the hot path and
// installed with one atomic pointer store; handshakes and requests only read
// it.
type Snapshot struct {
	rev int64
	// domains holds every configured domain by its configured name
	// ("api.example.com", "*.example.com").
	domains map[string]*domain
	// wildcards holds "*.example.com" domains by "example.com".
	wildcards map[string]*domain
	// apis holds every API's stages by API id, then stage name.
	apis map[string]map[string]*stageBuild
	// deployments holds every compiled deployment by "apiId/deploymentId",
	// for reuse by the next build.
	deployments map[string]*deploymentBuild
	// trusts holds every parsed truststore by content digest, for reuse by
	// the next build.
	trusts map[[32]byte]*trustGen
	// certs holds every parsed server certificate by record digest, for
	// reuse by the next build.
	certs map[[32]byte]*tls.Certificate
	// failures holds the domains whose current configuration failed.
	failures map[string]*domainFailure
	// crlBindings holds every domain's revocation state by content key,
	// for reuse by the next build.
	crlBindings map[[32]byte]*crlBinding
	// crlGen is the CRL manager's content generation the snapshot was
	// built with.
	crlGen int64
}

// Revision returns the store revision the snapshot was built from (-1 for
// the empty snapshot installed before the first build).
func (s *Snapshot) Revision() int64 { return s.rev }

// domain is one custom domain in a snapshot.
type domain struct {
	name     string
	tls      *domainTLS
	mappings *mappingTable
	metrics  *telemetry.DomainMetrics
	stale    bool // serving a previous TLS build
	// recordSum digests the stored domain record.
	recordSum [32]byte
	// revocation is the domain's trustgate:crl* configuration, nil when
	// it has none; crl is the revocation state its verdicts use, nil when
	// revocation is off (no configuration, or no mTLS).
	revocation *revocationConfig
	crl        *crlBinding
}

// lookupHost returns the domain serving a host name (lower-case, no port,
// no trailing dot): an exact name first, then a one-label wildcard.
func (s *Snapshot) lookupHost(host string) *domain {
	if host == "" {
		return nil
	}
	if d := s.domains[host]; d != nil {
		return d
	}
	if i := strings.IndexByte(host, '.'); i > 0 {
		return s.wildcards[host[i+1:]]
	}
	return nil
}

func emptySnapshot() *Snapshot {
	return &Snapshot{
		rev:         -1,
		domains:     map[string]*domain{},
		wildcards:   map[string]*domain{},
		apis:        map[string]map[string]*stageBuild{},
		deployments: map[string]*deploymentBuild{},
		trusts:      map[[32]byte]*trustGen{},
		certs:       map[[32]byte]*tls.Certificate{},
		failures:    map[string]*domainFailure{},
		crlBindings: map[[32]byte]*crlBinding{},
	}
}

// buildReport is what a build found wrong without failing: per-domain and
// per-record problems, for the log and the metrics.
type buildReport struct {
	domainFailures []*domainFailure
	recordErrors   []error
	// crls are the CRL objects the snapshot's domains use.
	crls map[string]*crlWant
}

// domainFailure is a domain whose configuration did not build.
type domainFailure struct {
	domain string
	err    error
	stale  bool // a previous build keeps serving; else the domain is unavailable
	// recordSum and certSum identify the inputs that failed, so the next
	// build does not retry (and re-report) exactly the same thing.
	recordSum, certSum [32]byte
	repeated           bool
}

// builder builds one snapshot from one store transaction.
type builder struct {
	s      *Server
	tx     store.Tx
	prev   *Snapshot
	next   *Snapshot
	report buildReport
	// tags are the tags of the domain record domainTLS last decoded (nil
	// tagsOK: it did not decode it), so they are not decoded twice.
	tags   map[string]string
	tagsOK bool
}

// build reads the whole configuration in one consistent transaction and
// compiles it. It fails only when the store cannot be read; problems with
// single records are isolated and reported.
func (s *Server) build(tx store.Tx, prev *Snapshot) (*Snapshot, *buildReport, error) {
	b := &builder{s: s, tx: tx, prev: prev, next: &Snapshot{
		domains:     map[string]*domain{},
		wildcards:   map[string]*domain{},
		apis:        map[string]map[string]*stageBuild{},
		deployments: map[string]*deploymentBuild{},
		trusts:      map[[32]byte]*trustGen{},
		certs:       map[[32]byte]*tls.Certificate{},
		failures:    map[string]*domainFailure{},
		crlBindings: map[[32]byte]*crlBinding{},
	}, report: buildReport{crls: map[string]*crlWant{}}}
	if err := b.buildAPIs(); err != nil {
		return nil, nil, err
	}
	if err := b.buildDomains(); err != nil {
		return nil, nil, err
	}
	if err := b.buildMappings(); err != nil {
		return nil, nil, err
	}
	return b.next, &b.report, nil
}

// revocationConfig parses a domain record's trustgate:crl* tags, reusing
// the previous snapshot's result for the same record bytes.
func (b *builder) revocationConfig(name string, raw []byte, sum [32]byte) *revocationConfig {
	if pd := b.prev.domains[name]; pd != nil && pd.recordSum == sum {
		return pd.revocation
	}
	tags := b.tags
	if !b.tagsOK {
		var rec struct {
			Tags map[string]string `json:"tags"`
		}
		if err := json.Unmarshal(raw, &rec); err != nil {
			return nil // the TLS build fails closed on this record anyway
		}
		tags = rec.Tags
	}
	rev, err := ParseRevocation(tags)
	switch {
	case err != nil:
		return &revocationConfig{err: err}
	case rev == nil:
		return nil
	}
	return &revocationConfig{rev: rev}
}

func (b *builder) recordError(err error) { b.report.recordErrors = append(b.report.recordErrors, err) }

// buildAPIs compiles every stage of every existing REST API with the
// deployment it points at.
func (b *builder) buildAPIs() error {
	apiKVs, err := b.tx.List(model.PrefixRestAPIs)
	if err != nil {
		return fmt.Errorf("listing rest apis: %w", err)
	}
	exists := make(map[string]bool, len(apiKVs))
	for _, kv := range apiKVs {
		exists[strings.TrimPrefix(kv.Key, model.PrefixRestAPIs)] = true
	}
	stageKVs, err := b.tx.List(model.PrefixStages)
	if err != nil {
		return fmt.Errorf("listing stages: %w", err)
	}
	for _, kv := range stageKVs {
		var st model.Stage
		if err := json.Unmarshal(kv.Value, &st); err != nil {
			b.recordError(fmt.Errorf("decoding %s: %w", kv.Key, err))
			continue
		}
		apiID, name := splitKey(kv.Key, model.PrefixStages)
		if apiID == "" || !exists[apiID] {
			continue
		}
		if st.Name != "" {
			name = st.Name
		}
		sb := &stageBuild{apiID: apiID, name: name, vars: st.Variables}
		if st.DeploymentID != "" {
			dep, err := b.deployment(apiID, st.DeploymentID)
			if err != nil {
				return err
			}
			sb.deployment = dep
		}
		stages := b.next.apis[apiID]
		if stages == nil {
			stages = map[string]*stageBuild{}
			b.next.apis[apiID] = stages
		}
		stages[name] = sb
	}
	return nil
}

// deployment returns the compiled deployment apiID/id, reusing the previous
// snapshot's build when the stored record is unchanged, or nil if it does
// not exist.
func (b *builder) deployment(apiID, id string) (*deploymentBuild, error) {
	k := apiID + "/" + id
	if d, ok := b.next.deployments[k]; ok {
		return d, nil
	}
	raw, err := b.tx.Get(model.DeploymentKey(apiID, id))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading deployment %s: %w", k, err)
	}
	sum := sha256.Sum256(raw)
	if d := b.prev.deployments[k]; d != nil && d.sum == sum {
		b.next.deployments[k] = d
		return d, nil
	}
	var dep model.Deployment
	var d *deploymentBuild
	if err := json.Unmarshal(raw, &dep); err != nil {
		d = &deploymentBuild{apiID: apiID, id: id, sum: sum, err: fmt.Errorf("decoding deployment %s: %w", k, err)}
		b.recordError(d.err)
	} else {
		if dep.APIID == "" {
			dep.APIID = apiID
		}
		if dep.ID == "" {
			dep.ID = id
		}
		d = compileDeployment(&dep, sum)
		if d.err != nil {
			b.recordError(d.err)
		}
	}
	b.next.deployments[k] = d
	return d, nil
}

// buildDomains builds (or reuses) the TLS side of every custom domain.
func (b *builder) buildDomains() error {
	kvs, err := b.tx.List(model.PrefixDomains)
	if err != nil {
		return fmt.Errorf("listing domain names: %w", err)
	}
	for _, kv := range kvs {
		name := strings.TrimPrefix(kv.Key, model.PrefixDomains)
		if name == "" || strings.Contains(name, "/") {
			continue
		}
		recordSum := sha256.Sum256(kv.Value)
		b.tags, b.tagsOK = nil, false
		dt, failure, err := b.domainTLS(name, kv.Value, recordSum)
		if err != nil {
			return err
		}
		d := &domain{name: name, tls: dt, metrics: b.s.metrics.Domain(name), recordSum: recordSum,
			revocation: b.revocationConfig(name, kv.Value, recordSum)}
		wantCRLs(b.report.crls, d)
		if failure != nil {
			d.stale = failure.stale
			b.next.failures[name] = failure
			b.report.domainFailures = append(b.report.domainFailures, failure)
		}
		b.next.domains[name] = d
		if rest, ok := strings.CutPrefix(name, "*."); ok {
			b.next.wildcards[rest] = d
		}
	}
	return nil
}

// domainTLS builds one domain's TLS side. A problem with the domain's own
// records is isolated: it returns the previous build (stale) when there is
// an acceptable one, else an unavailable build, plus a failure to report.
// The same failing inputs are not rebuilt (nor reported) again. Only a store
// read error is returned as an error.
func (b *builder) domainTLS(name string, raw []byte, recordSum [32]byte) (*domainTLS, *domainFailure, error) {
	var prev *domainTLS
	prevDomain := b.prev.domains[name]
	if prevDomain != nil {
		prev = prevDomain.tls
	}
	var certSum [32]byte
	// repeat reports whether these exact inputs already failed in the
	// previous snapshot; the outcome is then carried over as it was.
	repeat := func() (*domainTLS, *domainFailure, bool) {
		pf := b.prev.failures[name]
		if pf == nil || prevDomain == nil || pf.recordSum != recordSum || pf.certSum != certSum {
			return nil, nil, false
		}
		f := *pf
		f.repeated = true
		return prevDomain.tls, &f, true
	}
	fail := func(err error, wantMTLS bool) (*domainTLS, *domainFailure, error) {
		f := &domainFailure{domain: name, err: err, recordSum: recordSum, certSum: certSum}
		// Never fail open: a domain that asks for mTLS may only fall back
		// to a previous build that also had mTLS.
		if prev != nil && prev.config != nil && (prev.mtls || !wantMTLS) {
			f.stale = true
			return prev, f, nil
		}
		return &domainTLS{name: name, mtls: wantMTLS, err: err}, f, nil
	}

	// Fast path: the very same record and certificate bytes as the live
	// build; nothing to decode.
	if prev != nil && prev.config != nil && prev.recordSum == recordSum && prev.certID != "" {
		certRaw, err := b.tx.Get(model.CertKey(prev.certID))
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, nil, fmt.Errorf("reading certificate %s: %w", prev.certID, err)
		}
		if err == nil && sha256.Sum256(certRaw) == prev.certSum {
			b.carry(prev)
			return prev, nil, nil
		}
	}

	var rec model.DomainName
	if err := json.Unmarshal(raw, &rec); err != nil {
		if dt, f, ok := repeat(); ok {
			return dt, f, nil
		}
		// Whether it wanted mTLS is unknown: assume it did.
		return fail(fmt.Errorf("decoding domain name %s: %w", name, err), true)
	}
	if rec.Name == "" {
		rec.Name = name
	}
	b.tags, b.tagsOK = rec.Tags, true
	wantMTLS := rec.MutualTLS != nil && rec.MutualTLS.TruststoreURI != ""

	certID := ""
	if arn, ok := model.ParseCertificateARN(rec.CertificateARN); ok {
		certID = arn.ID
	}
	var certRaw []byte
	if certID != "" {
		var err error
		certRaw, err = b.tx.Get(model.CertKey(certID))
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, nil, fmt.Errorf("reading certificate %s: %w", certID, err)
		}
		certSum = sha256.Sum256(certRaw)
	}
	if dt, f, ok := repeat(); ok {
		return dt, f, nil
	}
	if certID == "" {
		return fail(fmt.Errorf("domain name %s: certificate ARN %q is not an ACM certificate ARN", name, rec.CertificateARN), wantMTLS)
	}
	if certRaw == nil {
		return fail(fmt.Errorf("domain name %s: certificate %s not found", name, rec.CertificateARN), wantMTLS)
	}

	var trustSum [32]byte
	if wantMTLS {
		trustSum = sha256.Sum256(rec.MutualTLS.Truststore)
	}
	inputs := domainInputs(&rec, certRaw, trustSum)
	if prev != nil && prev.inputs == inputs && prev.config != nil {
		// Same meaning (only fields the edge ignores changed): reuse.
		b.carry(prev)
		return prev, nil, nil
	}

	kp, err := b.certificate(certID, certRaw, certSum)
	if err != nil {
		return fail(fmt.Errorf("domain name %s: %w", name, err), wantMTLS)
	}
	var trust *trustGen
	if wantMTLS {
		trust = b.next.trusts[trustSum]
		if trust == nil {
			trust = b.prev.trusts[trustSum]
		}
		if trust == nil {
			if trust, err = parseTrust(rec.MutualTLS.Truststore, trustSum); err != nil {
				return fail(fmt.Errorf("domain name %s: truststore %s (version %q): %w", name,
					rec.MutualTLS.TruststoreURI, rec.MutualTLS.TruststoreVersion, err), true)
			}
		}
		b.next.trusts[trustSum] = trust
	}
	pol := policyFor(rec.SecurityPolicy, wantMTLS)
	if pol.note != "" {
		b.s.log.Warn("security policy adjusted", "domain", name, "reason", pol.note)
	}
	dt := &domainTLS{
		name:      name,
		inputs:    inputs,
		recordSum: recordSum,
		certID:    certID,
		certSum:   certSum,
		config:    newTLSConfig(*kp, pol, wantMTLS, ticketKey(b.s.ticketSecret, name, trust)),
		mtls:      wantMTLS,
		trust:     trust,
	}
	if wantMTLS {
		dt.trustURI, dt.trustVersion = rec.MutualTLS.TruststoreURI, rec.MutualTLS.TruststoreVersion
	}
	return dt, nil, nil
}

// carry keeps a reused build's parsed parts for the next build.
func (b *builder) carry(dt *domainTLS) {
	if dt.trust != nil {
		b.next.trusts[dt.trust.sum] = dt.trust
	}
	if c := b.prev.certs[dt.certSum]; c != nil {
		b.next.certs[dt.certSum] = c
	}
}

// certificate parses an ACM certificate record once per snapshot lineage:
// domains that share a certificate share its parsed form.
func (b *builder) certificate(certID string, raw []byte, sum [32]byte) (*tls.Certificate, error) {
	if c := b.next.certs[sum]; c != nil {
		return c, nil
	}
	if c := b.prev.certs[sum]; c != nil {
		b.next.certs[sum] = c
		return c, nil
	}
	var rec model.Certificate
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, fmt.Errorf("decoding certificate %s: %w", certID, err)
	}
	kp, err := serverCertificate(&rec)
	if err != nil {
		return nil, err
	}
	b.next.certs[sum] = &kp
	return &kp, nil
}

// buildMappings compiles each domain's API mappings, resolved to stages.
func (b *builder) buildMappings() error {
	kvs, err := b.tx.List(model.PrefixMappings)
	if err != nil {
		return fmt.Errorf("listing api mappings: %w", err)
	}
	for _, kv := range kvs {
		dname, _ := splitKey(kv.Key, model.PrefixMappings)
		d := b.next.domains[dname]
		if d == nil {
			continue
		}
		var m model.APIMapping
		if err := json.Unmarshal(kv.Value, &m); err != nil {
			// Left out: requests it would have served get 403.
			b.recordError(fmt.Errorf("decoding %s: %w", kv.Key, err))
			continue
		}
		if d.mappings == nil {
			d.mappings = &mappingTable{byKey: map[string]*mappingRoute{}}
		}
		key := m.Key
		if key == model.NoneKey {
			key = ""
		}
		ck, depth := canonKey(key)
		mr := &mappingRoute{key: key, apiID: m.APIID, stage: m.Stage}
		if stages := b.next.apis[m.APIID]; stages != nil {
			mr.target = stages[m.Stage]
		}
		if old := d.mappings.byKey[ck]; old != nil {
			b.recordError(fmt.Errorf("domain %s: mapping key %q defined twice; keeping the first", dname, key))
			continue
		}
		d.mappings.byKey[ck] = mr
		d.mappings.maxDepth = max(d.mappings.maxDepth, depth)
	}
	return nil
}

// splitKey splits "prefix{a}/{b}" into a and b.
func splitKey(key, prefix string) (string, string) {
	rest := strings.TrimPrefix(key, prefix)
	i := strings.IndexByte(rest, '/')
	if i < 0 {
		return "", ""
	}
	return rest[:i], rest[i+1:]
}

// install logs and counts what a build reported, updates the per-domain
// gauges, and swaps the snapshot in.
func (s *Server) install(next *Snapshot, report *buildReport) {
	prev := s.snap.Load()
	for _, f := range report.domainFailures {
		if f.repeated {
			continue
		}
		s.log.Error("domain build failed", "domain", f.domain, "revision", next.rev,
			"keeping_previous_build", f.stale, "error", f.err)
		s.metrics.DomainBuildFailed(f.domain)
	}
	for _, err := range report.recordErrors {
		s.log.Error("configuration record skipped", "revision", next.rev, "error", err)
	}
	for name, d := range next.domains {
		if pd := prev.domains[name]; pd != nil && pd.tls == d.tls && pd.stale == d.stale {
			continue // gauges already say so
		}
		s.metrics.SetDomainHealth(name, d.stale, d.tls.config == nil)
		if d.tls.trust != nil {
			s.metrics.SetTruststore(name, d.tls.trust.certs, d.tls.trust.earliest)
		} else {
			s.metrics.ForgetTruststore(name)
		}
	}
	for name := range prev.domains {
		if next.domains[name] == nil {
			s.metrics.ForgetDomain(name)
			s.crlMetrics.forget(name)
		}
	}
	s.snap.Store(next)
	s.metrics.SetRevision(next.rev)
	s.log.Debug("snapshot installed", "revision", next.rev, "domains", len(next.domains),
		"apis", len(next.apis), "domain_failures", len(report.domainFailures))
}

// defaultTLS builds the tls.Config for the default endpoint and unknown
// names from the configured default certificate.
func defaultTLSConfig(cert tls.Certificate, secret []byte) *tls.Config {
	return newTLSConfig(cert, policyFor(model.PolicyTLS12, false), false, ticketKey(secret, "", nil))
}
