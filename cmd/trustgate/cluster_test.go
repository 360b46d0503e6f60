package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/apigateway"
	agtypes "github.com/aws/aws-sdk-go-v2/service/apigateway/types"

	"trustgate/internal/store/etcd/etcdtest"
	"trustgate/internal/testpki"
)

// TestClusterOnEtcd runs two trustgate processes on one etcd (DESIGN §7):
// what is configured through node A is served by node B, and a truststore
// removal made through node B is enforced by node A on the next request.
func TestClusterOnEtcd(t *testing.T) {
	endpoint := etcdtest.Start(t)
	ctx := context.Background()
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "customer "+r.URL.Path)
	}))
	defer backend.Close()

	serverCA := testpki.NewCA(t, "Server Root")
	server := serverCA.Leaf(t, testpki.Server("api.example.com"))
	partnerCA := testpki.NewCA(t, "Partner Root")
	partner := partnerCA.Leaf(t, testpki.Client("partner-1"))

	flags := []string{"--store", "etcd", "--etcd-endpoints", endpoint, "--etcd-prefix", "/cluster-test/"}
	a := startGateway(t, flags...)
	b := startGateway(t, flags...)
	ca, cb := newClients(t, a), newClients(t, b)

	configureSeed(t, ca, backend.URL, server, partnerCA)

	// Node B follows the shared revision; wait on its own answer, bounded.
	get := func(g *gateway, client *http.Client) int {
		t.Helper()
		resp, err := client.Get("https://api.example.com/c360/customer/7")
		if err != nil {
			t.Fatalf("request via %s: %v", g.Listen, err)
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		return resp.StatusCode
	}
	onB := partnerClient(b, serverCA.Pool(), partner)
	waitFor(t, "node B serves the domain configured on node A", func() bool { return get(b, onB) == 200 })

	onA := partnerClient(a, serverCA.Pool(), partner)
	if code := get(a, onA); code != 200 {
		t.Fatalf("node A before the change: %d", code)
	}
	// Through node B, pin a truststore version that no longer holds the
	// partner's CA. Node A's open connection must refuse the partner on its
	// next request.
	other := testpki.NewCA(t, "Other Root")
	putTruststore(t, cb, other.CertPEM)
	if _, err := cb.gw.UpdateDomainName(ctx, &apigateway.UpdateDomainNameInput{DomainName: aws.String("api.example.com"),
		PatchOperations: []agtypes.PatchOperation{{Op: agtypes.OpReplace, Path: aws.String("/mutualTlsAuthentication/truststoreVersion"),
			Value: aws.String(latestVersion(t, cb))}}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "node A refuses the removed partner on its open connection", func() bool { return get(a, onA) == 403 })
}
