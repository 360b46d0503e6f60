package edge

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"trustgate/internal/model"
	"trustgate/internal/store"
	"trustgate/internal/store/bolt"
	"trustgate/internal/testpki"
)

const (
	testRegion  = "us-east-1"
	testAccount = "000000000000"
	testPublic  = "localhost"
)

// syncBuffer is a goroutine-safe bytes.Buffer.
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

// flakyStore fails View on demand, to make whole snapshot builds fail.
type flakyStore struct {
	store.Store
	failView atomic.Bool
}

func (f *flakyStore) View(ctx context.Context, fn func(store.Tx) error) (int64, error) {
	if f.failView.Load() {
		return 0, errors.New("injected store read failure")
	}
	return f.Store.View(ctx, fn)
}

type harnessOpt func(*Config)

// harness runs the real edge on 127.0.0.1:0 over a bolt store.
type harness struct {
	t        testing.TB
	db       *bolt.DB
	store    *flakyStore
	srv      *Server
	addr     string
	reg      *prometheus.Registry
	access   *syncBuffer
	logs     *syncBuffer
	serverCA *testpki.CA
	serveErr chan error
	nextID   atomic.Int64
}

func newHarness(t testing.TB, opts ...harnessOpt) *harness {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{
		t:        t,
		db:       db,
		store:    &flakyStore{Store: db},
		reg:      prometheus.NewRegistry(),
		access:   &syncBuffer{},
		logs:     &syncBuffer{},
		serverCA: testpki.NewCA(t, "Gateway Server Root"),
		serveErr: make(chan error, 1),
	}
	def := h.serverCA.Leaf(t, testpki.Server("*.execute-api."+testRegion+"."+testPublic))
	cfg := Config{
		Store:              h.store,
		Region:             testRegion,
		AccountID:          testAccount,
		PublicDomain:       testPublic,
		DefaultCertificate: def.TLSCertificate(),
		Logger:             slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		AccessLog:          h.access,
		Registry:           h.reg,
		HandshakeTimeout:   3 * time.Second,
	}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.srv = srv
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.addr = ln.Addr().String()
	go func() { h.serveErr <- srv.Serve(ln) }()
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- srv.Run(ctx) }()
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		if err := srv.Shutdown(sctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-h.serveErr; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve returned %v, want http.ErrServerClosed", err)
		}
		cancel()
		if err := <-runDone; err != nil {
			t.Errorf("Run: %v", err)
		}
		db.Close()
		if t.Failed() {
			t.Logf("server log:\n%s", h.logs.String())
		}
	})
	return h
}

func (h *harness) port() string {
	_, p, _ := net.SplitHostPort(h.addr)
	return p
}

// update writes to the store and waits until the edge serves the result.
func (h *harness) update(fn func(tx store.Tx) error) {
	h.t.Helper()
	if _, err := h.db.Update(context.Background(), fn); err != nil {
		h.t.Fatalf("store update: %v", err)
	}
	h.sync()
}

func (h *harness) put(key string, v any) {
	h.t.Helper()
	h.update(func(tx store.Tx) error { return store.PutJSON(tx, key, v) })
}

// sync waits until the live snapshot has the store's current revision.
func (h *harness) sync() {
	h.t.Helper()
	rev, err := h.db.Revision(context.Background())
	if err != nil {
		h.t.Fatal(err)
	}
	waitFor(h.t, fmt.Sprintf("snapshot revision %d", rev), func() bool { return h.srv.Revision() >= rev })
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (h *harness) id() string { return fmt.Sprintf("id%08d", h.nextID.Add(1)) }

// serverCert stores an ACM certificate for names and returns its ARN.
func (h *harness) serverCert(names ...string) string {
	h.t.Helper()
	leaf := h.serverCA.Leaf(h.t, testpki.Server(names...))
	id := h.id()
	arn := "arn:aws:acm:" + testRegion + ":" + testAccount + ":certificate/" + id
	h.put(model.CertKey(id), model.Certificate{
		ARN: arn, DomainName: names[0], Type: model.CertImported, Status: "ISSUED",
		CertificatePEM: string(leaf.CertPEM), PrivateKeyPEM: model.Secret(leaf.KeyPEM),
		NotBefore: leaf.Cert.NotBefore, NotAfter: leaf.Cert.NotAfter,
	})
	return arn
}

// domain stores a custom domain; truststore nil means no mTLS.
func (h *harness) domain(name, certARN, policy string, truststore []byte) {
	h.t.Helper()
	d := model.DomainName{Name: name, ID: h.id(), CertificateARN: certARN, EndpointType: "REGIONAL",
		SecurityPolicy: policy, Status: model.DomainAvailable}
	if truststore != nil {
		d.MutualTLS = &model.MutualTLS{TruststoreURI: "s3://trust/" + name + ".pem", TruststoreVersion: h.id(),
			Truststore: truststore, FetchedAt: time.Now()}
	}
	h.put(model.DomainKey(name), d)
}

// deploy stores (or replaces) an API's deployment and points stage at it.
func (h *harness) deploy(apiID, stage string, disableDefault bool, resources ...model.Resource) string {
	h.t.Helper()
	depID := h.id()
	h.update(func(tx store.Tx) error {
		if _, err := tx.Get(model.RestAPIKey(apiID)); errors.Is(err, store.ErrNotFound) {
			if err := store.PutJSON(tx, model.RestAPIKey(apiID), model.RestAPI{ID: apiID, Name: apiID}); err != nil {
				return err
			}
		}
		dep := model.Deployment{ID: depID, APIID: apiID, CreatedDate: time.Now(),
			API: model.DeployedAPI{Name: apiID, DisableExecuteAPIEndpoint: disableDefault, Resources: resources}}
		if err := store.PutJSON(tx, model.DeploymentKey(apiID, depID), dep); err != nil {
			return err
		}
		return store.PutJSON(tx, model.StageKey(apiID, stage), model.Stage{APIID: apiID, Name: stage, DeploymentID: depID})
	})
	return depID
}

func (h *harness) mapping(domain, key, apiID, stage string) {
	h.t.Helper()
	id := h.id()
	h.put(model.MappingKey(domain, id), model.APIMapping{ID: id, DomainName: domain, Key: key, APIID: apiID, Stage: stage})
}

// resource builds a deployed resource with methods.
func resource(path string, methods map[string]*model.Method) model.Resource {
	return model.Resource{ID: strings.ReplaceAll(path, "/", "_"), Path: path, Methods: methods}
}

func httpProxy(uri string, params map[string]string) *model.Method {
	return &model.Method{HTTPMethod: "ANY", AuthorizationType: "NONE",
		Integration: &model.Integration{Type: model.IntegrationHTTPProxy, HTTPMethod: "ANY", URI: uri, RequestParameters: params}}
}

func mock(status int, body string) *model.Method {
	return &model.Method{HTTPMethod: "GET", AuthorizationType: "NONE", Integration: &model.Integration{
		Type:             model.IntegrationMock,
		RequestTemplates: map[string]string{"application/json": fmt.Sprintf(`{"statusCode": %d}`, status)},
		IntegrationResponses: map[string]*model.IntegrationResponse{
			fmt.Sprint(status): {StatusCode: fmt.Sprint(status), ResponseTemplates: map[string]string{"application/json": body}},
		},
	}}
}

// clientOpts shape a test client.
type clientOpts struct {
	cert       *testpki.Leaf
	minVersion uint16
	maxVersion uint16
	h2         bool
	cache      tls.ClientSessionCache
	insecure   bool // do not verify the gateway's certificate
}

// client returns an HTTP client that connects to the edge for every host,
// with the given SNI, verifying the gateway's certificates.
func (h *harness) client(sni string, o clientOpts) *http.Client {
	cfg := &tls.Config{
		ServerName:         sni,
		RootCAs:            h.serverCA.Pool(),
		MinVersion:         o.minVersion,
		MaxVersion:         o.maxVersion,
		ClientSessionCache: o.cache,
	}
	if sni == "" || o.insecure {
		cfg.InsecureSkipVerify = true // no name to verify against
	}
	if o.cert != nil {
		cfg.Certificates = []tls.Certificate{o.cert.TLSCertificate()}
	}
	cfg.NextProtos = []string{"http/1.1"}
	if o.h2 {
		cfg.NextProtos = []string{"h2", "http/1.1"}
	}
	// Dial TLS ourselves so an empty sni really sends no server name (the
	// transport would otherwise take it from the URL).
	tr := &http.Transport{
		DialTLSContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			raw, err := d.DialContext(ctx, network, h.addr)
			if err != nil {
				return nil, err
			}
			c := tls.Client(raw, cfg.Clone())
			if err := c.HandshakeContext(ctx); err != nil {
				raw.Close()
				return nil, err
			}
			return c, nil
		},
		ForceAttemptHTTP2: o.h2,
		MaxConnsPerHost:   1,
	}
	h.t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type result struct {
	status int
	body   string
	header http.Header
	resp   *http.Response
}

func (h *harness) do(c *http.Client, method, url string, body io.Reader, hdr http.Header) (result, error) {
	h.t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		h.t.Fatal(err)
	}
	for k, vs := range hdr {
		req.Header[k] = vs
	}
	resp, err := c.Do(req)
	if err != nil {
		return result{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return result{}, err
	}
	return result{status: resp.StatusCode, body: string(b), header: resp.Header, resp: resp}, nil
}

func (h *harness) get(c *http.Client, url string) result {
	h.t.Helper()
	r, err := h.do(c, http.MethodGet, url, nil, nil)
	if err != nil {
		h.t.Fatalf("GET %s: %v", url, err)
	}
	return r
}

// accessRecords flushes the access log and decodes every line.
func (h *harness) accessRecords() []map[string]any {
	h.t.Helper()
	if err := h.srv.accessLog.Flush(); err != nil {
		h.t.Fatal(err)
	}
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(h.access.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			h.t.Fatalf("access log line is not JSON: %v: %s", err, sc.Text())
		}
		out = append(out, m)
	}
	return out
}

// accessRecord returns the access-log record of a request id. The record is
// written after the response, so it waits for it.
func (h *harness) accessRecord(t testing.TB, requestID string) map[string]any {
	t.Helper()
	var rec map[string]any
	waitFor(t, "access-log record of "+requestID, func() bool {
		for _, m := range h.accessRecords() {
			if m["requestId"] == requestID {
				rec = m
				return true
			}
		}
		return false
	})
	return rec
}

// backend is a loopback HTTP backend that records what it receives.
type backend struct {
	*httptest.Server
	mu       sync.Mutex
	reqs     []recorded
	newConns atomic.Int64
}

type recorded struct {
	Method  string
	Path    string
	RawPath string
	Query   string
	Host    string
	Header  http.Header
	Body    string
}

func newBackend(t testing.TB) *backend {
	b := &backend{}
	b.Server = httptest.NewUnstartedServer(http.HandlerFunc(b.serve))
	b.Server.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			b.newConns.Add(1)
		}
	}
	b.Start()
	t.Cleanup(b.Close)
	return b
}

func (b *backend) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	b.mu.Lock()
	b.reqs = append(b.reqs, recorded{Method: r.Method, Path: r.URL.Path, RawPath: r.URL.EscapedPath(),
		Query: r.URL.RawQuery, Host: r.Host, Header: r.Header.Clone(), Body: string(body)})
	b.mu.Unlock()
	switch {
	case strings.HasSuffix(r.URL.Path, "/hang"):
		<-r.Context().Done()
		return
	case strings.HasSuffix(r.URL.Path, "/reset"):
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic("no hijacker")
		}
		c, _, _ := hj.Hijack()
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		c.Close()
		return
	case strings.HasSuffix(r.URL.Path, "/echo"):
		w.Header().Set("Content-Type", "application/octet-stream")
		_, _ = w.Write(body)
		return
	}
	w.Header().Set("X-Backend", "yes")
	w.Header().Set("X-Amzn-Requestid", "backend-made-this-up")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "backend %s %s", r.Method, r.URL.EscapedPath())
}

func (b *backend) last(t *testing.T) recorded {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.reqs) == 0 {
		t.Fatal("backend received nothing")
	}
	return b.reqs[len(b.reqs)-1]
}

func (b *backend) count() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.reqs)
}

// partnerPKI is a partner's CA with an intermediate and leaves.
type partnerPKI struct {
	root  *testpki.CA
	inter *testpki.CA
	// bundle is the truststore AWS wants: root and every intermediate.
	bundle []byte
}

func newPartner(t testing.TB, name string) *partnerPKI {
	root := testpki.NewCA(t, name+" Root")
	inter := root.Intermediate(t, name+" Issuing CA")
	return &partnerPKI{root: root, inter: inter, bundle: testpki.Bundle(root.CertPEM, inter.CertPEM)}
}

func wantStatus(t *testing.T, what string, r result, status int, body string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d (body %q)", what, r.status, status, r.body)
	}
	if body != "" && r.body != body {
		t.Fatalf("%s: body %q, want %q", what, r.body, body)
	}
}

// doRaw sends a request whose path goes on the wire exactly as written
// (dot segments and escapes included).
func (h *harness) doRaw(c *http.Client, method, rawURL string) (result, error) {
	h.t.Helper()
	req, err := http.NewRequest(method, rawURL, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	rest := strings.TrimPrefix(rawURL, "https:")
	if i := strings.IndexByte(rest, '?'); i >= 0 {
		rest = rest[:i]
	}
	req.URL.Opaque = rest
	resp, err := c.Do(req)
	if err != nil {
		return result{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return result{}, err
	}
	return result{status: resp.StatusCode, body: string(b), header: resp.Header, resp: resp}, nil
}

// metric reads one series from the harness's registry (0 if absent).
func (h *harness) metric(name string, labels ...string) float64 {
	h.t.Helper()
	fams, err := h.reg.Gather()
	if err != nil {
		h.t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
						found = true
					}
				}
				if !found {
					continue next
				}
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return 0
}

// series counts the series of a metric family.
func (h *harness) series(name string) int {
	h.t.Helper()
	fams, err := h.reg.Gather()
	if err != nil {
		h.t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == name {
			return len(f.GetMetric())
		}
	}
	return 0
}
