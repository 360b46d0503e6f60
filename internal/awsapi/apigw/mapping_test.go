package apigw

import (
	"fmt"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	gwtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"

	"trustgate/internal/model"
)

func TestMappingsAreOneSet(t *testing.T) {
	e := newEnv(t)
	ctx := e.ctx
	dom := aws.String("api.example.com")
	e.domain(*dom)
	apiID := e.deployedAPI("one", "DEV")
	other := e.deployedAPI("two", "PROD")

	// (none) through v1; the literal "(none)" and an omitted basePath mean the same.
	none, err := e.v1.CreateBasePathMapping(ctx, &apigateway.CreateBasePathMappingInput{DomainName: dom, RestApiId: &apiID, Stage: aws.String("DEV")})
	if err != nil {
		t.Fatal(err)
	}
	if *none.BasePath != "(none)" {
		t.Errorf("basePath = %q, want (none)", *none.BasePath)
	}
	_, err = e.v1.CreateBasePathMapping(ctx, &apigateway.CreateBasePathMappingInput{DomainName: dom, BasePath: aws.String("(none)"), RestApiId: &other, Stage: aws.String("PROD")})
	apiError(t, err, "ConflictException", 409, "Only one base path mapping is allowed if the base path is empty.")
	_, err = e.v2.CreateApiMapping(ctx, &apigatewayv2.CreateApiMappingInput{DomainName: dom, ApiId: &other, Stage: aws.String("PROD")})
	apiError(t, err, "ConflictException", 409, "Only one base path mapping is allowed if the base path is empty.")

	// Multi-level keys: v1 refuses with AWS's message, v2 creates, v1 shows.
	_, err = e.v1.CreateBasePathMapping(ctx, &apigateway.CreateBasePathMappingInput{DomainName: dom, BasePath: aws.String("orders/v1"), RestApiId: &apiID, Stage: aws.String("DEV")})
	apiError(t, err, "BadRequestException", 400, "API Gateway V1 doesn't support the slash character (/) in base path mappings. To create a multi-level base path mapping, use API Gateway V2.")
	ml, err := e.v2.CreateApiMapping(ctx, &apigatewayv2.CreateApiMappingInput{DomainName: dom, ApiMappingKey: aws.String("orders/v1"), ApiId: &other, Stage: aws.String("PROD")})
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.v1.GetBasePathMapping(ctx, &apigateway.GetBasePathMappingInput{DomainName: dom, BasePath: aws.String("orders/v1")})
	if err != nil {
		t.Fatal(err)
	}
	if *got.RestApiId != other || *got.Stage != "PROD" {
		t.Errorf("v1 view of the multi-level mapping = %+v", got)
	}
	list, err := e.v1.GetBasePathMappings(ctx, &apigateway.GetBasePathMappingsInput{DomainName: dom})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 2 || *list.Items[0].BasePath != "(none)" || *list.Items[1].BasePath != "orders/v1" {
		t.Errorf("v1 list = %+v", list.Items)
	}
	v2list, err := e.v2.GetApiMappings(ctx, &apigatewayv2.GetApiMappingsInput{DomainName: dom})
	if err != nil {
		t.Fatal(err)
	}
	if len(v2list.Items) != 2 || *v2list.Items[0].ApiMappingKey != "" || *v2list.Items[1].ApiMappingId != *ml.ApiMappingId {
		t.Errorf("v2 list = %+v", v2list.Items)
	}

	// Duplicates, in either view.
	_, err = e.v2.CreateApiMapping(ctx, &apigatewayv2.CreateApiMappingInput{DomainName: dom, ApiMappingKey: aws.String("orders/v1"), ApiId: &apiID, Stage: aws.String("DEV")})
	apiError(t, err, "ConflictException", 409, "Base path already exists for this domain name")
	if _, err := e.v1.CreateBasePathMapping(ctx, &apigateway.CreateBasePathMappingInput{DomainName: dom, BasePath: aws.String("c360"), RestApiId: &apiID, Stage: aws.String("DEV")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.v2.CreateApiMapping(ctx, &apigatewayv2.CreateApiMappingInput{DomainName: dom, ApiMappingKey: aws.String("c360"), ApiId: &apiID, Stage: aws.String("DEV")})
	apiError(t, err, "ConflictException", 409, "Base path already exists for this domain name")

	// Bad targets and keys.
	cases := []struct {
		name   string
		call   func() error
		code   string
		status int
		msg    string
	}{
		{"v1 unknown api", func() error {
			_, err := e.v1.CreateBasePathMapping(ctx, &apigateway.CreateBasePathMappingInput{DomainName: dom, BasePath: aws.String("x"), RestApiId: aws.String("nope"), Stage: aws.String("DEV")})
			return err
		}, "BadRequestException", 400, "Invalid REST API identifier specified"},
		{"v1 unknown stage", func() error {
			_, err := e.v1.CreateBasePathMapping(ctx, &apigateway.CreateBasePathMappingInput{DomainName: dom, BasePath: aws.String("x"), RestApiId: &apiID, Stage: aws.String("QA")})
			return err
		}, "BadRequestException", 400, "Invalid stage identifier specified"},
		{"v1 unknown domain", func() error {
			_, err := e.v1.CreateBasePathMapping(ctx, &apigateway.CreateBasePathMappingInput{DomainName: aws.String("no.example.com"), BasePath: aws.String("x"), RestApiId: &apiID, Stage: aws.String("DEV")})
			return err
		}, "NotFoundException", 404, "Invalid domain name identifier specified"},
		{"v1 bad character", func() error {
			_, err := e.v1.CreateBasePathMapping(ctx, &apigateway.CreateBasePathMappingInput{DomainName: dom, BasePath: aws.String("a b"), RestApiId: &apiID, Stage: aws.String("DEV")})
			return err
		}, "BadRequestException", 400, "invalid character"},
		{"v2 unknown api", func() error {
			_, err := e.v2.CreateApiMapping(ctx, &apigatewayv2.CreateApiMappingInput{DomainName: dom, ApiMappingKey: aws.String("x"), ApiId: aws.String("nope"), Stage: aws.String("DEV")})
			return err
		}, "NotFoundException", 404, "Invalid API identifier specified " + testAccount + ":nope"},
		{"v2 unknown stage", func() error {
			_, err := e.v2.CreateApiMapping(ctx, &apigatewayv2.CreateApiMappingInput{DomainName: dom, ApiMappingKey: aws.String("x"), ApiId: &apiID, Stage: aws.String("QA")})
			return err
		}, "NotFoundException", 404, "Invalid stage identifier specified"},
		{"v2 leading slash", func() error {
			_, err := e.v2.CreateApiMapping(ctx, &apigatewayv2.CreateApiMappingInput{DomainName: dom, ApiMappingKey: aws.String("/x"), ApiId: &apiID, Stage: aws.String("DEV")})
			return err
		}, "BadRequestException", 400, "cannot start or end with a slash"},
		{"v2 double slash", func() error {
			_, err := e.v2.CreateApiMapping(ctx, &apigatewayv2.CreateApiMappingInput{DomainName: dom, ApiMappingKey: aws.String("a//b"), ApiId: &apiID, Stage: aws.String("DEV")})
			return err
		}, "BadRequestException", 400, "empty segment"},
		{"v2 too long", func() error {
			_, err := e.v2.CreateApiMapping(ctx, &apigatewayv2.CreateApiMappingInput{DomainName: dom, ApiMappingKey: aws.String(fmt.Sprintf("%0301d", 0)), ApiId: &apiID, Stage: aws.String("DEV")})
			return err
		}, "BadRequestException", 400, "longer than 300"},
		{"v2 unknown domain", func() error {
			_, err := e.v2.GetApiMappings(ctx, &apigatewayv2.GetApiMappingsInput{DomainName: aws.String("no.example.com")})
			return err
		}, "NotFoundException", 404, "The domain name resource specified in the request was not found."},
		{"v2 unknown mapping", func() error {
			_, err := e.v2.GetApiMapping(ctx, &apigatewayv2.GetApiMappingInput{DomainName: dom, ApiMappingId: aws.String("nope")})
			return err
		}, "NotFoundException", 404, "The api mapping resource specified in the request was not found."},
		{"v1 unknown base path", func() error {
			_, err := e.v1.GetBasePathMapping(ctx, &apigateway.GetBasePathMappingInput{DomainName: dom, BasePath: aws.String("nope")})
			return err
		}, "NotFoundException", 404, "Invalid base path mapping identifier specified"},
		{"delete mapped api", func() error {
			_, err := e.v1.DeleteRestApi(ctx, &apigateway.DeleteRestApiInput{RestApiId: &apiID})
			return err
		}, "BadRequestException", 400, "Deleting RestApi " + apiID + " failed. Please remove all base path mappings related to the RestApi in your domains."},
		{"delete mapped stage", func() error {
			_, err := e.v1.DeleteStage(ctx, &apigateway.DeleteStageInput{RestApiId: &apiID, StageName: aws.String("DEV")})
			return err
		}, "BadRequestException", 400, "Please remove all base path mappings related to the stage"},
		{"v1 update to a multi-level key", func() error {
			_, err := e.v1.UpdateBasePathMapping(ctx, &apigateway.UpdateBasePathMappingInput{DomainName: dom, BasePath: aws.String("c360"),
				PatchOperations: []gwtypes.PatchOperation{patch(gwtypes.OpReplace, "/basePath", "orders/v1")}})
			return err
		}, "BadRequestException", 400, "doesn't support the slash character"},
		{"v1 update to a taken key", func() error {
			_, err := e.v1.UpdateBasePathMapping(ctx, &apigateway.UpdateBasePathMappingInput{DomainName: dom, BasePath: aws.String("c360"),
				PatchOperations: []gwtypes.PatchOperation{patch(gwtypes.OpReplace, "/basePath", "(none)")}})
			return err
		}, "ConflictException", 409, "Only one base path mapping is allowed if the base path is empty."},
		{"v1 update bad path", func() error {
			_, err := e.v1.UpdateBasePathMapping(ctx, &apigateway.UpdateBasePathMappingInput{DomainName: dom, BasePath: aws.String("c360"),
				PatchOperations: []gwtypes.PatchOperation{patch(gwtypes.OpReplace, "/domainName", "x")}})
			return err
		}, "BadRequestException", 400, "Invalid patch path  '/domainName' specified for op 'replace'. Must be one of: [/basePath, /restapiId, /stage]"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { apiError(t, tc.call(), tc.code, tc.status, tc.msg) })
	}
	if n := e.count(model.MappingsPrefix(*dom)); n != 3 {
		t.Fatalf("%d mappings stored, want 3", n)
	}

	// v1 update moves the mapping to another key, API and stage.
	up, err := e.v1.UpdateBasePathMapping(ctx, &apigateway.UpdateBasePathMappingInput{DomainName: dom, BasePath: aws.String("c360"),
		PatchOperations: []gwtypes.PatchOperation{
			patch(gwtypes.OpReplace, "/basePath", "c361"), patch(gwtypes.OpReplace, "/restapiId", other), patch(gwtypes.OpReplace, "/stage", "PROD"),
		}})
	if err != nil {
		t.Fatal(err)
	}
	if *up.BasePath != "c361" || *up.RestApiId != other || *up.Stage != "PROD" {
		t.Errorf("updated = %+v", up)
	}
	// v2 update of the multi-level mapping.
	up2, err := e.v2.UpdateApiMapping(ctx, &apigatewayv2.UpdateApiMappingInput{DomainName: dom, ApiMappingId: ml.ApiMappingId, ApiId: &apiID, Stage: aws.String("DEV"), ApiMappingKey: aws.String("orders/v2")})
	if err != nil {
		t.Fatal(err)
	}
	if *up2.ApiMappingKey != "orders/v2" || *up2.ApiId != apiID {
		t.Errorf("v2 updated = %+v", up2)
	}
	if _, err := e.v2.DeleteApiMapping(ctx, &apigatewayv2.DeleteApiMappingInput{DomainName: dom, ApiMappingId: ml.ApiMappingId}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v1.DeleteBasePathMapping(ctx, &apigateway.DeleteBasePathMappingInput{DomainName: dom, BasePath: aws.String("(none)")}); err != nil {
		t.Fatal(err)
	}
	if n := e.count(model.MappingsPrefix(*dom)); n != 1 {
		t.Fatalf("%d mappings left, want 1", n)
	}
	// Deleting the domain deletes its mappings; then the API can go.
	if _, err := e.v1.DeleteDomainName(ctx, &apigateway.DeleteDomainNameInput{DomainName: dom}); err != nil {
		t.Fatal(err)
	}
	if n := e.count(model.PrefixMappings); n != 0 {
		t.Fatalf("%d mappings survive their domain", n)
	}
	if _, err := e.v1.DeleteRestApi(ctx, &apigateway.DeleteRestApiInput{RestApiId: &other}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{model.ResourcesPrefix(other), model.DeploymentsPrefix(other), model.StagesPrefix(other), model.RestAPIKey(other)} {
		if n := e.count(p); n != 0 {
			t.Errorf("%d keys left under %s", n, p)
		}
	}
}

func TestMultiLevelNeedsTLS12(t *testing.T) {
	e := newEnv(t)
	name := "old.example.com"
	if _, err := e.v1.CreateDomainName(e.ctx, &apigateway.CreateDomainNameInput{
		DomainName: &name, RegionalCertificateArn: aws.String(e.cert(name)), SecurityPolicy: gwtypes.SecurityPolicyTls10,
	}); err != nil {
		t.Fatal(err)
	}
	apiID := e.deployedAPI("a", "s")
	_, err := e.v2.CreateApiMapping(e.ctx, &apigatewayv2.CreateApiMappingInput{DomainName: &name, ApiMappingKey: aws.String("a/b"), ApiId: &apiID, Stage: aws.String("s")})
	apiError(t, err, "BadRequestException", 400, "TLS_1_0")
}

// TestMappingKeyUniqueUnderRace creates the same key from many goroutines:
// exactly one wins, because the check runs in the writing transaction.
func TestMappingKeyUniqueUnderRace(t *testing.T) {
	e := newEnv(t)
	dom := aws.String("race.example.com")
	e.domain(*dom)
	apiID := e.deployedAPI("a", "s")
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i%2 == 0 {
				_, errs[i] = e.v1.CreateBasePathMapping(e.ctx, &apigateway.CreateBasePathMappingInput{DomainName: dom, BasePath: aws.String("k"), RestApiId: &apiID, Stage: aws.String("s")})
			} else {
				_, errs[i] = e.v2.CreateApiMapping(e.ctx, &apigatewayv2.CreateApiMappingInput{DomainName: dom, ApiMappingKey: aws.String("k"), ApiId: &apiID, Stage: aws.String("s")})
			}
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
			continue
		}
		apiError(t, err, "ConflictException", 409, "Base path already exists")
	}
	if ok != 1 || e.count(model.MappingsPrefix(*dom)) != 1 {
		t.Fatalf("%d creations succeeded, %d stored; want exactly one", ok, e.count(model.MappingsPrefix(*dom)))
	}
}

func TestMappingPagination(t *testing.T) {
	e := newEnv(t)
	dom := aws.String("page.example.com")
	e.domain(*dom)
	apiID := e.deployedAPI("a", "s")
	for i := range 7 {
		if _, err := e.v2.CreateApiMapping(e.ctx, &apigatewayv2.CreateApiMappingInput{DomainName: dom, ApiMappingKey: aws.String(fmt.Sprintf("k%d", i)), ApiId: &apiID, Stage: aws.String("s")}); err != nil {
			t.Fatal(err)
		}
	}
	var keys []string
	token := (*string)(nil)
	pages := 0
	for {
		out, err := e.v2.GetApiMappings(e.ctx, &apigatewayv2.GetApiMappingsInput{DomainName: dom, MaxResults: aws.String("3"), NextToken: token})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, m := range out.Items {
			keys = append(keys, *m.ApiMappingKey)
		}
		if out.NextToken == nil {
			break
		}
		token = out.NextToken
	}
	if pages != 3 || len(keys) != 7 || keys[0] != "k0" || keys[6] != "k6" {
		t.Fatalf("%d pages, keys %v", pages, keys)
	}
	p := apigateway.NewGetBasePathMappingsPaginator(e.v1, &apigateway.GetBasePathMappingsInput{DomainName: dom, Limit: aws.Int32(2)})
	n := 0
	for p.HasMorePages() {
		out, err := p.NextPage(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		n += len(out.Items)
	}
	if n != 7 {
		t.Fatalf("v1 paginator saw %d mappings, want 7", n)
	}
	_, err := e.v2.GetApiMappings(e.ctx, &apigatewayv2.GetApiMappingsInput{DomainName: dom, MaxResults: aws.String("0")})
	apiError(t, err, "BadRequestException", 400, "maxResults")
	_, err = e.v2.GetApiMappings(e.ctx, &apigatewayv2.GetApiMappingsInput{DomainName: dom, NextToken: aws.String("!!!")})
	apiError(t, err, "BadRequestException", 400, "nextToken")
}
