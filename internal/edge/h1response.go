package edge

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"time"
)

// h1Writer is the http.ResponseWriter of the h1 loop. The head is held
// until the first body bytes that do not fit its small buffer, a flush, or
// the end of the handler; a response that ends first gets a
// Content-Length, a longer one of unknown length is chunked (HTTP/1.1) or
// ends with the connection (HTTP/1.0). As with net/http, the header is
// fixed by WriteHeader except for declared trailers.
type h1Writer struct {
	c      *h1Conn
	header http.Header
	keys   []string // scratch for sorting header names

	status      int
	wroteHeader bool // a final status was set
	sentHead    bool // the head is in the output buffer
	handlerDone bool
	hijacked    bool
	head        bool  // a HEAD request: no body goes out
	chunked     bool  // the body goes out chunked
	length      int64 // declared Content-Length, -1 for none
	written     int64 // body bytes the handler wrote
	pending     []byte
	trailers    []string  // declared trailer names, canonical
	closeAfter  bool      // the connection ends after this response
	now         time.Time // when the handler started (zero: unknown)
}

// pendingMax is how much body is held back to learn its length.
const pendingMax = 4 << 10

func (w *h1Writer) reset(head bool, closeAfter bool) {
	clear(w.header)
	*w = h1Writer{c: w.c, header: w.header, keys: w.keys[:0], pending: w.pending[:0],
		trailers: w.trailers[:0], head: head, closeAfter: closeAfter, length: -1}
}

func (w *h1Writer) Header() http.Header { return w.header }

func (w *h1Writer) WriteHeader(code int) {
	if w.hijacked || w.wroteHeader {
		return
	}
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if code < 200 && code != http.StatusSwitchingProtocols {
		// An informational answer goes out at once with the current
		// header. It may come from the reverse proxy's transport
		// goroutine (the backend's 1xx), so it shares the automatic 100
		// Continue's lock; a 100 from the handler replaces that one.
		b := &w.c.body
		b.answered(code)
		b.contMu.Lock()
		defer b.contMu.Unlock()
		if code == http.StatusContinue && b.sentContinue {
			return // the client already has its 100 Continue
		}
		w.writeStatusLine(code)
		w.writeFields(nil)
		_, _ = w.c.bw.WriteString("\r\n")
		_ = w.c.bw.Flush()
		return
	}
	if w.c.body.answered(code) {
		// Answered before 100 Continue: the client may never send the
		// body, so the connection cannot go on.
		w.closeAfter = true
	}
	w.wroteHeader, w.status = true, code
	if cl := w.header["Content-Length"]; len(cl) > 0 {
		w.length = parseContentLength(strings.TrimSpace(cl[0]))
	}
	if v, ok := w.header["Trailer"]; ok {
		for _, line := range v {
			for name := range strings.SplitSeq(line, ",") {
				if name = textproto.TrimString(name); name != "" {
					w.trailers = append(w.trailers, textproto.CanonicalMIMEHeaderKey(name))
				}
			}
		}
	}
}

// bodyAllowed reports whether the status may carry a body.
func (w *h1Writer) bodyAllowed() bool {
	return w.status >= 200 && w.status != http.StatusNoContent && w.status != http.StatusNotModified
}

func (w *h1Writer) Write(p []byte) (int, error) {
	if w.hijacked {
		return 0, http.ErrHijacked
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.bodyAllowed() {
		return 0, http.ErrBodyNotAllowed
	}
	if w.length >= 0 && w.written+int64(len(p)) > w.length {
		return 0, http.ErrContentLength
	}
	w.written += int64(len(p))
	if w.head {
		return len(p), nil
	}
	if !w.sentHead {
		if w.length < 0 && len(w.pending)+len(p) <= pendingMax {
			w.pending = append(w.pending, p...)
			return len(p), nil
		}
		if err := w.sendHead(); err != nil {
			return 0, err
		}
	}
	return w.writeBody(p)
}

func (w *h1Writer) writeBody(p []byte) (int, error) {
	bw := w.c.bw
	if w.chunked {
		if len(p) == 0 {
			return 0, nil
		}
		_, _ = bw.Write(strconv.AppendInt(bw.AvailableBuffer(), int64(len(p)), 16))
		_, _ = bw.WriteString("\r\n")
		n, err := bw.Write(p)
		_, _ = bw.WriteString("\r\n")
		return n, err
	}
	return bw.Write(p)
}

// Flush sends the head and what is buffered.
func (w *h1Writer) Flush() { _ = w.FlushError() }

// FlushError is Flush for http.ResponseController.
func (w *h1Writer) FlushError() error {
	if w.hijacked {
		return http.ErrHijacked
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.sentHead {
		if err := w.sendHead(); err != nil {
			return err
		}
	}
	return w.c.bw.Flush()
}

// Hijack hands the connection to the handler (the reverse proxy's protocol
// upgrades).
func (w *h1Writer) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.hijacked {
		return nil, nil, http.ErrHijacked
	}
	if w.sentHead {
		return nil, nil, errors.New("edge: hijack after the response head was sent")
	}
	w.hijacked = true
	w.c.rdl = time.Time{}
	_ = w.c.raw.SetDeadline(w.c.rdl) // the loop's deadlines are not the handler's
	return w.c.conn, bufio.NewReadWriter(w.c.br, w.c.bw), nil
}

// finish completes the response after the handler returned.
func (w *h1Writer) finish() error {
	w.handlerDone = true
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if !w.sentHead {
		if err := w.sendHead(); err != nil {
			return err
		}
	}
	bw := w.c.bw
	if w.chunked {
		_, _ = bw.WriteString("0\r\n")
		w.writeTrailers()
		_, _ = bw.WriteString("\r\n")
	}
	if w.length >= 0 && w.written < w.length && !w.head && w.bodyAllowed() {
		// The handler wrote less than it declared: the client cannot
		// find the end of this response, so the connection ends.
		w.closeAfter = true
	}
	return bw.Flush()
}

// sendHead writes the status line and header, and the held-back body.
func (w *h1Writer) sendHead() error {
	w.sentHead = true
	h := w.header
	if w.length < 0 && w.bodyAllowed() {
		switch {
		case w.handlerDone && len(w.trailers) == 0:
			if !w.head || w.written > 0 {
				w.length = w.written
			}
		case w.head:
		case w.c.req.ProtoMinor == 0:
			w.closeAfter = true
		default:
			w.chunked = true
		}
	}
	if hasToken(h["Connection"], "close") {
		w.closeAfter = true
	}
	if w.c.closing() || w.c.body.failed.Load() {
		// Shutting down, or the request body broke off: the
		// connection cannot go on after this answer.
		w.closeAfter = true
	}
	w.writeStatusLine(w.status)
	w.writeFields(w.trailers)
	bw := w.c.bw
	if _, ok := h["Date"]; !ok {
		_, _ = bw.WriteString("Date: ")
		_, _ = bw.WriteString(w.c.s.httpDate(w.now))
		_, _ = bw.WriteString("\r\n")
	}
	switch {
	case w.chunked:
		_, _ = bw.WriteString("Transfer-Encoding: chunked\r\n")
	case w.length >= 0 && w.status >= 200 && w.status != http.StatusNoContent:
		_, _ = bw.WriteString("Content-Length: ")
		_, _ = bw.Write(strconv.AppendInt(bw.AvailableBuffer(), w.length, 10))
		_, _ = bw.WriteString("\r\n")
	}
	switch {
	case w.closeAfter:
		_, _ = bw.WriteString("Connection: close\r\n")
	case w.c.req.ProtoMinor == 0:
		_, _ = bw.WriteString("Connection: keep-alive\r\n")
	}
	_, _ = bw.WriteString("\r\n")
	if len(w.pending) > 0 {
		p := w.pending
		w.pending = w.pending[:0]
		if _, err := w.writeBody(p); err != nil {
			return err
		}
	}
	return nil
}

func (w *h1Writer) writeStatusLine(code int) {
	bw := w.c.bw
	if code < len(statusLines) && statusLines[code] != "" {
		_, _ = bw.WriteString(statusLines[code])
		return
	}
	_, _ = bw.WriteString("HTTP/1.1 ")
	_, _ = bw.Write(strconv.AppendInt(bw.AvailableBuffer(), int64(code), 10))
	_, _ = bw.WriteString(" ")
	_, _ = bw.WriteString(http.StatusText(code))
	_, _ = bw.WriteString("\r\n")
}

// statusLines are the status lines of the common answers.
var statusLines = func() (m [600]string) {
	for _, c := range []int{100, 101, 103, 200, 201, 202, 204, 206, 301, 302, 303, 304, 307, 308,
		400, 401, 403, 404, 405, 409, 413, 421, 429, 431, 500, 501, 502, 503, 504, 505} {
		m[c] = "HTTP/1.1 " + strconv.Itoa(c) + " " + http.StatusText(c) + "\r\n"
	}
	return m
}()

// framingField reports the fields the writer sets itself, never from
// the header.
func framingField(k string) bool {
	return k == "Content-Length" || k == "Transfer-Encoding" || k == "Connection"
}

// writeFields writes the header fields in name order, leaving out the
// framing fields, trailer values, and names that are not tokens; CR and
// LF in a value become spaces (as net/http does).
func (w *h1Writer) writeFields(skip []string) {
	keys := w.keys[:0]
	for k := range w.header {
		if framingField(k) || strings.HasPrefix(k, http.TrailerPrefix) || slices.Contains(skip, k) || !validHeaderName(k) {
			continue
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	w.keys = keys
	bw := w.c.bw
	for _, k := range keys {
		for _, v := range w.header[k] {
			_, _ = bw.WriteString(k)
			_, _ = bw.WriteString(": ")
			writeFieldValue(bw, v)
			_, _ = bw.WriteString("\r\n")
		}
	}
}

func writeFieldValue(bw *bufio.Writer, v string) {
	if plainFieldValue(v) {
		_, _ = bw.WriteString(v)
		return
	}
	v = textproto.TrimString(v)
	for {
		i := strings.IndexAny(v, "\r\n")
		if i < 0 {
			_, _ = bw.WriteString(v)
			return
		}
		_, _ = bw.WriteString(v[:i])
		_ = bw.WriteByte(' ')
		v = v[i+1:]
	}
}

// plainFieldValue reports whether v goes out as it is: no CR or LF, and
// nothing for textproto.TrimString to trim (most values).
func plainFieldValue(v string) bool {
	if v == "" {
		return true
	}
	if asciiSpace(v[0]) || asciiSpace(v[len(v)-1]) {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] == '\r' || v[i] == '\n' {
			return false
		}
	}
	return true
}

// asciiSpace is textproto's notion of space.
func asciiSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' || b == '\r' }

// trimOWS removes the optional whitespace (spaces and tabs, RFC 9110 5.6.3)
// around a field value.
func trimOWS(v string) string {
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
		v = v[1:]
	}
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	return v
}

// writeTrailers writes declared trailers and TrailerPrefix ones.
func (w *h1Writer) writeTrailers() {
	bw := w.c.bw
	for _, k := range w.trailers {
		for _, v := range w.header[k] {
			if validHeaderName(k) {
				_, _ = bw.WriteString(k)
				_, _ = bw.WriteString(": ")
				writeFieldValue(bw, v)
				_, _ = bw.WriteString("\r\n")
			}
		}
	}
	for k, vv := range w.header {
		name, ok := strings.CutPrefix(k, http.TrailerPrefix)
		if !ok || !validHeaderName(name) {
			continue
		}
		for _, v := range vv {
			_, _ = bw.WriteString(name)
			_, _ = bw.WriteString(": ")
			writeFieldValue(bw, v)
			_, _ = bw.WriteString("\r\n")
		}
	}
}

// httpDate is the current time (now, unless zero) as a Date header
// value, formatted once per second.
func (s *Server) httpDate(now time.Time) string {
	if now.IsZero() {
		now = time.Now()
	}
	sec := now.Unix()
	if d := s.date.Load(); d != nil && d.sec == sec {
		return d.text
	}
	d := &dateText{sec: sec, text: now.UTC().Format(http.TimeFormat)}
	s.date.Store(d)
	return d.text
}

type dateText struct {
	sec  int64
	text string
}
