package truststore_test

import (
	"crypto/x509"
	"errors"
	"fmt"
	"testing"
	"time"

	"trustgate/internal/testpki"
	"trustgate/internal/truststore"
)

// The management API parses a bundle once, reports its warnings, and the
// data plane verifies each client chain against it.
func Example() {
	t := new(testingT)
	root := testpki.NewCA(t, "Partner Root")
	partner := root.Intermediate(t, "Partner Issuing CA").Leaf(t, testpki.Client("partner-1"))
	stranger := testpki.NewCA(t, "Other Root").Leaf(t, testpki.Client("stranger"))

	bundle, err := truststore.Parse(root.CertPEM)
	if err != nil {
		fmt.Println("BadRequestException:", err) // a *truststore.BundleError
		return
	}
	fmt.Println("warnings:", truststore.Messages(bundle.Warnings(time.Now())))

	// The client sends its certificate and its intermediate.
	v := bundle.Verify([]*x509.Certificate{partner.Cert, partner.Chain[0]}, truststore.VerifyOptions{})
	fmt.Println(v.Reason)
	v = bundle.Verify([]*x509.Certificate{stranger.Cert}, truststore.VerifyOptions{})
	fmt.Println(v)
	// Output:
	// warnings: []
	// trusted
	// rejected: unknown_issuer: Client certificate "CN=stranger" was issued by "CN=Other Root", which is not in the truststore.
}

func ExampleParse_privateKey() {
	t := new(testingT)
	leaf := testpki.NewCA(t, "Root").Leaf(t)
	_, err := truststore.Parse(testpki.Bundle(leaf.CertPEM, leaf.KeyPEM))
	var be *truststore.BundleError
	if errors.As(err, &be) {
		fmt.Println(be.Code, be.Block, errors.Is(err, truststore.ErrInvalidBundle))
	}
	// Output:
	// private_key 2 true
}

// testingT lets examples use testpki, which wants a testing.TB.
type testingT struct{ testing.TB }

func (*testingT) Helper()                        {}
func (*testingT) Fatalf(format string, a ...any) { panic(fmt.Sprintf(format, a...)) }
