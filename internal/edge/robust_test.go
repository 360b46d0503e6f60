package edge

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"trustgate/internal/model"
	"trustgate/internal/testpki"
)

// clientHello returns the bytes of a real TLS ClientHello for sni.
func clientHello(t *testing.T, sni string) []byte {
	t.Helper()
	a, b := net.Pipe()
	go func() {
		c := tls.Client(a, &tls.Config{ServerName: sni, InsecureSkipVerify: true})
		_ = c.Handshake()
	}()
	hdr := make([]byte, 5)
	if _, err := io.ReadFull(b, hdr); err != nil {
		t.Fatal(err)
	}
	n := int(hdr[3])<<8 | int(hdr[4])
	body := make([]byte, n)
	if _, err := io.ReadFull(b, body); err != nil {
		t.Fatal(err)
	}
	a.Close()
	b.Close()
	return append(hdr, body...)
}

// waitClosed reads from c until the server closes it, failing after limit.
func waitClosed(t *testing.T, c net.Conn, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	_ = c.SetReadDeadline(start.Add(limit))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("server kept the connection open for %v", limit)
	}
	return time.Since(start)
}

func TestHostileClients(t *testing.T) {
	f := newSeedFlow(t, func(c *Config) {
		c.HandshakeTimeout = 300 * time.Millisecond
		c.ReadHeaderTimeout = 300 * time.Millisecond
	})
	h := f.h
	dial := func() net.Conn {
		c, err := net.Dial("tcp", h.addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	hello := clientHello(t, "api.example.com")

	t.Run("random bytes", func(t *testing.T) {
		c := dial()
		junk := make([]byte, 4096)
		_, _ = rand.Read(junk)
		_, _ = c.Write(junk)
		waitClosed(t, c, 5*time.Second)
	})
	t.Run("plain HTTP", func(t *testing.T) {
		c := dial()
		_, _ = io.WriteString(c, "GET / HTTP/1.1\r\nHost: api.example.com\r\n\r\n")
		line, _ := bufio.NewReader(c).ReadString('\n')
		if !strings.HasPrefix(line, "HTTP/1.0 400") {
			t.Errorf("plain HTTP got %q", line)
		}
	})
	t.Run("truncated ClientHello then close", func(t *testing.T) {
		c := dial()
		_, _ = c.Write(hello[:len(hello)/2])
		c.(*net.TCPConn).CloseWrite()
		waitClosed(t, c, 5*time.Second)
	})
	t.Run("truncated ClientHello then stall", func(t *testing.T) {
		c := dial()
		_, _ = c.Write(hello[:len(hello)/2])
		if d := waitClosed(t, c, 5*time.Second); d > 2*time.Second {
			t.Errorf("stalled handshake cut after %v, want about the 300ms handshake timeout", d)
		}
	})
	t.Run("silent client", func(t *testing.T) {
		c := dial()
		if d := waitClosed(t, c, 5*time.Second); d > 2*time.Second {
			t.Errorf("silent connection cut after %v", d)
		}
	})
	t.Run("stall after ClientHello", func(t *testing.T) {
		c := dial()
		_, _ = c.Write(hello) // never answer the server's flight
		if d := waitClosed(t, c, 5*time.Second); d > 2*time.Second {
			t.Errorf("stalled handshake cut after %v", d)
		}
	})
	t.Run("headers that never end", func(t *testing.T) {
		c, err := tls.Dial("tcp", h.addr, &tls.Config{ServerName: "api.example.com", RootCAs: h.serverCA.Pool(),
			Certificates: []tls.Certificate{f.leaf.TLSCertificate()}, NextProtos: []string{"http/1.1"}})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, _ = io.WriteString(c, "GET /c360/customer/1 HTTP/1.1\r\nHost: api.example.com\r\n")
		if d := waitClosed(t, c, 5*time.Second); d > 2*time.Second {
			t.Errorf("slow headers cut after %v, want about the 300ms read-header timeout", d)
		}
	})
	t.Run("oversized headers", func(t *testing.T) {
		hdr := http.Header{"X-Big": {strings.Repeat("a", 100<<10)}}
		r, err := h.do(h.client("api.example.com", clientOpts{cert: f.leaf}), "GET", "https://api.example.com/c360/customer/1", nil, hdr)
		if err != nil {
			t.Fatal(err)
		}
		if r.status != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("status %d, want 431", r.status)
		}
	})
	// After all that, a real client is served.
	wantStatus(t, "after hostile clients", h.get(h.client("api.example.com", clientOpts{cert: f.leaf}), "https://api.example.com/c360/customer/1"), 200, "")

	waitFor(t, "handshake failures in metrics", func() bool {
		hs := func(domain, result string) float64 {
			return h.metric("trustgate_edge_handshakes_total", "domain", domain, "result", result)
		}
		return hs("unknown", "not_tls") >= 2 && hs("unknown", "timeout") >= 2 &&
			hs("unknown", "closed") >= 1 && hs("api.example.com", "timeout") >= 1
	})
	var sawNotTLS bool
	for _, m := range h.accessRecords() {
		if m["event"] == "handshake" && m["mtlsReason"] == "not_tls" {
			sawNotTLS = true
		}
	}
	if !sawNotTLS {
		t.Error("no access-log record for the random bytes")
	}
}

// TestNoGoroutineLeak runs hostile and failing traffic through a server and
// checks that, once it is shut down, its goroutines are gone.
func TestNoGoroutineLeak(t *testing.T) {
	base := runtime.NumGoroutine()
	t.Run("traffic", func(t *testing.T) {
		f := newSeedFlow(t, func(c *Config) {
			c.HandshakeTimeout = 200 * time.Millisecond
			c.UpstreamTimeout = 200 * time.Millisecond
		})
		h := f.h
		h.deploy("bad", "S", false,
			resource("/hang", map[string]*model.Method{"GET": httpProxy(f.be.URL+"/hang", nil)}),
			resource("/reset", map[string]*model.Method{"GET": httpProxy(f.be.URL+"/reset", nil)}))
		h.mapping("api.example.com", "bad", "bad", "S")
		c := h.client("api.example.com", clientOpts{cert: f.leaf, h2: true})
		for i := 0; i < 3; i++ {
			wantStatus(t, "hang", h.get(c, "https://api.example.com/bad/hang"), 504, "")
			wantStatus(t, "reset", h.get(c, "https://api.example.com/bad/reset"), 502, "")
			wantStatus(t, "ok", h.get(c, "https://api.example.com/c360/customer/1"), 200, "")
			if _, err := h.do(h.client("api.example.com", clientOpts{}), "GET", "https://api.example.com/", nil, nil); err == nil {
				t.Fatal("no-certificate request succeeded")
			}
			raw, err := net.Dial("tcp", h.addr)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = raw.Write([]byte("\x16\x03\x01\x00\x10garbage")) // stalls mid-record
			waitClosed(t, raw, 5*time.Second)
			raw.Close()
		}
		// A client that disconnects mid-request.
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		req, _ := http.NewRequestWithContext(ctx, "GET", "https://api.example.com/bad/hang", nil)
		_, _ = c.Do(req)
		cancel()
	})
	waitFor(t, "goroutines to settle", func() bool { return runtime.NumGoroutine() <= base+2 })
}

func TestGracefulShutdown(t *testing.T) {
	h := newHarness(t)
	arrived := make(chan struct{})
	release := make(chan struct{})
	be := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-release
		_, _ = io.WriteString(w, "finished")
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = be.Serve(ln) }()
	t.Cleanup(func() { be.Close() })
	h.domain("api.example.com", h.serverCert("api.example.com"), model.PolicyTLS12, nil)
	h.deploy("g", "S", false, resource("/slow", map[string]*model.Method{"GET": httpProxy("http://"+ln.Addr().String()+"/slow", nil)}))
	h.mapping("api.example.com", "", "g", "S")

	c := h.client("api.example.com", clientOpts{})
	done := make(chan result, 1)
	go func() {
		r, err := h.do(c, "GET", "https://api.example.com/slow", nil, nil)
		if err != nil {
			t.Errorf("in-flight request: %v", err)
		}
		done <- r
	}()
	<-arrived
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		shut <- h.srv.Shutdown(ctx)
	}()
	// New connections are refused once shutdown began.
	waitFor(t, "listener closed", func() bool {
		c, err := net.DialTimeout("tcp", h.addr, time.Second)
		if err != nil {
			return true
		}
		c.Close()
		return false
	})
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned (%v) before the in-flight request finished", err)
	default:
	}
	close(release)
	if r := <-done; r.status != 200 || r.body != "finished" {
		t.Fatalf("in-flight request: %d %q", r.status, r.body)
	}
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

// TestCurl drives the edge with curl (OpenSSL) when it is installed.
func TestCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed")
	}
	f := newSeedFlow(t)
	h := f.h
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ca := write("gateway-ca.pem", h.serverCA.CertPEM)
	stranger := newPartner(t, "Stranger").inter.Leaf(t, testpki.Client("stranger"))
	run := func(args ...string) (code string, body string, err error) {
		out := filepath.Join(dir, "body")
		_ = os.Remove(out)
		base := []string{"-s", "-o", out, "-w", "%{http_code}", "--max-time", "10",
			"--resolve", "api.example.com:" + h.port() + ":127.0.0.1", "--cacert", ca}
		cmd := exec.Command(curl, append(base, args...)...)
		stdout, err := cmd.Output()
		b, _ := os.ReadFile(out)
		return string(stdout), string(b), err
	}
	url := "https://api.example.com:" + h.port() + "/c360/customer/42"
	partnerCert := write("partner.pem", f.leaf.FullPEM())
	partnerKey := write("partner.key", f.leaf.KeyPEM)

	code, body, err := run("--cert", partnerCert, "--key", partnerKey, url)
	if err != nil || code != "200" || body != "backend GET /customers/42" {
		t.Errorf("trusted: code %s body %q err %v", code, body, err)
	}
	code, _, err = run("--http2", "--cert", partnerCert, "--key", partnerKey, url)
	if err != nil || code != "200" {
		t.Errorf("trusted over h2: code %s err %v", code, err)
	}
	code, _, err = run(url)
	if err == nil || code != "000" {
		t.Errorf("no certificate: code %s err %v, want a failed handshake", code, err)
	}
	code, body, err = run("--cert", write("s.pem", stranger.FullPEM()), "--key", write("s.key", stranger.KeyPEM), url)
	if err != nil || code != "403" || body != `{"message":"Forbidden"}` {
		t.Errorf("untrusted: code %s body %q err %v", code, body, err)
	}
	code, _, err = run("--cert", partnerCert, "--key", partnerKey, "-H", "Host: other.example.com", url)
	if err != nil || code != "421" {
		t.Errorf("host mismatch: code %s err %v", code, err)
	}
	code, _, err = run("--tlsv1.3", "--cert", partnerCert, "--key", partnerKey, url)
	if err != nil || code != "200" {
		t.Errorf("TLS 1.3: code %s err %v", code, err)
	}
	code, _, err = run("--tls-max", "1.1", "--cert", partnerCert, "--key", partnerKey, url)
	if err == nil {
		t.Errorf("TLS 1.1 accepted on a TLS_1_2 domain: code %s", code)
	}
}
