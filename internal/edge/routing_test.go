package edge

import (
	"reflect"
	"strings"
	"testing"

	"trustgate/internal/model"
)

func TestReqPathParse(t *testing.T) {
	tests := []struct {
		in     string
		segs   []string
		canon  string
		simple bool
	}{
		{"/", nil, "", true},
		{"", nil, "", true},
		{"/a/b/c", []string{"a", "b", "c"}, "a/b/c", true},
		{"/a/b/", []string{"a", "b"}, "a/b", true},
		{"/a//b", []string{"a", "b"}, "a/b", false},
		{"/a/./b", []string{"a", "b"}, "a/b", false},
		{"/a/../b", []string{"b"}, "b", false},
		{"/../../etc/passwd", []string{"etc", "passwd"}, "etc/passwd", false},
		{"/c360/%2E%2E/admin", []string{"admin"}, "admin", false},
		{"/a%2Fb/c", []string{"a/b", "c"}, "a%2Fb/c", false},
		{"/a%252Fb", []string{"a%2Fb"}, "a%252Fb", false},
		{"/caf%C3%A9/x%20y", []string{"café", "x y"}, "café/x y", false},
	}
	for _, tt := range tests {
		var p reqPath
		if err := p.parse(tt.in); err != nil {
			t.Fatalf("parse(%q): %v", tt.in, err)
		}
		if len(p.segs) != len(tt.segs) || (len(tt.segs) > 0 && !reflect.DeepEqual(p.segs, tt.segs)) {
			t.Errorf("parse(%q) segs = %q, want %q", tt.in, p.segs, tt.segs)
		}
		if p.canon != tt.canon || p.simple != tt.simple {
			t.Errorf("parse(%q) canon %q simple %v, want %q %v", tt.in, p.canon, p.simple, tt.canon, tt.simple)
		}
		for i := range p.segs {
			if end := p.prefixEnd(i + 1); end > len(p.canon) {
				t.Errorf("parse(%q): end %d beyond canon", tt.in, end)
			}
		}
	}
	var p reqPath
	if err := p.parse("/a%zz"); err == nil {
		t.Error("invalid escape accepted")
	}
}

func TestMappingLookup(t *testing.T) {
	// AWS's worked example (spec §5), plus keys with odd characters.
	keys := map[string]string{"": "API1", "orders/v1/items": "API2", "orders/v2/items": "API3",
		"orders/v2/items/categories": "API4", "c360": "C360", "a$b": "DOLLAR"}
	tbl := &mappingTable{byKey: map[string]*mappingRoute{}}
	for k, api := range keys {
		ck, depth := canonKey(k)
		tbl.byKey[ck] = &mappingRoute{key: k, apiID: api}
		tbl.maxDepth = max(tbl.maxDepth, depth)
	}
	tests := []struct {
		path     string
		api      string
		consumed int
	}{
		{"/orders/v1/items/123", "API2", 3},
		{"/orders/v2/items/categories/5", "API4", 4},
		{"/orders/v2/items", "API3", 3},
		{"/customers", "API1", 0},
		{"/", "API1", 0},
		{"/c360/customer/42", "C360", 1},
		{"/c3600/customer", "API1", 0},        // segment boundary, not a string prefix
		{"/orders%2Fv1%2Fitems/1", "API1", 0}, // %2F is not a separator
		{"/orders/v1/../v2/items/categories", "API4", 4},
		{"/a%24b/x", "DOLLAR", 1}, // %24 is "$"
	}
	for _, tt := range tests {
		var p reqPath
		if err := p.parse(tt.path); err != nil {
			t.Fatal(err)
		}
		m, consumed := tbl.lookup(&p)
		if m == nil || m.apiID != tt.api || consumed != tt.consumed {
			got := "<nil>"
			if m != nil {
				got = m.apiID
			}
			t.Errorf("lookup(%s) = %s/%d, want %s/%d", tt.path, got, consumed, tt.api, tt.consumed)
		}
	}
	delete(tbl.byKey, "")
	var p reqPath
	_ = p.parse("/customers")
	if m, _ := tbl.lookup(&p); m != nil {
		t.Errorf("without (none), /customers matched %s", m.apiID)
	}
}

func TestResourceMatch(t *testing.T) {
	m := func() map[string]*model.Method { return map[string]*model.Method{"GET": mock(200, "")} }
	root, err := compileResources([]model.Resource{
		resource("/", m()),
		resource("/users", m()),
		resource("/users/me", m()),
		resource("/users/{id}", m()),
		resource("/users/{id}/orders", m()),
		resource("/users/me/settings", m()),
		resource("/files/{proxy+}", m()),
		resource("/{proxy+}", m()),
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path     string
		resource string
		params   map[string]string
	}{
		{"/", "/", nil},
		{"/users", "/users", nil},
		{"/users/me", "/users/me", nil}, // literal before param
		{"/users/42", "/users/{id}", map[string]string{"id": "42"}},               // param
		{"/users/me/orders", "/users/{id}/orders", map[string]string{"id": "me"}}, // backtrack
		{"/users/a%2Fb", "/users/{id}", map[string]string{"id": "a/b"}},           // %2F stays in the segment
		{"/files/a/b/c", "/files/{proxy+}", map[string]string{"proxy": "a/b/c"}},
		{"/files", "/{proxy+}", map[string]string{"proxy": "files"}}, // greedy needs one segment
		{"/other/x", "/{proxy+}", map[string]string{"proxy": "other/x"}},
		{"/users/42/orders/9", "/{proxy+}", map[string]string{"proxy": "users/42/orders/9"}},
	}
	for _, tt := range tests {
		var p reqPath
		if err := p.parse(tt.path); err != nil {
			t.Fatal(err)
		}
		rs := &reqState{path: p}
		rs.params = rs.paramBuf[:0]
		n := root.match(&rs.path, 0, &rs.params)
		if n == nil {
			t.Errorf("%s: no match, want %s", tt.path, tt.resource)
			continue
		}
		if n.path != tt.resource {
			t.Errorf("%s matched %s, want %s", tt.path, n.path, tt.resource)
		}
		got := map[string]string{}
		for _, pp := range rs.params {
			got[pp.name] = rs.pathParamValue(pp.name, nil, false)
		}
		if len(got) != len(tt.params) || (len(got) > 0 && !reflect.DeepEqual(got, tt.params)) {
			t.Errorf("%s params %v, want %v", tt.path, got, tt.params)
		}
	}
	// A tree without a greedy resource does not match deeper paths.
	root2, _ := compileResources([]model.Resource{resource("/a", m())})
	var p reqPath
	_ = p.parse("/a/b")
	var params []pathParam
	if n := root2.match(&p, 0, &params); n != nil {
		t.Errorf("/a/b matched %s", n.path)
	}
	// "/a/{x}" where only "/a/{x}/b" has methods: "/a/1" is not a resource.
	root3, _ := compileResources([]model.Resource{resource("/a/{x}/b", m())})
	_ = p.parse("/a/1")
	if n := root3.match(&p, 0, &params); n != nil {
		t.Errorf("/a/1 matched intermediate node %q", n.path)
	}
}

func TestCompileResourcesRejectsConflicts(t *testing.T) {
	for _, rs := range [][]model.Resource{
		{resource("/a/{x}", nil), resource("/a/{y}", nil)},
		{resource("/a/{p+}/b", nil)},
		{resource("/{}", nil)},
	} {
		if _, err := compileResources(rs); err == nil {
			t.Errorf("compiled %v without error", rs)
		}
	}
}

// TestRoutingEndToEnd routes through mappings, methods and ANY on the real
// listener, including paths that try to climb out of their mapping.
func TestRoutingEndToEnd(t *testing.T) {
	h := newHarness(t)
	be := newBackend(t)
	h.domain("api.example.com", h.serverCert("api.example.com"), model.PolicyTLS12, nil)
	h.deploy("api1", "S", false,
		resource("/", map[string]*model.Method{"GET": mock(200, "API1 root")}),
		resource("/{proxy+}", map[string]*model.Method{"ANY": httpProxy(be.URL+"/api1/{proxy}", nil)}))
	h.deploy("api2", "S", false,
		resource("/{id}", map[string]*model.Method{"ANY": httpProxy(be.URL+"/api2/{id}", nil)}))
	h.deploy("api4", "S", false,
		resource("/{id}", map[string]*model.Method{"POST": httpProxy(be.URL+"/api4/{id}", nil)}))
	h.deploy("admin", "S", false,
		resource("/{proxy+}", map[string]*model.Method{"ANY": httpProxy(be.URL+"/ADMIN/{proxy}", nil)}))
	h.mapping("api.example.com", "(none)", "api1", "S")
	h.mapping("api.example.com", "orders/v1/items", "api2", "S")
	h.mapping("api.example.com", "orders/v2/items/categories", "api4", "S")
	h.mapping("api.example.com", "admin", "admin", "S")
	c := h.client("api.example.com", clientOpts{})

	tests := []struct {
		method, path string
		status       int
		backendPath  string // escaped path the backend saw; "" for no call
		body         string
	}{
		{"GET", "/", 200, "", "API1 root"},
		{"GET", "/orders/v1/items/123", 200, "/api2/123", ""},
		{"DELETE", "/orders/v1/items/123", 200, "/api2/123", ""}, // ANY
		{"POST", "/orders/v2/items/categories/5", 200, "/api4/5", ""},
		{"GET", "/orders/v2/items/categories/5", 403, "", `{"message":"Missing Authentication Token"}`},
		{"GET", "/customers", 200, "/api1/customers", ""},
		{"GET", "/orders/v1/items/a%2Fb", 200, "/api2/a%2Fb", ""},
		{"GET", "/x/a%2Fb/c", 200, "/api1/x/a%2Fb/c", ""},
		// ".." is resolved before routing: it can move to another mapping
		// (as a cleaned path would) but never reaches a backend as "..".
		{"GET", "/orders/v1/items/%2E%2E/%2E%2E/%2E%2E/%2E%2E/etc/passwd", 200, "/api1/etc/passwd", ""},
		{"GET", "/orders/v1/items/1/../2", 200, "/api2/2", ""},
	}
	for _, tt := range tests {
		// Go's client cleans "/../" itself: send the raw path with Opaque.
		req := "https://api.example.com" + tt.path
		n := be.count()
		r, err := h.doRaw(c, tt.method, req)
		if err != nil {
			t.Fatalf("%s %s: %v", tt.method, tt.path, err)
		}
		if r.status != tt.status || (tt.body != "" && r.body != tt.body) {
			t.Errorf("%s %s: %d %q, want %d %q", tt.method, tt.path, r.status, r.body, tt.status, tt.body)
			continue
		}
		if tt.backendPath == "" {
			if be.count() != n {
				t.Errorf("%s %s reached the backend", tt.method, tt.path)
			}
			continue
		}
		if got := be.last(t).RawPath; got != tt.backendPath {
			t.Errorf("%s %s: backend saw %s, want %s", tt.method, tt.path, got, tt.backendPath)
		}
		if strings.Contains(be.last(t).Path, "..") {
			t.Errorf("%s %s: backend saw dot segments", tt.method, tt.path)
		}
	}
}
