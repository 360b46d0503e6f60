package apigw

import (
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	gwtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"

	"trustgate/internal/edge"
)

// TestDomainTagValidation: trustgate:crl* tags are checked with the data
// plane's rules on create-domain-name and tag-resource, and a bad value is a
// BadRequestException naming the tag that changes nothing.
func TestDomainTagValidation(t *testing.T) {
	e := newEnvWith(t, func(c *Config) { c.CheckDomainTags = edge.ValidateTags })
	ctx := e.ctx
	name := "api.example.com"
	e.truststore("trust", "bundle.pem")
	create := func(tags map[string]string) error {
		_, err := e.v1.CreateDomainName(ctx, &apigateway.CreateDomainNameInput{
			DomainName: &name, RegionalCertificateArn: aws.String(e.cert(name)), EndpointConfiguration: regional(),
			MutualTlsAuthentication: &gwtypes.MutualTlsAuthenticationInput{TruststoreUri: aws.String("s3://trust/bundle.pem")},
			Tags:                    tags,
		})
		return err
	}
	apiError(t, create(map[string]string{edge.TagCRL: "http://crls/x.crl"}), "BadRequestException", 400, edge.TagCRL)
	if e.count("domains/") != 0 {
		t.Fatal("a refused create stored a domain")
	}
	if err := create(map[string]string{edge.TagCRL: "s3://crls/partner.crl", edge.TagCRLMode: "soft"}); err != nil {
		t.Fatal(err)
	}
	arn := e.svc.domainARN(name)
	for _, tc := range []struct {
		key, value string
	}{
		{edge.TagCRL, "s3://crls/"},
		{edge.TagCRLMode, "lenient"},
		{edge.TagCRLRefresh, "1s"},
		{edge.TagCRLRefresh, "soon"},
	} {
		_, err := e.v1.TagResource(ctx, &apigateway.TagResourceInput{ResourceArn: &arn, Tags: map[string]string{tc.key: tc.value}})
		apiError(t, err, "BadRequestException", 400, tc.key)
		_, err = e.v2.TagResource(ctx, &apigatewayv2.TagResourceInput{ResourceArn: &arn, Tags: map[string]string{tc.key: tc.value}})
		apiError(t, err, "BadRequestException", 400, tc.key)
	}
	if _, err := e.v1.TagResource(ctx, &apigateway.TagResourceInput{ResourceArn: &arn,
		Tags: map[string]string{edge.TagCRLRefresh: "30s", edge.TagCRL: "s3://crls/a.crl,s3://crls/b.crl"}}); err != nil {
		t.Fatal(err)
	}
	tags := e.storedDomain(name).Tags
	if tags[edge.TagCRLMode] != "soft" || tags[edge.TagCRLRefresh] != "30s" || tags[edge.TagCRL] != "s3://crls/a.crl,s3://crls/b.crl" {
		t.Fatalf("stored tags = %v", tags)
	}
	// Other resources' tags are not the data plane's business.
	apiID, _ := e.api("other")
	apiARN := "arn:aws:apigateway:" + testRegion + "::/restapis/" + apiID
	if _, err := e.v1.TagResource(ctx, &apigateway.TagResourceInput{ResourceArn: &apiARN, Tags: map[string]string{edge.TagCRLMode: "any"}}); err != nil {
		t.Fatal(err)
	}
}

// fakeHealth is a data plane's report, set by the test.
type fakeHealth struct {
	mu sync.Mutex
	m  map[string]DomainHealth
}

func (f *fakeHealth) get(name string) (DomainHealth, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	h, ok := f.m[name]
	return h, ok
}

func (f *fakeHealth) set(name string, h DomainHealth) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.m[name] = h
}

// TestDomainHealthInViews: what the data plane reports becomes
// domainNameStatusMessage and extra truststoreWarnings, in get and list, v1
// and v2.
func TestDomainHealthInViews(t *testing.T) {
	fh := &fakeHealth{m: map[string]DomainHealth{}}
	e := newEnvWith(t, func(c *Config) { c.DomainHealth = fh.get })
	ctx := e.ctx
	name := "api.example.com"
	e.domain(name)

	got, err := e.v1.GetDomainName(ctx, &apigateway.GetDomainNameInput{DomainName: &name})
	if err != nil {
		t.Fatal(err)
	}
	if got.DomainNameStatusMessage != nil {
		t.Fatalf("message %q before the data plane knows the domain", *got.DomainNameStatusMessage)
	}
	base := got.MutualTlsAuthentication.TruststoreWarnings

	const msg = "CRL s3://crls/partner.crl could not be refreshed (connection refused); the copy last read at 2026-01-02T03:04:05Z is still used."
	const warn = "CRL 1, issued by \"CN=Stranger\", was ignored: no certificate in the truststore has that subject."
	fh.set(name, DomainHealth{Message: msg, Warnings: []string{warn}})

	check := func(what, gotMsg string, warnings []string) {
		t.Helper()
		if gotMsg != msg {
			t.Errorf("%s: domainNameStatusMessage = %q, want %q", what, gotMsg, msg)
		}
		if want := append(slices.Clone(base), warn); !slices.Equal(warnings, want) {
			t.Errorf("%s: truststoreWarnings = %q, want %q", what, warnings, want)
		}
	}
	got, err = e.v1.GetDomainName(ctx, &apigateway.GetDomainNameInput{DomainName: &name})
	if err != nil {
		t.Fatal(err)
	}
	check("v1 get", aws.ToString(got.DomainNameStatusMessage), got.MutualTlsAuthentication.TruststoreWarnings)
	list, err := e.v1.GetDomainNames(ctx, &apigateway.GetDomainNamesInput{})
	if err != nil {
		t.Fatal(err)
	}
	check("v1 list", aws.ToString(list.Items[0].DomainNameStatusMessage), list.Items[0].MutualTlsAuthentication.TruststoreWarnings)
	got2, err := e.v2.GetDomainName(ctx, &apigatewayv2.GetDomainNameInput{DomainName: &name})
	if err != nil {
		t.Fatal(err)
	}
	check("v2 get", aws.ToString(got2.DomainNameConfigurations[0].DomainNameStatusMessage), got2.MutualTlsAuthentication.TruststoreWarnings)
	list2, err := e.v2.GetDomainNames(ctx, &apigatewayv2.GetDomainNamesInput{})
	if err != nil {
		t.Fatal(err)
	}
	check("v2 list", aws.ToString(list2.Items[0].DomainNameConfigurations[0].DomainNameStatusMessage), list2.Items[0].MutualTlsAuthentication.TruststoreWarnings)
	if got.DomainNameStatus != gwtypes.DomainNameStatusAvailable {
		t.Errorf("status %s, want AVAILABLE", got.DomainNameStatus)
	}
}
