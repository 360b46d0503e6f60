package apigw

import (
	"regexp"
	"slices"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	gwtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"

	"trustgate/internal/model"
	"trustgate/internal/store"
)

var idRE = regexp.MustCompile(`^[a-z0-9]{10}$`)

// api creates a REST API and returns its id and root resource id.
func (e *env) api(name string) (string, string) {
	e.t.Helper()
	out, err := e.v1.CreateRestApi(e.ctx, &apigateway.CreateRestApiInput{
		Name:                  aws.String(name),
		EndpointConfiguration: &gwtypes.EndpointConfiguration{Types: []gwtypes.EndpointType{gwtypes.EndpointTypeRegional}},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return *out.Id, *out.RootResourceId
}

func (e *env) resource(apiID, parent, part string) string {
	e.t.Helper()
	out, err := e.v1.CreateResource(e.ctx, &apigateway.CreateResourceInput{RestApiId: &apiID, ParentId: &parent, PathPart: &part})
	if err != nil {
		e.t.Fatalf("creating resource %s: %v", part, err)
	}
	return *out.Id
}

// mockMethod puts a method with a MOCK integration.
func (e *env) mockMethod(apiID, resID, method string) {
	e.t.Helper()
	if _, err := e.v1.PutMethod(e.ctx, &apigateway.PutMethodInput{
		RestApiId: &apiID, ResourceId: &resID, HttpMethod: &method, AuthorizationType: aws.String("NONE"),
	}); err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.v1.PutIntegration(e.ctx, &apigateway.PutIntegrationInput{
		RestApiId: &apiID, ResourceId: &resID, HttpMethod: &method, Type: gwtypes.IntegrationTypeMock,
		RequestTemplates: map[string]string{"application/json": `{"statusCode": 200}`},
	}); err != nil {
		e.t.Fatal(err)
	}
}

// deployedAPI makes an API with GET / (MOCK) deployed to stage.
func (e *env) deployedAPI(name, stage string) string {
	e.t.Helper()
	id, root := e.api(name)
	e.mockMethod(id, root, "GET")
	if _, err := e.v1.CreateDeployment(e.ctx, &apigateway.CreateDeploymentInput{RestApiId: &id, StageName: &stage}); err != nil {
		e.t.Fatal(err)
	}
	return id
}

// domain creates an mTLS domain for name and returns its truststore version.
func (e *env) domain(name string) string {
	e.t.Helper()
	ver, _ := e.truststore("trust", name+".pem")
	if _, err := e.v1.CreateDomainName(e.ctx, &apigateway.CreateDomainNameInput{
		DomainName:             &name,
		RegionalCertificateArn: aws.String(e.cert(name)),
		EndpointConfiguration:  &gwtypes.EndpointConfiguration{Types: []gwtypes.EndpointType{gwtypes.EndpointTypeRegional}},
		SecurityPolicy:         gwtypes.SecurityPolicyTls12,
		MutualTlsAuthentication: &gwtypes.MutualTlsAuthenticationInput{
			TruststoreUri: aws.String("s3://trust/" + name + ".pem"),
		},
	}); err != nil {
		e.t.Fatal(err)
	}
	return ver
}

// TestSeedFlow runs the flow of DESIGN.md §1 with the real SDKs.
func TestSeedFlow(t *testing.T) {
	e := newEnv(t)
	ctx := e.ctx

	created, err := e.v1.CreateRestApi(ctx, &apigateway.CreateRestApiInput{
		Name:                  aws.String("customer"),
		EndpointConfiguration: &gwtypes.EndpointConfiguration{Types: []gwtypes.EndpointType{gwtypes.EndpointTypeRegional}},
	})
	if err != nil {
		t.Fatal(err)
	}
	apiID := *created.Id
	if !idRE.MatchString(apiID) || !idRE.MatchString(*created.RootResourceId) {
		t.Fatalf("ids %q %q are not 10 lowercase alphanumerics", apiID, *created.RootResourceId)
	}
	if created.CreatedDate == nil || created.CreatedDate.IsZero() || created.ApiKeySource != gwtypes.ApiKeySourceTypeHeader {
		t.Errorf("created = %+v", created)
	}

	res, err := e.v1.GetResources(ctx, &apigateway.GetResourcesInput{RestApiId: &apiID})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Items) != 1 || *res.Items[0].Path != "/" {
		t.Fatalf("resources = %+v, want the root", res.Items)
	}
	root := *res.Items[0].Id

	customer := e.resource(apiID, root, "customer")
	byID := e.resource(apiID, customer, "{customer-id}")
	got, err := e.v1.GetResource(ctx, &apigateway.GetResourceInput{RestApiId: &apiID, ResourceId: &byID})
	if err != nil {
		t.Fatal(err)
	}
	if *got.Path != "/customer/{customer-id}" || *got.ParentId != customer || *got.PathPart != "{customer-id}" {
		t.Errorf("resource = %+v", got)
	}

	if _, err := e.v1.PutMethod(ctx, &apigateway.PutMethodInput{
		RestApiId: &apiID, ResourceId: &byID, HttpMethod: aws.String("GET"), AuthorizationType: aws.String("NONE"),
		RequestParameters: map[string]bool{"method.request.path.customer-id": true},
	}); err != nil {
		t.Fatal(err)
	}
	integ, err := e.v1.PutIntegration(ctx, &apigateway.PutIntegrationInput{
		RestApiId: &apiID, ResourceId: &byID, HttpMethod: aws.String("GET"),
		Type: gwtypes.IntegrationTypeHttpProxy, IntegrationHttpMethod: aws.String("GET"),
		Uri:               aws.String("http://127.0.0.1:9000/customer/{customer-id}"),
		RequestParameters: map[string]string{"integration.request.path.customer-id": "method.request.path.customer-id"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if *integ.PassthroughBehavior != "WHEN_NO_MATCH" || integ.TimeoutInMillis != 29000 ||
		integ.ConnectionType != gwtypes.ConnectionTypeInternet || *integ.CacheNamespace != byID {
		t.Errorf("integration defaults = %+v", integ)
	}

	dep, err := e.v1.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: &apiID, StageName: aws.String("DEV")})
	if err != nil {
		t.Fatal(err)
	}
	if snap := dep.ApiSummary["/customer/{customer-id}"]["GET"]; snap.AuthorizationType == nil || *snap.AuthorizationType != "NONE" {
		t.Errorf("apiSummary = %+v", dep.ApiSummary)
	}
	stage, err := e.v1.GetStage(ctx, &apigateway.GetStageInput{RestApiId: &apiID, StageName: aws.String("DEV")})
	if err != nil {
		t.Fatal(err)
	}
	if *stage.DeploymentId != *dep.Id {
		t.Errorf("stage points at %s, want %s", *stage.DeploymentId, *dep.Id)
	}

	ver, _ := e.truststore("partners-trust-store", "trusted_partners.pem")
	certARN := e.cert("api.example.com")
	dn, err := e.v1.CreateDomainName(ctx, &apigateway.CreateDomainNameInput{
		DomainName:             aws.String("api.example.com"),
		RegionalCertificateArn: &certARN,
		EndpointConfiguration:  &gwtypes.EndpointConfiguration{Types: []gwtypes.EndpointType{gwtypes.EndpointTypeRegional}},
		SecurityPolicy:         gwtypes.SecurityPolicyTls12,
		MutualTlsAuthentication: &gwtypes.MutualTlsAuthenticationInput{
			TruststoreUri: aws.String("s3://partners-trust-store/trusted_partners.pem"),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^d-[a-z0-9]{10}\.execute-api\.us-east-1\.gw\.test$`).MatchString(*dn.RegionalDomainName) {
		t.Errorf("regionalDomainName = %q", *dn.RegionalDomainName)
	}
	if *dn.RegionalHostedZoneId != "Z1UJRXOUMOOFQ8" || dn.DomainNameStatus != gwtypes.DomainNameStatusAvailable ||
		dn.SecurityPolicy != gwtypes.SecurityPolicyTls12 || *dn.RegionalCertificateArn != certARN ||
		dn.CertificateUploadDate == nil || !slices.Equal(dn.EndpointConfiguration.Types, []gwtypes.EndpointType{"REGIONAL"}) {
		t.Errorf("domain = %+v", dn)
	}
	if m := dn.MutualTlsAuthentication; m == nil || *m.TruststoreUri != "s3://partners-trust-store/trusted_partners.pem" ||
		*m.TruststoreVersion != ver || len(m.TruststoreWarnings) != 0 {
		t.Errorf("mutualTlsAuthentication = %+v, want the pinned version %s and no warnings", dn.MutualTlsAuthentication, ver)
	}

	am, err := e.v2.CreateApiMapping(ctx, &apigatewayv2.CreateApiMappingInput{
		DomainName: aws.String("api.example.com"), ApiMappingKey: aws.String("c360"), ApiId: &apiID, Stage: aws.String("DEV"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if !idRE.MatchString(*am.ApiMappingId) || *am.ApiMappingKey != "c360" || *am.Stage != "DEV" || *am.ApiId != apiID {
		t.Errorf("api mapping = %+v", am)
	}
	bpm, err := e.v1.CreateBasePathMapping(ctx, &apigateway.CreateBasePathMappingInput{
		DomainName: aws.String("api.example.com"), BasePath: aws.String("c360-v1"), RestApiId: &apiID, Stage: aws.String("DEV"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if *bpm.BasePath != "c360-v1" || *bpm.RestApiId != apiID || *bpm.Stage != "DEV" {
		t.Errorf("base path mapping = %+v", bpm)
	}

	upd, err := e.v1.UpdateRestApi(ctx, &apigateway.UpdateRestApiInput{RestApiId: &apiID, PatchOperations: []gwtypes.PatchOperation{
		{Op: gwtypes.OpReplace, Path: aws.String("/disableExecuteApiEndpoint"), Value: aws.String("True")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !upd.DisableExecuteApiEndpoint {
		t.Error("disableExecuteApiEndpoint not set")
	}
	dep2, err := e.v1.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: &apiID, StageName: aws.String("DEV")})
	if err != nil {
		t.Fatal(err)
	}

	// The stage now serves the second deployment, whose frozen copy has the
	// endpoint disabled; the first deployment keeps it enabled.
	var d1, d2 model.Deployment
	var st model.Stage
	if _, err := e.store.View(ctx, func(tx store.Tx) error {
		var err error
		if d1, err = store.GetJSON[model.Deployment](tx, model.DeploymentKey(apiID, *dep.Id)); err != nil {
			return err
		}
		if d2, err = store.GetJSON[model.Deployment](tx, model.DeploymentKey(apiID, *dep2.Id)); err != nil {
			return err
		}
		st, err = store.GetJSON[model.Stage](tx, model.StageKey(apiID, "DEV"))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if st.DeploymentID != *dep2.Id || d1.API.DisableExecuteAPIEndpoint || !d2.API.DisableExecuteAPIEndpoint {
		t.Errorf("stage -> %s (want %s); frozen disable flags %v, %v", st.DeploymentID, *dep2.Id, d1.API.DisableExecuteAPIEndpoint, d2.API.DisableExecuteAPIEndpoint)
	}

	v1maps, err := e.v1.GetBasePathMappings(ctx, &apigateway.GetBasePathMappingsInput{DomainName: aws.String("api.example.com")})
	if err != nil {
		t.Fatal(err)
	}
	v2maps, err := e.v2.GetApiMappings(ctx, &apigatewayv2.GetApiMappingsInput{DomainName: aws.String("api.example.com")})
	if err != nil {
		t.Fatal(err)
	}
	var keys1, keys2 []string
	for _, m := range v1maps.Items {
		keys1 = append(keys1, *m.BasePath)
	}
	for _, m := range v2maps.Items {
		keys2 = append(keys2, *m.ApiMappingKey)
	}
	sort.Strings(keys1)
	sort.Strings(keys2)
	if want := []string{"c360", "c360-v1"}; !slices.Equal(keys1, want) || !slices.Equal(keys2, want) {
		t.Errorf("v1 keys %v, v2 keys %v, want %v in both", keys1, keys2, want)
	}

	v2dn, err := e.v2.GetDomainName(ctx, &apigatewayv2.GetDomainNameInput{DomainName: aws.String("api.example.com")})
	if err != nil {
		t.Fatal(err)
	}
	cfg := v2dn.DomainNameConfigurations[0]
	if *cfg.ApiGatewayDomainName != *dn.RegionalDomainName || *cfg.HostedZoneId != "Z1UJRXOUMOOFQ8" ||
		cfg.EndpointType != v2types.EndpointTypeRegional || cfg.SecurityPolicy != v2types.SecurityPolicyTls12 ||
		cfg.DomainNameStatus != v2types.DomainNameStatusAvailable || cfg.CertificateUploadDate == nil ||
		*v2dn.ApiMappingSelectionExpression != "$request.basepath" ||
		*v2dn.DomainNameArn != "arn:aws:apigateway:us-east-1::/domainnames/api.example.com" ||
		*v2dn.MutualTlsAuthentication.TruststoreVersion != ver {
		t.Errorf("v2 domain = %+v / %+v", v2dn, cfg)
	}
}

// TestDeploymentIsFrozen checks that edits after a deployment change nothing
// in it: the stored copy is deep.
func TestDeploymentIsFrozen(t *testing.T) {
	e := newEnv(t)
	apiID, root := e.api("frozen")
	e.mockMethod(apiID, root, "GET")
	dep, err := e.v1.CreateDeployment(e.ctx, &apigateway.CreateDeploymentInput{RestApiId: &apiID, StageName: aws.String("prod"), Description: aws.String("first")})
	if err != nil {
		t.Fatal(err)
	}
	// Edit everything the deployment captured.
	child := e.resource(apiID, root, "later")
	e.mockMethod(apiID, child, "POST")
	if _, err := e.v1.PutIntegration(e.ctx, &apigateway.PutIntegrationInput{
		RestApiId: &apiID, ResourceId: &root, HttpMethod: aws.String("GET"), Type: gwtypes.IntegrationTypeHttpProxy,
		IntegrationHttpMethod: aws.String("GET"), Uri: aws.String("https://backend.internal/"),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v1.UpdateRestApi(e.ctx, &apigateway.UpdateRestApiInput{RestApiId: &apiID, PatchOperations: []gwtypes.PatchOperation{
		{Op: gwtypes.OpReplace, Path: aws.String("/disableExecuteApiEndpoint"), Value: aws.String("true")},
		{Op: gwtypes.OpReplace, Path: aws.String("/name"), Value: aws.String("renamed")},
	}}); err != nil {
		t.Fatal(err)
	}
	var d model.Deployment
	if _, err := e.store.View(e.ctx, func(tx store.Tx) error {
		var err error
		d, err = store.GetJSON[model.Deployment](tx, model.DeploymentKey(apiID, *dep.Id))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if d.API.Name != "frozen" || d.API.DisableExecuteAPIEndpoint || len(d.API.Resources) != 1 ||
		d.API.Resources[0].Methods["GET"].Integration.Type != model.IntegrationMock {
		t.Errorf("deployment changed with the API: %+v", d.API)
	}
	got, err := e.v1.GetDeployment(e.ctx, &apigateway.GetDeploymentInput{RestApiId: &apiID, DeploymentId: dep.Id, Embed: []string{"apisummary"}})
	if err != nil {
		t.Fatal(err)
	}
	if *got.Description != "first" || len(got.ApiSummary) != 1 {
		t.Errorf("GetDeployment = %+v", got)
	}
	list, err := e.v1.GetDeployments(e.ctx, &apigateway.GetDeploymentsInput{RestApiId: &apiID})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 || *list.Items[0].Id != *dep.Id {
		t.Errorf("GetDeployments = %+v", list.Items)
	}
}
