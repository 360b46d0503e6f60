package edge

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"trustgate/internal/truststore"
)

// ObjectGetter reads one S3 object: the embedded object store
// (objects.Store) or an external S3 (s3remote.Client). versionID "" means
// the latest version; gotVersionID is the version read. Any error means the
// object could not be read.
type ObjectGetter interface {
	GetObject(ctx context.Context, bucket, key, versionID string) (data []byte, gotVersionID string, err error)
}

// ObjectStater is optionally implemented by a CRL source that can tell which
// version of an object is current without reading its bytes (the embedded
// object store). A build then re-reads a CRL only when its tag changed,
// instead of reading and hashing it at every store revision. Equal tags must
// mean equal bytes.
type ObjectStater interface {
	StatObject(ctx context.Context, bucket, key string) (tag string, err error)
}

// DefaultCRLFetchTimeout bounds one read of a CRL from an external S3.
const DefaultCRLFetchTimeout = 10 * time.Second

// crlRetry is how soon a CRL that was never read is tried again, when its
// refresh interval is longer: until it is read, the certificates it covers
// are refused (hard mode).
const crlRetry = 5 * time.Second

// errNoCRLSource is the read error of every CRL when the edge has no source.
var errNoCRLSource = errors.New("no CRL source is configured")

// crlManager reads the CRL objects that domains name and keeps the last good
// copy of each in memory. It is the only part of the edge that reads
// objects, and it never does so on the handshake or request path:
//   - with the embedded object store (inStore), every CRL is checked at
//     each snapshot build, which follows every store revision, so a new
//     version is served as soon as the revision that wrote it (with an
//     ObjectStater source only a changed object is read again);
//   - with an external S3, a CRL is read at the first build that needs it,
//     then polled by run at its refresh interval; a new version triggers a
//     build through changed.
//
// A read that fails (object gone, S3 down, not a CRL) keeps the last good
// copy. A CRL that was never read leaves the certificates it would cover
// without a revocation status: refused, unless the domain is in soft mode.
// Safe for concurrent use.
type crlManager struct {
	src     ObjectGetter
	inStore bool
	timeout time.Duration
	now     func() time.Time
	log     *slog.Logger
	metrics *crlMetrics
	// changed receives a value when a poll found new CRL content.
	changed chan struct{}
	// kick wakes the poller when the set of CRLs or their intervals change.
	kick chan struct{}
	// gen counts content changes; a snapshot records the gen it was built
	// with, so a change without a store revision still installs.
	gen atomic.Int64
	// pollEvery, when > 0, replaces every refresh interval (tests).
	pollEvery atomic.Int64
	// bg tracks reads that outlive the build that started them.
	bg sync.WaitGroup

	mu      sync.Mutex
	entries map[string]*crlEntry // by URI
}

// crlEntry is one CRL object: its last good copy and how reading it went.
type crlEntry struct {
	uri, bucket, key string
	// interval is the shortest refresh of the domains that use it;
	// domains are their names (for the fetch-failure metric).
	interval time.Duration
	domains  []string

	good        *crlData // nil until a read succeeded
	err         error    // the last read's error; nil if it succeeded
	lastAttempt time.Time
	lastSuccess time.Time
	// due is when the poller reads it next (monotonic clock).
	due      time.Time
	fetching bool
}

// crlData is one read of a CRL object. Immutable.
type crlData struct {
	sum     [32]byte
	version string
	// tag is the source's ObjectStater tag taken before the read ("" if
	// none): while it stays the same, the bytes are not read again.
	tag  string
	crls []*x509.RevocationList
	// readAt is when these bytes were first read.
	readAt time.Time
	// nextUpdates are the CRLs' nextUpdate times, earliest first.
	nextUpdates []time.Time
}

func newCRLManager(src ObjectGetter, inStore bool, timeout time.Duration, now func() time.Time, log *slog.Logger, m *crlMetrics) *crlManager {
	if timeout <= 0 {
		timeout = DefaultCRLFetchTimeout
	}
	return &crlManager{
		src: src, inStore: inStore, timeout: timeout, now: now, log: log, metrics: m,
		changed: make(chan struct{}, 1),
		kick:    make(chan struct{}, 1),
		entries: map[string]*crlEntry{},
	}
}

// crlWant is what one build needs of a CRL object.
type crlWant struct {
	interval time.Duration
	domains  []string
}

// syncWait bounds how long a build waits for the first read of CRLs from
// an external S3; reads still running then finish in the background and
// trigger another build. It keeps a slow or unreachable S3 from holding up
// the first snapshot (every other domain) at start.
const syncWait = 2 * time.Second

// sync makes the manager track exactly the wanted CRLs and reads, before it
// returns, those a build must read: every one with the embedded store, the
// ones never read before with an external S3 (waiting at most syncWait; the
// poller retries those that fail).
func (m *crlManager) sync(ctx context.Context, wants map[string]*crlWant) {
	var fetch []*crlEntry
	kick := false
	m.mu.Lock()
	for uri, w := range wants {
		e := m.entries[uri]
		if e == nil {
			bucket, key, _ := splitS3URI(uri) // validated by ParseRevocation
			e = &crlEntry{uri: uri, bucket: bucket, key: key}
			m.entries[uri] = e
			kick = true
		}
		if e.interval != w.interval {
			kick = true
		}
		e.interval, e.domains = w.interval, w.domains
		if (m.inStore || e.lastAttempt.IsZero()) && !e.fetching {
			e.fetching = true
			fetch = append(fetch, e)
		}
	}
	for uri := range m.entries {
		if wants[uri] == nil {
			delete(m.entries, uri)
			kick = true
		}
	}
	m.mu.Unlock()
	if len(fetch) == 0 && !kick {
		return
	}
	if m.inStore {
		m.fetch(ctx, fetch)
		return
	}
	if kick {
		signal(m.kick)
	}
	m.fetchWait(ctx, fetch, syncWait)
}

// signal does a non-blocking send on a one-slot channel.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// fetch reads the entries (marked fetching by the caller) concurrently and
// records the results. It reports whether any content changed.
func (m *crlManager) fetch(ctx context.Context, es []*crlEntry) bool {
	changed := false
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, e := range es {
		wg.Go(func() {
			if m.fetchOne(ctx, e) {
				mu.Lock()
				changed = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return changed
}

// fetchWait is fetch that returns after at most wait; reads still running
// then signal changed themselves when they bring new content.
func (m *crlManager) fetchWait(ctx context.Context, es []*crlEntry, wait time.Duration) {
	if len(es) == 0 {
		return
	}
	var late, changed atomic.Bool
	done := make(chan struct{})
	m.bg.Add(1)
	go func() {
		defer m.bg.Done()
		defer close(done)
		var wg sync.WaitGroup
		for _, e := range es {
			wg.Go(func() {
				if m.fetchOne(ctx, e) {
					changed.Store(true)
					if late.Load() {
						signal(m.changed)
					}
				}
			})
		}
		wg.Wait()
	}()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		late.Store(true)
		// A read that finished between the timer and late is ours to
		// report.
		if changed.Load() {
			signal(m.changed)
		}
	}
}

// fetchOne reads one CRL object and parses it outside the lock, then
// records the outcome. A failure keeps the last good copy.
func (m *crlManager) fetchOne(ctx context.Context, e *crlEntry) bool {
	var (
		data    []byte
		version string
		tag     string
		err     = errNoCRLSource
	)
	if m.src != nil {
		rctx, cancel := context.WithTimeout(ctx, m.timeout)
		if st, ok := m.src.(ObjectStater); ok {
			var serr error
			// Taken before the read: a write in between makes the next
			// stat differ and the CRL is read again, never the reverse.
			if tag, serr = st.StatObject(rctx, e.bucket, e.key); serr != nil {
				tag = ""
			}
			m.mu.Lock()
			unchanged := tag != "" && e.good != nil && e.good.tag == tag
			m.mu.Unlock()
			if unchanged {
				cancel()
				return m.record(ctx, e, nil, nil, nil, "", "")
			}
		}
		data, version, err = m.src.GetObject(rctx, e.bucket, e.key, "")
		cancel()
	}
	var sum [32]byte
	var parsed []*x509.RevocationList
	if err == nil {
		sum = sha256.Sum256(data)
		m.mu.Lock()
		same := e.good != nil && e.good.sum == sum
		m.mu.Unlock()
		if !same {
			parsed, err = truststore.ParseCRLs(data)
		}
	}
	return m.record(ctx, e, err, &sum, parsed, version, tag)
}

// record stores the outcome of a read of e: err, or the bytes' digest with
// their parsed CRLs (nil parsed with a nil sum: unchanged, by tag; nil
// parsed with a sum equal to the good copy's: unchanged, by content).
func (m *crlManager) record(ctx context.Context, e *crlEntry, err error, sum *[32]byte, parsed []*x509.RevocationList, version, tag string) bool {
	at := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	e.fetching = false
	e.lastAttempt = at
	e.due = time.Now().Add(m.interval(e, err == nil || e.good != nil))
	if !m.inStore {
		signal(m.kick) // the poller skipped e while it was being read
	}
	if m.entries[e.uri] != e {
		return false // no longer wanted
	}
	if err != nil {
		if ctx.Err() != nil {
			return false // shutting down: not the object's fault
		}
		if e.err == nil || e.err.Error() != err.Error() {
			m.log.Warn("CRL could not be read; the last good copy, if any, stays in use",
				"crl", e.uri, "have_copy", e.good != nil, "error", err)
		}
		e.err = err
		for _, d := range e.domains {
			m.metrics.fetchFailed(d)
		}
		return false
	}
	if e.err != nil {
		m.log.Info("CRL readable again", "crl", e.uri)
	}
	e.err = nil
	e.lastSuccess = at
	if sum == nil || (e.good != nil && e.good.sum == *sum) {
		if sum != nil && tag != "" && e.good.tag != tag {
			// Same bytes under a new tag: remember it, so the next stat
			// saves the read.
			g := *e.good
			g.tag = tag
			e.good = &g
		}
		return false
	}
	nd := &crlData{sum: *sum, version: version, tag: tag, crls: parsed, readAt: at}
	for _, c := range parsed {
		if !c.NextUpdate.IsZero() {
			nd.nextUpdates = append(nd.nextUpdates, c.NextUpdate)
		}
	}
	slices.SortFunc(nd.nextUpdates, func(a, b time.Time) int { return a.Compare(b) })
	e.good = nd
	m.gen.Add(1)
	m.log.Info("CRL loaded", "crl", e.uri, "version", version, "crls", len(parsed))
	return true
}

// interval is how long until an entry is polled again: its refresh, or
// crlRetry while it has never been read. Called with mu held.
func (m *crlManager) interval(e *crlEntry, haveCopy bool) time.Duration {
	if d := time.Duration(m.pollEvery.Load()); d > 0 {
		return d
	}
	d := e.interval
	if d <= 0 {
		d = DefaultCRLRefresh
	}
	if !haveCopy {
		d = min(d, crlRetry)
	}
	return d
}

// run polls an external S3 until ctx ends: each CRL at its interval, and
// signals changed when new content arrived. With the embedded store it
// returns at once (builds read CRLs themselves).
func (m *crlManager) run(ctx context.Context) {
	if m.inStore {
		return
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		wait, ok := m.nextDue()
		timer.Reset(wait)
		var fire <-chan time.Time
		if ok {
			fire = timer.C
		}
		select {
		case <-ctx.Done():
			return
		case <-m.kick:
			continue
		case <-fire:
		}
		if m.fetch(ctx, m.takeDue()) {
			signal(m.changed)
		}
	}
}

// nextDue is how long until the earliest poll, and whether there is any.
func (m *crlManager) nextDue() (time.Duration, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var first time.Time
	for _, e := range m.entries {
		if e.fetching {
			continue
		}
		if e.due.IsZero() {
			return 0, true
		}
		if first.IsZero() || e.due.Before(first) {
			first = e.due
		}
	}
	if first.IsZero() {
		return time.Hour, false
	}
	return max(time.Until(first), 0), true
}

// takeDue marks the entries whose poll is due as fetching and returns them.
func (m *crlManager) takeDue() []*crlEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	var out []*crlEntry
	for _, e := range m.entries {
		if !e.fetching && !now.Before(e.due) {
			e.fetching = true
			out = append(out, e)
		}
	}
	return out
}

// crlState is a copy of an entry's state, for status and metrics.
type crlState struct {
	uri         string
	good        *crlData
	err         error
	lastAttempt time.Time
	lastSuccess time.Time
	tracked     bool
}

// state returns the current state of each URI, in order.
func (m *crlManager) state(uris []string) []crlState {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]crlState, len(uris))
	for i, uri := range uris {
		out[i].uri = uri
		if e := m.entries[uri]; e != nil {
			out[i] = crlState{uri: uri, good: e.good, err: e.err, lastAttempt: e.lastAttempt, lastSuccess: e.lastSuccess, tracked: true}
		}
	}
	return out
}

// revocationConfig is a domain's parsed trustgate:crl* tags, or why they
// could not be parsed (then every certificate is refused: the domain asked
// for revocation and never fails open).
type revocationConfig struct {
	rev *Revocation
	err error
}

func (rc *revocationConfig) soft() bool { return rc.err == nil && rc.rev.Soft }

func (rc *revocationConfig) uris() []string {
	if rc.err != nil {
		return nil
	}
	return rc.rev.URIs
}

// crlBinding is the revocation state a domain's verdicts use: the CRLs read
// so far, verified against the domain's truststore. Its identity is a
// generation, like trustGen's: a connection's cached verdict is recomputed
// when the binding changes. Immutable.
type crlBinding struct {
	key  [32]byte
	set  *truststore.CRLSet
	soft bool
	// nextUpdates are the nextUpdate times of the CRLs, earliest first: a
	// trusted verdict is recomputed when one passes.
	nextUpdates []time.Time
}

// recheck is the first nextUpdate after now, or zero.
func (cb *crlBinding) recheck(now time.Time) time.Time {
	for _, t := range cb.nextUpdates {
		if t.After(now) {
			return t
		}
	}
	return time.Time{}
}

// attachRevocation gives every mTLS domain with CRLs configured its binding
// for the CRLs held now, reusing the previous snapshot's binding when the
// truststore and CRL contents are the same. Runs after sync, off the hot
// path, on a snapshot not yet installed.
func (s *Server) attachRevocation(next, prev *Snapshot) {
	now := s.now()
	for _, d := range next.domains {
		if d.revocation == nil || !d.tls.mtls || d.tls.trust == nil {
			continue
		}
		rc := d.revocation
		states := s.crls.state(rc.uris())
		h := sha256.New()
		h.Write(d.tls.trust.sum[:])
		switch {
		case rc.err != nil:
			h.Write([]byte("invalid"))
		case rc.rev.Soft:
			h.Write([]byte("soft"))
		default:
			h.Write([]byte("hard"))
		}
		for _, st := range states {
			if st.good != nil {
				h.Write(st.good.sum[:])
			} else {
				h.Write(make([]byte, 32))
			}
		}
		var key [32]byte
		h.Sum(key[:0])
		cb := next.crlBindings[key]
		if cb == nil {
			cb = prev.crlBindings[key]
		}
		if cb == nil {
			cb = &crlBinding{key: key, soft: rc.soft()}
			var crls []*x509.RevocationList
			for _, st := range states {
				if st.good != nil {
					crls = append(crls, st.good.crls...)
					cb.nextUpdates = append(cb.nextUpdates, st.good.nextUpdates...)
				}
			}
			slices.SortFunc(cb.nextUpdates, func(a, b time.Time) int { return a.Compare(b) })
			cb.set, _ = d.tls.trust.bundle.NewCRLSet(crls, now)
		}
		next.crlBindings[key] = cb
		d.crl = cb
	}
}

// wantCRLs adds a domain's CRLs to what the build must read.
func wantCRLs(wants map[string]*crlWant, d *domain) {
	if d.revocation == nil || d.revocation.err != nil || !d.tls.mtls || d.tls.trust == nil {
		return
	}
	for _, uri := range d.revocation.rev.URIs {
		w := wants[uri]
		if w == nil {
			w = &crlWant{interval: d.revocation.rev.Refresh}
			wants[uri] = w
		}
		w.interval = min(w.interval, d.revocation.rev.Refresh)
		w.domains = append(w.domains, d.name)
	}
}

// describeCRLError shortens a read error for status messages.
func describeCRLError(err error) string {
	var ce *truststore.CRLError
	if errors.As(err, &ce) {
		return ce.Message
	}
	return err.Error()
}
