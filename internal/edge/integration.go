package edge

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"trustgate/internal/model"
)

type integKind int

const (
	kindUnsupported integKind = iota
	kindHTTP                  // HTTP and HTTP_PROXY
	kindMock
)

// integrationBuild is a method's integration, compiled once per deployment.
type integrationBuild struct {
	kind integKind
	typ  string
	// method is the upstream HTTP method; "" means the request's own.
	method string
	// base is the scheme and host of a URI whose host part is static; tmpl
	// then renders the rest (path and query). With a nil base, tmpl renders
	// the whole URI, which is parsed per request.
	base    *url.URL
	tmpl    []uriPart
	params  []paramOp
	timeout time.Duration // 0: the server's default
	mock    *mockBuild
	// err is why this integration cannot be served: every request to it
	// gets a 500 and the reason goes to the log.
	err string
}

type partKind int

const (
	partLiteral  partKind = iota
	partPath              // {name}
	partStageVar          // ${stageVariables.name}
)

type uriPart struct {
	kind    partKind
	text    string // literal text, or the parameter / variable name
	inQuery bool   // after the "?": escaped as a query value
}

type destKind int

const (
	destPath destKind = iota
	destQuery
	destHeader
)

type srcKind int

const (
	srcStatic srcKind = iota
	srcPath
	srcQuery
	srcHeader
	srcCert
	srcContext
	srcStageVar
)

// paramOp is one requestParameters entry: dest <- src.
type paramOp struct {
	dest     destKind
	destName string // header names canonical
	src      srcKind
	srcName  string // parameter name, clientCert field, context field, or the static value
	multi    bool   // multivalue source: values joined with ","
}

// clientCert fields a mapping may read (context.identity.clientCert.*).
var certFields = map[string]bool{
	"clientCertPem": true, "subjectDN": true, "issuerDN": true, "serialNumber": true,
	"validity.notBefore": true, "validity.notAfter": true,
}

// context fields a mapping may read (context.*).
var contextFields = map[string]bool{
	"requestId": true, "extendedRequestId": true, "identity.sourceIp": true, "stage": true,
	"apiId": true, "domainName": true, "resourcePath": true, "httpMethod": true, "path": true,
}

func compileIntegration(in *model.Integration) *integrationBuild {
	if in == nil {
		return &integrationBuild{err: "no integration defined for method"}
	}
	ib := &integrationBuild{typ: in.Type}
	if in.TimeoutInMillis > 0 {
		ib.timeout = time.Duration(in.TimeoutInMillis) * time.Millisecond
	}
	switch in.Type {
	case model.IntegrationHTTP, model.IntegrationHTTPProxy:
		if in.ConnectionType != "" && in.ConnectionType != "INTERNET" {
			ib.err = fmt.Sprintf("integration connection type %s is not supported", in.ConnectionType)
			return ib
		}
		ib.kind = kindHTTP
		if m := strings.ToUpper(in.HTTPMethod); m != "" && m != "ANY" {
			ib.method = m
		}
		if err := ib.compileURI(in.URI); err != nil {
			ib.kind, ib.err = kindUnsupported, err.Error()
			return ib
		}
	case model.IntegrationMock:
		ib.kind = kindMock
		mb, err := compileMock(in)
		if err != nil {
			ib.kind, ib.err = kindUnsupported, err.Error()
			return ib
		}
		ib.mock = mb
	default:
		ib.err = fmt.Sprintf("integration type %q is not supported", in.Type)
		return ib
	}
	ops, err := compileParams(in.RequestParameters)
	if err != nil {
		ib.kind, ib.err = kindUnsupported, err.Error()
		return ib
	}
	ib.params = ops
	return ib
}

func (ib *integrationBuild) compileURI(uri string) error {
	if uri == "" {
		return fmt.Errorf("integration has no uri")
	}
	i := strings.Index(uri, "://")
	if i < 0 {
		return fmt.Errorf("integration uri %q is not an absolute http(s) URL", uri)
	}
	scheme := strings.ToLower(uri[:i])
	if scheme != "http" && scheme != "https" {
		return fmt.Errorf("integration uri %q is not an http(s) URL", uri)
	}
	hostEnd := len(uri)
	if j := strings.IndexAny(uri[i+3:], "/?"); j >= 0 {
		hostEnd = i + 3 + j
	}
	head, rest := uri[:hostEnd], uri[hostEnd:]
	if strings.ContainsAny(head, "{$") {
		// The host is templated (stage variables): render and parse the
		// whole URI per request.
		parts, err := parseTemplate(uri)
		if err != nil {
			return err
		}
		ib.tmpl = parts
		return nil
	}
	base, err := url.Parse(head)
	if err != nil || base.Host == "" {
		return fmt.Errorf("integration uri %q has no valid host", uri)
	}
	parts, err := parseTemplate(rest)
	if err != nil {
		return err
	}
	ib.base, ib.tmpl = base, parts
	return nil
}

// parseTemplate splits an integration URI (or its path and query) into
// literal text, {param} and ${stageVariables.name} parts.
func parseTemplate(s string) ([]uriPart, error) {
	var parts []uriPart
	inQuery := false
	lit := 0
	flush := func(end int) {
		if end > lit {
			parts = append(parts, uriPart{kind: partLiteral, text: s[lit:end], inQuery: inQuery})
		}
	}
	for i := 0; i < len(s); {
		switch {
		case s[i] == '?' && !inQuery:
			flush(i)
			inQuery = true
			i++
			lit = i // the "?" itself is not part of the query text
		case strings.HasPrefix(s[i:], "${stageVariables."):
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return nil, fmt.Errorf("integration uri: unterminated ${stageVariables.…}")
			}
			flush(i)
			parts = append(parts, uriPart{kind: partStageVar, text: s[i+len("${stageVariables.") : i+end], inQuery: inQuery})
			i += end + 1
			lit = i
		case s[i] == '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return nil, fmt.Errorf("integration uri: unterminated {parameter}")
			}
			flush(i)
			name := strings.TrimSuffix(s[i+1:i+end], "+")
			parts = append(parts, uriPart{kind: partPath, text: name, inQuery: inQuery})
			i += end + 1
			lit = i
		default:
			i++
		}
	}
	flush(len(s))
	return parts, nil
}

func compileParams(m map[string]string) ([]paramOp, error) {
	dests := make([]string, 0, len(m))
	for d := range m {
		dests = append(dests, d)
	}
	sort.Strings(dests)
	ops := make([]paramOp, 0, len(m))
	for _, d := range dests {
		op, err := compileParam(d, m[d])
		if err != nil {
			return nil, err
		}
		ops = append(ops, op)
	}
	return ops, nil
}

func compileParam(dest, src string) (paramOp, error) {
	var op paramOp
	switch {
	case strings.HasPrefix(dest, "integration.request.path."):
		op.dest, op.destName = destPath, strings.TrimPrefix(dest, "integration.request.path.")
	case strings.HasPrefix(dest, "integration.request.querystring."):
		op.dest, op.destName = destQuery, strings.TrimPrefix(dest, "integration.request.querystring.")
	case strings.HasPrefix(dest, "integration.request.multivaluequerystring."):
		op.dest, op.destName = destQuery, strings.TrimPrefix(dest, "integration.request.multivaluequerystring.")
	case strings.HasPrefix(dest, "integration.request.header."):
		op.dest, op.destName = destHeader, http.CanonicalHeaderKey(strings.TrimPrefix(dest, "integration.request.header."))
	case strings.HasPrefix(dest, "integration.request.multivalueheader."):
		op.dest, op.destName = destHeader, http.CanonicalHeaderKey(strings.TrimPrefix(dest, "integration.request.multivalueheader."))
	default:
		return op, fmt.Errorf("request parameter %q: unsupported destination", dest)
	}
	if op.destName == "" {
		return op, fmt.Errorf("request parameter %q: empty name", dest)
	}
	switch {
	case len(src) >= 2 && src[0] == '\'' && src[len(src)-1] == '\'':
		op.src, op.srcName = srcStatic, src[1:len(src)-1]
	case strings.HasPrefix(src, "method.request.path."):
		op.src, op.srcName = srcPath, strings.TrimPrefix(src, "method.request.path.")
	case strings.HasPrefix(src, "method.request.querystring."):
		op.src, op.srcName = srcQuery, strings.TrimPrefix(src, "method.request.querystring.")
	case strings.HasPrefix(src, "method.request.multivaluequerystring."):
		op.src, op.srcName, op.multi = srcQuery, strings.TrimPrefix(src, "method.request.multivaluequerystring."), true
	case strings.HasPrefix(src, "method.request.header."):
		op.src, op.srcName = srcHeader, http.CanonicalHeaderKey(strings.TrimPrefix(src, "method.request.header."))
	case strings.HasPrefix(src, "method.request.multivalueheader."):
		op.src, op.srcName, op.multi = srcHeader, http.CanonicalHeaderKey(strings.TrimPrefix(src, "method.request.multivalueheader.")), true
	case strings.HasPrefix(src, "context.identity.clientCert."):
		op.src, op.srcName = srcCert, strings.TrimPrefix(src, "context.identity.clientCert.")
		if !certFields[op.srcName] {
			return op, fmt.Errorf("request parameter %q: unknown client certificate field %q", dest, op.srcName)
		}
	case strings.HasPrefix(src, "context."):
		op.src, op.srcName = srcContext, strings.TrimPrefix(src, "context.")
		if !contextFields[op.srcName] {
			return op, fmt.Errorf("request parameter %q: unsupported context variable %q", dest, src)
		}
	case strings.HasPrefix(src, "stageVariables."):
		op.src, op.srcName = srcStageVar, strings.TrimPrefix(src, "stageVariables.")
	default:
		return op, fmt.Errorf("request parameter %q: unsupported source %q", dest, src)
	}
	return op, nil
}

// mockBuild is a MOCK integration: a status from the request template and
// static response templates from its integration responses.
type mockBuild struct {
	// statuses holds the status each request template names, by
	// lower-case media type.
	statuses  map[string]int
	responses []*mockResponse // with a selection pattern, in status order
	dflt      *mockResponse   // the one without a selection pattern
}

type mockResponse struct {
	status    int
	pattern   *regexp.Regexp
	templates map[string]string // by lower-case media type
	types     []string          // template media types, sorted
	headers   [][2]string       // static response headers
}

var statusCodeRE = regexp.MustCompile(`"statusCode"\s*:\s*"?(\d{3})`)

func compileMock(in *model.Integration) (*mockBuild, error) {
	mb := &mockBuild{statuses: make(map[string]int, len(in.RequestTemplates))}
	for ct, t := range in.RequestTemplates {
		status := http.StatusOK
		if m := statusCodeRE.FindStringSubmatch(t); m != nil {
			status, _ = strconv.Atoi(m[1])
		}
		mb.statuses[strings.ToLower(ct)] = status
	}
	keys := make([]string, 0, len(in.IntegrationResponses))
	for k := range in.IntegrationResponses {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		ir := in.IntegrationResponses[k]
		if ir == nil {
			continue
		}
		code := ir.StatusCode
		if code == "" {
			code = k
		}
		status, err := strconv.Atoi(code)
		if err != nil || status < 100 || status > 599 {
			return nil, fmt.Errorf("integration response %q: invalid status code", code)
		}
		mr := &mockResponse{status: status, templates: make(map[string]string, len(ir.ResponseTemplates))}
		for ct, t := range ir.ResponseTemplates {
			ct = strings.ToLower(ct)
			mr.templates[ct] = t
			mr.types = append(mr.types, ct)
		}
		sort.Strings(mr.types)
		hkeys := make([]string, 0, len(ir.ResponseParameters))
		for d := range ir.ResponseParameters {
			hkeys = append(hkeys, d)
		}
		sort.Strings(hkeys)
		for _, d := range hkeys {
			v := ir.ResponseParameters[d]
			name, ok := strings.CutPrefix(d, "method.response.header.")
			if !ok || len(v) < 2 || v[0] != '\'' || v[len(v)-1] != '\'' {
				continue // only static header values make sense for a mock
			}
			mr.headers = append(mr.headers, [2]string{http.CanonicalHeaderKey(name), v[1 : len(v)-1]})
		}
		if ir.SelectionPattern == "" {
			if mb.dflt == nil {
				mb.dflt = mr
			}
			continue
		}
		re, err := regexp.Compile(`^(?:` + ir.SelectionPattern + `)$`)
		if err != nil {
			return nil, fmt.Errorf("integration response %s: invalid selection pattern: %w", code, err)
		}
		mr.pattern = re
		mb.responses = append(mb.responses, mr)
	}
	return mb, nil
}

// status returns the status the request template names: the template for
// the request's Content-Type, else application/json; 200 without one.
func (mb *mockBuild) status(contentType string) int {
	if contentType != "" {
		mt := contentType
		if i := strings.IndexByte(mt, ';'); i >= 0 {
			mt = mt[:i]
		}
		mt = strings.TrimSpace(mt)
		if st, ok := mb.statuses[mt]; ok {
			return st
		}
		if st, ok := mb.statuses[strings.ToLower(mt)]; ok {
			return st
		}
	}
	if st, ok := mb.statuses["application/json"]; ok {
		return st
	}
	return http.StatusOK
}

// response selects the integration response for an integration status.
func (mb *mockBuild) response(status int) *mockResponse {
	s := strconv.Itoa(status)
	for _, r := range mb.responses {
		if r.pattern.MatchString(s) {
			return r
		}
	}
	return mb.dflt
}

// body picks a response template by the Accept header, else
// application/json, else the first media type.
func (mr *mockResponse) body(accept string) (contentType, body string) {
	if accept != "" {
		for _, part := range strings.Split(accept, ",") {
			mt := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
			if t, ok := mr.templates[mt]; ok {
				return mt, t
			}
		}
	}
	if t, ok := mr.templates["application/json"]; ok {
		return "application/json", t
	}
	if len(mr.types) > 0 {
		return mr.types[0], mr.templates[mr.types[0]]
	}
	return "application/json", ""
}
