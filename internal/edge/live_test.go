package edge

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"trustgate/internal/model"
	"trustgate/internal/store"
	"trustgate/internal/testpki"
)

// getTraced does a GET and reports whether it reused a connection.
func getTraced(c *http.Client, url string) (status int, reused bool, err error) {
	trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}
	req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", url, nil)
	resp, err := c.Do(req)
	if err != nil {
		return 0, reused, err
	}
	defer resp.Body.Close()
	_, _ = resp.Body.Read(make([]byte, 512))
	return resp.StatusCode, reused, nil
}

// TestTruststoreSwapOnOpenConnection: a partner removed from the truststore
// is refused on the next request of its open keep-alive connection.
func TestTruststoreSwapOnOpenConnection(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("h2=%v", h2), func(t *testing.T) {
			f := newSeedFlow(t)
			h := f.h
			arn := h.serverCert("api.example.com")
			other := newPartner(t, "Other")
			h.domain("api.example.com", arn, model.PolicyTLS12, testpki.Bundle(f.partner.bundle, other.bundle))
			c := h.client("api.example.com", clientOpts{cert: f.leaf, h2: h2})
			const url = "https://api.example.com/c360/customer/1"
			if st, _, err := getTraced(c, url); err != nil || st != 200 {
				t.Fatalf("before: %d %v", st, err)
			}
			// A new truststore generation that still trusts the partner.
			h.domain("api.example.com", arn, model.PolicyTLS12, testpki.Bundle(other.bundle, f.partner.bundle))
			if st, reused, err := getTraced(c, url); err != nil || st != 200 || !reused {
				t.Fatalf("still trusted: %d reused=%v %v", st, reused, err)
			}
			// Remove the partner.
			h.domain("api.example.com", arn, model.PolicyTLS12, other.bundle)
			st, reused, err := getTraced(c, url)
			if err != nil || st != 403 || !reused {
				t.Fatalf("after removal: status %d reused=%v err %v; want 403 on the same connection", st, reused, err)
			}
			// And back.
			h.domain("api.example.com", arn, model.PolicyTLS12, f.partner.bundle)
			if st, reused, err := getTraced(c, url); err != nil || st != 200 || !reused {
				t.Fatalf("re-added: %d reused=%v %v", st, reused, err)
			}
			// mTLS turned off and on again: a connection that never sent a
			// certificate cannot pass once mTLS is back.
			h.domain("api.example.com", arn, model.PolicyTLS12, nil)
			plain := h.client("api.example.com", clientOpts{h2: h2})
			if st, _, err := getTraced(plain, url); err != nil || st != 200 {
				t.Fatalf("mTLS off: %d %v", st, err)
			}
			h.domain("api.example.com", arn, model.PolicyTLS12, f.partner.bundle)
			if st, reused, err := getTraced(plain, url); err != nil || st != 403 || !reused {
				t.Fatalf("mTLS back on, certificate-less connection: %d reused=%v %v", st, reused, err)
			}
		})
	}
}

// TestTruststoreSwapUnderLoad: keep-alive workers hammer the domain while the
// truststore changes; partners trusted before and after never fail, the
// removed one is refused on its next request on its open connection.
func TestTruststoreSwapUnderLoad(t *testing.T) {
	f := newSeedFlow(t)
	h := f.h
	arn := h.serverCert("api.example.com")
	removed := newPartner(t, "Leaving")
	spare := newPartner(t, "Spare")
	keep1 := f.leaf
	keep2 := f.partner.inter.Leaf(t, testpki.Client("partner-2"))
	gone := removed.inter.Leaf(t, testpki.Client("leaving-1"))
	h.domain("api.example.com", arn, model.PolicyTLS12, testpki.Bundle(f.partner.bundle, removed.bundle))

	const url = "https://api.example.com/c360/customer/9"
	var (
		stop       atomic.Bool
		removedNow atomic.Bool
		wg         sync.WaitGroup
		mu         sync.Mutex
		failures   []string
		counts     [3]atomic.Int64
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		failures = append(failures, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	var goneRefusedOnSameConn atomic.Bool
	for i, leaf := range []*testpki.Leaf{keep1, keep2, keep1, gone} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := h.client("api.example.com", clientOpts{cert: leaf, h2: i == 2})
			seen200 := false
			for !stop.Load() {
				after := removedNow.Load()
				st, reused, err := getTraced(c, url)
				if err != nil {
					fail("worker %d: %v", i, err)
					return
				}
				switch {
				case leaf != gone && st != 200:
					fail("worker %d (trusted partner): status %d", i, st)
				case leaf == gone && !after && st == 200:
					seen200 = true
				case leaf == gone && after && st != 403:
					fail("worker %d (removed partner): status %d after removal", i, st)
				case leaf == gone && after && st == 403 && reused && seen200:
					goneRefusedOnSameConn.Store(true)
				}
				counts[min(i, 2)].Add(1)
			}
		}()
	}
	// Swap generations that keep both partners, then drop one.
	deadline := time.Now().Add(1500 * time.Millisecond)
	for n := 0; time.Now().Before(deadline); n++ {
		b := testpki.Bundle(f.partner.bundle, removed.bundle)
		if n%2 == 0 {
			b = testpki.Bundle(b, spare.bundle)
		}
		h.domain("api.example.com", arn, model.PolicyTLS12, b)
	}
	h.domain("api.example.com", arn, model.PolicyTLS12, f.partner.bundle)
	removedNow.Store(true)
	time.Sleep(300 * time.Millisecond) // let the workers run on the final generation
	stop.Store(true)
	wg.Wait()
	for _, m := range failures {
		t.Error(m)
	}
	if !goneRefusedOnSameConn.Load() {
		t.Error("the removed partner was never refused on its already-open connection")
	}
	t.Logf("requests: trusted %d, removed partner %d", counts[0].Load()+counts[1].Load(), counts[2].Load())
}

// sharedCache hands any server the last session it saw, to offer one
// domain's ticket to another.
type sharedCache struct {
	mu   sync.Mutex
	last *tls.ClientSessionState
}

func (c *sharedCache) Get(string) (*tls.ClientSessionState, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last, c.last != nil
}

func (c *sharedCache) Put(_ string, cs *tls.ClientSessionState) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cs != nil {
		c.last = cs
	}
}

// TestResumptionNeverCarriesTrust resumes a session across two domains that
// share a certificate but not a truststore, and across truststore
// generations of one domain.
func TestResumptionNeverCarriesTrust(t *testing.T) {
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		t.Run(fmt.Sprintf("tls%x", v), func(t *testing.T) {
			h := newHarness(t)
			p := newPartner(t, "Partner")
			stranger := newPartner(t, "Stranger")
			leaf := p.inter.Leaf(t, testpki.Client("partner-1"))
			arn := h.serverCert("a.example.test", "b.example.test")
			h.deploy("api", "S", false, resource("/", map[string]*model.Method{"GET": mock(200, "in")}))
			h.domain("a.example.test", arn, model.PolicyTLS12, p.bundle)
			h.domain("b.example.test", arn, model.PolicyTLS12, stranger.bundle)
			h.mapping("a.example.test", "", "api", "S")
			h.mapping("b.example.test", "", "api", "S")

			cache := &sharedCache{}
			opts := clientOpts{cert: leaf, cache: cache, minVersion: v, maxVersion: v}
			connect := func(name string) result {
				t.Helper()
				c := h.client(name, opts)
				r := h.get(c, "https://"+name+"/")
				c.Transport.(*http.Transport).CloseIdleConnections()
				return r
			}
			if r := connect("a.example.test"); r.status != 200 || r.resp.TLS.DidResume {
				t.Fatalf("first connection to a: %d resumed=%v", r.status, r.resp.TLS.DidResume)
			}
			r := connect("a.example.test")
			if r.status != 200 || !r.resp.TLS.DidResume {
				t.Fatalf("second connection to a: %d resumed=%v; want a resumed, trusted session", r.status, r.resp.TLS.DidResume)
			}
			rec := h.accessRecord(t, r.header.Get("X-Amzn-Requestid"))
			if rec["certSubject"] != "CN=partner-1" || rec["mtls"] != "trusted" {
				t.Errorf("resumed session not identified: %v %v", rec["certSubject"], rec["mtls"])
			}
			// a's ticket offered to b: no resumption, and b judges the
			// certificate with its own truststore.
			r = connect("b.example.test")
			if r.resp.TLS.DidResume {
				t.Fatal("a session from a.example.test resumed on b.example.test")
			}
			wantStatus(t, "on b", r, 403, `{"message":"Forbidden"}`)
			// a's truststore changes: an old ticket no longer resumes, and the
			// partner is judged against the new truststore.
			_ = connect("a.example.test") // refresh the cache with a ticket from a
			h.domain("a.example.test", arn, model.PolicyTLS12, stranger.bundle)
			r = connect("a.example.test")
			if r.resp.TLS.DidResume {
				t.Error("a ticket from the previous truststore generation resumed")
			}
			wantStatus(t, "a after truststore change", r, 403, `{"message":"Forbidden"}`)
		})
	}
}

// TestFailedBuildKeepsServing: a snapshot that cannot be built is never
// installed; the previous one keeps serving until a build succeeds.
func TestFailedBuildKeepsServing(t *testing.T) {
	f := newSeedFlow(t)
	h := f.h
	c := h.client("api.example.com", clientOpts{cert: f.leaf})
	wantStatus(t, "before", h.get(c, "https://api.example.com/c360/customer/1"), 200, "")
	h.deploy("newapi", "S", false, resource("/", map[string]*model.Method{"GET": mock(200, "new")}))
	served := h.srv.Revision()

	h.store.failView.Store(true)
	id := h.id()
	if _, err := h.db.Update(context.Background(), func(tx store.Tx) error {
		return store.PutJSON(tx, model.MappingKey("api.example.com", id), model.APIMapping{ID: id, Key: "new", APIID: "newapi", Stage: "S"})
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "a failed build", func() bool { return h.metric("trustgate_edge_snapshot_build_failures_total") >= 2 })
	if h.srv.Revision() != served {
		t.Fatalf("revision moved to %d while builds fail", h.srv.Revision())
	}
	wantStatus(t, "old config serves", h.get(c, "https://api.example.com/c360/customer/1"), 200, "")
	wantStatus(t, "new config not yet", h.get(c, "https://api.example.com/new/"), 403, `{"message":"Forbidden"}`)
	if !strings.Contains(h.logs.String(), "snapshot build failed") {
		t.Error("failed build not logged")
	}

	h.store.failView.Store(false)
	h.sync() // the retry succeeds without another store change
	wantStatus(t, "after recovery", h.get(c, "https://api.example.com/new/"), 200, "new")
}

// TestDomainFailureIsolation: a domain whose certificate or truststore
// breaks keeps its previous build, never fails open, and does not affect
// other domains.
func TestDomainFailureIsolation(t *testing.T) {
	f := newSeedFlow(t)
	h := f.h
	arn := h.serverCert("api.example.com")
	h.domain("api.example.com", arn, model.PolicyTLS12, f.partner.bundle)
	h.deploy("other", "S", false, resource("/", map[string]*model.Method{"GET": mock(200, "other")}))
	for _, d := range []string{"plain.example.com", "broken.example.com", "nocert.example.com"} {
		h.mapping(d, "", "other", "S")
	}
	plainARN := h.serverCert("plain.example.com")
	h.domain("plain.example.com", plainARN, model.PolicyTLS12, nil)
	const url = "https://api.example.com/c360/customer/1"
	ok := func(what string) {
		t.Helper()
		wantStatus(t, what, h.get(h.client("api.example.com", clientOpts{cert: f.leaf}), url), 200, "")
		wantStatus(t, what+" (plain)", h.get(h.client("plain.example.com", clientOpts{}), "https://plain.example.com/"), 200, "other")
	}
	refused := func(what, name string, o clientOpts) {
		t.Helper()
		if r, err := h.do(h.client(name, o), "GET", "https://"+name+"/", nil, nil); err == nil {
			t.Fatalf("%s: handshake succeeded with status %d, want refusal", what, r.status)
		}
	}
	ok("baseline")

	// A truststore that cannot be parsed: the previous build keeps serving.
	h.domain("api.example.com", arn, model.PolicyTLS12, []byte("not a PEM bundle"))
	ok("broken truststore, previous build")
	if st, found := h.srv.DomainStatus("api.example.com"); !found || !st.Serving || !st.Stale || st.Err == nil || !st.MutualTLS {
		t.Errorf("DomainStatus = %+v, %v; want serving, stale, with the error", st, found)
	}
	if v := h.metric("trustgate_edge_domain_stale", "domain", "api.example.com"); v != 1 {
		t.Errorf("domain_stale = %v, want 1", v)
	}
	// A record that is not even JSON: same.
	h.update(func(tx store.Tx) error { return tx.Put(model.DomainKey("api.example.com"), []byte("{garbage")) })
	ok("corrupt record, previous build")
	if n := h.metric("trustgate_edge_domain_build_failures_total", "domain", "api.example.com"); n < 2 {
		t.Errorf("domain build failures = %v, want >= 2", n)
	}

	// A new domain with a broken truststore has nothing to fall back to.
	h.domain("broken.example.com", h.serverCert("broken.example.com"), model.PolicyTLS12, []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	refused("new broken mTLS domain", "broken.example.com", clientOpts{cert: f.leaf})
	// A domain whose certificate is missing.
	h.domain("nocert.example.com", "arn:aws:acm:us-east-1:000000000000:certificate/missing", model.PolicyTLS12, nil)
	refused("missing certificate", "nocert.example.com", clientOpts{})
	// Never fail open: a plain domain asked to become mTLS with a broken
	// truststore does not keep serving without mTLS.
	h.domain("plain.example.com", plainARN, model.PolicyTLS12, []byte("junk"))
	refused("plain domain turned broken mTLS", "plain.example.com", clientOpts{})
	wantStatus(t, "others unaffected", h.get(h.client("api.example.com", clientOpts{cert: f.leaf}), url), 200, "")

	if st, _ := h.srv.DomainStatus("plain.example.com"); st.Serving || st.Err == nil {
		t.Errorf("DomainStatus(plain) = %+v, want not serving", st)
	}
	// Repair: the stale mark goes away.
	h.domain("api.example.com", arn, model.PolicyTLS12, f.partner.bundle)
	if st, _ := h.srv.DomainStatus("api.example.com"); !st.Serving || st.Stale || st.Err != nil || st.TruststoreCerts != 2 {
		t.Errorf("DomainStatus after repair = %+v", st)
	}
	if _, found := h.srv.DomainStatus("nope.example.com"); found {
		t.Error("DomainStatus found an unknown domain")
	}
	wantStatus(t, "repaired", h.get(h.client("api.example.com", clientOpts{cert: f.leaf}), url), 200, "")
	if n := h.series("trustgate_edge_domain_stale"); n != 0 {
		t.Errorf("domain_stale has %d series after the repair, want 0", n)
	}
	for _, d := range []string{"broken.example.com", "nocert.example.com", "plain.example.com"} {
		if v := h.metric("trustgate_edge_domain_unavailable", "domain", d); v != 1 {
			t.Errorf("domain_unavailable{%s} = %v, want 1", d, v)
		}
	}
	// Each failing configuration is reported once, not on every build.
	if n := strings.Count(h.logs.String(), "domain=broken.example.com"); n != 1 {
		t.Errorf("broken domain logged %d times, want once", n)
	}
	if v := h.metric("trustgate_edge_truststore_certificates", "domain", "api.example.com"); v != 2 {
		t.Errorf("truststore certificates = %v, want 2", v)
	}
}

// TestRequestsRaceSnapshotSwaps: requests on new and kept-alive connections
// race a stream of snapshot swaps; none fails (run under -race).
func TestRequestsRaceSnapshotSwaps(t *testing.T) {
	f := newSeedFlow(t)
	h := f.h
	arn := h.serverCert("api.example.com")
	var stop atomic.Bool
	var wg sync.WaitGroup
	var errs atomic.Int64
	var total atomic.Int64
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := h.client("api.example.com", clientOpts{cert: f.leaf, h2: i == 1})
			for n := 0; !stop.Load(); n++ {
				if i == 2 && n%5 == 0 {
					c.Transport.(*http.Transport).CloseIdleConnections() // fresh handshakes too
				}
				st, _, err := getTraced(c, "https://api.example.com/c360/customer/3")
				total.Add(1)
				if err != nil || st != 200 {
					errs.Add(1)
					t.Errorf("worker %d: status %d err %v", i, st, err)
					return
				}
			}
		}()
	}
	for n := 0; n < 25; n++ {
		switch n % 4 {
		case 0:
			h.domain("api.example.com", arn, model.PolicyTLS12, f.partner.bundle)
		case 1:
			h.deploy(seedAPI, "DEV", false,
				resource("/customer/{id}", map[string]*model.Method{"GET": httpProxy(f.be.URL+"/customers/{id}", nil)}))
		case 2:
			h.mapping("api.example.com", fmt.Sprintf("extra%d", n), seedAPI, "DEV")
		case 3:
			h.domain(fmt.Sprintf("d%d.example.com", n), arn, model.PolicyTLS12, nil)
		}
	}
	stop.Store(true)
	wg.Wait()
	if total.Load() == 0 {
		t.Fatal("no requests ran")
	}
	t.Logf("%d requests across 25 swaps, %d errors", total.Load(), errs.Load())
}
