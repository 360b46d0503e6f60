package edge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"trustgate/internal/model"
	"trustgate/internal/objects"
	"trustgate/internal/testpki"
	"trustgate/internal/truststore"
)

const crlURL = "https://api.example.com/c360/customer/7"

// withEmbeddedCRLs reads CRLs from the embedded object store in the
// harness's own store, as trustgate serve does by default.
func withEmbeddedCRLs(c *Config) {
	c.CRLSource = objects.New(c.Store)
	c.CRLSourceInStore = true
}

// crlFlow is the seed flow with a bucket for CRLs and two partner
// certificates from the same issuing CA.
type crlFlow struct {
	*seedFlow
	arn     string
	objs    *objects.Store
	good    *testpki.Leaf
	revoked *testpki.Leaf
}

func newCRLFlow(t *testing.T, opts ...harnessOpt) *crlFlow {
	t.Helper()
	f := newSeedFlow(t, opts...)
	c := &crlFlow{seedFlow: f, arn: f.h.serverCert("api.example.com"), objs: objects.New(f.h.db),
		good: f.leaf, revoked: f.partner.inter.Leaf(t, testpki.Client("partner-revoked"))}
	ctx := context.Background()
	if _, err := c.objs.CreateBucket(ctx, "crls"); err != nil {
		t.Fatal(err)
	}
	if err := c.objs.SetVersioning(ctx, "crls", "Enabled"); err != nil {
		t.Fatal(err)
	}
	return c
}

// putCRL uploads data as s3://crls/key and waits until the edge serves the
// revision.
func (c *crlFlow) putCRL(key string, data []byte) {
	c.h.t.Helper()
	if _, err := c.objs.PutObject(context.Background(), objects.PutInput{Bucket: "crls", Key: key, Data: data}); err != nil {
		c.h.t.Fatal(err)
	}
	c.h.sync()
}

// crl is a PEM CRL of the partner's issuing CA revoking the given leaves.
func (c *crlFlow) crl(t *testing.T, number int64, revoked ...*testpki.Leaf) []byte {
	t.Helper()
	spec := testpki.CRLSpec{Number: number}
	for _, l := range revoked {
		spec.Revoked = append(spec.Revoked, l.Cert.SerialNumber)
	}
	_, der := c.partner.inter.CRL(t, spec)
	return testpki.CRLPEM(der)
}

// setTags stores the domain with the partner truststore and tags.
func (c *crlFlow) setTags(tags map[string]string) {
	c.h.t.Helper()
	c.h.put(model.DomainKey("api.example.com"), model.DomainName{Name: "api.example.com", ID: "crldomain",
		CertificateARN: c.arn, EndpointType: "REGIONAL", SecurityPolicy: model.PolicyTLS12, Status: model.DomainAvailable,
		MutualTLS: &model.MutualTLS{TruststoreURI: "s3://trust/partners.pem", TruststoreVersion: "v1",
			Truststore: c.partner.bundle, FetchedAt: time.Now()},
		Tags: tags})
}

func TestCRLRevocationEmbedded(t *testing.T) {
	c := newCRLFlow(t, withEmbeddedCRLs)
	h := c.h
	c.putCRL("partner.crl", c.crl(t, 1, c.revoked))
	c.setTags(map[string]string{TagCRL: "s3://crls/partner.crl"})

	good := h.client("api.example.com", clientOpts{cert: c.good})
	revoked := h.client("api.example.com", clientOpts{cert: c.revoked})
	expect := func(what string, cl *http.Client, status int, reason string) {
		t.Helper()
		r := h.get(cl, crlURL)
		if r.status != status {
			t.Fatalf("%s: status %d, want %d (%s)", what, r.status, status, r.body)
		}
		rec := h.accessRecord(t, r.header.Get("X-Amzn-Requestid"))
		if rec["mtlsReason"] != reason {
			t.Fatalf("%s: access log reason %v, want %s (error %v)", what, rec["mtlsReason"], reason, rec["error"])
		}
	}
	expect("good partner", good, 200, "trusted")
	expect("revoked partner", revoked, 403, "revoked")
	if n := h.metric("trustgate_edge_mtls_verdicts_total", "domain", "api.example.com", "reason", "revoked"); n != 1 {
		t.Errorf("revoked verdicts = %v, want 1", n)
	}
	st, _ := h.srv.DomainStatus("api.example.com")
	if st.Revocation == nil || len(st.Revocation.Sources) != 1 || !st.Revocation.Sources[0].Loaded || st.Message() != "" {
		t.Fatalf("status = %+v, message %q; want one loaded CRL and no message", st.Revocation, st.Message())
	}

	// A new CRL version that no longer lists the partner: served with the
	// revision that wrote it, on the partner's open connection too.
	c.putCRL("partner.crl", c.crl(t, 2))
	expect("unrevoked partner, same connection", revoked, 200, "trusted")
	// And one that revokes the other partner.
	c.putCRL("partner.crl", c.crl(t, 3, c.good))
	expect("newly revoked partner, same connection", good, 403, "revoked")
	expect("unrevoked partner", revoked, 200, "trusted")

	// Removing the tag turns revocation off.
	c.setTags(nil)
	expect("revocation off", good, 200, "trusted")
	if st, _ := h.srv.DomainStatus("api.example.com"); st.Revocation != nil {
		t.Errorf("revocation status %+v after the tag was removed", st.Revocation)
	}
}

// TestCRLFailureModes: a CRL that cannot give a revocation status fails
// closed by default and open (with a metric) in soft mode; a revoked
// certificate is refused either way.
func TestCRLFailureModes(t *testing.T) {
	past := time.Now().Add(-48 * time.Hour)
	cases := []struct {
		name   string
		object func(c *crlFlow) []byte // nil: no object at all
		reason truststore.Reason
		msg    string
	}{
		{"expired CRL", func(c *crlFlow) []byte {
			_, der := c.partner.inter.CRL(t, testpki.CRLSpec{ThisUpdate: past, NextUpdate: past.Add(24 * time.Hour)})
			return testpki.CRLPEM(der)
		}, truststore.ReasonCRLExpired, "expired on"},
		{"missing CRL object", nil, truststore.ReasonCRLUnavailable, "could not be read"},
		{"CRL from an issuer outside the truststore", func(c *crlFlow) []byte {
			_, der := testpki.NewCA(t, "Stranger CA").CRL(t, testpki.CRLSpec{})
			return testpki.CRLPEM(der)
		}, truststore.ReasonCRLUnavailable, ""},
		{"not a CRL", func(c *crlFlow) []byte { return c.good.CertPEM }, truststore.ReasonCRLUnavailable, "a certificate"},
	}
	for _, tc := range cases {
		for _, mode := range []string{CRLModeHard, CRLModeSoft} {
			t.Run(tc.name+"/"+mode, func(t *testing.T) {
				c := newCRLFlow(t, withEmbeddedCRLs)
				h := c.h
				if tc.object != nil {
					c.putCRL("partner.crl", tc.object(c))
				}
				c.setTags(map[string]string{TagCRL: "s3://crls/partner.crl", TagCRLMode: mode})
				r := h.get(h.client("api.example.com", clientOpts{cert: c.good}), crlURL)
				rec := h.accessRecord(t, r.header.Get("X-Amzn-Requestid"))
				st, _ := h.srv.DomainStatus("api.example.com")
				if mode == CRLModeHard {
					if r.status != 403 || rec["mtlsReason"] != string(tc.reason) {
						t.Fatalf("hard mode: status %d reason %v, want 403 %s", r.status, rec["mtlsReason"], tc.reason)
					}
				} else {
					// Let through, and the log says which check was waived.
					if r.status != 200 || rec["mtls"] != "trusted" || rec["mtlsReason"] != string(tc.reason) {
						t.Fatalf("soft mode: status %d verdict %v reason %v, want 200 trusted %s", r.status, rec["mtls"], rec["mtlsReason"], tc.reason)
					}
					if n := h.metric("trustgate_edge_crl_soft_failures_total", "domain", "api.example.com", "reason", string(tc.reason)); n != 1 {
						t.Errorf("soft failures{%s} = %v, want 1", tc.reason, n)
					}
				}
				if tc.name == "CRL from an issuer outside the truststore" && !hasWarning(st.Revocation.Warnings, truststore.WarnCRLUnknownIssuer) {
					t.Errorf("warnings %v lack %s", st.Revocation.Warnings, truststore.WarnCRLUnknownIssuer)
				}
				if tc.msg != "" && !strings.Contains(st.Message(), tc.msg) {
					t.Errorf("status message %q lacks %q", st.Message(), tc.msg)
				}
				if mode == CRLModeSoft && tc.msg != "" && !strings.Contains(st.Message(), "soft mode") {
					t.Errorf("status message %q does not say soft mode", st.Message())
				}
			})
		}
	}
}

// TestCRLLastGood: when a CRL object disappears or is replaced by garbage,
// the last good copy stays in use and the status says so.
func TestCRLLastGood(t *testing.T) {
	c := newCRLFlow(t, withEmbeddedCRLs)
	h := c.h
	c.putCRL("partner.crl", c.crl(t, 1, c.revoked))
	c.setTags(map[string]string{TagCRL: "s3://crls/partner.crl"})
	good := h.client("api.example.com", clientOpts{cert: c.good})
	check := func(what string) {
		t.Helper()
		if r := h.get(good, crlURL); r.status != 200 {
			t.Fatalf("%s: good partner got %d", what, r.status)
		}
		// A new connection each time: nothing cached on it.
		r := h.get(h.client("api.example.com", clientOpts{cert: c.revoked}), crlURL)
		rec := h.accessRecord(t, r.header.Get("X-Amzn-Requestid"))
		if r.status != 403 || rec["mtlsReason"] != "revoked" {
			t.Fatalf("%s: revoked partner got %d %v, want 403 revoked", what, r.status, rec["mtlsReason"])
		}
		st, _ := h.srv.DomainStatus("api.example.com")
		if msg := st.Message(); !strings.Contains(msg, "could not be refreshed") || !strings.Contains(msg, "s3://crls/partner.crl") {
			t.Fatalf("%s: status message %q, want it to say the CRL could not be refreshed", what, msg)
		}
	}
	c.putCRL("partner.crl", []byte("-----BEGIN X509 CRL-----\nbm9wZQ==\n-----END X509 CRL-----\n"))
	check("garbage uploaded")
	if _, err := c.objs.DeleteObject(context.Background(), "crls", "partner.crl", ""); err != nil {
		t.Fatal(err)
	}
	h.sync()
	check("object deleted")
	if n := h.metric("trustgate_edge_crl_fetch_failures_total", "domain", "api.example.com"); n < 2 {
		t.Errorf("fetch failures = %v, want at least 2", n)
	}
	if n := h.metric("trustgate_edge_crl_sources", "domain", "api.example.com", "state", "stale"); n != 1 {
		t.Errorf("stale CRL sources = %v, want 1", n)
	}
	// A good version again clears the message.
	c.putCRL("partner.crl", c.crl(t, 2, c.revoked))
	if st, _ := h.srv.DomainStatus("api.example.com"); st.Message() != "" {
		t.Errorf("message %q after a good CRL", st.Message())
	}
}

// TestCRLBadTagFailsClosed: a trustgate:crl tag the management API would
// refuse, stored anyway, refuses every chain that needs a CRL.
func TestCRLBadTagFailsClosed(t *testing.T) {
	c := newCRLFlow(t, withEmbeddedCRLs)
	c.setTags(map[string]string{TagCRL: "https://example.com/crl.pem", TagCRLMode: "soft"})
	r := c.h.get(c.h.client("api.example.com", clientOpts{cert: c.good}), crlURL)
	rec := c.h.accessRecord(t, r.header.Get("X-Amzn-Requestid"))
	if r.status != 403 || rec["mtlsReason"] != string(truststore.ReasonCRLUnavailable) {
		t.Fatalf("status %d reason %v, want 403 crl_unavailable", r.status, rec["mtlsReason"])
	}
	st, _ := c.h.srv.DomainStatus("api.example.com")
	if !strings.Contains(st.Message(), TagCRL) {
		t.Errorf("message %q does not name the tag", st.Message())
	}
}

// testClock is a settable clock.
type testClock struct{ ns atomic.Int64 }

func (c *testClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *testClock) Set(t time.Time)         { c.ns.Store(t.UnixNano()) }
func (c *testClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// TestCRLNextUpdateOnOpenConnection: a trusted verdict cached on a
// connection is recomputed when a CRL passes its nextUpdate.
func TestCRLNextUpdateOnOpenConnection(t *testing.T) {
	clock := &testClock{}
	clock.Set(time.Now())
	c := newCRLFlow(t, withEmbeddedCRLs, func(cfg *Config) { cfg.Now = clock.Now })
	next := clock.Now().Add(time.Hour)
	_, der := c.partner.inter.CRL(t, testpki.CRLSpec{ThisUpdate: clock.Now().Add(-time.Hour), NextUpdate: next})
	c.putCRL("partner.crl", testpki.CRLPEM(der))
	c.setTags(map[string]string{TagCRL: "s3://crls/partner.crl"})
	good := c.h.client("api.example.com", clientOpts{cert: c.good})
	if st, _, err := getTraced(good, crlURL); err != nil || st != 200 {
		t.Fatalf("before nextUpdate: %d %v", st, err)
	}
	if v := c.h.metric("trustgate_edge_crl_next_update_timestamp_seconds", "domain", "api.example.com"); v != float64(next.Unix()) {
		t.Errorf("next update gauge = %v, want %d", v, next.Unix())
	}
	clock.Advance(2 * time.Hour)
	st, reused, err := getTraced(good, crlURL)
	if err != nil || st != 403 || !reused {
		t.Fatalf("after nextUpdate: status %d reused=%v %v; want 403 on the same connection", st, reused, err)
	}
}

// fakeS3 is an external object source whose content and availability the
// test controls (the real external path, through s3remote and an S3
// server, is tested end to end in cmd/trustgate).
type fakeS3 struct {
	mu    sync.Mutex
	objs  map[string][]byte
	ver   int
	down  bool
	reads atomic.Int64
}

func (f *fakeS3) GetObject(ctx context.Context, bucket, key, versionID string) ([]byte, string, error) {
	f.reads.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		return nil, "", errors.New("dial tcp 127.0.0.1:9: connect: connection refused")
	}
	b, ok := f.objs[bucket+"/"+key]
	if !ok {
		return nil, "", errors.New("NoSuchKey")
	}
	return b, fmt.Sprint(f.ver), nil
}

func (f *fakeS3) put(key string, b []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.objs[key] = b
	f.ver++
}

func (f *fakeS3) setDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

func TestCRLExternalPolling(t *testing.T) {
	src := &fakeS3{objs: map[string][]byte{}}
	c := newCRLFlow(t, func(cfg *Config) { cfg.CRLSource = src })
	h := c.h
	h.srv.crls.pollEvery.Store(int64(20 * time.Millisecond))
	src.put("crls/partner.crl", c.crl(t, 1, c.revoked))
	c.setTags(map[string]string{TagCRL: "s3://crls/partner.crl", TagCRLRefresh: "30s"})

	status := func(cert *testpki.Leaf) int {
		return h.get(h.client("api.example.com", clientOpts{cert: cert}), crlURL).status
	}
	// Read during the build that saw the tag: in force when it is served.
	if st := status(c.revoked); st != 403 {
		t.Fatalf("revoked partner: %d, want 403", st)
	}
	// S3 goes down: the last good CRL stays in force.
	src.setDown(true)
	waitFor(t, "a failed poll in the status message", func() bool {
		st, _ := h.srv.DomainStatus("api.example.com")
		return strings.Contains(st.Message(), "could not be refreshed")
	})
	if a, b := status(c.good), status(c.revoked); a != 200 || b != 403 {
		t.Fatalf("with S3 down: good %d revoked %d, want 200 403", a, b)
	}
	if n := h.metric("trustgate_edge_crl_age_seconds", "domain", "api.example.com"); n <= 0 {
		t.Errorf("CRL age = %v, want > 0", n)
	}
	// S3 back with a CRL that no longer lists the partner: picked up by
	// polling, without any store change.
	src.put("crls/partner.crl", c.crl(t, 2))
	src.setDown(false)
	rev := h.srv.Revision()
	waitFor(t, "the new CRL", func() bool { return status(c.revoked) == 200 })
	if h.srv.Revision() != rev {
		t.Errorf("revision moved from %d to %d; the CRL change should not need a store write", rev, h.srv.Revision())
	}
	if st, _ := h.srv.DomainStatus("api.example.com"); st.Message() != "" || st.Revocation.Sources[0].VersionID == "" {
		t.Errorf("status after recovery: %q %+v", st.Message(), st.Revocation.Sources)
	}
}

// TestCRLExternalNeverRead: with S3 down from the start, a domain with CRLs
// fails closed (hard) or open (soft) and says why.
func TestCRLExternalNeverRead(t *testing.T) {
	src := &fakeS3{objs: map[string][]byte{}, down: true}
	c := newCRLFlow(t, func(cfg *Config) { cfg.CRLSource = src })
	h := c.h
	h.srv.crls.pollEvery.Store(int64(20 * time.Millisecond))
	c.setTags(map[string]string{TagCRL: "s3://crls/partner.crl"})
	r := h.get(h.client("api.example.com", clientOpts{cert: c.good}), crlURL)
	rec := h.accessRecord(t, r.header.Get("X-Amzn-Requestid"))
	if r.status != 403 || rec["mtlsReason"] != string(truststore.ReasonCRLUnavailable) {
		t.Fatalf("hard mode, never read: %d %v, want 403 crl_unavailable", r.status, rec["mtlsReason"])
	}
	st, _ := h.srv.DomainStatus("api.example.com")
	if !strings.Contains(st.Message(), "could not be read") || !strings.Contains(st.Message(), "refused (crl_unavailable)") {
		t.Errorf("message %q", st.Message())
	}
	if n := h.metric("trustgate_edge_crl_sources", "domain", "api.example.com", "state", "missing"); n != 1 {
		t.Errorf("missing sources = %v, want 1", n)
	}
	c.setTags(map[string]string{TagCRL: "s3://crls/partner.crl", TagCRLMode: "soft"})
	if r := h.get(h.client("api.example.com", clientOpts{cert: c.good}), crlURL); r.status != 200 {
		t.Fatalf("soft mode, never read: %d, want 200", r.status)
	}
	// Retries keep going while it has never been read.
	n := src.reads.Load()
	waitFor(t, "retries", func() bool { return src.reads.Load() > n+2 })
	// S3 comes up: the CRL is read and enforced.
	src.put("crls/partner.crl", c.crl(t, 1, c.revoked))
	src.setDown(false)
	c.setTags(map[string]string{TagCRL: "s3://crls/partner.crl"})
	waitFor(t, "the CRL once S3 is up", func() bool {
		return h.get(h.client("api.example.com", clientOpts{cert: c.good}), crlURL).status == 200
	})
	if r := h.get(h.client("api.example.com", clientOpts{cert: c.revoked}), crlURL); r.status != 403 {
		t.Fatalf("revoked partner: %d, want 403", r.status)
	}
}

func TestParseRevocation(t *testing.T) {
	cases := []struct {
		name    string
		tags    map[string]string
		want    *Revocation
		errTag  string
		errText string
	}{
		{"none", nil, nil, "", ""},
		{"mode alone is checked", map[string]string{TagCRLMode: "lenient"}, nil, TagCRLMode, "hard"},
		{"one URI", map[string]string{TagCRL: "s3://crls/a.crl"},
			&Revocation{URIs: []string{"s3://crls/a.crl"}, Refresh: DefaultCRLRefresh}, "", ""},
		{"several, spaces, duplicates, soft, refresh", map[string]string{
			TagCRL: "s3://crls/a.crl, s3://other-bucket/dir/b.pem,s3://crls/a.crl", TagCRLMode: "Soft", TagCRLRefresh: "30s"},
			&Revocation{URIs: []string{"s3://crls/a.crl", "s3://other-bucket/dir/b.pem"}, Soft: true, Refresh: 30 * time.Second}, "", ""},
		{"not s3", map[string]string{TagCRL: "https://x/y"}, nil, TagCRL, "s3://bucket/key"},
		{"no key", map[string]string{TagCRL: "s3://crls/"}, nil, TagCRL, ""},
		{"empty item", map[string]string{TagCRL: "s3://crls/a,"}, nil, TagCRL, ""},
		{"refresh too short", map[string]string{TagCRL: "s3://crls/a", TagCRLRefresh: "1s"}, nil, TagCRLRefresh, "5s"},
		{"refresh too long", map[string]string{TagCRLRefresh: "25h"}, nil, TagCRLRefresh, ""},
		{"refresh not a duration", map[string]string{TagCRLRefresh: "60"}, nil, TagCRLRefresh, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseRevocation(tc.tags)
			if tc.errTag != "" {
				var te *TagError
				if !errors.As(err, &te) || te.Key != tc.errTag || !strings.Contains(err.Error(), tc.errTag) || !strings.Contains(err.Error(), tc.errText) {
					t.Fatalf("err = %v, want a TagError naming %s and saying %q", err, tc.errTag, tc.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

// statObjects is the embedded store with a stat, as app wires it, counting
// full reads.
type statObjects struct {
	*objects.Store
	reads atomic.Int64
}

func (s *statObjects) GetObject(ctx context.Context, bucket, key, versionID string) ([]byte, string, error) {
	s.reads.Add(1)
	return s.Store.GetObject(ctx, bucket, key, versionID)
}

func (s *statObjects) StatObject(ctx context.Context, bucket, key string) (string, error) {
	v, _, err := s.Get(ctx, bucket, key, "", false)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d %s %s", v.Seq, v.VersionID, v.ETag), nil
}

// TestCRLStatSkipsUnchangedReads: with a source that can stat, builds that
// follow unrelated writes do not read the CRL again; a new version is read.
func TestCRLStatSkipsUnchangedReads(t *testing.T) {
	var src *statObjects
	c := newCRLFlow(t, func(cfg *Config) {
		src = &statObjects{Store: objects.New(cfg.Store)}
		cfg.CRLSource, cfg.CRLSourceInStore = src, true
	})
	c.putCRL("partner.crl", c.crl(t, 1, c.revoked))
	c.setTags(map[string]string{TagCRL: "s3://crls/partner.crl"})
	reads := src.reads.Load()
	if reads != 1 {
		t.Fatalf("%d reads to load the CRL, want 1", reads)
	}
	for range 5 {
		c.h.mapping("api.example.com", c.h.id(), seedAPI, "DEV") // unrelated writes
	}
	if n := src.reads.Load(); n != reads {
		t.Fatalf("%d more reads after unrelated writes, want 0", n-reads)
	}
	c.putCRL("partner.crl", c.crl(t, 2))
	if n := src.reads.Load(); n != reads+1 {
		t.Fatalf("%d reads after a new version, want 1", n-reads)
	}
	if r := c.h.get(c.h.client("api.example.com", clientOpts{cert: c.revoked}), crlURL); r.status != 200 {
		t.Fatalf("after the new version: %d, want 200", r.status)
	}
}

func hasWarning(ws []truststore.Warning, code string) bool {
	for _, w := range ws {
		if w.Code == code {
			return true
		}
	}
	return false
}

func TestDomainStatusMessage(t *testing.T) {
	boom := errors.New("domain name api.example.com: certificate arn:x not found")
	read := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		name string
		st   DomainStatus
		want []string
	}{
		{"healthy", DomainStatus{Serving: true}, nil},
		{"stale", DomainStatus{Serving: true, Stale: true, Err: boom}, []string{"could not be applied", "certificate arn:x not found", "previous one is still served"}},
		{"unavailable", DomainStatus{Err: boom}, []string{"cannot be served", "every TLS handshake"}},
		{"bad tag", DomainStatus{Serving: true, Revocation: &RevocationStatus{ConfigErr: &TagError{Key: TagCRL, Message: "Invalid value for tag trustgate:crl."}}},
			[]string{"trustgate:crl", "Every client certificate is refused"}},
		{"stale CRL", DomainStatus{Serving: true, Revocation: &RevocationStatus{Sources: []CRLSourceStatus{
			{URI: "s3://c/a.crl", Loaded: true, LastSuccess: read, Err: errors.New("connection refused")},
			{URI: "s3://c/b.crl", Loaded: true, LastSuccess: read}}}},
			[]string{"CRL s3://c/a.crl could not be refreshed (connection refused); the copy last read at 2026-01-02T03:04:05Z is still used."}},
		{"never read, soft", DomainStatus{Serving: true, Revocation: &RevocationStatus{Soft: true, Sources: []CRLSourceStatus{
			{URI: "s3://c/a.crl", Err: errors.New("NoSuchKey")}}}},
			[]string{"CRL s3://c/a.crl could not be read (NoSuchKey)", "accepted without a revocation check (soft mode, crl_unavailable)"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.st.Message()
			if len(tc.want) == 0 && got != "" {
				t.Fatalf("message %q, want none", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("message %q lacks %q", got, w)
				}
			}
			if strings.Contains(got, "b.crl") {
				t.Errorf("message %q mentions a CRL that is fine", got)
			}
		})
	}
}
