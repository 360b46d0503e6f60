package apigw

import (
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	gwtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"

	"trustgate/internal/model"
	objstore "trustgate/internal/objects"
	"trustgate/internal/testpki"
)

// The embedded object store is what the app passes as Objects.
var _ ObjectGetter = (*objstore.Store)(nil)

// TestEmbeddedObjectStore reads truststores from the embedded object store
// kept in the same bolt file as the domains: the fetch must happen outside
// the writing transaction (a read inside a bolt write would deadlock).
func TestEmbeddedObjectStore(t *testing.T) {
	e := newEnv(t)
	obj := objstore.New(e.store)
	e.srv.Close()
	e.svc = New(Config{Store: e.store, Region: testRegion, AccountID: testAccount, PublicDomain: "gw.test", Objects: obj, Now: e.clock.Now})
	e.srv = httptest.NewServer(e.svc)
	e.v1 = apigateway.NewFromConfig(aws.Config{Region: testRegion, Credentials: aws.AnonymousCredentials{}, Retryer: func() aws.Retryer { return aws.NopRetryer{} }},
		func(o *apigateway.Options) { o.BaseEndpoint = aws.String(e.srv.URL) })

	if _, err := obj.CreateBucket(e.ctx, "partners-trust-store"); err != nil {
		t.Fatal(err)
	}
	if err := obj.SetVersioning(e.ctx, "partners-trust-store", model.VersioningEnabled); err != nil {
		t.Fatal(err)
	}
	put := func(data []byte) string {
		v, err := obj.PutObject(e.ctx, objstore.PutInput{Bucket: "partners-trust-store", Key: "trusted_partners.pem", Data: data})
		if err != nil {
			t.Fatal(err)
		}
		return v.VersionID
	}
	first := put(testpki.NewCA(t, "Partner A").CertPEM)
	name := "api.example.com"
	dn, err := e.v1.CreateDomainName(e.ctx, &apigateway.CreateDomainNameInput{
		DomainName: &name, RegionalCertificateArn: aws.String(e.cert(name)), EndpointConfiguration: regional(),
		MutualTlsAuthentication: &gwtypes.MutualTlsAuthenticationInput{TruststoreUri: aws.String("s3://partners-trust-store/trusted_partners.pem")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if first == "" || *dn.MutualTlsAuthentication.TruststoreVersion != first {
		t.Fatalf("pinned %q, want the first version %q", *dn.MutualTlsAuthentication.TruststoreVersion, first)
	}
	second := put(testpki.NewCA(t, "Partner B").CertPEM)
	upd, err := e.v1.UpdateDomainName(e.ctx, &apigateway.UpdateDomainNameInput{DomainName: &name, PatchOperations: []gwtypes.PatchOperation{
		patch(gwtypes.OpReplace, "/mutualTlsAuthentication/truststoreVersion", second),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if *upd.MutualTlsAuthentication.TruststoreVersion != second {
		t.Fatalf("version %q, want %q", *upd.MutualTlsAuthentication.TruststoreVersion, second)
	}
	_, err = e.v1.UpdateDomainName(e.ctx, &apigateway.UpdateDomainNameInput{DomainName: &name, PatchOperations: []gwtypes.PatchOperation{
		patch(gwtypes.OpReplace, "/mutualTlsAuthentication/truststoreUri", "s3://partners-trust-store/missing.pem"),
	}})
	apiError(t, err, "BadRequestException", 400, "Unable to access truststore URI s3://partners-trust-store/missing.pem version N/A.")
}
