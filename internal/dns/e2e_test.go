package dns

import (
	"context"
	"net"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	mdns "github.com/miekg/dns"

	"trustgate/internal/awsapi/route53"
	"trustgate/internal/model"
)

// The seed flow's last step: the route53 API writes an alias to the
// gateway, GetChange turns INSYNC once this server serves it, and a DNS
// query answers the public IP.
func TestRoute53ToDNS(t *testing.T) {
	st := openStore(t)
	putDomain(t, st, "api.example.com", domainID)
	r := start(t, Config{Store: st, Region: "us-east-1", PublicDomain: "localhost", PublicIP: net.ParseIP("127.0.0.1")})
	svc := route53.New(route53.Config{Store: st, Region: "us-east-1", PublicDomain: "localhost", Served: r.srv.Revision})
	hs := httptest.NewServer(svc)
	defer hs.Close()
	client := r53.New(r53.Options{
		BaseEndpoint: aws.String(hs.URL), Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
	})
	ctx := context.Background()
	zone, err := client.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{Name: aws.String("example.com"), CallerReference: aws.String("seed")})
	if err != nil {
		t.Fatal(err)
	}
	out, err := client.ChangeResourceRecordSets(ctx, &r53.ChangeResourceRecordSetsInput{
		HostedZoneId: zone.HostedZone.Id,
		ChangeBatch: &types.ChangeBatch{Changes: []types.Change{{
			Action: types.ChangeActionUpsert,
			ResourceRecordSet: &types.ResourceRecordSet{
				Name: aws.String("api.example.com"), Type: types.RRTypeA,
				AliasTarget: &types.AliasTarget{
					HostedZoneId: aws.String(model.RegionalHostedZoneID("us-east-1")),
					DNSName:      aws.String(model.RegionalDomainName(domainID, "us-east-1", "localhost")),
				},
			},
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	w := r53.NewResourceRecordSetsChangedWaiter(client, func(o *r53.ResourceRecordSetsChangedWaiterOptions) {
		o.MinDelay, o.MaxDelay = 5*time.Millisecond, 20*time.Millisecond
	})
	start := time.Now()
	if err := w.Wait(ctx, &r53.GetChangeInput{Id: out.ChangeInfo.Id}, time.Second); err != nil {
		t.Fatalf("change not INSYNC within 1s: %v", err)
	}
	t.Logf("INSYNC after %v", time.Since(start))
	resp := r.query(t, "udp", "api.example.com.", mdns.TypeA, 0)
	if got := rrStrings(resp.Answer); len(got) != 1 || got[0] != "api.example.com. 60 IN A 127.0.0.1" {
		t.Fatalf("answer %q", got)
	}
	resp = r.query(t, "udp", "example.com.", mdns.TypeSOA, 0)
	if len(resp.Answer) != 1 || !resp.Authoritative {
		t.Fatalf("SOA: %v", resp)
	}
}

// dig, a real resolver tool, agrees (skipped where dig is not installed).
func TestDig(t *testing.T) {
	dig, err := exec.LookPath("dig")
	if err != nil {
		t.Skip("dig not installed (Debian: apt-get install dnsutils); skipping the dig check")
	}
	st := openStore(t)
	rev := zoneFixture(t, st)
	r := start(t, Config{Store: st, Region: "us-east-1", PublicDomain: "localhost", PublicIP: net.ParseIP("203.0.113.7")})
	r.waitRevision(t, rev)
	host, port, _ := net.SplitHostPort(r.addr)
	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, dig, append([]string{"@" + host, "-p", port, "+time=2", "+tries=1"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("dig %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if got := strings.TrimSpace(run("+short", "api.example.com", "A")); got != "203.0.113.7" {
		t.Errorf("dig +short api A = %q", got)
	}
	if got := strings.TrimSpace(run("+short", "+tcp", "x.wild.example.com", "TXT")); got != `"wild"` {
		t.Errorf("dig +tcp wildcard TXT = %q", got)
	}
	full := run("nope.example.com", "A")
	if !strings.Contains(full, "status: NXDOMAIN") || !strings.Contains(full, "flags: qr aa") || !strings.Contains(full, "SOA") {
		t.Errorf("dig NXDOMAIN:\n%s", full)
	}
	full = run("www.example.org", "A")
	if !strings.Contains(full, "status: REFUSED") {
		t.Errorf("dig REFUSED:\n%s", full)
	}
}
