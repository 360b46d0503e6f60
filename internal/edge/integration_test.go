package edge

import (
	"bytes"
	"crypto/rand"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"trustgate/internal/model"
	"trustgate/internal/store"
	"trustgate/internal/testpki"
)

func TestHTTPProxyRequestParameters(t *testing.T) {
	f := newSeedFlow(t)
	h, be := f.h, f.be
	params := map[string]string{
		"integration.request.path.cid":             "method.request.path.id",
		"integration.request.querystring.mode":     "'strict'",
		"integration.request.querystring.from":     "method.request.header.X-From",
		"integration.request.header.X-Tenant":      "method.request.querystring.tenant",
		"integration.request.header.X-Static":      "'abc'",
		"integration.request.header.X-Pem":         "context.identity.clientCert.clientCertPem",
		"integration.request.header.X-Subject":     "context.identity.clientCert.subjectDN",
		"integration.request.header.X-Issuer":      "context.identity.clientCert.issuerDN",
		"integration.request.header.X-Serial":      "context.identity.clientCert.serialNumber",
		"integration.request.header.X-Not-Before":  "context.identity.clientCert.validity.notBefore",
		"integration.request.header.X-Not-After":   "context.identity.clientCert.validity.notAfter",
		"integration.request.header.X-Request-Id":  "context.requestId",
		"integration.request.header.X-Forged-Copy": "method.request.header.X-Amzn-Identity",
		"integration.request.header.X-Stage-Var":   "stageVariables.color",
	}
	plainHTTP := httpProxy("http://${stageVariables.backend}/sv/{id}", nil)
	plainHTTP.Integration.Type = model.IntegrationHTTP
	plainHTTP.Integration.HTTPMethod = "PUT"
	h.deploy("params", "DEV", false,
		resource("/c/{id}", map[string]*model.Method{"ANY": httpProxy(be.URL+"/backend/{cid}?fixed=1", params)}),
		resource("/p/{proxy+}", map[string]*model.Method{"ANY": httpProxy(be.URL+"/files/{proxy}", nil)}),
		resource("/sv/{id}", map[string]*model.Method{"GET": plainHTTP}))
	h.update(func(tx store.Tx) error {
		return addStageVars(tx, "params", "DEV", map[string]string{"color": "blue", "backend": strings.TrimPrefix(be.URL, "http://")})
	})
	h.mapping("api.example.com", "v1/params", "params", "DEV")
	c := h.client("api.example.com", clientOpts{cert: f.leaf})

	hdr := http.Header{
		"X-From":                  {"header-value"},
		"X-Amzn-Identity":         {"admin"},
		"Client-Cert":             {":Zm9yZ2Vk:"},
		"Client-Cert-Chain":       {":Zm9yZ2Vk:"},
		"X-Forwarded-Client-Cert": {"Hash=forged"},
		"X-Forwarded-For":         {"6.6.6.6"},
		"Forwarded":               {"for=6.6.6.6"},
		"X-Real-Ip":               {"6.6.6.6"},
		"X-Amzn-Trace-Id":         {"Root=forged"},
		"X-Keep":                  {"kept"},
	}
	r, err := h.do(c, "POST", "https://api.example.com/v1/params/c/a%20b?tenant=t1&x=y", strings.NewReader("payload"), hdr)
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, "params", r, 200, "")
	got := be.last(t)
	if got.RawPath != "/backend/a%20b" {
		t.Errorf("backend path %q, want /backend/a%%20b", got.RawPath)
	}
	q, _ := url.ParseQuery(got.Query)
	for k, v := range map[string]string{"fixed": "1", "mode": "strict", "from": "header-value", "tenant": "t1", "x": "y"} {
		if q.Get(k) != v {
			t.Errorf("backend query %s = %q, want %q (query %q)", k, q.Get(k), v, got.Query)
		}
	}
	if got.Body != "payload" || got.Method != "POST" {
		t.Errorf("backend got %s %q", got.Method, got.Body)
	}
	wantHdr := map[string]string{
		"X-Tenant":        "t1",
		"X-Static":        "abc",
		"X-Subject":       "CN=partner-1",
		"X-Issuer":        "CN=Partner Issuing CA",
		"X-Serial":        testSerialHex(f.leaf),
		"X-Not-After":     f.leaf.Cert.NotAfter.UTC().Format("Jan _2 15:04:05 2006 GMT"),
		"X-Not-Before":    f.leaf.Cert.NotBefore.UTC().Format("Jan _2 15:04:05 2006 GMT"),
		"X-Request-Id":    r.header.Get("X-Amzn-Requestid"),
		"X-Stage-Var":     "blue",
		"X-Keep":          "kept",
		"X-Forged-Copy":   "",
		"X-Forwarded-For": "127.0.0.1",
	}
	for k, v := range wantHdr {
		if g := got.Header.Get(k); g != v {
			t.Errorf("backend header %s = %q, want %q", k, g, v)
		}
	}
	if pemText, err := url.PathUnescape(got.Header.Get("X-Pem")); err != nil || pemText != string(f.leaf.CertPEM) {
		t.Errorf("X-Pem does not decode to the client certificate: %q", got.Header.Get("X-Pem"))
	}
	for _, k := range []string{"Client-Cert", "Client-Cert-Chain", "X-Forwarded-Client-Cert", "X-Amzn-Identity", "X-Amzn-Trace-Id", "Forwarded", "X-Real-Ip"} {
		if v, ok := got.Header[k]; ok {
			t.Errorf("forgeable header %s reached the backend: %q", k, v)
		}
	}
	if vs := got.Header.Values("X-Forwarded-For"); len(vs) != 1 {
		t.Errorf("X-Forwarded-For values %q, want only the peer", vs)
	}
	if got.Host != strings.TrimPrefix(be.URL, "http://") {
		t.Errorf("backend Host %q, want the backend's", got.Host)
	}
	if got.Header.Get("X-Forwarded-Proto") != "https" {
		t.Errorf("X-Forwarded-Proto %q", got.Header.Get("X-Forwarded-Proto"))
	}

	// HTTP (not proxy) with a fixed upstream method and a host from a stage
	// variable.
	r = h.get(c, "https://api.example.com/v1/params/sv/7?k=v")
	wantStatus(t, "HTTP integration", r, 200, "backend PUT /sv/7")
	if got := be.last(t); got.Method != "PUT" || got.Query != "k=v" {
		t.Errorf("HTTP integration: backend saw %s ?%s", got.Method, got.Query)
	}

	// {proxy+} keeps its separators and its encoded slashes.
	r = h.get(c, "https://api.example.com/v1/params/p/dir/sub%2Fdir/file.txt?q=1")
	wantStatus(t, "greedy", r, 200, "")
	if got := be.last(t); got.RawPath != "/files/dir/sub%2Fdir/file.txt" || got.Query != "q=1" {
		t.Errorf("greedy: backend saw %s?%s", got.RawPath, got.Query)
	}
}

func addStageVars(tx store.Tx, apiID, stage string, vars map[string]string) error {
	st, err := store.GetJSON[model.Stage](tx, model.StageKey(apiID, stage))
	if err != nil {
		return err
	}
	st.Variables = vars
	return store.PutJSON(tx, model.StageKey(apiID, stage), st)
}

func testSerialHex(l *testpki.Leaf) string {
	b := l.Cert.SerialNumber.Bytes()
	parts := make([]string, len(b))
	for i, c := range b {
		parts[i] = strings.ToLower(string("0123456789abcdef"[c>>4]) + string("0123456789abcdef"[c&0xf]))
	}
	return strings.Join(parts, ":")
}

func TestHTTPProxyStreamingAndPooling(t *testing.T) {
	h := newHarness(t)
	be := newBackend(t)
	h.domain("api.example.com", h.serverCert("api.example.com"), model.PolicyTLS12, nil)
	h.deploy("s", "S", false, resource("/{proxy+}", map[string]*model.Method{"ANY": httpProxy(be.URL+"/{proxy}", nil)}))
	h.mapping("api.example.com", "", "s", "S")
	c := h.client("api.example.com", clientOpts{})

	// A 4 MiB body goes up and comes back intact.
	big := make([]byte, 4<<20)
	_, _ = rand.Read(big)
	r, err := h.do(c, "PUT", "https://api.example.com/data/echo", bytes.NewReader(big), nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.status != 200 || r.body != string(big) {
		t.Fatalf("echo: status %d, %d bytes back, want 200 and %d bytes", r.status, len(r.body), len(big))
	}

	// Sequential requests reuse pooled backend connections.
	before := be.newConns.Load()
	for i := 0; i < 20; i++ {
		wantStatus(t, "pooled", h.get(c, "https://api.example.com/x"), 200, "backend GET /x")
	}
	if n := be.newConns.Load() - before; n > 1 {
		t.Errorf("20 sequential requests opened %d backend connections, want at most 1", n)
	}
}

// TestHTTPProxyStreamsResponse checks that a response is forwarded while the
// backend is still writing it.
func TestHTTPProxyStreamsResponse(t *testing.T) {
	h := newHarness(t)
	release := make(chan struct{})
	be := newStreamingBackend(t, release)
	h.domain("api.example.com", h.serverCert("api.example.com"), model.PolicyTLS12, nil)
	h.deploy("s", "S", false, resource("/stream", map[string]*model.Method{"GET": httpProxy(be+"/stream", nil)}))
	h.mapping("api.example.com", "", "s", "S")
	c := h.client("api.example.com", clientOpts{})
	resp, err := c.Get("https://api.example.com/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 5)
	if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != "first" {
		t.Fatalf("first chunk %q, %v", buf, err)
	}
	close(release)
	rest, _ := io.ReadAll(resp.Body)
	if string(rest) != "second" {
		t.Fatalf("second chunk %q", rest)
	}
}

func newStreamingBackend(t *testing.T, release chan struct{}) string {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "first")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
			return
		}
		_, _ = io.WriteString(w, "second")
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

func TestHTTPProxyFailures(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.UpstreamTimeout = 500 * time.Millisecond })
	be := newBackend(t)
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadURL := "http://" + dead.Addr().String()
	dead.Close()
	timeoutM := httpProxy(be.URL+"/hang", nil)
	timeoutM.Integration.TimeoutInMillis = 200
	h.domain("api.example.com", h.serverCert("api.example.com"), model.PolicyTLS12, nil)
	h.deploy("f", "S", false,
		resource("/hang", map[string]*model.Method{"GET": timeoutM}),
		resource("/hang-default", map[string]*model.Method{"GET": httpProxy(be.URL+"/hang", nil)}),
		resource("/reset", map[string]*model.Method{"GET": httpProxy(be.URL+"/reset", nil)}),
		resource("/dead", map[string]*model.Method{"GET": httpProxy(deadURL+"/x", nil)}),
		resource("/lambda", map[string]*model.Method{"GET": {HTTPMethod: "GET", Integration: &model.Integration{
			Type: model.IntegrationAWSProxy, URI: "arn:aws:apigateway:us-east-1:lambda:path/x"}}}),
		resource("/none", map[string]*model.Method{"GET": {HTTPMethod: "GET"}}),
		resource("/ok", map[string]*model.Method{"GET": httpProxy(be.URL+"/ok", nil)}),
	)
	h.mapping("api.example.com", "", "f", "S")
	c := h.client("api.example.com", clientOpts{})

	start := time.Now()
	r := h.get(c, "https://api.example.com/hang")
	wantStatus(t, "timeoutInMillis", r, 504, `{"message": "Endpoint request timed out"}`)
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("timeoutInMillis=200 took %v", d)
	}
	wantStatus(t, "server default timeout", h.get(c, "https://api.example.com/hang-default"), 504, `{"message": "Endpoint request timed out"}`)
	wantStatus(t, "reset", h.get(c, "https://api.example.com/reset"), 502, `{"message": "Internal server error"}`)
	wantStatus(t, "unreachable", h.get(c, "https://api.example.com/dead"), 502, `{"message": "Internal server error"}`)
	r = h.get(c, "https://api.example.com/lambda")
	wantStatus(t, "unsupported type", r, 500, `{"message": "Internal server error"}`)
	if rec := h.accessRecord(t, r.header.Get("X-Amzn-Requestid")); !strings.Contains(rec["error"].(string), "AWS_PROXY") {
		t.Errorf("access log does not say why: %v", rec["error"])
	}
	wantStatus(t, "no integration", h.get(c, "https://api.example.com/none"), 500, `{"message": "Internal server error"}`)
	// Other clients are unaffected.
	wantStatus(t, "after failures", h.get(c, "https://api.example.com/ok"), 200, "backend GET /ok")
	if !strings.Contains(h.logs.String(), "AWS_PROXY") {
		t.Error("unsupported integration not logged")
	}
}

func TestMockIntegration(t *testing.T) {
	h := newHarness(t)
	h.domain("api.example.com", h.serverCert("api.example.com"), model.PolicyTLS12, nil)
	sel := &model.Method{HTTPMethod: "POST", Integration: &model.Integration{
		Type: model.IntegrationMock,
		RequestTemplates: map[string]string{
			"application/json": `{"statusCode": 200}`,
			"text/plain":       `{"statusCode": 404}`,
			"application/xml":  `{"statusCode": 503}`,
		},
		IntegrationResponses: map[string]*model.IntegrationResponse{
			"200": {StatusCode: "200", ResponseTemplates: map[string]string{"application/json": `{"ok":true}`, "text/html": "<p>ok</p>"},
				ResponseParameters: map[string]string{"method.response.header.X-Mock": "'yes'"}},
			"404": {StatusCode: "404", SelectionPattern: "4\\d{2}", ResponseTemplates: map[string]string{"application/json": `{"message":"nope"}`}},
		},
	}}
	h.deploy("m", "S", false, resource("/m", map[string]*model.Method{"POST": sel}),
		resource("/nodefault", map[string]*model.Method{"GET": {HTTPMethod: "GET", Integration: &model.Integration{
			Type: model.IntegrationMock, RequestTemplates: map[string]string{"application/json": `{"statusCode": 500}`},
			IntegrationResponses: map[string]*model.IntegrationResponse{
				"200": {StatusCode: "200", SelectionPattern: "2\\d{2}"}}}}}))
	h.mapping("api.example.com", "", "m", "S")
	c := h.client("api.example.com", clientOpts{})
	tests := []struct {
		ct, accept string
		status     int
		body       string
		respCT     string
	}{
		{"", "", 200, `{"ok":true}`, "application/json"},
		{"application/json; charset=utf-8", "text/html", 200, "<p>ok</p>", "text/html"},
		{"text/plain", "", 404, `{"message":"nope"}`, "application/json"},
		{"application/xml", "", 200, `{"ok":true}`, "application/json"}, // 503 falls to the default response
	}
	for _, tt := range tests {
		hdr := http.Header{}
		if tt.ct != "" {
			hdr.Set("Content-Type", tt.ct)
		}
		if tt.accept != "" {
			hdr.Set("Accept", tt.accept)
		}
		r, err := h.do(c, "POST", "https://api.example.com/m", strings.NewReader("x"), hdr)
		if err != nil {
			t.Fatal(err)
		}
		wantStatus(t, "mock "+tt.ct, r, tt.status, tt.body)
		if got := r.header.Get("Content-Type"); got != tt.respCT {
			t.Errorf("mock %s: Content-Type %q, want %q", tt.ct, got, tt.respCT)
		}
		if tt.status == 200 && r.header.Get("X-Mock") != "yes" {
			t.Errorf("mock %s: static response header missing", tt.ct)
		}
	}
	r := h.get(c, "https://api.example.com/nodefault")
	wantStatus(t, "no matching response", r, 500, `{"message": "Internal server error"}`)
	if rec := h.accessRecord(t, r.header.Get("X-Amzn-Requestid")); !strings.Contains(rec["error"].(string), "No match for output mapping") {
		t.Errorf("access log error %v", rec["error"])
	}
}

func TestParseTemplate(t *testing.T) {
	parts, err := parseTemplate("/a/{id}/b?x={q}&y=1")
	if err != nil {
		t.Fatal(err)
	}
	var path, query []string
	for _, p := range parts {
		s := p.text
		if p.kind == partPath {
			s = "{" + s + "}"
		}
		if p.inQuery {
			query = append(query, s)
		} else {
			path = append(path, s)
		}
	}
	if strings.Join(path, "") != "/a/{id}/b" || strings.Join(query, "") != "x={q}&y=1" {
		t.Errorf("path %q query %q", path, query)
	}
	for _, bad := range []string{"/a/{id", "/a/${stageVariables.x"} {
		if _, err := parseTemplate(bad); err == nil {
			t.Errorf("parseTemplate(%q) accepted", bad)
		}
	}
	ib := compileIntegration(&model.Integration{Type: model.IntegrationHTTPProxy, URI: "ftp://x/y"})
	if ib.err == "" {
		t.Error("ftp uri accepted")
	}
	ib = compileIntegration(&model.Integration{Type: model.IntegrationHTTP, URI: "http://h/x",
		RequestParameters: map[string]string{"integration.request.header.X": "method.request.body.x"}})
	if ib.err == "" {
		t.Error("unsupported source accepted")
	}
}

func TestHeaderValue(t *testing.T) {
	if got := headerValue("plain value"); got != "plain value" {
		t.Errorf("plain: %q", got)
	}
	pemish := "-----BEGIN X-----\nAB+/=\n"
	got := headerValue(pemish)
	if strings.ContainsAny(got, "\n+/= ") {
		t.Errorf("escaped value %q still has reserved characters", got)
	}
	if back, _ := url.QueryUnescape(got); back != pemish {
		t.Errorf("QueryUnescape gives %q", back)
	}
	if back, _ := url.PathUnescape(got); back != pemish {
		t.Errorf("PathUnescape gives %q", back)
	}
}
