package edge

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"trustgate/internal/model"
	"trustgate/internal/store"
	"trustgate/internal/store/bolt"
	"trustgate/internal/testpki"
)

// BenchmarkMTLSHandshakeAndRequest: a new connection per iteration (full
// TLS 1.3 handshake with a client certificate, verdict, one proxied request).
func BenchmarkMTLSHandshakeAndRequest(b *testing.B) {
	f := newSeedFlow(b)
	cfg := &tls.Config{ServerName: "api.example.com", RootCAs: f.h.serverCA.Pool(),
		Certificates: []tls.Certificate{f.leaf.TLSCertificate()}, NextProtos: []string{"http/1.1"},
		ClientSessionCache: nil}
	req := []byte("GET /c360/customer/1 HTTP/1.1\r\nHost: api.example.com\r\nConnection: close\r\n\r\n")
	buf := make([]byte, 4096)
	b.ReportAllocs()
	for b.Loop() {
		c, err := tls.Dial("tcp", f.h.addr, cfg)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Write(req); err != nil {
			b.Fatal(err)
		}
		n, _ := io.ReadAtLeast(c, buf, 12)
		if string(buf[9:12]) != "200" {
			b.Fatalf("status line %q", buf[:n])
		}
		c.Close()
	}
}

// BenchmarkKeepAlive compares a keep-alive request through the edge
// (mTLS domain, HTTP_PROXY) with a direct call to the same backend.
func BenchmarkKeepAlive(b *testing.B) {
	f := newSeedFlow(b)
	b.Run("through-edge", func(b *testing.B) {
		c := f.h.client("api.example.com", clientOpts{cert: f.leaf})
		benchGet(b, c, "https://api.example.com/c360/customer/1")
	})
	b.Run("direct-http", func(b *testing.B) {
		benchGet(b, &http.Client{Transport: &http.Transport{}}, f.be.URL+"/customers/1")
	})
	b.Run("direct-https", func(b *testing.B) {
		tlsBE := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "backend GET "+r.URL.Path)
		}))
		defer tlsBE.Close()
		benchGet(b, tlsBE.Client(), tlsBE.URL+"/customers/1")
	})
}

func benchGet(b *testing.B, c *http.Client, url string) {
	b.ReportAllocs()
	for b.Loop() {
		resp, err := c.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
}

// BenchmarkServeHTTPMock measures the handler alone (no network): mTLS
// verdict from the connection cache, routing, a MOCK answer, access log.
func BenchmarkServeHTTPMock(b *testing.B) {
	f := newSeedFlow(b, func(c *Config) { c.AccessLog = io.Discard })
	h := f.h
	h.deploy("m", "S", false, resource("/items/{id}", map[string]*model.Method{"GET": mock(200, `{"ok":true}`)}))
	h.mapping("api.example.com", "shop/v1", "m", "S")
	snap := h.srv.snap.Load()
	d := snap.domains["api.example.com"]
	info := &connInfo{sni: "api.example.com", domain: "api.example.com", metrics: d.metrics, cert: newCertInfo(f.leaf.Cert)}
	peers := []*x509.Certificate{f.leaf.Cert}
	peers = append(peers, f.leaf.Chain...)
	req := httptest.NewRequest("GET", "https://api.example.com/shop/v1/items/42", nil)
	req.TLS = &tls.ConnectionState{Version: tls.VersionTLS13, PeerCertificates: peers, HandshakeComplete: true}
	req = req.WithContext(context.WithValue(req.Context(), connKey{}, info))
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		h.srv.ServeHTTP(w, req)
		if w.status != 200 {
			b.Fatalf("status %d", w.status)
		}
	}
}

type discardWriter struct {
	h      http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(s int)           { w.status = s }

// BenchmarkRoutingLookup: a domain with 10,000 mappings (single- and
// multi-level) and a deployed resource tree; path parse, mapping lookup and
// resource match per iteration.
func BenchmarkRoutingLookup(b *testing.B) {
	tbl := &mappingTable{byKey: map[string]*mappingRoute{}}
	for i := 0; i < 10000; i++ {
		key := fmt.Sprintf("svc%d", i)
		if i%2 == 0 {
			key = fmt.Sprintf("team%d/svc%d/v1", i%100, i)
		}
		ck, depth := canonKey(key)
		tbl.byKey[ck] = &mappingRoute{key: key}
		tbl.maxDepth = max(tbl.maxDepth, depth)
	}
	root, err := compileResources([]model.Resource{
		resource("/customer", nil), resource("/customer/{id}", map[string]*model.Method{"GET": mock(200, "")}),
		resource("/customer/{id}/orders", map[string]*model.Method{"GET": mock(200, "")}),
		resource("/{proxy+}", map[string]*model.Method{"ANY": mock(200, "")}),
	})
	if err != nil {
		b.Fatal(err)
	}
	paths := []string{"/team42/svc4242/v1/customer/7/orders", "/svc9999/customer/1", "/team0/svc0/v1/x/y/z"}
	rs := &reqState{}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := rs.path.parse(paths[i%len(paths)]); err != nil {
			b.Fatal(err)
		}
		m, k := tbl.lookup(&rs.path)
		if m == nil {
			b.Fatal("no mapping")
		}
		rs.params = rs.paramBuf[:0]
		if n := root.match(&rs.path, k, &rs.params); n == nil || n.method("GET") == nil {
			b.Fatal("no resource")
		}
	}
}

// BenchmarkSnapshotBuild: 10,000 custom domains (mTLS, one mapping each)
// and 100 APIs. "cold" builds from nothing; "warm" rebuilds after a change
// that touched nothing of the domains (what every store revision costs).
func BenchmarkSnapshotBuild(b *testing.B) {
	db, err := bolt.Open(filepath.Join(b.TempDir(), "state.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	serverCA := testpki.NewCA(b, "Server Root")
	def := serverCA.Leaf(b, testpki.Server("*.execute-api.us-east-1.localhost"))
	srv, err := New(Config{Store: db, Region: testRegion, PublicDomain: testPublic, DefaultCertificate: def.TLSCertificate()})
	if err != nil {
		b.Fatal(err)
	}
	partner := newPartner(b, "Partner")
	const domains = 10000
	_, err = db.Update(context.Background(), func(tx store.Tx) error {
		for a := 0; a < 100; a++ {
			api := fmt.Sprintf("api%07d", a)
			_ = store.PutJSON(tx, model.RestAPIKey(api), model.RestAPI{ID: api})
			_ = store.PutJSON(tx, model.DeploymentKey(api, "d1"), model.Deployment{ID: "d1", APIID: api, API: model.DeployedAPI{
				Resources: []model.Resource{resource("/{proxy+}", map[string]*model.Method{"ANY": httpProxy("http://127.0.0.1:1/{proxy}", nil)})}}})
			_ = store.PutJSON(tx, model.StageKey(api, "S"), model.Stage{APIID: api, Name: "S", DeploymentID: "d1"})
		}
		for i := 0; i < domains; i++ {
			name := fmt.Sprintf("d%05d.example.com", i)
			leaf := serverCA.Leaf(b, testpki.Server(name))
			id := fmt.Sprintf("cert%05d", i)
			_ = store.PutJSON(tx, model.CertKey(id), model.Certificate{ARN: "arn:aws:acm:us-east-1:0:certificate/" + id,
				CertificatePEM: string(leaf.CertPEM), PrivateKeyPEM: model.Secret(leaf.KeyPEM)})
			_ = store.PutJSON(tx, model.DomainKey(name), model.DomainName{Name: name, CertificateARN: "arn:aws:acm:us-east-1:0:certificate/" + id,
				SecurityPolicy: model.PolicyTLS12, MutualTLS: &model.MutualTLS{TruststoreURI: "s3://t/p.pem", Truststore: partner.bundle}})
			if err := store.PutJSON(tx, model.MappingKey(name, "m1"), model.APIMapping{ID: "m1", Key: "v1", APIID: fmt.Sprintf("api%07d", i%100), Stage: "S"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	build := func(prev *Snapshot) *Snapshot {
		var next *Snapshot
		if _, err := db.View(context.Background(), func(tx store.Tx) error {
			var err error
			next, _, err = srv.build(tx, prev)
			return err
		}); err != nil {
			b.Fatal(err)
		}
		if len(next.domains) != domains {
			b.Fatalf("%d domains built", len(next.domains))
		}
		return next
	}
	b.Run("cold", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			build(emptySnapshot())
		}
	})
	b.Run("warm", func(b *testing.B) {
		prev := build(emptySnapshot())
		b.ReportAllocs()
		for b.Loop() {
			prev = build(prev)
		}
	})
}

// BenchmarkLookupScale: the per-request lookups (SNI/Host -> domain, path ->
// mapping, resource tree -> method) on a snapshot of 10 domains and one of
// 10,000 domains, each with 10 mappings (100,000 in all), built by the real
// snapshot builder. The two figures should stay close: every table is a
// hash map.
func BenchmarkLookupScale(b *testing.B) {
	for _, n := range []int{10, 10000} {
		b.Run(fmt.Sprintf("domains=%d", n), func(b *testing.B) {
			snap := scaleSnapshot(b, n, 10)
			hosts := make([]string, 64)
			for i := range hosts {
				hosts[i] = fmt.Sprintf("d%05d.scale.example", (i*7919)%n)
			}
			paths := []string{"/svc3/v1/items/42", "/svc9/v1/items/7", "/svc0/v1/items/1"}
			rs := &reqState{}
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				d := snap.lookupHost(hosts[i%len(hosts)])
				if d == nil {
					b.Fatal("no domain")
				}
				if err := rs.path.parse(paths[i%len(paths)]); err != nil {
					b.Fatal(err)
				}
				m, k := d.mappings.lookup(&rs.path)
				if m == nil || m.target == nil || m.target.deployment == nil {
					b.Fatal("no mapping")
				}
				rs.params = rs.paramBuf[:0]
				if node := m.target.deployment.root.match(&rs.path, k, &rs.params); node == nil || node.method("GET") == nil {
					b.Fatal("no resource")
				}
			}
		})
	}
}

// scaleSnapshot builds a snapshot of n mTLS domains (one wildcard
// certificate, one truststore) with perDomain mappings each over 100 APIs.
func scaleSnapshot(b *testing.B, n, perDomain int) *Snapshot {
	b.Helper()
	db, err := bolt.Open(filepath.Join(b.TempDir(), "state.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	serverCA := testpki.NewCA(b, "Server Root")
	def := serverCA.Leaf(b, testpki.Server("*.execute-api.us-east-1.localhost"))
	wc := serverCA.Leaf(b, testpki.Server("*.scale.example"))
	srv, err := New(Config{Store: db, Region: testRegion, PublicDomain: testPublic, DefaultCertificate: def.TLSCertificate()})
	if err != nil {
		b.Fatal(err)
	}
	partner := newPartner(b, "Partner")
	const arn = "arn:aws:acm:us-east-1:0:certificate/wildcard"
	_, err = db.Update(context.Background(), func(tx store.Tx) error {
		for a := 0; a < 100; a++ {
			api := fmt.Sprintf("api%07d", a)
			_ = store.PutJSON(tx, model.RestAPIKey(api), model.RestAPI{ID: api})
			_ = store.PutJSON(tx, model.DeploymentKey(api, "d1"), model.Deployment{ID: "d1", APIID: api, API: model.DeployedAPI{
				Resources: []model.Resource{resource("/items", nil), resource("/items/{id}", map[string]*model.Method{"GET": mock(200, "")})}}})
			_ = store.PutJSON(tx, model.StageKey(api, "S"), model.Stage{APIID: api, Name: "S", DeploymentID: "d1"})
		}
		_ = store.PutJSON(tx, model.CertKey("wildcard"), model.Certificate{ARN: arn,
			CertificatePEM: string(wc.CertPEM), PrivateKeyPEM: model.Secret(wc.KeyPEM)})
		for i := 0; i < n; i++ {
			name := fmt.Sprintf("d%05d.scale.example", i)
			_ = store.PutJSON(tx, model.DomainKey(name), model.DomainName{Name: name, CertificateARN: arn,
				SecurityPolicy: model.PolicyTLS12, MutualTLS: &model.MutualTLS{TruststoreURI: "s3://t/p.pem", Truststore: partner.bundle}})
			for m := 0; m < perDomain; m++ {
				id := fmt.Sprintf("m%d", m)
				if err := store.PutJSON(tx, model.MappingKey(name, id), model.APIMapping{ID: id, Key: fmt.Sprintf("svc%d/v1", m),
					APIID: fmt.Sprintf("api%07d", (i+m)%100), Stage: "S"}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	var snap *Snapshot
	if _, err := db.View(context.Background(), func(tx store.Tx) error {
		var err error
		snap, _, err = srv.build(tx, emptySnapshot())
		return err
	}); err != nil {
		b.Fatal(err)
	}
	if len(snap.domains) != n {
		b.Fatalf("%d domains built, want %d", len(snap.domains), n)
	}
	return snap
}

// BenchmarkProxyRequest is one keep-alive request through the edge (mTLS
// domain, HTTP_PROXY /{proxy+}, the fast path) with a client and a backend
// that allocate nothing themselves, so allocs/op is the gateway's own per
// request: the h1 loop, routing, the backend call, the access log.
func BenchmarkProxyRequest(b *testing.B) {
	f := newSeedFlow(b)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		resp := []byte("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok")
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					// Read one head (the gateway sends no body here).
					for {
						line, err := br.ReadSlice('\n')
						if err != nil {
							return
						}
						if len(line) <= 2 {
							break
						}
					}
					if _, err := c.Write(resp); err != nil {
						return
					}
				}
			}()
		}
	}()
	f.h.deploy("raw", "S", false, resource("/{proxy+}", map[string]*model.Method{
		"ANY": httpProxy("http://"+ln.Addr().String()+"/{proxy}", map[string]string{
			"integration.request.path.proxy": "method.request.path.proxy"}),
	}))
	f.h.mapping("api.example.com", "raw", "raw", "S")

	c, err := tls.Dial("tcp", f.h.addr, &tls.Config{ServerName: "api.example.com", RootCAs: f.h.serverCA.Pool(),
		Certificates: []tls.Certificate{f.leaf.TLSCertificate()}, NextProtos: []string{"http/1.1"}})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	br := bufio.NewReader(c)
	req := []byte("GET /raw/customers/1 HTTP/1.1\r\nHost: api.example.com\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n")
	roundTrip := func() {
		if _, err := c.Write(req); err != nil {
			b.Fatal(err)
		}
		length := -1
		for {
			line, err := br.ReadSlice('\n')
			if err != nil {
				b.Fatal(err)
			}
			if len(line) <= 2 {
				break
			}
			if bytes.HasPrefix(line, []byte("HTTP/1.1 ")) && !bytes.HasPrefix(line, []byte("HTTP/1.1 200")) {
				b.Fatalf("status line %q", line)
			}
			if v, ok := bytes.CutPrefix(line, []byte("Content-Length: ")); ok {
				length = int(parseContentLength(string(bytes.TrimSpace(v))))
			}
		}
		if length != 2 {
			b.Fatalf("response length %d, want 2", length)
		}
		if _, err := br.Discard(length); err != nil {
			b.Fatal(err)
		}
	}
	roundTrip() // connect the backend and warm the pools
	b.ReportAllocs()
	for b.Loop() {
		roundTrip()
	}
}
