package apigw

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	gwtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	v2types "github.com/aws/aws-sdk-go-v2/service/apigatewayv2/types"

	"trustgate/internal/model"
	"trustgate/internal/store"
	"trustgate/internal/testpki"
)

func regional() *gwtypes.EndpointConfiguration {
	return &gwtypes.EndpointConfiguration{Types: []gwtypes.EndpointType{gwtypes.EndpointTypeRegional}}
}

func patch(op gwtypes.Op, path, value string) gwtypes.PatchOperation {
	return gwtypes.PatchOperation{Op: op, Path: aws.String(path), Value: aws.String(value)}
}

// storedDomain reads the domain record as the data plane would.
func (e *env) storedDomain(name string) model.DomainName {
	e.t.Helper()
	var d model.DomainName
	if _, err := e.store.View(e.ctx, func(tx store.Tx) error {
		var err error
		d, err = store.GetJSON[model.DomainName](tx, model.DomainKey(name))
		return err
	}); err != nil {
		e.t.Fatal(err)
	}
	return d
}

func TestDomainTruststoreLifecycle(t *testing.T) {
	e := newEnv(t)
	ctx := e.ctx
	name := "api.example.com"
	v1, pem1 := e.truststore("trust", "bundle.pem")

	if _, err := e.v1.CreateDomainName(ctx, &apigateway.CreateDomainNameInput{
		DomainName: &name, RegionalCertificateArn: aws.String(e.cert(name)), EndpointConfiguration: regional(),
		MutualTlsAuthentication: &gwtypes.MutualTlsAuthenticationInput{TruststoreUri: aws.String("s3://trust/bundle.pem")},
	}); err != nil {
		t.Fatal(err)
	}
	d := e.storedDomain(name)
	if d.MutualTLS.TruststoreVersion != v1 || !bytes.Equal(d.MutualTLS.Truststore, pem1) || d.SecurityPolicy != model.PolicyTLS12 {
		t.Fatalf("stored domain = %+v, want version %s pinned with its bytes and TLS_1_2 by default", d.MutualTLS, v1)
	}

	// Overwriting the object changes nothing.
	v2, pem2 := e.truststore("trust", "bundle.pem")
	got, err := e.v1.GetDomainName(ctx, &apigateway.GetDomainNameInput{DomainName: &name})
	if err != nil {
		t.Fatal(err)
	}
	if *got.MutualTlsAuthentication.TruststoreVersion != v1 || !bytes.Equal(e.storedDomain(name).MutualTLS.Truststore, pem1) {
		t.Fatal("an overwrite of the object changed the domain")
	}

	// Pointing at the new version takes it.
	upd, err := e.v1.UpdateDomainName(ctx, &apigateway.UpdateDomainNameInput{DomainName: &name, PatchOperations: []gwtypes.PatchOperation{
		patch(gwtypes.OpReplace, "/mutualTlsAuthentication/truststoreVersion", v2),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if *upd.MutualTlsAuthentication.TruststoreVersion != v2 || !bytes.Equal(e.storedDomain(name).MutualTLS.Truststore, pem2) {
		t.Fatalf("update to %s not applied: %+v", v2, upd.MutualTlsAuthentication)
	}

	// A version that fails validation is refused and the old one stays.
	bad := e.objects.put("trust", "bundle.pem", []byte("not a certificate"))
	_, err = e.v1.UpdateDomainName(ctx, &apigateway.UpdateDomainNameInput{DomainName: &name, PatchOperations: []gwtypes.PatchOperation{
		patch(gwtypes.OpReplace, "/mutualTlsAuthentication/truststoreVersion", bad),
	}})
	apiError(t, err, "BadRequestException", 400, "")
	if d := e.storedDomain(name); d.MutualTLS.TruststoreVersion != v2 || !bytes.Equal(d.MutualTLS.Truststore, pem2) {
		t.Fatalf("a refused truststore replaced the old one: %+v", d.MutualTLS)
	}

	// An unreadable version, in AWS's words.
	_, err = e.v1.UpdateDomainName(ctx, &apigateway.UpdateDomainNameInput{DomainName: &name, PatchOperations: []gwtypes.PatchOperation{
		patch(gwtypes.OpReplace, "/mutualTlsAuthentication/truststoreVersion", "nope"),
	}})
	apiError(t, err, "BadRequestException", 400, "Unable to access truststore URI s3://trust/bundle.pem version nope.")

	// Removing the version re-reads the latest and pins it: the latest is
	// the bad bundle, so that is refused too.
	_, err = e.v1.UpdateDomainName(ctx, &apigateway.UpdateDomainNameInput{DomainName: &name, PatchOperations: []gwtypes.PatchOperation{
		{Op: gwtypes.OpRemove, Path: aws.String("/mutualTlsAuthentication/truststoreVersion")},
	}})
	apiError(t, err, "BadRequestException", 400, "")

	// A new URI without a version reads its latest version.
	v3, _ := e.truststore("trust", "other.pem")
	upd, err = e.v1.UpdateDomainName(ctx, &apigateway.UpdateDomainNameInput{DomainName: &name, PatchOperations: []gwtypes.PatchOperation{
		patch(gwtypes.OpReplace, "/mutualTlsAuthentication/truststoreUri", "s3://trust/other.pem"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if m := upd.MutualTlsAuthentication; *m.TruststoreUri != "s3://trust/other.pem" || *m.TruststoreVersion != v3 {
		t.Fatalf("mutualTlsAuthentication = %+v, want other.pem at %s", m, v3)
	}

	// TLS_1_0 cannot carry mutual TLS.
	_, err = e.v1.UpdateDomainName(ctx, &apigateway.UpdateDomainNameInput{DomainName: &name, PatchOperations: []gwtypes.PatchOperation{
		patch(gwtypes.OpReplace, "/securityPolicy", "TLS_1_0"),
	}})
	apiError(t, err, "BadRequestException", 400, "TLS_1_0")

	// An empty URI turns mutual TLS off; then TLS_1_0 is fine.
	upd, err = e.v1.UpdateDomainName(ctx, &apigateway.UpdateDomainNameInput{DomainName: &name, PatchOperations: []gwtypes.PatchOperation{
		patch(gwtypes.OpReplace, "/mutualTlsAuthentication/truststoreUri", ""),
		patch(gwtypes.OpReplace, "/securityPolicy", "TLS_1_0"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if upd.MutualTlsAuthentication != nil || e.storedDomain(name).MutualTLS != nil || upd.SecurityPolicy != gwtypes.SecurityPolicyTls10 {
		t.Fatalf("mTLS still on: %+v", upd.MutualTlsAuthentication)
	}

	// A version without a URI is refused.
	_, err = e.v1.UpdateDomainName(ctx, &apigateway.UpdateDomainNameInput{DomainName: &name, PatchOperations: []gwtypes.PatchOperation{
		patch(gwtypes.OpReplace, "/mutualTlsAuthentication/truststoreVersion", v3),
	}})
	apiError(t, err, "BadRequestException", 400, "needs a truststore URI")

	// Unsupported patch paths and ops are named.
	_, err = e.v1.UpdateDomainName(ctx, &apigateway.UpdateDomainNameInput{DomainName: &name, PatchOperations: []gwtypes.PatchOperation{
		patch(gwtypes.OpReplace, "/foo", "x"),
	}})
	apiError(t, err, "BadRequestException", 400, "Invalid patch path  '/foo' specified for op 'replace'. Must be one of: [/regionalCertificateArn")
	_, err = e.v1.UpdateDomainName(ctx, &apigateway.UpdateDomainNameInput{DomainName: &name, PatchOperations: []gwtypes.PatchOperation{
		patch(gwtypes.OpAdd, "/securityPolicy", "TLS_1_2"),
	}})
	apiError(t, err, "BadRequestException", 400, "Invalid patch path  '/securityPolicy' specified for op 'add'. Please choose supported operations")
}

func TestTruststoreWarningsAreAsOfNow(t *testing.T) {
	e := newEnv(t)
	name := "api.example.com"
	now := e.clock.Now()
	// A CA valid for 10 more days: warned as expiring soon, then, later, expired.
	ca := testpki.NewCA(t, "Short Lived Root", testpki.WithValidity(now.Add(-time.Hour), now.Add(10*24*time.Hour)))
	e.objects.put("trust", "short.pem", ca.CertPEM)
	dn, err := e.v1.CreateDomainName(e.ctx, &apigateway.CreateDomainNameInput{
		DomainName: &name, RegionalCertificateArn: aws.String(e.cert(name)), EndpointConfiguration: regional(),
		MutualTlsAuthentication: &gwtypes.MutualTlsAuthenticationInput{TruststoreUri: aws.String("s3://trust/short.pem")},
	})
	if err != nil {
		t.Fatal(err)
	}
	w := dn.MutualTlsAuthentication.TruststoreWarnings
	if len(w) != 1 || !strings.Contains(w[0], "Short Lived Root") {
		t.Fatalf("warnings at upload = %q, want one about the expiring root", w)
	}
	e.clock.Set(now.Add(11 * 24 * time.Hour))
	got, err := e.v2.GetDomainName(e.ctx, &apigatewayv2.GetDomainNameInput{DomainName: &name})
	if err != nil {
		t.Fatal(err)
	}
	w2 := got.MutualTlsAuthentication.TruststoreWarnings
	if len(w2) == 0 || w2[0] == w[0] || !strings.Contains(strings.ToLower(strings.Join(w2, " ")), "expired") {
		t.Fatalf("warnings later = %q, want a fresh 'expired' warning (was %q)", w2, w)
	}
}

func TestDomainValidation(t *testing.T) {
	e := newEnv(t)
	ctx := e.ctx
	e.truststore("trust", "ok.pem")
	good := e.cert("api.example.com")
	wild := e.cert("*.example.com")
	otherRegion := strings.Replace(good, ":us-east-1:", ":eu-west-1:", 1)
	missing := fmt.Sprintf("arn:aws:acm:%s:%s:certificate/doesnotexist", testRegion, testAccount)

	// A pending certificate.
	pending := e.cert("pending.example.com")
	if _, err := e.store.Update(ctx, func(tx store.Tx) error {
		id := pending[strings.LastIndex(pending, "/")+1:]
		c, err := store.GetJSON[model.Certificate](tx, model.CertKey(id))
		if err != nil {
			return err
		}
		c.Status = "PENDING_VALIDATION"
		return store.PutJSON(tx, model.CertKey(id), c)
	}); err != nil {
		t.Fatal(err)
	}

	mtls := &gwtypes.MutualTlsAuthenticationInput{TruststoreUri: aws.String("s3://trust/ok.pem")}
	tests := []struct {
		name   string
		in     apigateway.CreateDomainNameInput
		code   string
		status int
		msg    string
	}{
		{"empty name", apigateway.CreateDomainNameInput{DomainName: aws.String(""), RegionalCertificateArn: &good}, "BadRequestException", 400, "No Domain Name specified"},
		{"bad label", apigateway.CreateDomainNameInput{DomainName: aws.String("api_x.example.com"), RegionalCertificateArn: &good}, "BadRequestException", 400, "only letters, digits and hyphens"},
		{"too long", apigateway.CreateDomainNameInput{DomainName: aws.String(strings.Repeat("a.", 127) + "com"), RegionalCertificateArn: &good}, "BadRequestException", 400, "longer than 253"},
		{"one label", apigateway.CreateDomainNameInput{DomainName: aws.String("localhost"), RegionalCertificateArn: &good}, "BadRequestException", 400, "at least two labels"},
		{"edge", apigateway.CreateDomainNameInput{DomainName: aws.String("api.example.com"), CertificateArn: &good}, "BadRequestException", 400, "Endpoint type EDGE is not supported"},
		{"private", apigateway.CreateDomainNameInput{DomainName: aws.String("api.example.com"), RegionalCertificateArn: &good,
			EndpointConfiguration: &gwtypes.EndpointConfiguration{Types: []gwtypes.EndpointType{gwtypes.EndpointTypePrivate}}}, "BadRequestException", 400, "Endpoint type PRIVATE is not supported"},
		{"no certificate", apigateway.CreateDomainNameInput{DomainName: aws.String("api.example.com")}, "BadRequestException", 400, "regional certificate ARN is required"},
		{"missing certificate", apigateway.CreateDomainNameInput{DomainName: aws.String("api.example.com"), RegionalCertificateArn: &missing}, "BadRequestException", 400, "Certificate must be in 'ISSUED' state."},
		{"pending certificate", apigateway.CreateDomainNameInput{DomainName: aws.String("pending.example.com"), RegionalCertificateArn: &pending}, "BadRequestException", 400, "Certificate must be in 'ISSUED' state."},
		{"other region", apigateway.CreateDomainNameInput{DomainName: aws.String("api.example.com"), RegionalCertificateArn: &otherRegion}, "BadRequestException", 400, "in its own Region"},
		{"not an ARN", apigateway.CreateDomainNameInput{DomainName: aws.String("api.example.com"), RegionalCertificateArn: aws.String("cert-1")}, "BadRequestException", 400, "Invalid certificate ARN specified"},
		{"not covered", apigateway.CreateDomainNameInput{DomainName: aws.String("www.example.org"), RegionalCertificateArn: &good}, "BadRequestException", 400, "does not cover the domain name www.example.org"},
		{"wildcard one level only", apigateway.CreateDomainNameInput{DomainName: aws.String("a.b.example.com"), RegionalCertificateArn: &wild}, "BadRequestException", 400, "does not cover"},
		{"wildcard not apex", apigateway.CreateDomainNameInput{DomainName: aws.String("example.com"), RegionalCertificateArn: &wild}, "BadRequestException", 400, "does not cover"},
		{"mtls with TLS_1_0", apigateway.CreateDomainNameInput{DomainName: aws.String("api.example.com"), RegionalCertificateArn: &good,
			SecurityPolicy: gwtypes.SecurityPolicyTls10, MutualTlsAuthentication: mtls}, "BadRequestException", 400, "not supported with security policy TLS_1_0"},
		{"edge policy", apigateway.CreateDomainNameInput{DomainName: aws.String("api.example.com"), RegionalCertificateArn: &good,
			SecurityPolicy: "SecurityPolicy_TLS12_2018_EDGE"}, "BadRequestException", 400, "only for edge-optimized"},
		{"unknown policy", apigateway.CreateDomainNameInput{DomainName: aws.String("api.example.com"), RegionalCertificateArn: &good,
			SecurityPolicy: "TLS_9"}, "ValidationException", 400, "Value 'TLS_9' at 'securityPolicy'"},
		{"bad truststore URI", apigateway.CreateDomainNameInput{DomainName: aws.String("api.example.com"), RegionalCertificateArn: &good,
			MutualTlsAuthentication: &gwtypes.MutualTlsAuthenticationInput{TruststoreUri: aws.String("https://bucket/key")}}, "BadRequestException", 400, "Invalid truststore URI specified: https://bucket/key"},
		{"missing truststore", apigateway.CreateDomainNameInput{DomainName: aws.String("api.example.com"), RegionalCertificateArn: &good,
			MutualTlsAuthentication: &gwtypes.MutualTlsAuthenticationInput{TruststoreUri: aws.String("s3://trust/none.pem")}}, "BadRequestException", 400, "Unable to access truststore URI s3://trust/none.pem version N/A."},
		{"uploaded certificate", apigateway.CreateDomainNameInput{DomainName: aws.String("api.example.com"), RegionalCertificateArn: &good,
			CertificateBody: aws.String("-----BEGIN CERTIFICATE-----")}, "BadRequestException", 400, "certificateBody is not supported"},
		{"routing rules", apigateway.CreateDomainNameInput{DomainName: aws.String("api.example.com"), RegionalCertificateArn: &good,
			RoutingMode: gwtypes.RoutingModeRoutingRuleOnly}, "BadRequestException", 400, "Routing mode ROUTING_RULE_ONLY is not supported"},
		{"reserved tag", apigateway.CreateDomainNameInput{DomainName: aws.String("api.example.com"), RegionalCertificateArn: &good,
			Tags: map[string]string{"aws:x": "y"}}, "BadRequestException", 400, "reserved"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.v1.CreateDomainName(ctx, &tc.in)
			apiError(t, err, tc.code, tc.status, tc.msg)
		})
	}
	if n := e.count(model.PrefixDomains); n != 0 {
		t.Fatalf("%d domains written by refused requests", n)
	}

	// Wildcards: *.example.com covers a.example.com, and a wildcard domain.
	for _, n := range []string{"a.example.com", "*.example.com"} {
		if _, err := e.v1.CreateDomainName(ctx, &apigateway.CreateDomainNameInput{DomainName: aws.String(n), RegionalCertificateArn: &wild}); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
	}
	got, err := e.v1.GetDomainName(ctx, &apigateway.GetDomainNameInput{DomainName: aws.String("*.example.com")})
	if err != nil || *got.DomainName != "*.example.com" {
		t.Fatalf("wildcard domain: %v %v", got, err)
	}
	// Names are case-insensitive; a duplicate is a conflict in AWS's words.
	_, err = e.v1.CreateDomainName(ctx, &apigateway.CreateDomainNameInput{DomainName: aws.String("A.Example.COM"), RegionalCertificateArn: &wild})
	apiError(t, err, "ConflictException", 409, "The domain name you provided already exists.")
	_, err = e.v2.CreateDomainName(ctx, &apigatewayv2.CreateDomainNameInput{DomainName: aws.String("a.example.com"),
		DomainNameConfigurations: []v2types.DomainNameConfiguration{{CertificateArn: &wild}}})
	apiError(t, err, "ConflictException", 409, "The domain name resource already exists.")

	// Updating the certificate to one that does not cover the name is refused.
	_, err = e.v1.UpdateDomainName(ctx, &apigateway.UpdateDomainNameInput{DomainName: aws.String("a.example.com"), PatchOperations: []gwtypes.PatchOperation{
		patch(gwtypes.OpReplace, "/regionalCertificateArn", good),
	}})
	apiError(t, err, "BadRequestException", 400, "does not cover the domain name a.example.com")

	// Missing domains.
	_, err = e.v1.GetDomainName(ctx, &apigateway.GetDomainNameInput{DomainName: aws.String("nope.example.com")})
	apiError(t, err, "NotFoundException", 404, "Invalid domain name identifier specified")
	_, err = e.v2.GetDomainName(ctx, &apigatewayv2.GetDomainNameInput{DomainName: aws.String("nope.example.com")})
	apiError(t, err, "NotFoundException", 404, "The domain name resource specified in the request was not found.")
	var nf *v2types.NotFoundException
	if !asErr(err, &nf) || aws.ToString(nf.ResourceType) != "DomainName" {
		t.Errorf("v2 NotFound resourceType = %v", nf)
	}
	_, err = e.v1.DeleteDomainName(ctx, &apigateway.DeleteDomainNameInput{DomainName: aws.String("nope.example.com")})
	apiError(t, err, "NotFoundException", 404, "Invalid domain name identifier specified")
}

func TestDomainV2(t *testing.T) {
	e := newEnv(t)
	ctx := e.ctx
	name := "v2.example.com"
	ver, _ := e.truststore("trust", "v2.pem")
	cert := e.cert(name)
	out, err := e.v2.CreateDomainName(ctx, &apigatewayv2.CreateDomainNameInput{
		DomainName:               &name,
		DomainNameConfigurations: []v2types.DomainNameConfiguration{{CertificateArn: &cert, EndpointType: v2types.EndpointTypeRegional, SecurityPolicy: v2types.SecurityPolicyTls12}},
		MutualTlsAuthentication:  &v2types.MutualTlsAuthenticationInput{TruststoreUri: aws.String("s3://trust/v2.pem")},
		Tags:                     map[string]string{"team": "edge"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if *out.MutualTlsAuthentication.TruststoreVersion != ver || out.Tags["team"] != "edge" || out.RoutingMode != v2types.RoutingModeApiMappingOnly {
		t.Fatalf("created = %+v", out)
	}
	// A version alone re-reads the current URI at that version.
	ver2, _ := e.truststore("trust", "v2.pem")
	upd, err := e.v2.UpdateDomainName(ctx, &apigatewayv2.UpdateDomainNameInput{
		DomainName: &name, MutualTlsAuthentication: &v2types.MutualTlsAuthenticationInput{TruststoreVersion: &ver2},
	})
	if err != nil {
		t.Fatal(err)
	}
	if *upd.MutualTlsAuthentication.TruststoreUri != "s3://trust/v2.pem" || *upd.MutualTlsAuthentication.TruststoreVersion != ver2 {
		t.Fatalf("updated = %+v", upd.MutualTlsAuthentication)
	}
	// The v1 view of the same domain.
	v1, err := e.v1.GetDomainName(ctx, &apigateway.GetDomainNameInput{DomainName: &name})
	if err != nil {
		t.Fatal(err)
	}
	if *v1.MutualTlsAuthentication.TruststoreVersion != ver2 || *v1.RegionalDomainName != *upd.DomainNameConfigurations[0].ApiGatewayDomainName {
		t.Fatalf("v1 view = %+v", v1)
	}
	_, err = e.v2.UpdateDomainName(ctx, &apigatewayv2.UpdateDomainNameInput{
		DomainName: &name, DomainNameConfigurations: []v2types.DomainNameConfiguration{{CertificateArn: &cert}, {CertificateArn: &cert}},
	})
	apiError(t, err, "BadRequestException", 400, "Expected one domain name configuration")
	// Turning mTLS off through v2.
	upd, err = e.v2.UpdateDomainName(ctx, &apigatewayv2.UpdateDomainNameInput{
		DomainName: &name, MutualTlsAuthentication: &v2types.MutualTlsAuthenticationInput{TruststoreUri: aws.String("")},
	})
	if err != nil || upd.MutualTlsAuthentication != nil {
		t.Fatalf("mTLS off: %+v %v", upd, err)
	}
	list, err := e.v2.GetDomainNames(ctx, &apigatewayv2.GetDomainNamesInput{})
	if err != nil || len(list.Items) != 1 || *list.Items[0].DomainName != name {
		t.Fatalf("list = %+v %v", list, err)
	}
	if _, err := e.v2.DeleteDomainName(ctx, &apigatewayv2.DeleteDomainNameInput{DomainName: &name}); err != nil {
		t.Fatal(err)
	}
	_, err = e.v2.DeleteDomainName(ctx, &apigatewayv2.DeleteDomainNameInput{DomainName: &name})
	apiError(t, err, "NotFoundException", 404, "not found")
}

// TestConcurrentDomainUpdate shows that a write racing a truststore fetch
// is refused with AWS's concurrent-modification conflict rather than lost.
func TestConcurrentDomainUpdate(t *testing.T) {
	e := newEnv(t)
	name := "race.example.com"
	e.domain(name)
	ver, _ := e.truststore("trust", name+".pem")
	e.objects.onGet = func() {
		// Someone else changes the domain while the update fetches.
		if _, err := e.v1.TagResource(e.ctx, &apigateway.TagResourceInput{
			ResourceArn: aws.String(e.svc.domainARN(name)), Tags: map[string]string{"k": "v"},
		}); err != nil {
			t.Error(err)
		}
	}
	_, err := e.v1.UpdateDomainName(e.ctx, &apigateway.UpdateDomainNameInput{DomainName: &name, PatchOperations: []gwtypes.PatchOperation{
		patch(gwtypes.OpReplace, "/mutualTlsAuthentication/truststoreVersion", ver),
	}})
	apiError(t, err, "ConflictException", 409, "Unable to complete operation due to concurrent modification. Please try again later.")
	if d := e.storedDomain(name); d.Tags["k"] != "v" || d.MutualTLS.TruststoreVersion == ver {
		t.Fatalf("domain = %+v: the tag must survive and the racing update must not land", d)
	}
}
