package edge

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
)

// FuzzReadHead feeds arbitrary bytes to the h1 loop's request parser. It
// must never panic, and a request it accepts must be well formed; when
// net/http's parser accepts the same bytes too, both must agree on the
// method, target, Host and, above all, the body's framing: a disagreement
// there is what request smuggling exploits.
func FuzzReadHead(f *testing.F) {
	for _, seed := range []string{
		"GET /c360/customer/1 HTTP/1.1\r\nHost: api.example.com\r\n\r\n",
		"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
		"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;e=1\r\nhello\r\n0\r\nT: 1\r\n\r\n",
		"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		"GET http://a/b?c=d HTTP/1.1\r\nHost: b\r\n\r\n",
		"GET /%2F?x HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
		"\r\nGET / HTTP/1.1\nHost: a\n X: folded\n\n",
		"PUT /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := &Server{http: &http.Server{MaxHeaderBytes: 4 << 10}}
		c := &h1Conn{s: s, br: bufio.NewReaderSize(bytes.NewReader(data), 4<<10), bw: bufio.NewWriter(io.Discard),
			header: make(http.Header), tmpl: new(http.Request)}
		if err := c.readHead(); err != nil {
			return
		}
		r := &c.req
		if !validHeaderName(r.Method) || r.URL == nil || !validHost(r.Host) {
			t.Fatalf("accepted a malformed request: method %q url %v host %q", r.Method, r.URL, r.Host)
		}
		for k, vv := range r.Header {
			for _, v := range vv {
				if !validHeaderName(k) || strings.ContainsAny(v, "\r\n\x00") {
					t.Fatalf("accepted header %q: %q", k, v)
				}
			}
		}
		chunked := len(r.TransferEncoding) > 0
		if chunked && (r.ContentLength != -1 || r.Header.Get("Content-Length") != "") {
			t.Fatalf("chunked request with a length: %d %q", r.ContentLength, r.Header["Content-Length"])
		}
		if !chunked && r.ContentLength < 0 {
			t.Fatalf("negative Content-Length %d", r.ContentLength)
		}
		body, bodyErr := io.ReadAll(io.LimitReader(r.Body, 1<<20))

		std, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(data)))
		if err != nil {
			return // stricter than net/http is allowed
		}
		if std.Method != r.Method || std.RequestURI != r.RequestURI || std.Host != r.Host {
			t.Fatalf("net/http reads %s %s (Host %q), the h1 loop %s %s (Host %q)",
				std.Method, std.RequestURI, std.Host, r.Method, r.RequestURI, r.Host)
		}
		if (len(std.TransferEncoding) > 0) != chunked || (!chunked && std.ContentLength != r.ContentLength) {
			t.Fatalf("framing differs: net/http TE %v CL %d, h1 loop TE %v CL %d",
				std.TransferEncoding, std.ContentLength, r.TransferEncoding, r.ContentLength)
		}
		stdBody, stdErr := io.ReadAll(io.LimitReader(std.Body, 1<<20))
		if bodyErr == nil && stdErr == nil && !bytes.Equal(body, stdBody) {
			t.Fatalf("bodies differ: %q vs %q", body, stdBody)
		}
	})
}
