package edge

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"trustgate/internal/model"
)

// rawBackend answers each request with the bytes scripted for its path,
// so responses a net/http server would never send can be tested. A
// script ending in "<close>" closes the connection after writing.
type rawBackend struct {
	ln      net.Listener
	mu      sync.Mutex
	scripts map[string]string
	conns   int
	wg      sync.WaitGroup
}

func newRawBackend(t *testing.T, scripts map[string]string) *rawBackend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &rawBackend{ln: ln, scripts: scripts}
	b.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b.mu.Lock()
			b.conns++
			b.mu.Unlock()
			b.wg.Go(func() { b.serve(c) })
		}
	})
	t.Cleanup(func() { ln.Close(); b.wg.Wait() })
	return b
}

func (b *rawBackend) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, req.Body)
		b.mu.Lock()
		script, ok := b.scripts[req.URL.Path]
		b.mu.Unlock()
		if !ok {
			script = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
		}
		script, closeAfter := strings.CutSuffix(script, "<close>")
		if _, err := io.WriteString(c, script); err != nil || closeAfter {
			return
		}
	}
}

func (b *rawBackend) connCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.conns
}

// rawFlow maps /raw/{proxy+} on api.example.com to a raw backend.
func rawFlow(t *testing.T, scripts map[string]string) (*seedFlow, *rawBackend) {
	f := newSeedFlow(t)
	be := newRawBackend(t, scripts)
	f.h.deploy("raw", "S", false, resource("/{proxy+}", map[string]*model.Method{
		"ANY": httpProxy("http://"+be.ln.Addr().String()+"/{proxy}", map[string]string{
			"integration.request.path.proxy": "method.request.path.proxy"}),
	}))
	f.h.mapping("api.example.com", "raw", "raw", "S")
	return f, be
}

// TestH1ResponseFraming: whatever framing the backend uses, the client
// gets the same body with framing of its own, on a connection that stays
// usable.
func TestH1ResponseFraming(t *testing.T) {
	f, be := rawFlow(t, map[string]string{
		"/chunked-trailer": "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n" +
			"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Sum: 42\r\n\r\n",
		"/until-close":  "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the backend closes<close>",
		"/http10":       "HTTP/1.0 200 OK\r\nContent-Length: 4\r\n\r\nold!",
		"/no-content":   "HTTP/1.1 204 No Content\r\nX-Kept: 1\r\n\r\n",
		"/not-modified": "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n",
		"/early-hints": "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n" +
			"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal",
		"/te-and-cl": "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 100\r\n\r\n" +
			"3\r\nabc\r\n0\r\n\r\n",
		"/bad-length":   "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\nx",
		"/two-lengths":  "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxy",
		"/bad-status":   "HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n",
		"/cut-short":    "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b<close>",
		"/big":          "HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n" + strings.Repeat("x", 1<<20),
		"/head-of-this": "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n",
	})
	h := f.h
	c := h.client("api.example.com", clientOpts{cert: f.leaf})
	get := func(path string) (result, error) {
		return h.do(c, "GET", "https://api.example.com/raw"+path, nil, nil)
	}

	t.Run("chunked with a declared trailer", func(t *testing.T) {
		r, err := get("/chunked-trailer")
		if err != nil {
			t.Fatal(err)
		}
		wantStatus(t, "chunked", r, 200, "hello world")
		if got := r.resp.Trailer.Get("X-Sum"); got != "42" {
			t.Errorf("trailer X-Sum = %q, want 42 (trailer %v)", got, r.resp.Trailer)
		}
		if len(r.resp.TransferEncoding) == 0 || r.resp.TransferEncoding[0] != "chunked" {
			t.Errorf("response to the client is not chunked: %v", r.resp.TransferEncoding)
		}
	})
	t.Run("body until the backend closes", func(t *testing.T) {
		r, err := get("/until-close")
		if err != nil {
			t.Fatal(err)
		}
		wantStatus(t, "close-delimited", r, 200, "until the backend closes")
		if r.resp.Close {
			t.Error("the client connection was closed: it has framing of its own")
		}
	})
	t.Run("HTTP/1.0 backend", func(t *testing.T) {
		r, err := get("/http10")
		if err != nil {
			t.Fatal(err)
		}
		wantStatus(t, "http/1.0", r, 200, "old!")
	})
	t.Run("204 and 304 carry no body", func(t *testing.T) {
		for _, p := range []string{"/no-content", "/not-modified", "/no-content"} {
			r, err := get(p)
			if err != nil {
				t.Fatal(err)
			}
			if r.body != "" || (r.status != 204 && r.status != 304) {
				t.Errorf("%s: %d %q", p, r.status, r.body)
			}
		}
	})
	t.Run("1xx then the answer", func(t *testing.T) {
		r, err := get("/early-hints")
		if err != nil {
			t.Fatal(err)
		}
		wantStatus(t, "early hints", r, 200, "final")
		if r.header.Get("Link") != "" {
			t.Errorf("the 103's Link header leaked into the final answer: %v", r.header)
		}
	})
	t.Run("Transfer-Encoding wins over Content-Length", func(t *testing.T) {
		n := be.connCount()
		r, err := get("/te-and-cl")
		if err != nil {
			t.Fatal(err)
		}
		wantStatus(t, "te and cl", r, 200, "abc")
		// The backend connection is not reused after such a message.
		r, err = get("/http10")
		if err != nil {
			t.Fatal(err)
		}
		wantStatus(t, "after te and cl", r, 200, "old!")
		if be.connCount() == n {
			t.Error("the connection that carried TE and CL was reused")
		}
	})
	for _, p := range []string{"/bad-length", "/two-lengths", "/bad-status"} {
		t.Run("malformed backend answer "+p, func(t *testing.T) {
			r, err := get(p)
			if err != nil {
				t.Fatal(err)
			}
			if r.status != http.StatusBadGateway {
				t.Fatalf("%s: status %d, want 502", p, r.status)
			}
			rec := h.accessRecord(t, r.header.Get("X-Amzn-Requestid"))
			if msg, _ := rec["error"].(string); !strings.Contains(msg, "malformed backend response") {
				t.Errorf("access log error %q does not say why", msg)
			}
		})
	}
	t.Run("body cut short", func(t *testing.T) {
		_, err := get("/cut-short")
		if err == nil {
			t.Fatal("a body the backend cut short reached the client as complete")
		}
		r, err := get("/http10")
		if err != nil {
			t.Fatal(err)
		}
		wantStatus(t, "after a cut", r, 200, "old!")
	})
	t.Run("1 MiB body", func(t *testing.T) {
		r, err := get("/big")
		if err != nil {
			t.Fatal(err)
		}
		if r.status != 200 || r.body != strings.Repeat("x", 1<<20) {
			t.Fatalf("big body: %d, %d bytes", r.status, len(r.body))
		}
	})
	t.Run("HEAD keeps the length", func(t *testing.T) {
		r, err := h.do(c, "HEAD", "https://api.example.com/raw/head-of-this", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.status != 200 || r.resp.ContentLength != 1234 || r.body != "" {
			t.Fatalf("HEAD: %d, length %d, body %q", r.status, r.resp.ContentLength, r.body)
		}
		wantStatus(t, "after HEAD", h.get(c, "https://api.example.com/raw/http10"), 200, "old!")
	})
}

// TestH1Shutdown: Shutdown closes idle keep-alive connections at once and
// lets a request in progress finish, its answer saying the connection
// closes.
func TestH1Shutdown(t *testing.T) {
	h := newHarness(t)
	arrived := make(chan struct{})
	release := make(chan struct{})
	be := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(arrived)
			<-release
		}
		_, _ = io.WriteString(w, "done")
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = be.Serve(ln) }()
	t.Cleanup(func() { be.Close() })
	h.domain("api.example.com", h.serverCert("api.example.com"), model.PolicyTLS12, nil)
	h.deploy("g", "S", false, resource("/{p}", map[string]*model.Method{"GET": httpProxy("http://"+ln.Addr().String()+"/{p}",
		map[string]string{"integration.request.path.p": "method.request.path.p"})}))
	h.mapping("api.example.com", "", "g", "S")

	dial := func() (*tls.Conn, *bufio.Reader) {
		c, err := tls.Dial("tcp", h.addr, &tls.Config{ServerName: "api.example.com", RootCAs: h.serverCA.Pool(),
			NextProtos: []string{"http/1.1"}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c, bufio.NewReader(c)
	}
	roundTrip := func(c *tls.Conn, br *bufio.Reader, path string) *http.Response {
		t.Helper()
		if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: api.example.com\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.ReadAll(resp.Body)
		return resp
	}
	idle, idleR := dial()
	if r := roundTrip(idle, idleR, "/fast"); r.StatusCode != 200 {
		t.Fatalf("idle connection's first request: %d", r.StatusCode)
	}
	busy, busyR := dial()
	if _, err := io.WriteString(busy, "GET /slow HTTP/1.1\r\nHost: api.example.com\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	<-arrived

	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut <- h.srv.Shutdown(ctx)
	}()
	// The idle connection is closed without waiting for the busy one.
	_ = idle.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := idleR.ReadByte(); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("idle keep-alive connection not closed by Shutdown: %v", err)
	}
	close(release)
	resp, err := http.ReadResponse(busyR, nil)
	if err != nil {
		t.Fatalf("in-flight request: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != "done" || !resp.Close {
		t.Fatalf("in-flight request: %d %q, Connection: close = %v", resp.StatusCode, body, resp.Close)
	}
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

// TestH1Upgrade: a protocol upgrade goes through the reverse proxy, which
// hijacks the h1 connection and then relays bytes both ways.
func TestH1Upgrade(t *testing.T) {
	f := newSeedFlow(t)
	be := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "echo" {
			http.Error(w, "want Upgrade: echo", http.StatusBadRequest)
			return
		}
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		_ = brw.Flush()
		_, _ = io.Copy(c, brw) // echo until the client closes
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = be.Serve(ln) }()
	t.Cleanup(func() { be.Close() })
	f.h.deploy("up", "S", false, resource("/up", map[string]*model.Method{
		"GET": httpProxy("http://"+ln.Addr().String()+"/up", nil)}))
	f.h.mapping("api.example.com", "up", "up", "S")

	c, err := tls.Dial("tcp", f.h.addr, &tls.Config{ServerName: "api.example.com", RootCAs: f.h.serverCA.Pool(),
		Certificates: []tls.Certificate{f.leaf.TLSCertificate()}, NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "GET /up/up HTTP/1.1\r\nHost: api.example.com\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d, want 101", resp.StatusCode)
	}
	if _, err := io.WriteString(c, "ping"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(br, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo through the upgraded connection: %q, %v", buf, err)
	}
}

// TestH1BadRequestBody: a request body the client botches is the client's
// fault: 400 with the reason in the access log, never a 502 that blames
// the backend.
func TestH1BadRequestBody(t *testing.T) {
	f, _ := rawFlow(t, map[string]string{"/post": "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"})
	c, err := tls.Dial("tcp", f.h.addr, &tls.Config{ServerName: "api.example.com", RootCAs: f.h.serverCA.Pool(),
		Certificates: []tls.Certificate{f.leaf.TLSCertificate()}, NextProtos: []string{"http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, "POST /raw/post HTTP/1.1\r\nHost: api.example.com\r\nTransfer-Encoding: chunked\r\n\r\n"+
		"5\r\nhello\r\nzz\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusBadRequest || !resp.Close {
		t.Fatalf("malformed chunked body: status %d, close %v; want 400 and close (log: %v)", resp.StatusCode, resp.Close, f.h.accessRecord(t, resp.Header.Get("X-Amzn-Requestid"))["error"])
	}
	rec := f.h.accessRecord(t, resp.Header.Get("X-Amzn-Requestid"))
	if msg, _ := rec["error"].(string); !strings.Contains(msg, "reading the request body") {
		t.Errorf("access log error %q does not say the body was at fault", msg)
	}
}
