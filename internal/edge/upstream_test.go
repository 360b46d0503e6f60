package edge

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"

	"trustgate/internal/model"
)

// oneShotBackend answers each connection's first request with a keep-alive
// response and then closes the connection: every connection the gateway
// keeps is stale by its next request.
type oneShotBackend struct {
	ln    net.Listener
	mu    sync.Mutex
	heads []http.Header
	conns int
	wg    sync.WaitGroup
}

func newOneShotBackend(t *testing.T) *oneShotBackend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	b := &oneShotBackend{ln: ln}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b.mu.Lock()
			b.conns++
			b.mu.Unlock()
			b.wg.Add(1)
			go func() {
				defer b.wg.Done()
				defer c.Close()
				req, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				b.mu.Lock()
				b.heads = append(b.heads, req.Header)
				b.mu.Unlock()
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nKeep-Alive: timeout=5\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nX-Kept: 1\r\n\r\nok")
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); b.wg.Wait() })
	return b
}

// TestFastPathStaleConnectionRetried: a kept backend connection that the
// backend closed in the meantime is replaced on the fly (the call is
// replayable), never turned into a 502; hop-by-hop headers are removed in
// both directions and X-Forwarded-For names the real peer only.
func TestFastPathStaleConnectionRetried(t *testing.T) {
	f := newSeedFlow(t)
	h := f.h
	be := newOneShotBackend(t)
	h.deploy("raw", "S", false, resource("/{proxy+}", map[string]*model.Method{
		"ANY": httpProxy("http://"+be.ln.Addr().String()+"/{proxy}", map[string]string{
			"integration.request.path.proxy": "method.request.path.proxy"}),
	}))
	h.mapping("api.example.com", "raw", "raw", "S")
	c := h.client("api.example.com", clientOpts{cert: f.leaf})
	hdr := http.Header{"Connection": {"X-Secret"}, "X-Secret": {"1"}, "X-Forwarded-For": {"6.6.6.6"}}
	for i := 0; i < 5; i++ {
		r, err := h.do(c, "GET", "https://api.example.com/raw/x", nil, hdr)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		wantStatus(t, "one-shot backend", r, 200, "ok")
		for _, k := range []string{"Keep-Alive", "X-Hop"} {
			if v := r.header.Get(k); v != "" {
				t.Errorf("response header %s = %q reached the client", k, v)
			}
		}
		if r.header.Get("X-Kept") != "1" {
			t.Errorf("end-to-end response header X-Kept lost: %v", r.header)
		}
	}
	be.mu.Lock()
	defer be.mu.Unlock()
	if be.conns < 5 || len(be.heads) != 5 {
		t.Fatalf("backend saw %d connections, %d requests; want >= 5 and 5", be.conns, len(be.heads))
	}
	for _, got := range be.heads {
		if got.Get("X-Secret") != "" || got.Get("Connection") != "" {
			t.Errorf("hop-by-hop header reached the backend: %v", got)
		}
		if xff := got.Values("X-Forwarded-For"); len(xff) != 1 || xff[0] != "127.0.0.1" {
			t.Errorf("X-Forwarded-For = %q, want the peer only", xff)
		}
	}
}
