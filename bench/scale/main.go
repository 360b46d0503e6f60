// Command scale measures the data plane at scale: 10,000 mTLS custom domains
// with 100,000 API mappings (10 per domain) over 100 deployed APIs. It
// reports how long the first snapshot takes to build, the process's peak RSS,
// and the cost of a keep-alive mTLS request (routing through the domain and
// mapping tables to a MOCK integration) compared with the same request on a
// 10-domain configuration.
//
//	go run ./bench/scale [-domains 10000] [-mappings 10] [-requests 20000]
//
// It is bounded (a 5-minute deadline) and stops by itself; everything lives
// in a temporary folder that is removed at the end. Certificates are made in
// memory at start.
package main

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"trustgate/internal/edge"
	"trustgate/internal/model"
	"trustgate/internal/store"
	"trustgate/internal/store/bolt"
)

const (
	zone   = "scale.example"
	region = "us-east-1"
	apis   = 100
)

func main() {
	domains := flag.Int("domains", 10000, "custom domains")
	perDomain := flag.Int("mappings", 10, "API mappings per domain")
	requests := flag.Int("requests", 20000, "keep-alive requests per lookup measurement")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := run(ctx, *domains, *perDomain, *requests); err != nil {
		log.Fatal(err)
	}
}

// pki is the in-memory PKI: a server CA with a wildcard certificate for
// every domain, and a client CA (the truststore) with one client.
type pki struct {
	serverRoot *x509.CertPool
	wildcard   model.Certificate
	defCert    tls.Certificate
	truststore []byte
	client     tls.Certificate
}

func run(ctx context.Context, domains, perDomain, requests int) error {
	dir, err := os.MkdirTemp("", "trustgate-scale-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	p, err := newPKI()
	if err != nil {
		return err
	}
	fmt.Printf("scale: %d domains x %d mappings = %d mappings, %d APIs, GOMAXPROCS=%d\n",
		domains, perDomain, domains*perDomain, apis, runtime.GOMAXPROCS(0))

	// The small configuration first, so the large one's heap does not
	// weigh on it.
	small, err := measure(ctx, filepath.Join(dir, "small"), p, 10, perDomain, requests, false)
	if err != nil {
		return fmt.Errorf("10 domains: %w", err)
	}
	large, err := measure(ctx, filepath.Join(dir, "large"), p, domains, perDomain, requests, true)
	if err != nil {
		return fmt.Errorf("%d domains: %w", domains, err)
	}
	fmt.Printf("\n| configuration | first snapshot build | rebuild after one change | peak RSS | heap after GC | keep-alive mTLS request |\n|---|---:|---:|---:|---:|---:|\n")
	for _, r := range []result{small, large} {
		fmt.Printf("| %d domains, %d mappings | %s | %s | %d MiB | %.1f MiB | %.1f µs |\n", r.domains, r.mappings,
			r.build.Round(time.Millisecond), r.rebuild.Round(time.Millisecond), r.peakRSS>>20, float64(r.heap)/(1<<20), r.perRequest)
	}
	fmt.Printf("\nrequest cost ratio %d / 10 domains: %.2f\n", domains, large.perRequest/small.perRequest)
	return nil
}

type result struct {
	domains, mappings int
	build, rebuild    time.Duration
	peakRSS, heap     uint64
	perRequest        float64 // µs
}

func measure(ctx context.Context, dir string, p *pki, domains, perDomain, requests int, report bool) (result, error) {
	r := result{domains: domains, mappings: domains * perDomain}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return r, err
	}
	db, err := bolt.Open(filepath.Join(dir, "state.db"))
	if err != nil {
		return r, err
	}
	defer db.Close()
	start := time.Now()
	rev, err := populate(ctx, db, p, domains, perDomain)
	if err != nil {
		return r, err
	}
	if report {
		fmt.Printf("store written in %s\n", time.Since(start).Round(time.Millisecond))
	}
	srv, err := edge.New(edge.Config{Store: db, Region: region, PublicDomain: "localhost", DefaultCertificate: p.defCert})
	if err != nil {
		return r, err
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	start = time.Now()
	go func() { _ = srv.Run(runCtx) }()
	if err := waitRevision(ctx, srv, rev); err != nil {
		return r, err
	}
	r.build = time.Since(start)

	// One more change (a mapping added to one domain): the rebuild reuses
	// every unchanged domain.
	start = time.Now()
	rev, err = db.Update(ctx, func(tx store.Tx) error {
		return store.PutJSON(tx, model.MappingKey(domainName(0), "extra"),
			model.APIMapping{ID: "extra", Key: "extra", APIID: apiID(0), Stage: "S"})
	})
	if err != nil {
		return r, err
	}
	if err := waitRevision(ctx, srv, rev); err != nil {
		return r, err
	}
	r.rebuild = time.Since(start)

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r.heap = ms.HeapAlloc
	r.peakRSS = peakRSS()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return r, err
	}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		sctx, c := context.WithTimeout(context.Background(), 5*time.Second)
		defer c()
		_ = srv.Shutdown(sctx)
	}()
	r.perRequest, err = requestCost(ln.Addr().String(), p, domainName(domains/2), perDomain-1, requests)
	return r, err
}

// populate writes the APIs, the certificate, the domains and their
// mappings in one transaction and returns the store revision.
func populate(ctx context.Context, db *bolt.DB, p *pki, domains, perDomain int) (int64, error) {
	return db.Update(ctx, func(tx store.Tx) error {
		for a := 0; a < apis; a++ {
			id := apiID(a)
			dep := model.Deployment{ID: "d1", APIID: id, API: model.DeployedAPI{Resources: []model.Resource{
				{ID: "root", Path: "/"},
				{ID: "items", Path: "/items"},
				{ID: "item", Path: "/items/{id}", Methods: map[string]*model.Method{"GET": mockMethod()}},
			}}}
			for _, put := range []struct {
				key string
				v   any
			}{
				{model.RestAPIKey(id), model.RestAPI{ID: id, Name: id}},
				{model.DeploymentKey(id, "d1"), dep},
				{model.StageKey(id, "S"), model.Stage{APIID: id, Name: "S", DeploymentID: "d1"}},
			} {
				if err := store.PutJSON(tx, put.key, put.v); err != nil {
					return err
				}
			}
		}
		if err := store.PutJSON(tx, model.CertKey("wildcard"), p.wildcard); err != nil {
			return err
		}
		for i := 0; i < domains; i++ {
			name := domainName(i)
			if err := store.PutJSON(tx, model.DomainKey(name), model.DomainName{Name: name, CertificateARN: p.wildcard.ARN,
				SecurityPolicy: model.PolicyTLS12,
				MutualTLS:      &model.MutualTLS{TruststoreURI: "s3://trust/partners.pem", Truststore: p.truststore}}); err != nil {
				return err
			}
			for m := 0; m < perDomain; m++ {
				id := fmt.Sprintf("m%d", m)
				if err := store.PutJSON(tx, model.MappingKey(name, id), model.APIMapping{ID: id, Key: fmt.Sprintf("svc%d/v1", m),
					APIID: apiID((i + m) % apis), Stage: "S"}); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func mockMethod() *model.Method {
	return &model.Method{HTTPMethod: "GET", AuthorizationType: "NONE", Integration: &model.Integration{
		Type:             model.IntegrationMock,
		RequestTemplates: map[string]string{"application/json": `{"statusCode": 200}`},
		IntegrationResponses: map[string]*model.IntegrationResponse{
			"200": {StatusCode: "200", ResponseTemplates: map[string]string{"application/json": `{"ok":true}`}},
		},
	}}
}

func domainName(i int) string { return fmt.Sprintf("d%05d.%s", i, zone) }
func apiID(i int) string      { return fmt.Sprintf("api%07d", i) }

func waitRevision(ctx context.Context, srv *edge.Server, rev int64) error {
	for srv.Revision() < rev {
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for revision %d (serving %d): %w", rev, srv.Revision(), ctx.Err())
		case <-time.After(time.Millisecond):
		}
	}
	return nil
}

// requestCost sends requests one after another on one keep-alive mTLS
// connection and returns the mean time per request in µs.
func requestCost(addr string, p *pki, host string, mapping, n int) (float64, error) {
	c, err := tls.Dial("tcp", addr, &tls.Config{ServerName: host, RootCAs: p.serverRoot,
		Certificates: []tls.Certificate{p.client}, NextProtos: []string{"http/1.1"}})
	if err != nil {
		return 0, err
	}
	defer c.Close()
	req := []byte(fmt.Sprintf("GET /svc%d/v1/items/42 HTTP/1.1\r\nHost: %s\r\n\r\n", mapping, host))
	br := bufio.NewReader(c)
	get := func() error {
		if _, err := c.Write(req); err != nil {
			return err
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("GET %s: status %d", host, resp.StatusCode)
		}
		return nil
	}
	for i := 0; i < n/10; i++ { // warm-up
		if err := get(); err != nil {
			return 0, err
		}
	}
	start := time.Now()
	for i := 0; i < n; i++ {
		if err := get(); err != nil {
			return 0, err
		}
	}
	return float64(time.Since(start).Microseconds()) / float64(n), nil
}

// peakRSS is VmHWM from /proc/self/status, in bytes.
func peakRSS() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb uint64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
			return kb << 10
		}
	}
	return 0
}

func newPKI() (*pki, error) {
	serverCA, serverKey, serverCAPEM, err := newCA("Scale Server Root")
	if err != nil {
		return nil, err
	}
	clientCA, clientKey, clientCAPEM, err := newCA("Scale Partner Root")
	if err != nil {
		return nil, err
	}
	wcPEM, wcKey, err := newLeaf(serverCA, serverKey, "*."+zone, []string{"*." + zone}, x509.ExtKeyUsageServerAuth)
	if err != nil {
		return nil, err
	}
	defPEM, defKey, err := newLeaf(serverCA, serverKey, "default", []string{"*.execute-api." + region + ".localhost"}, x509.ExtKeyUsageServerAuth)
	if err != nil {
		return nil, err
	}
	defCert, err := tls.X509KeyPair(defPEM, defKey)
	if err != nil {
		return nil, err
	}
	clPEM, clKey, err := newLeaf(clientCA, clientKey, "partner-1", nil, x509.ExtKeyUsageClientAuth)
	if err != nil {
		return nil, err
	}
	client, err := tls.X509KeyPair(clPEM, clKey)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(serverCA)
	_ = serverCAPEM
	return &pki{
		serverRoot: pool,
		wildcard: model.Certificate{ARN: "arn:aws:acm:" + region + ":000000000000:certificate/wildcard",
			CertificatePEM: string(wcPEM), PrivateKeyPEM: model.Secret(wcKey)},
		defCert:    defCert,
		truststore: clientCAPEM,
		client:     client,
	}, nil
}

func newCA(cn string) (*x509.Certificate, *ecdsa.PrivateKey, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, nil, err
	}
	return cert, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

func newLeaf(ca *x509.Certificate, caKey *ecdsa.PrivateKey, cn string, dns []string, eku x509.ExtKeyUsage) ([]byte, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn}, DNSNames: dns,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{eku}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, nil, err
	}
	kd, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}), nil
}
