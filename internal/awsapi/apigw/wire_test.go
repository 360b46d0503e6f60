package apigw

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	gwtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"

	"trustgate/internal/awsapi"
	"trustgate/internal/model"
	"trustgate/internal/store"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// errorBody reads an error response and checks its wire shape.
func errorBody(t *testing.T, resp *http.Response, status int, code string) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != status || resp.Header.Get("x-amzn-ErrorType") != code {
		t.Fatalf("got %d %q %s, want %d %s", resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"), b, status, code)
	}
	if resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("x-amzn-RequestId") == "" {
		t.Errorf("headers = %v", resp.Header)
	}
	var body map[string]string
	if err := json.Unmarshal(b, &body); err != nil {
		t.Fatalf("error body %q is not {\"message\": …}: %v", b, err)
	}
	return body["message"]
}

func TestStrictDecoding(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name, body, msg string
	}{
		{"malformed", `{"name": "x"`, "Invalid JSON"},
		{"not json", `name=x`, "Invalid JSON: invalid character"},
		{"wrong type", `{"name": 5}`, "Invalid JSON: member 'name' must be a string, not a number"},
		{"wrong nested type", `{"name": "x", "endpointConfiguration": {"types": "REGIONAL"}}`, "member 'endpointConfiguration.types' must be an array, not a string"},
		{"wrong bool", `{"name": "x", "disableExecuteApiEndpoint": "true"}`, "must be a boolean, not a string"},
		{"unknown member", `{"name": "x", "nmae": "y"}`, `Invalid JSON: unrecognized member "nmae"`},
		{"member in other case", `{"Name": "x"}`, `Invalid JSON: unrecognized member "Name"`},
		{"nested member in other case", `{"name": "x", "endpointConfiguration": {"Types": ["REGIONAL"]}}`, `unrecognized member "endpointConfiguration.Types"`},
		{"array body", `[1]`, "must be a JSON object, not an array"},
		{"trailing data", `{"name": "x"} {"name": "y"}`, "unexpected data after the top-level object"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := errorBody(t, e.raw("POST", "/restapis", tc.body), 400, "BadRequestException")
			if !strings.Contains(msg, tc.msg) {
				t.Errorf("message %q, want %q", msg, tc.msg)
			}
		})
	}
	if n := e.count(model.PrefixRestAPIs); n != 0 {
		t.Fatalf("%d apis written by refused requests", n)
	}
	// An empty body is an empty object (the SDKs send none when no member is set).
	resp := e.raw("PATCH", "/restapis/nope", "")
	errorBody(t, resp, 404, "NotFoundException")
	// v2 decodes the same way.
	msg := errorBody(t, e.raw("POST", "/v2/domainnames", `{"domainName": "a.example.com", "bogus": 1}`), 400, "BadRequestException")
	if !strings.Contains(msg, `"bogus"`) {
		t.Errorf("v2 message %q", msg)
	}
}

func TestUnknownOperation(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ method, path string }{
		{"GET", "/"},
		{"GET", "/nothing"},
		{"PUT", "/restapis"},
		{"POST", "/restapis/x"},
		{"GET", "/restapis/x/resources/y/methods"},
		{"GET", "/restapis//resources"},
		{"GET", "/v2/apis"},
	} {
		msg := errorBody(t, e.raw(tc.method, tc.path, ""), 404, "UnknownOperationException")
		if !strings.Contains(msg, tc.method) {
			t.Errorf("%s %s: message %q", tc.method, tc.path, msg)
		}
	}
}

func TestRequestID(t *testing.T) {
	e := newEnv(t)
	// Standalone: a fresh id per request.
	r1, r2 := e.raw("GET", "/restapis", ""), e.raw("GET", "/restapis", "")
	id1, id2 := r1.Header.Get("x-amzn-RequestId"), r2.Header.Get("x-amzn-RequestId")
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(id1) || id1 == id2 {
		t.Errorf("request ids %q %q", id1, id2)
	}
	// Behind the endpoint: the id it assigned.
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/restapis/nope", nil)
	e.svc.ServeHTTP(rec, req.WithContext(awsapi.WithRequestID(req.Context(), "endpoint-id")))
	if got := rec.Header().Get("x-amzn-RequestId"); got != "endpoint-id" || rec.Code != 404 {
		t.Errorf("got %d with id %q", rec.Code, got)
	}
}

// panicStore panics in every transaction.
type panicStore struct{ store.Store }

func (panicStore) View(context.Context, func(store.Tx) error) (int64, error) { panic("boom") }

// failStore fails every transaction with an internal error.
type failStore struct{ store.Store }

func (failStore) View(context.Context, func(store.Tx) error) (int64, error) {
	return 0, errors.New("disk on fire")
}

func TestInternalErrors(t *testing.T) {
	var logs bytes.Buffer
	for _, st := range []store.Store{panicStore{}, failStore{}} {
		svc := New(Config{Store: st, Region: testRegion, AccountID: testAccount, Logger: newTestLogger(&logs)})
		rec := httptest.NewRecorder()
		svc.ServeHTTP(rec, httptest.NewRequest("GET", "/restapis", nil))
		if rec.Code != 500 || rec.Header().Get("x-amzn-ErrorType") != "InternalFailure" {
			t.Fatalf("%T: got %d %q", st, rec.Code, rec.Header().Get("x-amzn-ErrorType"))
		}
		if body := rec.Body.String(); strings.Contains(body, "boom") || strings.Contains(body, "fire") {
			t.Errorf("internal detail leaked: %s", body)
		}
	}
	if !strings.Contains(logs.String(), "boom") || !strings.Contains(logs.String(), "disk on fire") {
		t.Errorf("details not logged: %s", logs.String())
	}
}

// TestRestart closes and reopens the bolt store: everything persists.
func TestRestart(t *testing.T) {
	e := newEnv(t)
	name := "persist.example.com"
	ver := e.domain(name)
	apiID := e.deployedAPI("persist", "DEV")
	if _, err := e.v2.CreateApiMapping(e.ctx, &apigatewayv2.CreateApiMappingInput{DomainName: &name, ApiMappingKey: aws.String("a/b"), ApiId: &apiID, Stage: aws.String("DEV")}); err != nil {
		t.Fatal(err)
	}
	before, err := e.v1.GetDomainName(e.ctx, &apigateway.GetDomainNameInput{DomainName: &name})
	if err != nil {
		t.Fatal(err)
	}
	e.objects.versions = map[string][]objectVersion{} // the truststore copy lives in the store

	e.restart()

	after, err := e.v1.GetDomainName(e.ctx, &apigateway.GetDomainNameInput{DomainName: &name})
	if err != nil {
		t.Fatal(err)
	}
	if *after.RegionalDomainName != *before.RegionalDomainName || *after.MutualTlsAuthentication.TruststoreVersion != ver {
		t.Errorf("domain after restart = %+v", after)
	}
	maps, err := e.v1.GetBasePathMappings(e.ctx, &apigateway.GetBasePathMappingsInput{DomainName: &name})
	if err != nil || len(maps.Items) != 1 || *maps.Items[0].BasePath != "a/b" {
		t.Fatalf("mappings after restart = %+v, %v", maps, err)
	}
	st, err := e.v1.GetStage(e.ctx, &apigateway.GetStageInput{RestApiId: &apiID, StageName: aws.String("DEV")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.v1.GetDeployment(e.ctx, &apigateway.GetDeploymentInput{RestApiId: &apiID, DeploymentId: st.DeploymentId}); err != nil {
		t.Fatal(err)
	}
	res, err := e.v1.GetResources(e.ctx, &apigateway.GetResourcesInput{RestApiId: &apiID, Embed: []string{"methods"}})
	if err != nil || len(res.Items) != 1 || res.Items[0].ResourceMethods["GET"].MethodIntegration == nil {
		t.Fatalf("resources after restart = %+v, %v", res, err)
	}
}

// TestGolden pins the JSON of a few responses (ids and dates normalised);
// go test -run TestGolden -update rewrites them.
func TestGolden(t *testing.T) {
	e := newEnv(t)
	name := "golden.example.com"
	cert := e.cert(name)
	e.objects.put("trust", "golden.pem", mustCA(t))
	if _, err := e.v1.CreateDomainName(e.ctx, &apigateway.CreateDomainNameInput{
		DomainName: &name, RegionalCertificateArn: &cert, EndpointConfiguration: regional(), SecurityPolicy: gwtypes.SecurityPolicyTls12,
		MutualTlsAuthentication: &gwtypes.MutualTlsAuthenticationInput{TruststoreUri: aws.String("s3://trust/golden.pem")},
		Tags:                    map[string]string{"team": "edge"},
	}); err != nil {
		t.Fatal(err)
	}
	apiID, root := e.api("golden")
	res := e.resource(apiID, root, "customer")
	e.mockMethod(apiID, res, "GET")
	if _, err := e.v1.PutMethodResponse(e.ctx, &apigateway.PutMethodResponseInput{RestApiId: &apiID, ResourceId: &res, HttpMethod: aws.String("GET"), StatusCode: aws.String("200")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v1.PutIntegrationResponse(e.ctx, &apigateway.PutIntegrationResponseInput{RestApiId: &apiID, ResourceId: &res, HttpMethod: aws.String("GET"), StatusCode: aws.String("200"),
		ResponseTemplates: map[string]string{"application/json": `{"ok": true}`}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ file, path string }{
		{"domain_v1.json", "/domainnames/" + name},
		{"domain_v2.json", "/v2/domainnames/" + name},
		{"resources_embed.json", "/restapis/" + apiID + "/resources?embed=methods"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			resp := e.raw("GET", tc.path, "")
			b, err := io.ReadAll(resp.Body)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("%d %s %v", resp.StatusCode, b, err)
			}
			got := normalise(t, b, map[string]string{apiID: "API_ID", root: "ROOT_ID", res: "RESOURCE_ID", cert: "CERT_ARN"})
			path := filepath.Join("testdata", tc.file)
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs:\ngot:\n%s\nwant:\n%s", tc.file, got, want)
			}
		})
	}
}

var (
	regionalIDRE = regexp.MustCompile(`d-[a-z0-9]{10}\.`)
	isoDateRE    = regexp.MustCompile(`"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z"`)
	epochRE      = regexp.MustCompile(`("certificateUploadDate"|"createdDate"): \d+`)
	versionRE    = regexp.MustCompile(`"truststoreVersion": "v\d+"`)
)

// normalise indents JSON and replaces run-dependent values.
func normalise(t *testing.T, b []byte, ids map[string]string) []byte {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for id, placeholder := range ids {
		s = strings.ReplaceAll(s, id, placeholder)
	}
	s = regionalIDRE.ReplaceAllString(s, "d-DOMAIN_ID.")
	s = isoDateRE.ReplaceAllString(s, `"DATE"`)
	s = epochRE.ReplaceAllString(s, `$1: 0`)
	s = versionRE.ReplaceAllString(s, `"truststoreVersion": "VERSION"`)
	return []byte(s + "\n")
}
