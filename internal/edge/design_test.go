package edge

import (
	"crypto/x509"
	"net/http"
	"strings"
	"testing"
	"time"

	"trustgate/internal/model"
	"trustgate/internal/testpki"
)

// seedFlow sets up the seed flow of DESIGN §1: api.example.com with mTLS,
// mapping c360 -> API a1b2c3d4e5 stage DEV, HTTP_PROXY to a loopback backend.
type seedFlow struct {
	h       *harness
	be      *backend
	partner *partnerPKI
	leaf    *testpki.Leaf
}

const seedAPI = "a1b2c3d4e5"

func newSeedFlow(t testing.TB, opts ...harnessOpt) *seedFlow {
	h := newHarness(t, opts...)
	be := newBackend(t)
	p := newPartner(t, "Partner")
	arn := h.serverCert("api.example.com")
	h.deploy(seedAPI, "DEV", false,
		resource("/", nil),
		resource("/customer", nil),
		resource("/customer/{id}", map[string]*model.Method{
			"GET": httpProxy(be.URL+"/customers/{id}", map[string]string{
				"integration.request.path.id":                 "method.request.path.id",
				"integration.request.header.X-Client-Subject": "context.identity.clientCert.subjectDN",
			}),
		}),
	)
	h.domain("api.example.com", arn, model.PolicyTLS12, p.bundle)
	h.mapping("api.example.com", "c360", seedAPI, "DEV")
	return &seedFlow{h: h, be: be, partner: p, leaf: p.inter.Leaf(t, testpki.Client("partner-1"))}
}

// TestDesignTable runs every row of DESIGN §5's table.
func TestDesignTable(t *testing.T) {
	f := newSeedFlow(t)
	h := f.h
	const url = "https://api.example.com/c360/customer/42"

	t.Run("trusted certificate is routed", func(t *testing.T) {
		r := h.get(h.client("api.example.com", clientOpts{cert: f.leaf}), url)
		wantStatus(t, "trusted", r, 200, "backend GET /customers/42")
		got := f.be.last(t)
		if want := "CN=partner-1"; got.Header.Get("X-Client-Subject") != want {
			t.Errorf("backend saw subject %q, want %q", got.Header.Get("X-Client-Subject"), want)
		}
		if r.header.Get("X-Amzn-Requestid") == "" || r.header.Get("X-Amz-Apigw-Id") == "" {
			t.Errorf("missing request ids: %v", r.header)
		}
		if vs := r.header.Values("X-Amzn-Requestid"); len(vs) != 1 {
			t.Errorf("x-amzn-RequestId values %q, want exactly the gateway's", vs)
		}
		rec := h.accessRecord(t, r.header.Get("X-Amzn-Requestid"))
		want := map[string]any{"domain": "api.example.com", "sni": "api.example.com", "mapping": "c360",
			"apiId": seedAPI, "stage": "DEV", "resource": "/customer/{id}", "status": 200.0, "upstreamStatus": 200.0,
			"certSubject": "CN=partner-1", "certIssuer": "CN=Partner Issuing CA", "mtls": "trusted", "mtlsReason": "trusted"}
		for k, v := range want {
			if rec[k] != v {
				t.Errorf("access log %s = %#v, want %#v", k, rec[k], v)
			}
		}
		if fp, _ := rec["certSha256"].(string); len(fp) != 64 {
			t.Errorf("certSha256 = %q", fp)
		}
		if s, _ := rec["certSerial"].(string); !strings.Contains(s, ":") && len(s) < 2 {
			t.Errorf("certSerial = %q", s)
		}
	})

	t.Run("no client certificate fails the handshake", func(t *testing.T) {
		for _, v := range []uint16{0x0303, 0x0304} {
			_, err := h.do(h.client("api.example.com", clientOpts{maxVersion: v}), "GET", url, nil, nil)
			if err == nil {
				t.Fatalf("TLS %x: request without a client certificate got an HTTP response", v)
			}
		}
		waitFor(t, "handshake log record", func() bool {
			for _, m := range h.accessRecords() {
				if m["event"] == "handshake" && m["mtlsReason"] == "no_certificate" && m["domain"] == "api.example.com" {
					return true
				}
			}
			return false
		})
	})

	other := newPartner(t, "Stranger")
	deep := testpki.NewCA(t, "Deep Root")
	ca := deep
	for i := 1; i <= 4; i++ {
		ca = ca.Intermediate(t, "Deep "+string(rune('0'+i)))
	}
	rsaRoot := testpki.NewCA(t, "RSA Root", testpki.WithKey(testpki.RSA2048))
	h.domain("api.example.com", h.serverCert("api.example.com"), model.PolicyTLS12,
		testpki.Bundle(f.partner.bundle, deep.CertPEM, rsaRoot.CertPEM))

	refused := []struct {
		name   string
		leaf   *testpki.Leaf
		reason string
	}{
		{"unknown issuer", other.inter.Leaf(t, testpki.Client("x")), "unknown_issuer"},
		{"self-signed not in store", testpki.SelfSigned(t, testpki.Client("me")), "self_signed_not_trusted"},
		{"expired", f.partner.inter.Leaf(t, testpki.Client("old"), testpki.Expired()), "expired"},
		{"not yet valid", f.partner.inter.Leaf(t, testpki.Client("new"), testpki.NotYetValid()), "not_yet_valid"},
		{"rsa 1024", rsaRoot.Leaf(t, testpki.Client("weak"), testpki.WithKey(testpki.RSA1024)), "weak_key"},
		{"sha-1 signature", rsaRoot.Leaf(t, testpki.Client("sha1"), testpki.WithKey(testpki.RSA2048), testpki.WithSigAlg(x509.SHA1WithRSA)), "weak_signature"},
		{"ca depth over 4", ca.Leaf(t, testpki.Client("deep")), "depth_exceeded"},
		{"eku without clientAuth", f.partner.inter.Leaf(t, testpki.Client("srv"), testpki.WithEKU(x509.ExtKeyUsageServerAuth)), "eku_not_client_auth"},
	}
	for _, tt := range refused {
		t.Run("refused: "+tt.name, func(t *testing.T) {
			r := h.get(h.client("api.example.com", clientOpts{cert: tt.leaf}), url)
			wantStatus(t, tt.name, r, 403, `{"message":"Forbidden"}`)
			if got := r.header.Get("X-Amzn-Errortype"); got != "ForbiddenException" {
				t.Errorf("x-amzn-ErrorType = %q", got)
			}
			if r.header.Get("X-Amzn-Requestid") == "" || r.header.Get("X-Amz-Apigw-Id") == "" {
				t.Errorf("refusal without request ids: %v", r.header)
			}
			rec := h.accessRecord(t, r.header.Get("X-Amzn-Requestid"))
			if rec["mtls"] != "rejected" || rec["mtlsReason"] != tt.reason {
				t.Errorf("access log mtls=%v reason=%v, want rejected %s (error %v)", rec["mtls"], rec["mtlsReason"], tt.reason, rec["error"])
			}
			if rec["certSubject"] == "" || rec["certSha256"] == "" {
				t.Errorf("refused certificate not identified in the log: %v", rec)
			}
		})
	}
	before := f.be.count()

	t.Run("host names another domain than SNI", func(t *testing.T) {
		h.domain("other.example.com", h.serverCert("other.example.com"), model.PolicyTLS12, nil)
		c := h.client("api.example.com", clientOpts{cert: f.leaf})
		r := h.get(c, "https://other.example.com/c360/customer/42")
		wantStatus(t, "host other", r, http.StatusMisdirectedRequest, "")
		r = h.get(c, "https://"+seedAPI+".execute-api."+testRegion+"."+testPublic+"/DEV/customer/42")
		wantStatus(t, "host default endpoint", r, http.StatusMisdirectedRequest, "")
		// No SNI must not reach a custom domain by its Host either.
		r = h.get(h.client("", clientOpts{cert: f.leaf}), url)
		wantStatus(t, "no SNI, host custom", r, http.StatusMisdirectedRequest, "")
	})

	t.Run("no mapping and no (none)", func(t *testing.T) {
		r := h.get(h.client("api.example.com", clientOpts{cert: f.leaf}), "https://api.example.com/nothing/here")
		wantStatus(t, "unmapped", r, 403, `{"message":"Forbidden"}`)
		if got := r.header.Get("X-Amzn-Errortype"); got != "ForbiddenException" {
			t.Errorf("x-amzn-ErrorType = %q", got)
		}
	})

	t.Run("mapping matches, no resource or method", func(t *testing.T) {
		c := h.client("api.example.com", clientOpts{cert: f.leaf})
		for _, u := range []string{"https://api.example.com/c360/nope", "https://api.example.com/c360/customer/42/x"} {
			r := h.get(c, u)
			wantStatus(t, u, r, 403, `{"message":"Missing Authentication Token"}`)
			if got := r.header.Get("X-Amzn-Errortype"); got != "MissingAuthenticationTokenException" {
				t.Errorf("x-amzn-ErrorType = %q", got)
			}
		}
		r, err := h.do(c, "DELETE", url, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		wantStatus(t, "wrong method", r, 403, `{"message":"Missing Authentication Token"}`)
	})

	t.Run("SNI unknown or absent", func(t *testing.T) {
		for _, sni := range []string{"", "unknown.example.net"} {
			c := h.client(sni, clientOpts{insecure: true})
			r := h.get(c, "https://unknown.example.net/c360/customer/42")
			wantStatus(t, "sni "+sni, r, 403, `{"message":"Forbidden"}`)
			if cn := r.resp.TLS.PeerCertificates[0].Subject.CommonName; !strings.HasPrefix(cn, "*.execute-api.") {
				t.Errorf("sni %q: served certificate %q, want the default one", sni, cn)
			}
		}
	})

	if f.be.count() != before {
		t.Errorf("refused requests reached the backend: %d calls, want %d", f.be.count(), before)
	}

	t.Run("metrics", func(t *testing.T) {
		m := func(name string, labels ...string) float64 { t.Helper(); return h.metric(name, labels...) }
		checks := []struct {
			what string
			got  float64
			min  float64
		}{
			{"2xx requests", m("trustgate_edge_requests_total", "domain", "api.example.com", "code", "2xx"), 1},
			{"4xx requests", m("trustgate_edge_requests_total", "domain", "api.example.com", "code", "4xx"), 8},
			{"unknown-domain requests", m("trustgate_edge_requests_total", "domain", "unknown", "code", "4xx"), 2},
			{"latency observations", m("trustgate_edge_request_duration_seconds", "domain", "api.example.com"), 9},
			{"upstream observations", m("trustgate_edge_upstream_duration_seconds", "domain", "api.example.com"), 1},
			{"trusted verdicts", m("trustgate_edge_mtls_verdicts_total", "domain", "api.example.com", "reason", "trusted"), 1},
			{"expired verdicts", m("trustgate_edge_mtls_verdicts_total", "domain", "api.example.com", "reason", "expired"), 1},
			{"ok handshakes", m("trustgate_edge_handshakes_total", "domain", "api.example.com", "result", "ok"), 9},
			{"no-cert handshakes", m("trustgate_edge_handshakes_total", "domain", "api.example.com", "result", "no_client_certificate"), 2},
			{"truststore size", m("trustgate_edge_truststore_certificates", "domain", "api.example.com"), 4},
			{"truststore expiry", m("trustgate_edge_truststore_earliest_expiry_timestamp_seconds", "domain", "api.example.com"), float64(time.Now().Unix())},
			{"revision", m("trustgate_edge_snapshot_revision"), float64(h.srv.Revision())},
		}
		for _, c := range checks {
			if c.got < c.min {
				t.Errorf("%s = %v, want >= %v", c.what, c.got, c.min)
			}
		}
		// No label value comes from the client: the unknown SNI above is
		// counted as "unknown".
		fams, _ := h.reg.Gather()
		for _, f := range fams {
			for _, mt := range f.GetMetric() {
				for _, lp := range mt.GetLabel() {
					if strings.Contains(lp.GetValue(), "example.net") {
						t.Errorf("%s carries client-controlled label %s=%s", f.GetName(), lp.GetName(), lp.GetValue())
					}
				}
			}
		}
	})
}

// TestDefaultEndpoint covers https://{apiId}.execute-api.{region}.{domain}/{stage}/…
// and disableExecuteApiEndpoint as recorded in the deployment.
func TestDefaultEndpoint(t *testing.T) {
	h := newHarness(t)
	host := seedAPI + ".execute-api." + testRegion + "." + testPublic
	h.deploy(seedAPI, "DEV", false, resource("/hello", map[string]*model.Method{"GET": mock(200, `{"hello":"world"}`)}))
	c := h.client(host, clientOpts{})
	wantStatus(t, "enabled", h.get(c, "https://"+host+"/DEV/hello"), 200, `{"hello":"world"}`)
	wantStatus(t, "unknown stage", h.get(c, "https://"+host+"/PROD/hello"), 403, `{"message":"Forbidden"}`)
	wantStatus(t, "no stage", h.get(c, "https://"+host+"/"), 403, `{"message":"Forbidden"}`)
	wantStatus(t, "missing resource", h.get(c, "https://"+host+"/DEV/nope"), 403, `{"message":"Missing Authentication Token"}`)
	other := "zzzzzzzzzz.execute-api." + testRegion + "." + testPublic
	wantStatus(t, "unknown api", h.get(h.client(other, clientOpts{}), "https://"+other+"/DEV/hello"), 403, `{"message":"Forbidden"}`)

	// Disabling it on the RestAPI alone changes nothing until a deployment.
	h.put(model.RestAPIKey(seedAPI), model.RestAPI{ID: seedAPI, Name: seedAPI, DisableExecuteAPIEndpoint: true})
	wantStatus(t, "disabled, not redeployed", h.get(c, "https://"+host+"/DEV/hello"), 200, `{"hello":"world"}`)
	h.deploy(seedAPI, "DEV", true, resource("/hello", map[string]*model.Method{"GET": mock(200, `{"hello":"world"}`)}))
	r := h.get(c, "https://"+host+"/DEV/hello")
	wantStatus(t, "disabled and redeployed", r, 403, `{"message":"Forbidden"}`)
	if got := r.header.Get("X-Amzn-Errortype"); got != "ForbiddenException" {
		t.Errorf("x-amzn-ErrorType = %q", got)
	}
}

// TestSecurityPolicies checks the TLS versions each policy accepts.
func TestSecurityPolicies(t *testing.T) {
	h := newHarness(t)
	h.deploy("pol", "S", false, resource("/", map[string]*model.Method{"GET": mock(200, "ok")}))
	for _, name := range []string{"tls10.example.com", "tls12.example.com", "tls13.example.com", "tls13b.example.com"} {
		h.mapping(name, "", "pol", "S")
	}
	h.domain("tls10.example.com", h.serverCert("tls10.example.com"), model.PolicyTLS10, nil)
	h.domain("tls12.example.com", h.serverCert("tls12.example.com"), model.PolicyTLS12, nil)
	h.domain("tls13.example.com", h.serverCert("tls13.example.com"), model.PolicyTLS13_2025_09, nil)
	h.domain("tls13b.example.com", h.serverCert("tls13b.example.com"), "SecurityPolicy_TLS13_1_2_2021_06", nil)
	tests := []struct {
		domain  string
		version uint16
		ok      bool
	}{
		{"tls10.example.com", 0x0301, true},
		{"tls10.example.com", 0x0304, true},
		{"tls12.example.com", 0x0302, false},
		{"tls12.example.com", 0x0303, true},
		{"tls12.example.com", 0x0304, true},
		{"tls13.example.com", 0x0303, false},
		{"tls13.example.com", 0x0304, true},
		{"tls13b.example.com", 0x0303, false},
	}
	for _, tt := range tests {
		c := h.client(tt.domain, clientOpts{minVersion: tt.version, maxVersion: tt.version})
		r, err := h.do(c, "GET", "https://"+tt.domain+"/", nil, nil)
		if tt.ok && (err != nil || r.status != 200) {
			t.Errorf("%s with TLS %x: err %v status %d, want 200", tt.domain, tt.version, err, r.status)
		}
		if !tt.ok && err == nil {
			t.Errorf("%s with TLS %x: handshake succeeded, want refusal", tt.domain, tt.version)
		}
	}
}

// TestWildcardDomain checks *.example.org: one label, exact names first.
func TestWildcardDomain(t *testing.T) {
	h := newHarness(t)
	h.deploy("wild", "S", false, resource("/", map[string]*model.Method{"GET": mock(200, "wild")}))
	h.deploy("exact", "S", false, resource("/", map[string]*model.Method{"GET": mock(200, "exact")}))
	h.domain("*.example.org", h.serverCert("*.example.org"), model.PolicyTLS12, nil)
	h.domain("exact.example.org", h.serverCert("exact.example.org"), model.PolicyTLS12, nil)
	h.mapping("*.example.org", "", "wild", "S")
	h.mapping("exact.example.org", "", "exact", "S")
	wantStatus(t, "wildcard", h.get(h.client("a.example.org", clientOpts{}), "https://a.example.org/"), 200, "wild")
	wantStatus(t, "upper-case host", h.get(h.client("B.Example.Org", clientOpts{}), "https://B.Example.Org/"), 200, "wild")
	wantStatus(t, "exact wins", h.get(h.client("exact.example.org", clientOpts{}), "https://exact.example.org/"), 200, "exact")
	// Two labels deep is not covered by *.example.org: default certificate, 403.
	c := h.client("a.b.example.org", clientOpts{insecure: true})
	wantStatus(t, "two labels", h.get(c, "https://a.b.example.org/"), 403, `{"message":"Forbidden"}`)
	// Same wildcard domain, other name in Host: same domain, allowed.
	wantStatus(t, "host in same wildcard", h.get(h.client("a.example.org", clientOpts{}), "https://c.example.org/"), 200, "wild")
}

func TestHTTP2(t *testing.T) {
	f := newSeedFlow(t)
	c := f.h.client("api.example.com", clientOpts{cert: f.leaf, h2: true})
	r := f.h.get(c, "https://api.example.com/c360/customer/7")
	wantStatus(t, "h2", r, 200, "backend GET /customers/7")
	if r.resp.Proto != "HTTP/2.0" {
		t.Fatalf("protocol %s, want HTTP/2.0", r.resp.Proto)
	}
	if got := f.h.accessRecord(t, r.header.Get("X-Amzn-Requestid"))["protocol"]; got != "HTTP/2.0" {
		t.Errorf("access log protocol %v", got)
	}
	_ = time.Second
}
