package edge

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"trustgate/internal/model"
)

// These tests speak HTTP/1.1 on the wire to the real edge, over TLS with a
// trusted client certificate. They pin what any correct and safe HTTP/1.1
// server must do (RFC 9112), whichever connection loop serves it: where the
// RFC lets a server choose (reject or repair), both answers are accepted,
// never the one that lets a request be read two ways.

// wireIO bounds every read and write: a server that neither answers nor
// closes fails the test instead of hanging it.
const wireIO = 3 * time.Second

// smuggledPath is the target of every request that must never be served;
// the seed backend must never see /customers/666.
const smuggledPath = "/c360/customer/666"

const wireHost = "Host: api.example.com"

// These properties were written against net/http's connection loop and
// hold for the h1 loop. net/http broke two of them: after a request with
// both Content-Length and Transfer-Encoding it kept the connection (RFC
// 9112 §6.3 says close), and a request whose body the client cut short got
// an implicit "200 OK" with an empty body.

// bodySink is a backend that reads each request body to its end and records
// whether it arrived complete, so a test can tell a body the edge forwarded
// whole from one it aborted. It answers "sink METHOD PATH LEN".
type bodySink struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []sunk
}

type sunk struct {
	method, path string
	header       http.Header
	body         string
	complete     bool // the body read ended cleanly
}

func newBodySink(t *testing.T) *bodySink {
	s := &bodySink{}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *bodySink) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/stream" {
		// A response of unknown length, flushed in two parts.
		_, _ = io.WriteString(w, "part1")
		_ = http.NewResponseController(w).Flush()
		_, _ = io.WriteString(w, "part2")
		return
	}
	body, err := io.ReadAll(r.Body)
	s.mu.Lock()
	s.reqs = append(s.reqs, sunk{method: r.Method, path: r.URL.Path, header: r.Header.Clone(),
		body: string(body), complete: err == nil})
	s.mu.Unlock()
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	fmt.Fprintf(w, "sink %s %s %d", r.Method, r.URL.Path, len(body))
}

// find returns the requests the sink received for path.
func (s *bodySink) find(path string) []sunk {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []sunk
	for _, r := range s.reqs {
		if r.path == path {
			out = append(out, r)
		}
	}
	return out
}

// wireFlow is the seed flow plus /wire/{proxy+} (any method, HTTP_PROXY)
// to a bodySink: /wire/echo reaches the sink as /echo.
type wireFlow struct {
	*seedFlow
	sink *bodySink
}

func newWireFlow(t *testing.T) *wireFlow {
	f := newSeedFlow(t)
	s := newBodySink(t)
	f.h.deploy("wire", "W", false,
		resource("/{proxy+}", map[string]*model.Method{"ANY": httpProxy(s.URL+"/{proxy}", nil)}))
	f.h.mapping("api.example.com", "wire", "wire", "W")
	return &wireFlow{seedFlow: f, sink: s}
}

// served666 counts the requests for smuggledPath the seed backend received
// (as /customers/666).
func (f *wireFlow) served666() int {
	f.be.mu.Lock()
	defer f.be.mu.Unlock()
	n := 0
	for _, r := range f.be.reqs {
		if r.Path == "/customers/666" {
			n++
		}
	}
	return n
}

// neverServed fails t if a request for smuggledPath reaches the backend
// while t runs.
func (f *wireFlow) neverServed(t *testing.T) {
	t.Helper()
	before := f.served666()
	t.Cleanup(func() {
		if n := f.served666() - before; n > 0 {
			t.Errorf("the backend received %d request(s) for %s, which must never be served", n, smuggledPath)
		}
	})
}

// wireConn is one raw HTTP/1.1 connection over TLS.
type wireConn struct {
	t  *testing.T
	c  *tls.Conn
	br *bufio.Reader
}

func (f *wireFlow) dial(t *testing.T) *wireConn {
	t.Helper()
	d := &net.Dialer{Timeout: wireIO}
	c, err := tls.DialWithDialer(d, "tcp", f.h.addr, &tls.Config{
		ServerName:   "api.example.com",
		RootCAs:      f.h.serverCA.Pool(),
		Certificates: []tls.Certificate{f.leaf.TLSCertificate()},
		NextProtos:   []string{"http/1.1"},
	})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	if p := c.ConnectionState().NegotiatedProtocol; p != "http/1.1" {
		t.Fatalf("ALPN chose %q, want http/1.1", p)
	}
	return &wireConn{t: t, c: c, br: bufio.NewReader(c)}
}

func (w *wireConn) send(s string) {
	w.t.Helper()
	_ = w.c.SetWriteDeadline(time.Now().Add(wireIO))
	if _, err := io.WriteString(w.c, s); err != nil {
		w.t.Fatalf("write: %v", err)
	}
}

// wireResp is a response read off the wire, body included.
type wireResp struct {
	*http.Response
	body string
}

func (r wireResp) String() string { return fmt.Sprintf("%d %q", r.StatusCode, r.body) }

// next reads one response to a request with the given method (HEAD
// responses have no body), body included.
func (w *wireConn) next(method string) (wireResp, error) {
	_ = w.c.SetReadDeadline(time.Now().Add(wireIO))
	resp, err := http.ReadResponse(w.br, &http.Request{Method: method})
	if err != nil {
		return wireResp{}, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return wireResp{}, fmt.Errorf("reading the body of a %d: %w", resp.StatusCode, err)
	}
	return wireResp{Response: resp, body: string(b)}, nil
}

// read reads one response and fails the test if there is none.
func (w *wireConn) read(method string) wireResp {
	w.t.Helper()
	r, err := w.next(method)
	if timedOut(err) {
		w.t.Fatalf("no response within %v: the server hung", wireIO)
	}
	if err != nil {
		w.t.Fatalf("reading a response: %v", err)
	}
	return r
}

// closed fails the test unless the server closes the connection (EOF or a
// reset) within wireIO without sending anything more.
func (w *wireConn) closed() {
	w.t.Helper()
	_ = w.c.SetReadDeadline(time.Now().Add(wireIO))
	b, err := io.ReadAll(w.br)
	if len(b) > 0 {
		w.t.Fatalf("server sent %q where it should have closed the connection", b)
	}
	if timedOut(err) {
		w.t.Fatalf("server kept the connection open for %v, want it closed", wireIO)
	}
}

// rejected reads the answer to a request the server must refuse: a status
// for which ok is true, then the server closes the connection (after a
// request it could not parse, the rest of the stream cannot be trusted).
func (w *wireConn) rejected(what string, ok func(int) bool) wireResp {
	w.t.Helper()
	r := w.read("GET")
	if !ok(r.StatusCode) {
		w.t.Fatalf("%s: answered %s", what, r)
	}
	w.t.Logf("%s: answered %d", what, r.StatusCode)
	w.closed()
	return r
}

// rejectedOrCut accepts a refusal (a status for which ok is true) or a
// connection closed without an answer; either way the connection ends.
func (w *wireConn) rejectedOrCut(what string, ok func(int) bool) {
	w.t.Helper()
	r, err := w.next("GET")
	switch {
	case timedOut(err):
		w.t.Fatalf("%s: no answer and no close within %v", what, wireIO)
	case err != nil:
		w.t.Logf("%s: closed without an answer (%v)", what, err)
		return // closed (EOF or reset) without an answer
	case !ok(r.StatusCode):
		w.t.Fatalf("%s: answered %s", what, r)
	}
	w.t.Logf("%s: answered %s", what, r)
	w.closed()
}

func timedOut(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func is400(code int) bool    { return code == http.StatusBadRequest }
func is4xx(code int) bool    { return code >= 400 && code < 500 }
func isNot2xx(code int) bool { return code >= 300 }

// head builds a request head: the request line, the header lines, the
// blank line.
func wireHead(line string, headers ...string) string {
	return line + "\r\n" + strings.Join(append(headers, ""), "\r\n") + "\r\n"
}

func wireGet(path string, headers ...string) string {
	return wireHead("GET "+path+" HTTP/1.1", append([]string{wireHost}, headers...)...)
}

// wantSeed checks a seed route's answer for customer id.
func wantSeed(t *testing.T, r wireResp, id string) {
	t.Helper()
	if want := "backend GET /customers/" + id; r.StatusCode != 200 || r.body != want {
		t.Fatalf("GET customer %s: got %s, want 200 %q", id, r, want)
	}
}

// wantFramed checks that a response on a persistent connection delimits its
// body (RFC 9112 §6.3: without Content-Length or chunked, the body only
// ends at close) and carries a Date (RFC 9110 §6.6.1).
func wantFramed(t *testing.T, r wireResp) {
	t.Helper()
	chunked := len(r.TransferEncoding) > 0 && r.TransferEncoding[len(r.TransferEncoding)-1] == "chunked"
	if r.ContentLength < 0 && !chunked && !r.Close {
		t.Errorf("%d response on a kept-alive connection has neither Content-Length nor chunked encoding", r.StatusCode)
	}
	if _, err := http.ParseTime(r.Header.Get("Date")); err != nil {
		t.Errorf("%d response: Date %q: %v", r.StatusCode, r.Header.Get("Date"), err)
	}
}

func TestH1Wire(t *testing.T) {
	f := newWireFlow(t)

	// RFC 9112 §9.3: HTTP/1.1 connections persist; responses come back in
	// request order, also when the requests were pipelined in one write.
	t.Run("keep-alive and pipelining", func(t *testing.T) {
		c := f.dial(t)
		for _, id := range []string{"1", "2", "3"} {
			c.send(wireGet("/c360/customer/" + id))
			r := c.read("GET")
			wantSeed(t, r, id)
			wantFramed(t, r)
		}
		// The gateway's own error answers keep the connection too.
		c.send(wireGet("/c360/nope"))
		if r := c.read("GET"); r.StatusCode != http.StatusForbidden {
			t.Fatalf("unrouted path: got %s, want 403", r)
		} else {
			wantFramed(t, r)
		}
		c.send(wireGet("/c360/customer/4"))
		wantSeed(t, c.read("GET"), "4")

		c.send(wireGet("/c360/customer/5") +
			wireHead("POST /wire/echo HTTP/1.1", wireHost, "Content-Length: 5") + "hello" +
			wireGet("/c360/customer/6"))
		wantSeed(t, c.read("GET"), "5")
		if r := c.read("POST"); r.StatusCode != 200 || r.body != "sink POST /echo 5" {
			t.Fatalf("pipelined POST: got %s", r)
		}
		wantSeed(t, c.read("GET"), "6")
	})

	// RFC 9112 §9.3: an HTTP/1.0 request without keep-alive ends the
	// connection; with "Connection: keep-alive" the server may keep it, and
	// this one must (ab -k and similar load tools speak exactly this). A
	// 1.0 client cannot parse chunked (RFC 9112 §6.1), so a 1.0 response is
	// never chunked.
	t.Run("HTTP/1.0", func(t *testing.T) {
		not10Chunked := func(r wireResp) {
			t.Helper()
			if len(r.TransferEncoding) > 0 {
				t.Errorf("response to HTTP/1.0 uses Transfer-Encoding %q", r.TransferEncoding)
			}
		}
		c := f.dial(t)
		c.send(wireHead("GET /c360/customer/7 HTTP/1.0", wireHost))
		r := c.read("GET")
		wantSeed(t, r, "7")
		not10Chunked(r)
		c.closed()

		c = f.dial(t)
		for _, id := range []string{"8", "9"} {
			c.send(wireHead("GET /c360/customer/"+id+" HTTP/1.0", wireHost, "Connection: keep-alive"))
			r := c.read("GET")
			wantSeed(t, r, id)
			not10Chunked(r)
			if r.ContentLength < 0 {
				t.Fatalf("kept-alive HTTP/1.0 response without Content-Length")
			}
		}
	})

	// RFC 9112 §9.6: after a request with "Connection: close" the server
	// sends its response (saying close), closes, and processes no further
	// request received on that connection.
	t.Run("Connection: close", func(t *testing.T) {
		f.neverServed(t)
		c := f.dial(t)
		c.send(wireGet("/c360/customer/10", "Connection: close") + wireGet(smuggledPath))
		r := c.read("GET")
		wantSeed(t, r, "10")
		if !r.Close {
			t.Errorf("response to Connection: close lacks Connection: close: %v", r.Header)
		}
		c.closed()
	})

	// RFC 9112 §3.2: a 1.1 request without Host, with two Host lines, or
	// with an invalid Host value is answered 400.
	t.Run("Host", func(t *testing.T) {
		tests := []struct {
			name    string
			headers []string
			ok      func(int) bool
		}{
			{"missing", nil, is400},
			{"twice, same value", []string{wireHost, wireHost}, is400},
			{"twice, other value", []string{wireHost, "Host: other.example.com"}, is400},
			// Some servers parse the host then fail to route it (421
			// Misdirected): refused either way.
			{"invalid value", []string{"Host: api.example.com/c360"}, is4xx},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f.neverServed(t)
				c := f.dial(t)
				c.send(wireHead("GET "+smuggledPath+" HTTP/1.1", tt.headers...))
				c.rejected(tt.name, tt.ok)
			})
		}
	})

	t.Run("smuggling", func(t *testing.T) {
		// RFC 9112 §6.3 (3): with both Transfer-Encoding and Content-Length,
		// chunked wins; the server may reject the request, and either way
		// MUST close the connection after responding. Two payloads hide a
		// request to smuggledPath: one after a chunked body that ends early
		// (a server reading chunked, but keeping the connection, would serve
		// it), one right after the Content-Length bytes (a server reading
		// Content-Length would serve it).
		inner := wireGet(smuggledPath)
		hexLine := strconv.FormatInt(int64(len(inner)), 16) + "\r\n"
		both := []struct {
			name       string
			payload    string
			length     int
			chunkedGot string // the body when read as chunked
		}{
			{"request after the chunked end", "0\r\n\r\n" + inner, len("0\r\n\r\n" + inner), ""},
			{"request after the Content-Length end", hexLine + inner + "\r\n0\r\n\r\n", len(hexLine), inner},
		}
		for i, tt := range both {
			t.Run("CL and TE: "+tt.name, func(t *testing.T) {
				f.neverServed(t)
				path := fmt.Sprintf("/smuggle%d", i)
				c := f.dial(t)
				c.send(wireHead("POST /wire"+path+" HTTP/1.1", wireHost,
					"Content-Length: "+strconv.Itoa(tt.length), "Transfer-Encoding: chunked") + tt.payload)
				r := c.read("POST")
				if r.StatusCode != http.StatusBadRequest && r.StatusCode != 200 {
					t.Fatalf("answered %s, want 400, or 200 with the body read as chunked", r)
				}
				for _, got := range f.sink.find(path) {
					if got.body != tt.chunkedGot {
						t.Errorf("backend got body %q, want %q (Transfer-Encoding overrides Content-Length)", got.body, tt.chunkedGot)
					}
				}
				c.closed()
			})
		}

		// RFC 9110 §8.6, RFC 9112 §6.3 (5): a Content-Length that is not
		// one decimal number makes the framing unrecoverable: 400, close.
		for _, cl := range [][]string{
			{"Content-Length: 5", "Content-Length: 6"},
			{"Content-Length: +5"},
			{"Content-Length: -1"},
			{"Content-Length: 5, 6"},
			{"Content-Length: 0x5"},
			{"Content-Length: 5 6"},
			{"Content-Length:"},
			{"Content-Length: 99999999999999999999"},
		} {
			t.Run(strings.Join(cl, " + "), func(t *testing.T) {
				f.neverServed(t)
				c := f.dial(t)
				c.send(wireHead("POST /wire/badlength HTTP/1.1", append([]string{wireHost}, cl...)...) + "hello!" + wireGet(smuggledPath))
				c.rejected(strings.Join(cl, ", "), is400)
				if got := f.sink.find("/badlength"); len(got) > 0 {
					t.Fatalf("backend received %d request(s) with an invalid Content-Length: %+v", len(got), got)
				}
			})
		}

		// RFC 9112 §6.1, §6.3 (4): chunked must be the final coding, applied
		// once; any other coding is not understood (400 per §6.3, 501 per
		// §6.1 is also seen). The body must never reach the backend read
		// some other way.
		for _, te := range [][]string{
			{"Transfer-Encoding: gzip, chunked"},
			{"Transfer-Encoding: chunked, gzip"},
			{"Transfer-Encoding: identity"},
			{"Transfer-Encoding: chunked", "Transfer-Encoding: chunked"},
			{"Transfer-Encoding: chunked, chunked"},
			{"Transfer-Encoding: xchunked"},
			{"Transfer-Encoding: chunked", "Content-Length: 5", "Transfer-Encoding: identity"},
		} {
			t.Run(strings.Join(te, " + "), func(t *testing.T) {
				f.neverServed(t)
				c := f.dial(t)
				c.send(wireHead("POST /wire/badcoding HTTP/1.1", append([]string{wireHost}, te...)...) +
					"5\r\nhello\r\n0\r\n\r\n" + wireGet(smuggledPath))
				c.rejected(strings.Join(te, ", "), func(code int) bool { return is4xx(code) || code == http.StatusNotImplemented })
				if got := f.sink.find("/badcoding"); len(got) > 0 {
					t.Fatalf("backend received %d request(s) with an unsupported transfer coding: %+v", len(got), got)
				}
			})
		}

		// Header-line syntax. For obs-fold, bare CR and NUL the RFC lets a
		// server either reject (400) or replace the offending bytes with SP
		// (RFC 9112 §5.2, §2.2; RFC 9110 §5.5); both are accepted, but a
		// repaired request must never carry the hidden line as a header of
		// its own.
		hidden := "X-Injected: yes"
		repaired := []struct {
			name    string
			headers []string
		}{
			{"obs-fold", []string{wireHost, "X-Fold: a", " " + hidden}},
			// RFC 9112 §2.2: whitespace before the first field line: reject,
			// or consume the line without processing it.
			{"fold before the first field", []string{" " + hidden, wireHost}},
			{"bare CR", []string{wireHost, "X-Fold: a\r" + hidden}},
			{"NUL", []string{wireHost, "X-Fold: a\x00b"}},
		}
		for _, tt := range repaired {
			t.Run(tt.name, func(t *testing.T) {
				n := f.be.count()
				c := f.dial(t)
				c.send(wireHead("GET /c360/customer/11 HTTP/1.1", tt.headers...))
				r := c.read("GET")
				t.Logf("answered %d", r.StatusCode)
				switch r.StatusCode {
				case http.StatusBadRequest:
					c.closed()
				case http.StatusOK:
					wantSeed(t, r, "11")
					if f.be.count() == n {
						t.Fatal("answered 200 but the backend saw nothing")
					}
					got := f.be.last(t).Header
					if v := got.Get("X-Injected"); v != "" {
						t.Errorf("the hidden line became a header: X-Injected: %q", v)
					}
					if v := got.Get("X-Fold"); strings.ContainsAny(v, "\r\n\x00") {
						t.Errorf("backend got X-Fold %q", v)
					}
				default:
					t.Fatalf("answered %s, want 400 (or 200 with the value repaired)", r)
				}
			})
		}

		// RFC 9112 §5.1: whitespace between a field name and the colon MUST
		// be answered 400: such a line could be read as another field.
		for _, line := range []string{"Host : api.example.com", "X-A : b", "Content-Length : 5", "Transfer-Encoding : chunked"} {
			t.Run("space before colon "+line, func(t *testing.T) {
				f.neverServed(t)
				headers := []string{line}
				if !strings.HasPrefix(line, "Host") {
					headers = append(headers, wireHost)
				}
				c := f.dial(t)
				c.send(wireHead("POST /wire/badname HTTP/1.1", headers...) + "hello" + wireGet(smuggledPath))
				c.rejected(line, is400)
			})
		}

		// RFC 9112 §3: a request line is method SP request-target SP
		// HTTP-version; anything else is refused and the connection closed.
		// A major version other than 1 may get 505 (RFC 9110 §15.6.6).
		lines := []struct {
			line string
			ok   func(int) bool
		}{
			{"GET " + smuggledPath + " HTTP/1.1 extra", is400},
			{"GET " + smuggledPath + " FOO", is400},
			{"GET " + smuggledPath + " http/1.1", is400},
			{"GET " + smuggledPath + " HTTP/1.10", is400},
			{"GET " + smuggledPath, is400},
			{"G@T " + smuggledPath + " HTTP/1.1", is400},
			{"GET " + smuggledPath + " HTTP/2.0", func(c int) bool { return c == 400 || c == http.StatusHTTPVersionNotSupported }},
			{"GET " + smuggledPath + " HTTP/3.0", func(c int) bool { return c == 400 || c == http.StatusHTTPVersionNotSupported }},
		}
		for _, tt := range lines {
			t.Run("request line "+tt.line, func(t *testing.T) {
				f.neverServed(t)
				c := f.dial(t)
				c.send(wireHead(tt.line, wireHost))
				c.rejected(tt.line, tt.ok)
			})
		}
		// RFC 9112 §3 lets a server split the request line on any run of
		// whitespace, so a doubled SP may be refused (400) or served as the
		// single-SP request; nothing else.
		t.Run("request line with a doubled space", func(t *testing.T) {
			c := f.dial(t)
			c.send(wireHead("GET  /c360/customer/12 HTTP/1.1", wireHost))
			r := c.read("GET")
			t.Logf("answered %d", r.StatusCode)
			switch r.StatusCode {
			case http.StatusBadRequest:
				c.closed()
			default:
				wantSeed(t, r, "12")
			}
		})
	})

	// RFC 9112 §7.1: chunk extensions are ignored and trailers end the
	// body; the backend gets exactly the decoded bytes, and the connection
	// stays usable (the trailer section was consumed).
	t.Run("chunked request body", func(t *testing.T) {
		c := f.dial(t)
		c.send(wireHead("POST /wire/chunked HTTP/1.1", wireHost, "Transfer-Encoding: chunked", "Trailer: X-Trailer") +
			"5;x=y\r\nhello\r\n6\r\n world\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n")
		const want = "hello world0123456789"
		if r := c.read("POST"); r.StatusCode != 200 || r.body != fmt.Sprintf("sink POST /chunked %d", len(want)) {
			t.Fatalf("chunked POST: got %s", r)
		}
		if got := f.sink.find("/chunked"); len(got) != 1 || got[0].body != want || !got[0].complete {
			t.Fatalf("backend got %+v, want one complete body %q", got, want)
		}
		c.send(wireGet("/c360/customer/13"))
		wantSeed(t, c.read("GET"), "13")

		// A broken chunk stream cannot be resynchronised: the request is
		// refused, or cut, and the connection ends; the backend never gets
		// a body it could take for complete.
		for i, body := range []string{
			"zz\r\nhello\r\n0\r\n\r\n",
			"5\r\nhello\r\nzz\r\n0\r\n\r\n",
			"5\r\nhelloXX\r\n0\r\n\r\n",
			"ffffffffffffffffff\r\nhello\r\n0\r\n\r\n",
			"-5\r\nhello\r\n0\r\n\r\n",
		} {
			t.Run(fmt.Sprintf("malformed %q", body), func(t *testing.T) {
				f.neverServed(t)
				path := fmt.Sprintf("/badchunk%d", i)
				c := f.dial(t)
				c.send(wireHead("POST /wire"+path+" HTTP/1.1", wireHost, "Transfer-Encoding: chunked") + body + wireGet(smuggledPath))
				c.rejectedOrCut(fmt.Sprintf("%q", body), isNot2xx)
				for _, got := range f.sink.find(path) {
					if got.complete {
						t.Errorf("backend got a complete body %q from a malformed chunk stream", got.body)
					}
				}
			})
		}
	})

	// RFC 9112 §6.2: a Content-Length body arrives byte for byte.
	// RFC 9110 §10.1.1: a server that will read the body of a request with
	// "Expect: 100-continue" sends 100 Continue first, before the client
	// sends the body.
	t.Run("Content-Length body and 100-continue", func(t *testing.T) {
		f.neverServed(t)
		big := bytes.Repeat([]byte("0123456789abcdef"), 100<<10/16)
		big[len(big)-1] = '!'
		c := f.dial(t)
		c.send(wireHead("PUT /wire/big HTTP/1.1", wireHost, "Content-Length: "+strconv.Itoa(len(big))) + string(big))
		if r := c.read("PUT"); r.StatusCode != 200 || r.body != fmt.Sprintf("sink PUT /big %d", len(big)) {
			t.Fatalf("100 KiB PUT: got %s", r)
		}
		if got := f.sink.find("/big"); len(got) != 1 || got[0].body != string(big) {
			t.Fatalf("backend did not get the 100 KiB body intact (%d requests)", len(got))
		}

		c.send(wireHead("POST /wire/expect HTTP/1.1", wireHost, "Content-Length: 5", "Expect: 100-continue"))
		if r := c.read("POST"); r.StatusCode != http.StatusContinue {
			t.Fatalf("Expect: 100-continue: got %s before sending the body, want 100", r)
		}
		c.send("hello")
		if r := c.read("POST"); r.StatusCode != 200 || r.body != "sink POST /expect 5" {
			t.Fatalf("after 100 Continue: got %s", r)
		}

		// A request refused before its body is read gets no 100; the
		// server then either says it closes, or reads and discards the body
		// if the client sends it anyway: the body, which looks like a
		// request, is never served as one.
		body := wireGet(smuggledPath)
		c.send(wireHead("POST /c360/customer/14 HTTP/1.1", wireHost,
			"Content-Length: "+strconv.Itoa(len(body)), "Expect: 100-continue"))
		r := c.read("POST")
		if r.StatusCode != http.StatusForbidden {
			t.Fatalf("POST to a GET-only resource: got %s, want 403 without 100 Continue", r)
		}
		if r.Close {
			// The server may still read (and discard) the body before it
			// closes (net/http does): send it, and nothing after it may be
			// served.
			_ = c.c.SetWriteDeadline(time.Now().Add(wireIO))
			_, _ = io.WriteString(c.c, body+wireGet("/c360/customer/15"))
			c.closed()
		} else {
			c.send(body + wireGet("/c360/customer/15"))
			wantSeed(t, c.read("GET"), "15")
		}
	})

	// RFC 9112 §3: a request line longer than the server accepts gets 414
	// (or 431/400), the connection closes, and the server goes on serving.
	t.Run("oversized request line", func(t *testing.T) {
		f.neverServed(t)
		c := f.dial(t)
		long := wireGet(smuggledPath + "?" + strings.Repeat("a", 64<<10))
		// Write concurrently: the server may answer and stop reading
		// before the whole line is written.
		go func() {
			_ = c.c.SetWriteDeadline(time.Now().Add(wireIO))
			_, _ = io.WriteString(c.c, long)
		}()
		c.rejected("64 KiB request line", func(code int) bool {
			return code == http.StatusRequestURITooLong || code == http.StatusRequestHeaderFieldsTooLarge || code == 400
		})
		c = f.dial(t)
		c.send(wireGet("/c360/customer/16"))
		wantSeed(t, c.read("GET"), "16")
	})

	// RFC 9110 §9.3.2, RFC 9112 §6.3 (1): a HEAD response has no body, so
	// a request pipelined after it parses; every response on a persistent
	// connection delimits its body, a streamed one included.
	t.Run("response framing", func(t *testing.T) {
		c := f.dial(t)
		c.send(wireHead("HEAD /wire/head HTTP/1.1", wireHost) + wireGet("/wire/stream") + wireGet("/c360/customer/17"))
		r := c.read("HEAD")
		if r.StatusCode != 200 || r.body != "" {
			t.Fatalf("HEAD: got %s", r)
		}
		if r.ContentLength > 0 && r.ContentLength != int64(len("sink HEAD /head 0")) {
			t.Errorf("HEAD Content-Length %d", r.ContentLength)
		}
		r = c.read("GET")
		if r.StatusCode != 200 || r.body != "part1part2" {
			t.Fatalf("streamed GET: got %s", r)
		}
		wantFramed(t, r)
		r = c.read("GET")
		wantSeed(t, r, "17")
		wantFramed(t, r)
	})

	// RFC 9110 §5.5: field values may carry obs-text (bytes 0x80-0xFF);
	// such a request is served (and forwarded unchanged) or refused with a
	// 4xx, never left hanging or answered 5xx. The same for raw UTF-8 in
	// the request target, which is not valid there (RFC 3986).
	t.Run("non-ASCII bytes", func(t *testing.T) {
		for _, v := range []string{"caf\u00e9 \u2615", "caf\xe9", "\xff\xfe"} {
			t.Run(fmt.Sprintf("header %q", v), func(t *testing.T) {
				n := f.be.count()
				c := f.dial(t)
				c.send(wireGet("/c360/customer/18", "X-Name: "+v))
				r := c.read("GET")
				t.Logf("answered %d", r.StatusCode)
				switch {
				case r.StatusCode == 200:
					wantSeed(t, r, "18")
					if f.be.count() == n {
						t.Fatal("answered 200 but the backend saw nothing")
					}
					if got := f.be.last(t).Header.Get("X-Name"); got != v {
						t.Errorf("backend got X-Name %q, want %q", got, v)
					}
				case is4xx(r.StatusCode):
				default:
					t.Fatalf("answered %s", r)
				}
			})
		}
		t.Run("request target", func(t *testing.T) {
			c := f.dial(t)
			c.send(wireGet("/c360/customer/caf\u00e9"))
			if r := c.read("GET"); r.StatusCode >= 500 {
				t.Fatalf("answered %s", r)
			} else {
				t.Logf("answered %d", r.StatusCode)
			}
		})
	})

	// RFC 9112 §3.2.2: a server MUST accept the absolute form and then use
	// its authority, not the Host header, as the request's host; here the
	// SNI check applies to that authority.
	t.Run("absolute-form target", func(t *testing.T) {
		f.neverServed(t)
		c := f.dial(t)
		c.send(wireGet("https://api.example.com/c360/customer/19"))
		wantSeed(t, c.read("GET"), "19")

		// The authority names another domain than the TLS server name:
		// never served by api.example.com's routes.
		c = f.dial(t)
		c.send(wireGet("https://other.example.com" + smuggledPath))
		r := c.read("GET")
		if r.StatusCode < 400 || r.StatusCode >= 500 {
			t.Fatalf("absolute form naming another host: answered %s, want a 4xx (421)", r)
		}
		t.Logf("absolute form naming another host: answered %d", r.StatusCode)

		// An absolute form that is not an http(s) URI with a valid
		// authority is not a request target this server serves: 400, and
		// the connection ends (RFC 9112 §3.2.2, §3.2: its authority would
		// be the Host, and an invalid Host is a 400).
		for _, target := range []string{
			"ftp://api.example.com" + smuggledPath,
			"https://user@api.example.com" + smuggledPath,
			"https://api.example.com%00x" + smuggledPath,
			"https:" + smuggledPath,
		} {
			c = f.dial(t)
			c.send(wireGet(target))
			c.rejected(target, is400)
		}
	})

	// A client that sends part of a request and shuts its side: the server
	// closes promptly (it may first say 400), and nothing reaches the
	// backend (RFC 9112 §8: an incomplete message is not processed as
	// complete).
	t.Run("half a request, then close", func(t *testing.T) {
		f.neverServed(t)
		n := f.be.count()
		c := f.dial(t)
		c.send("GET " + smuggledPath + " HTTP/1.1\r\nHost: api.exa")
		if err := c.c.CloseWrite(); err != nil {
			t.Fatal(err)
		}
		c.rejectedOrCut("half a head", is400)
		if f.be.count() != n {
			t.Errorf("backend received %d request(s) from half a request head", f.be.count()-n)
		}

		c = f.dial(t)
		c.send(wireHead("POST /wire/half HTTP/1.1", wireHost, "Content-Length: 100") + "only ten b")
		if err := c.c.CloseWrite(); err != nil {
			t.Fatal(err)
		}
		c.rejectedOrCut("half a body", isNot2xx)
		for _, got := range f.sink.find("/half") {
			if got.complete {
				t.Errorf("backend got a complete body %q from a request cut short", got.body)
			}
		}
	})

	// After all of the above, a new connection is served.
	t.Run("still serving", func(t *testing.T) {
		c := f.dial(t)
		c.send(wireGet("/c360/customer/20"))
		wantSeed(t, c.read("GET"), "20")
	})
}
