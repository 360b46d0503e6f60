// Command configure sets up trustgate for the side-by-side benchmark the way
// a user would, through the management API with the AWS SDK: it imports the
// server certificate, uploads the truststore to a versioned bucket, creates a
// REST API whose /{proxy+} ANY method proxies to the backend, deploys it to
// stage DEV, and creates the mTLS domain api.example.com with mapping c360.
//
//	configure -endpoint URL -backend HOST:PORT -cert FILE -key FILE -truststore FILE
//
// Credentials come from the environment (eval "$(trustgate env)").
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"
	"github.com/aws/aws-sdk-go-v2/service/apigatewayv2"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func main() {
	endpoint := flag.String("endpoint", "http://127.0.0.1:4566", "trustgate management endpoint")
	backend := flag.String("backend", "", "host:port of the HTTP backend")
	certFile := flag.String("cert", "", "server certificate PEM for api.example.com")
	keyFile := flag.String("key", "", "its private key")
	trustFile := flag.String("truststore", "", "CA bundle client certificates must chain to")
	domain := flag.String("domain", "api.example.com", "custom domain")
	flag.Parse()
	if *backend == "" || *certFile == "" || *keyFile == "" || *trustFile == "" {
		flag.Usage()
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := configure(ctx, *endpoint, *backend, *certFile, *keyFile, *trustFile, *domain); err != nil {
		log.Fatal(err)
	}
}

func configure(ctx context.Context, endpoint, backend, certFile, keyFile, trustFile, domain string) error {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	ep := aws.String(endpoint)
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = ep; o.UsePathStyle = true })
	acmc := acm.NewFromConfig(cfg, func(o *acm.Options) { o.BaseEndpoint = ep })
	gw := apigateway.NewFromConfig(cfg, func(o *apigateway.Options) { o.BaseEndpoint = ep })
	gw2 := apigatewayv2.NewFromConfig(cfg, func(o *apigatewayv2.Options) { o.BaseEndpoint = ep })

	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return err
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return err
	}
	trust, err := os.ReadFile(trustFile)
	if err != nil {
		return err
	}
	imp, err := acmc.ImportCertificate(ctx, &acm.ImportCertificateInput{Certificate: certPEM, PrivateKey: keyPEM})
	if err != nil {
		return fmt.Errorf("import certificate: %w", err)
	}
	bucket := aws.String("partners-trust-store")
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket}); err != nil {
		return fmt.Errorf("create bucket: %w", err)
	}
	if _, err := s3c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: bucket,
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		return fmt.Errorf("bucket versioning: %w", err)
	}
	if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("trusted_partners.pem"), Body: bytes.NewReader(trust)}); err != nil {
		return fmt.Errorf("upload truststore: %w", err)
	}

	api, err := gw.CreateRestApi(ctx, &apigateway.CreateRestApiInput{Name: aws.String("bench"),
		EndpointConfiguration: &agtypes.EndpointConfiguration{Types: []agtypes.EndpointType{agtypes.EndpointTypeRegional}}})
	if err != nil {
		return fmt.Errorf("create rest api: %w", err)
	}
	proxy, err := gw.CreateResource(ctx, &apigateway.CreateResourceInput{RestApiId: api.Id, ParentId: api.RootResourceId, PathPart: aws.String("{proxy+}")})
	if err != nil {
		return fmt.Errorf("create resource: %w", err)
	}
	if _, err := gw.PutMethod(ctx, &apigateway.PutMethodInput{RestApiId: api.Id, ResourceId: proxy.Id, HttpMethod: aws.String("ANY"),
		AuthorizationType: aws.String("NONE"), RequestParameters: map[string]bool{"method.request.path.proxy": true}}); err != nil {
		return fmt.Errorf("put method: %w", err)
	}
	if _, err := gw.PutIntegration(ctx, &apigateway.PutIntegrationInput{RestApiId: api.Id, ResourceId: proxy.Id, HttpMethod: aws.String("ANY"),
		Type: agtypes.IntegrationTypeHttpProxy, IntegrationHttpMethod: aws.String("ANY"), Uri: aws.String("http://" + backend + "/{proxy}"),
		RequestParameters: map[string]string{"integration.request.path.proxy": "method.request.path.proxy"}}); err != nil {
		return fmt.Errorf("put integration: %w", err)
	}
	if _, err := gw.CreateDeployment(ctx, &apigateway.CreateDeploymentInput{RestApiId: api.Id, StageName: aws.String("DEV")}); err != nil {
		return fmt.Errorf("create deployment: %w", err)
	}
	if _, err := gw.CreateDomainName(ctx, &apigateway.CreateDomainNameInput{DomainName: aws.String(domain),
		RegionalCertificateArn: imp.CertificateArn, SecurityPolicy: agtypes.SecurityPolicyTls12,
		EndpointConfiguration:   &agtypes.EndpointConfiguration{Types: []agtypes.EndpointType{agtypes.EndpointTypeRegional}},
		MutualTlsAuthentication: &agtypes.MutualTlsAuthenticationInput{TruststoreUri: aws.String("s3://partners-trust-store/trusted_partners.pem")}}); err != nil {
		return fmt.Errorf("create domain name: %w", err)
	}
	if _, err := gw2.CreateApiMapping(ctx, &apigatewayv2.CreateApiMappingInput{DomainName: aws.String(domain), ApiId: api.Id,
		ApiMappingKey: aws.String("c360"), Stage: aws.String("DEV")}); err != nil {
		return fmt.Errorf("create api mapping: %w", err)
	}
	return nil
}
