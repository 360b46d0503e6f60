package apigw

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	gwtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"

	"trustgate/internal/model"
)

func TestRestAPIs(t *testing.T) {
	e := newEnv(t)
	ctx := e.ctx
	_, err := e.v1.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("")})
	apiError(t, err, "BadRequestException", 400, "Invalid REST API name specified")
	_, err = e.v1.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("x"), Description: aws.String("")})
	apiError(t, err, "BadRequestException", 400, "Description cannot be an empty string")
	_, err = e.v1.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("x"), MinimumCompressionSize: aws.Int32(-1)})
	apiError(t, err, "BadRequestException", 400, "Invalid minimum compression size")
	_, err = e.v1.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("x"),
		EndpointConfiguration: &gwtypes.EndpointConfiguration{Types: []gwtypes.EndpointType{"MOON"}}})
	apiError(t, err, "ValidationException", 400, "Value 'MOON'")
	if n := e.count(model.PrefixRestAPIs); n != 0 {
		t.Fatalf("%d apis written by refused requests", n)
	}

	out, err := e.v1.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("edge"), Tags: map[string]string{"a": "b"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.EqualFold(string(out.EndpointConfiguration.Types[0]), "EDGE") || out.Tags["a"] != "b" {
		t.Errorf("default endpoint type / tags: %+v", out)
	}
	upd, err := e.v1.UpdateRestApi(ctx, &apigateway.UpdateRestApiInput{RestApiId: out.Id, PatchOperations: []gwtypes.PatchOperation{
		patch(gwtypes.OpReplace, "/name", "renamed"),
		patch(gwtypes.OpReplace, "/description", "desc"),
		patch(gwtypes.OpReplace, "/minimumCompressionSize", "1024"),
		patch(gwtypes.OpAdd, "/binaryMediaTypes/image~1png", ""),
		patch(gwtypes.OpReplace, "/endpointConfiguration/types/EDGE", "REGIONAL"),
		patch(gwtypes.OpReplace, "/disableExecuteApiEndpoint", "TRUE"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if *upd.Name != "renamed" || *upd.Description != "desc" || *upd.MinimumCompressionSize != 1024 ||
		len(upd.BinaryMediaTypes) != 1 || upd.BinaryMediaTypes[0] != "image/png" ||
		upd.EndpointConfiguration.Types[0] != gwtypes.EndpointTypeRegional || !upd.DisableExecuteApiEndpoint {
		t.Errorf("updated = %+v", upd)
	}
	for _, tc := range []struct {
		op  gwtypes.PatchOperation
		msg string
	}{
		{patch(gwtypes.OpReplace, "/foo", "x"), "Invalid patch path  '/foo' specified for op 'replace'. Must be one of: [/name, "},
		{patch(gwtypes.OpAdd, "/name", "x"), "Invalid patch path  '/name' specified for op 'add'. Please choose supported operations"},
		{patch(gwtypes.OpReplace, "/disableExecuteApiEndpoint", "yes"), "Must be a boolean"},
		{patch(gwtypes.OpReplace, "/name", ""), "Invalid REST API name specified"},
		{gwtypes.PatchOperation{Op: "frob", Path: aws.String("/name")}, "Invalid patch operation specified: 'frob'"},
	} {
		_, err := e.v1.UpdateRestApi(ctx, &apigateway.UpdateRestApiInput{RestApiId: out.Id, PatchOperations: []gwtypes.PatchOperation{tc.op}})
		apiError(t, err, "BadRequestException", 400, tc.msg)
	}
	got, err := e.v1.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: out.Id})
	if err != nil || *got.Name != "renamed" {
		t.Fatalf("get = %+v, %v", got, err)
	}
	_, err = e.v1.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: aws.String("nope")})
	apiError(t, err, "NotFoundException", 404, "Invalid API identifier specified "+testAccount+":nope")
	if _, err := e.v1.DeleteRestApi(ctx, &apigateway.DeleteRestApiInput{RestApiId: out.Id}); err != nil {
		t.Fatal(err)
	}
	_, err = e.v1.DeleteRestApi(ctx, &apigateway.DeleteRestApiInput{RestApiId: out.Id})
	apiError(t, err, "NotFoundException", 404, "Invalid API identifier specified")
}

func TestRestAPIPagination(t *testing.T) {
	e := newEnv(t)
	for i := range 30 {
		e.api(fmt.Sprintf("api-%02d", i))
	}
	first, err := e.v1.GetRestApis(e.ctx, &apigateway.GetRestApisInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Items) != 25 || first.Position == nil {
		t.Fatalf("first page has %d items, position %v; want 25 and a position", len(first.Items), first.Position)
	}
	seen := map[string]bool{}
	p := apigateway.NewGetRestApisPaginator(e.v1, &apigateway.GetRestApisInput{Limit: aws.Int32(7)})
	for p.HasMorePages() {
		out, err := p.NextPage(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range out.Items {
			if seen[*a.Id] {
				t.Fatalf("%s seen twice", *a.Id)
			}
			seen[*a.Id] = true
		}
	}
	if len(seen) != 30 {
		t.Fatalf("paginator saw %d apis, want 30", len(seen))
	}
	_, err = e.v1.GetRestApis(e.ctx, &apigateway.GetRestApisInput{Limit: aws.Int32(501)})
	apiError(t, err, "BadRequestException", 400, "limit")
}

func TestResources(t *testing.T) {
	e := newEnv(t)
	ctx := e.ctx
	apiID, root := e.api("tree")
	a := e.resource(apiID, root, "a")
	b := e.resource(apiID, a, "b")
	param := e.resource(apiID, a, "{id}")
	proxy := e.resource(apiID, root, "{proxy+}")
	create := func(parent, part string) error {
		_, err := e.v1.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: &apiID, ParentId: &parent, PathPart: &part})
		return err
	}
	apiError(t, create(a, "b"), "ConflictException", 409, "Another resource with the same parent already has this name: b")
	apiError(t, create(a, "{other}"), "BadRequestException", 400, "A sibling ({id}) of this resource already has a variable path part -- only one is allowed")
	apiError(t, create(proxy, "x"), "BadRequestException", 400, "Cannot create a child of a resource with a greedy path variable: {proxy+}")
	for _, bad := range []string{"", "a b", "{}", "{a", "a}", "x/y", "{a+b}"} {
		apiError(t, create(root, bad), "BadRequestException", 400, "Resource's path part only allow a-zA-Z0-9._- and curly braces")
	}
	apiError(t, create("nope", "x"), "NotFoundException", 404, "Invalid Resource identifier specified")
	_, err := e.v1.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: aws.String("nope"), ParentId: &root, PathPart: aws.String("x")})
	apiError(t, err, "NotFoundException", 404, "Invalid API identifier specified")

	e.mockMethod(apiID, param, "GET")
	plain, err := e.v1.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: &apiID})
	if err != nil {
		t.Fatal(err)
	}
	embedded, err := e.v1.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: &apiID, Embed: []string{"methods"}})
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for i, r := range plain.Items {
		paths = append(paths, *r.Path)
		if *r.Id == param {
			if m, ok := r.ResourceMethods["GET"]; !ok || m.HttpMethod != nil {
				t.Errorf("without embed GET = %+v, want an empty object", m)
			}
			if m := embedded.Items[i].ResourceMethods["GET"]; m.HttpMethod == nil || m.MethodIntegration == nil {
				t.Errorf("with embed GET = %+v, want the method", m)
			}
		}
	}
	if want := "/ /a /a/b /a/{id} /{proxy+}"; strings.Join(paths, " ") != want {
		t.Errorf("paths %q, want %q", strings.Join(paths, " "), want)
	}

	// Move /a under /{proxy+}: refused (greedy parent). Rename /a to /z: paths follow.
	_, err = e.v1.UpdateResource(ctx, &apigateway.UpdateResourceInput{RestApiId: &apiID, ResourceId: &a, PatchOperations: []gwtypes.PatchOperation{
		patch(gwtypes.OpReplace, "/parentId", b)}})
	apiError(t, err, "BadRequestException", 400, "Resources cannot be cyclical.")
	upd, err := e.v1.UpdateResource(ctx, &apigateway.UpdateResourceInput{RestApiId: &apiID, ResourceId: &a, PatchOperations: []gwtypes.PatchOperation{
		patch(gwtypes.OpReplace, "/pathPart", "z")}})
	if err != nil {
		t.Fatal(err)
	}
	if *upd.Path != "/z" {
		t.Errorf("renamed path = %q", *upd.Path)
	}
	got, err := e.v1.GetResource(ctx, &apigateway.GetResourceInput{RestApiId: &apiID, ResourceId: &param, Embed: []string{"methods"}})
	if err != nil || *got.Path != "/z/{id}" {
		t.Fatalf("child after rename = %+v, %v", got, err)
	}
	_, err = e.v1.UpdateResource(ctx, &apigateway.UpdateResourceInput{RestApiId: &apiID, ResourceId: &a, PatchOperations: []gwtypes.PatchOperation{
		patch(gwtypes.OpReplace, "/path", "x")}})
	apiError(t, err, "BadRequestException", 400, "Invalid patch path  '/path' specified for op 'replace'. Must be one of: [/parentId, /pathPart]")

	// Deleting /z removes its subtree; the root cannot go.
	if _, err := e.v1.DeleteResource(ctx, &apigateway.DeleteResourceInput{RestApiId: &apiID, ResourceId: &a}); err != nil {
		t.Fatal(err)
	}
	if n := e.count(model.ResourcesPrefix(apiID)); n != 2 {
		t.Fatalf("%d resources left, want root and {proxy+}", n)
	}
	_, err = e.v1.DeleteResource(ctx, &apigateway.DeleteResourceInput{RestApiId: &apiID, ResourceId: &root})
	apiError(t, err, "BadRequestException", 400, "root resource")
}

func TestMethodsAndIntegrations(t *testing.T) {
	e := newEnv(t)
	ctx := e.ctx
	apiID, root := e.api("m")
	res := e.resource(apiID, root, "{customer-id}")
	put := func(method, auth string, params map[string]bool) error {
		_, err := e.v1.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: &apiID, ResourceId: &res, HttpMethod: &method,
			AuthorizationType: &auth, RequestParameters: params})
		return err
	}
	apiError(t, put("FETCH", "NONE", nil), "BadRequestException", 400, "Invalid HttpMethod specified. Valid options are GET,PUT,POST,DELETE,PATCH,OPTIONS,HEAD,ANY")
	apiError(t, put("GET", "MAGIC", nil), "ValidationException", 400, "Value 'MAGIC'")
	apiError(t, put("GET", "CUSTOM", nil), "BadRequestException", 400, "Invalid authorizer ID specified")
	apiError(t, put("GET", "NONE", map[string]bool{"method.request.path.id": true, "method.request.header.id": false}), "BadRequestException", 400, "Parameter names must be unique across querystring, header and path")
	apiError(t, put("GET", "NONE", map[string]bool{"path.id": true}), "BadRequestException", 400, "Invalid method request parameter")
	if err := put("GET", "NONE", map[string]bool{"method.request.path.customer-id": true}); err != nil {
		t.Fatal(err)
	}
	apiError(t, put("GET", "NONE", nil), "ConflictException", 409, "Method already exists for this resource")
	if err := put("ANY", "AWS_IAM", nil); err != nil {
		t.Fatal(err)
	}

	integ := func(in apigateway.PutIntegrationInput) error {
		in.RestApiId, in.ResourceId = &apiID, &res
		if in.HttpMethod == nil {
			in.HttpMethod = aws.String("GET")
		}
		_, err := e.v1.PutIntegration(ctx, &in)
		return err
	}
	for _, tc := range []struct {
		name   string
		in     apigateway.PutIntegrationInput
		code   string
		status int
		msg    string
	}{
		{"unknown type", apigateway.PutIntegrationInput{Type: "SOAP"}, "ValidationException", 400,
			"1 validation error detected: Value 'SOAP' at 'putIntegrationInput.type' failed to satisfy constraint: Member must satisfy enum value set: [HTTP, MOCK, AWS_PROXY, HTTP_PROXY, AWS]"},
		{"http without method", apigateway.PutIntegrationInput{Type: gwtypes.IntegrationTypeHttp, Uri: aws.String("http://b/")}, "BadRequestException", 400, "Enumeration value for HttpMethod must be non-empty"},
		{"http without uri", apigateway.PutIntegrationInput{Type: gwtypes.IntegrationTypeHttpProxy, IntegrationHttpMethod: aws.String("GET")}, "BadRequestException", 400, "Invalid HTTP endpoint specified for URI"},
		{"relative uri", apigateway.PutIntegrationInput{Type: gwtypes.IntegrationTypeHttpProxy, IntegrationHttpMethod: aws.String("GET"), Uri: aws.String("/x")}, "BadRequestException", 400, "Invalid HTTP endpoint specified for URI"},
		{"ftp uri", apigateway.PutIntegrationInput{Type: gwtypes.IntegrationTypeHttpProxy, IntegrationHttpMethod: aws.String("GET"), Uri: aws.String("ftp://b/x")}, "BadRequestException", 400, "Invalid HTTP endpoint specified for URI"},
		{"aws proxy not lambda", apigateway.PutIntegrationInput{Type: gwtypes.IntegrationTypeAwsProxy, IntegrationHttpMethod: aws.String("POST"),
			Uri: aws.String("arn:aws:apigateway:us-east-1:s3:path/bucket")}, "BadRequestException", 400, "only supports Lambda function and Firehose"},
		{"timeout", apigateway.PutIntegrationInput{Type: gwtypes.IntegrationTypeMock, TimeoutInMillis: aws.Int32(30000)}, "BadRequestException", 400, "Timeout should be between 50 ms and 29000 ms"},
		{"vpc link", apigateway.PutIntegrationInput{Type: gwtypes.IntegrationTypeHttpProxy, IntegrationHttpMethod: aws.String("GET"), Uri: aws.String("http://b/"),
			ConnectionType: gwtypes.ConnectionTypeVpcLink}, "BadRequestException", 400, "VPC_LINK is not supported"},
		{"undeclared parameter", apigateway.PutIntegrationInput{Type: gwtypes.IntegrationTypeHttpProxy, IntegrationHttpMethod: aws.String("GET"), Uri: aws.String("http://b/{id}"),
			RequestParameters: map[string]string{"integration.request.path.id": "method.request.path.id"}}, "BadRequestException", 400, "Invalid mapping expression parameter specified: method.request.path.id"},
		{"missing method", apigateway.PutIntegrationInput{HttpMethod: aws.String("POST"), Type: gwtypes.IntegrationTypeMock}, "NotFoundException", 404, "Invalid Method identifier specified"},
	} {
		t.Run(tc.name, func(t *testing.T) { apiError(t, integ(tc.in), tc.code, tc.status, tc.msg) })
	}
	_, err := e.v1.GetIntegration(ctx, &apigateway.GetIntegrationInput{RestApiId: &apiID, ResourceId: &res, HttpMethod: aws.String("GET")})
	apiError(t, err, "NotFoundException", 404, "Invalid Integration identifier specified")

	if err := integ(apigateway.PutIntegrationInput{Type: gwtypes.IntegrationTypeHttpProxy, IntegrationHttpMethod: aws.String("GET"),
		Uri: aws.String("https://backend.internal/customer/{id}"), RequestParameters: map[string]string{
			"integration.request.path.id":              "method.request.path.customer-id",
			"integration.request.header.X-Client-Cert": "context.identity.clientCert.clientCertPem",
			"integration.request.header.X-Static":      "'fixed'",
		}}); err != nil {
		t.Fatal(err)
	}

	// Method and integration responses.
	mr := func(code string) error {
		_, err := e.v1.PutMethodResponse(ctx, &apigateway.PutMethodResponseInput{RestApiId: &apiID, ResourceId: &res, HttpMethod: aws.String("GET"),
			StatusCode: &code, ResponseParameters: map[string]bool{"method.response.header.X-Id": true}})
		return err
	}
	ir := func(code string, params map[string]string) error {
		_, err := e.v1.PutIntegrationResponse(ctx, &apigateway.PutIntegrationResponseInput{RestApiId: &apiID, ResourceId: &res, HttpMethod: aws.String("GET"),
			StatusCode: &code, SelectionPattern: aws.String("2\\d{2}"), ResponseParameters: params})
		return err
	}
	apiError(t, ir("200", nil), "BadRequestException", 400, "Invalid Response status code specified")
	apiError(t, mr("2000"), "BadRequestException", 400, "Invalid status code specified: 2000")
	if err := mr("200"); err != nil {
		t.Fatal(err)
	}
	apiError(t, mr("200"), "ConflictException", 409, "Response already exists for this resource")
	apiError(t, ir("200", map[string]string{"method.response.header.X-Other": "'v'"}), "BadRequestException", 400, "Invalid mapping expression parameter specified: method.response.header.X-Other")
	if err := ir("200", map[string]string{"method.response.header.X-Id": "integration.response.header.X-Id"}); err != nil {
		t.Fatal(err)
	}
	m, err := e.v1.GetMethod(ctx, &apigateway.GetMethodInput{RestApiId: &apiID, ResourceId: &res, HttpMethod: aws.String("GET")})
	if err != nil {
		t.Fatal(err)
	}
	if m.MethodResponses["200"].ResponseParameters["method.response.header.X-Id"] != true ||
		*m.MethodIntegration.IntegrationResponses["200"].SelectionPattern != "2\\d{2}" ||
		m.MethodIntegration.RequestParameters["integration.request.header.X-Static"] != "'fixed'" {
		t.Errorf("method = %+v", m)
	}
	if _, err := e.v1.GetMethodResponse(ctx, &apigateway.GetMethodResponseInput{RestApiId: &apiID, ResourceId: &res, HttpMethod: aws.String("GET"), StatusCode: aws.String("200")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v1.GetIntegrationResponse(ctx, &apigateway.GetIntegrationResponseInput{RestApiId: &apiID, ResourceId: &res, HttpMethod: aws.String("GET"), StatusCode: aws.String("200")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.v1.GetMethodResponse(ctx, &apigateway.GetMethodResponseInput{RestApiId: &apiID, ResourceId: &res, HttpMethod: aws.String("GET"), StatusCode: aws.String("404")})
	apiError(t, err, "NotFoundException", 404, "Invalid Response status code specified")

	// Deletes answer 204 and take the thing away.
	if _, err := e.v1.DeleteIntegrationResponse(ctx, &apigateway.DeleteIntegrationResponseInput{RestApiId: &apiID, ResourceId: &res, HttpMethod: aws.String("GET"), StatusCode: aws.String("200")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v1.DeleteMethodResponse(ctx, &apigateway.DeleteMethodResponseInput{RestApiId: &apiID, ResourceId: &res, HttpMethod: aws.String("GET"), StatusCode: aws.String("200")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v1.DeleteIntegration(ctx, &apigateway.DeleteIntegrationInput{RestApiId: &apiID, ResourceId: &res, HttpMethod: aws.String("GET")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.v1.DeleteIntegration(ctx, &apigateway.DeleteIntegrationInput{RestApiId: &apiID, ResourceId: &res, HttpMethod: aws.String("GET")})
	apiError(t, err, "NotFoundException", 404, "Invalid Integration identifier specified")

	// A deployment needs an integration on every method.
	_, err = e.v1.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: &apiID, StageName: aws.String("s")})
	apiError(t, err, "BadRequestException", 400, "No integration defined for method")
	if _, err := e.v1.DeleteMethod(ctx, &apigateway.DeleteMethodInput{RestApiId: &apiID, ResourceId: &res, HttpMethod: aws.String("GET")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v1.DeleteMethod(ctx, &apigateway.DeleteMethodInput{RestApiId: &apiID, ResourceId: &res, HttpMethod: aws.String("ANY")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.v1.GetMethod(ctx, &apigateway.GetMethodInput{RestApiId: &apiID, ResourceId: &res, HttpMethod: aws.String("GET")})
	apiError(t, err, "NotFoundException", 404, "Invalid Method identifier specified")
	_, err = e.v1.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: &apiID})
	apiError(t, err, "BadRequestException", 400, "The REST API doesn't contain any methods")
	if n := e.count(model.DeploymentsPrefix(apiID)); n != 0 {
		t.Fatalf("%d deployments written by refused requests", n)
	}
}

func TestStages(t *testing.T) {
	e := newEnv(t)
	ctx := e.ctx
	apiID, root := e.api("s")
	e.mockMethod(apiID, root, "GET")
	dep, err := e.v1.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: &apiID})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.v1.CreateStage(ctx, &apigateway.CreateStageInput{RestApiId: &apiID, StageName: aws.String("bad name"), DeploymentId: dep.Id})
	apiError(t, err, "BadRequestException", 400, "Stage name only allows a-zA-Z0-9_-")
	_, err = e.v1.CreateStage(ctx, &apigateway.CreateStageInput{RestApiId: &apiID, StageName: aws.String("dev"), DeploymentId: aws.String("nope")})
	apiError(t, err, "NotFoundException", 404, "Invalid Deployment identifier specified")
	st, err := e.v1.CreateStage(ctx, &apigateway.CreateStageInput{RestApiId: &apiID, StageName: aws.String("dev"), DeploymentId: dep.Id,
		Variables: map[string]string{"backend": "b.internal"}, Description: aws.String("d")})
	if err != nil {
		t.Fatal(err)
	}
	if *st.DeploymentId != *dep.Id || st.Variables["backend"] != "b.internal" || st.CacheClusterStatus != "NOT_AVAILABLE" || st.CreatedDate == nil {
		t.Errorf("stage = %+v", st)
	}
	_, err = e.v1.CreateStage(ctx, &apigateway.CreateStageInput{RestApiId: &apiID, StageName: aws.String("dev"), DeploymentId: dep.Id})
	apiError(t, err, "ConflictException", 409, "Stage already exists")

	dep2, err := e.v1.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: &apiID})
	if err != nil {
		t.Fatal(err)
	}
	upd, err := e.v1.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: &apiID, StageName: aws.String("dev"), PatchOperations: []gwtypes.PatchOperation{
		patch(gwtypes.OpReplace, "/deploymentId", *dep2.Id),
		patch(gwtypes.OpReplace, "/variables/backend", "c.internal"),
		patch(gwtypes.OpAdd, "/variables/extra", "1"),
		patch(gwtypes.OpReplace, "/description", "new"),
		patch(gwtypes.OpReplace, "/tracingEnabled", "true"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if *upd.DeploymentId != *dep2.Id || upd.Variables["backend"] != "c.internal" || upd.Variables["extra"] != "1" || *upd.Description != "new" || !upd.TracingEnabled {
		t.Errorf("updated stage = %+v", upd)
	}
	_, err = e.v1.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: &apiID, StageName: aws.String("dev"), PatchOperations: []gwtypes.PatchOperation{
		patch(gwtypes.OpReplace, "/foo", "x")}})
	apiError(t, err, "BadRequestException", 400, "Invalid method setting path: /foo. Must be one of: [/deploymentId")
	_, err = e.v1.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: &apiID, StageName: aws.String("dev"), PatchOperations: []gwtypes.PatchOperation{
		patch(gwtypes.OpReplace, "/deploymentId", "nope")}})
	apiError(t, err, "NotFoundException", 404, "Invalid Deployment identifier specified")
	_, err = e.v1.UpdateStage(ctx, &apigateway.UpdateStageInput{RestApiId: &apiID, StageName: aws.String("dev"), PatchOperations: []gwtypes.PatchOperation{
		patch(gwtypes.OpReplace, "/variables/x", "has space")}})
	apiError(t, err, "BadRequestException", 400, "Stage variable value")

	list, err := e.v1.GetStages(ctx, &apigateway.GetStagesInput{RestApiId: &apiID, DeploymentId: dep2.Id})
	if err != nil || len(list.Item) != 1 {
		t.Fatalf("stages of %s = %+v, %v", *dep2.Id, list, err)
	}
	list, err = e.v1.GetStages(ctx, &apigateway.GetStagesInput{RestApiId: &apiID, DeploymentId: dep.Id})
	if err != nil || len(list.Item) != 0 {
		t.Fatalf("stages of %s = %+v, %v", *dep.Id, list, err)
	}
	if _, err := e.v1.DeleteStage(ctx, &apigateway.DeleteStageInput{RestApiId: &apiID, StageName: aws.String("dev")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.v1.GetStage(ctx, &apigateway.GetStageInput{RestApiId: &apiID, StageName: aws.String("dev")})
	apiError(t, err, "NotFoundException", 404, "Invalid Stage identifier specified")
}

func TestTags(t *testing.T) {
	e := newEnv(t)
	ctx := e.ctx
	name := "tags.example.com"
	e.domain(name)
	arn := "arn:aws:apigateway:us-east-1::/domainnames/" + name
	if _, err := e.v1.TagResource(ctx, &apigateway.TagResourceInput{ResourceArn: &arn, Tags: map[string]string{"trustgate:revocation": "crl", "team": "a"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v2.TagResource(ctx, &apigatewayv2.TagResourceInput{ResourceArn: &arn, Tags: map[string]string{"team": "b"}}); err != nil {
		t.Fatal(err)
	}
	got, err := e.v1.GetTags(ctx, &apigateway.GetTagsInput{ResourceArn: &arn})
	if err != nil {
		t.Fatal(err)
	}
	if got.Tags["team"] != "b" || got.Tags["trustgate:revocation"] != "crl" {
		t.Errorf("tags = %v", got.Tags)
	}
	if _, err := e.v1.UntagResource(ctx, &apigateway.UntagResourceInput{ResourceArn: &arn, TagKeys: []string{"team"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v2.UntagResource(ctx, &apigatewayv2.UntagResourceInput{ResourceArn: &arn, TagKeys: []string{"absent"}}); err != nil {
		t.Fatal(err)
	}
	v2, err := e.v2.GetTags(ctx, &apigatewayv2.GetTagsInput{ResourceArn: &arn})
	if err != nil {
		t.Fatal(err)
	}
	if len(v2.Tags) != 1 || v2.Tags["trustgate:revocation"] != "crl" {
		t.Errorf("v2 tags = %v", v2.Tags)
	}
	dn, err := e.v1.GetDomainName(ctx, &apigateway.GetDomainNameInput{DomainName: &name})
	if err != nil || dn.Tags["trustgate:revocation"] != "crl" {
		t.Errorf("domain tags = %v, %v", dn.Tags, err)
	}

	apiID, _ := e.api("tagged")
	apiARN := "arn:aws:apigateway:us-east-1::/restapis/" + apiID
	if _, err := e.v1.TagResource(ctx, &apigateway.TagResourceInput{ResourceArn: &apiARN, Tags: map[string]string{"x": "y"}}); err != nil {
		t.Fatal(err)
	}
	a, err := e.v1.GetRestApi(ctx, &apigateway.GetRestApiInput{RestApiId: &apiID})
	if err != nil || a.Tags["x"] != "y" {
		t.Errorf("api tags = %v, %v", a.Tags, err)
	}

	_, err = e.v1.TagResource(ctx, &apigateway.TagResourceInput{ResourceArn: aws.String("arn:aws:s3:::bucket"), Tags: map[string]string{"a": "b"}})
	apiError(t, err, "BadRequestException", 400, "Invalid ARN specified in the request")
	_, err = e.v1.GetTags(ctx, &apigateway.GetTagsInput{ResourceArn: aws.String("arn:aws:apigateway:us-east-1::/domainnames/none.example.com")})
	apiError(t, err, "NotFoundException", 404, "Invalid domain name identifier specified")
	_, err = e.v2.GetTags(ctx, &apigatewayv2.GetTagsInput{ResourceArn: aws.String("arn:aws:apigateway:us-east-1::/domainnames/none.example.com")})
	apiError(t, err, "NotFoundException", 404, "The domain name resource specified")
	_, err = e.v1.TagResource(ctx, &apigateway.TagResourceInput{ResourceArn: &arn, Tags: map[string]string{"aws:x": "y"}})
	apiError(t, err, "BadRequestException", 400, "reserved")
	big := map[string]string{}
	for i := range 51 {
		big[fmt.Sprintf("k%d", i)] = "v"
	}
	_, err = e.v1.TagResource(ctx, &apigateway.TagResourceInput{ResourceArn: &arn, Tags: big})
	apiError(t, err, "BadRequestException", 400, "Too many tags")
}
