package dns

import (
	"context"
	"fmt"
	"net"
	"testing"

	mdns "github.com/miekg/dns"

	"trustgate/internal/model"
	"trustgate/internal/store"
)

// TestGatewayNames: the server answers for the gateway's own names, so a
// regionalDomainName and a default endpoint host resolve to --public-ip
// like AWS's names resolve to its endpoints; unknown ids are NXDOMAIN with
// the zone's SOA, not REFUSED.
func TestGatewayNames(t *testing.T) {
	st := openStore(t)
	putDomain(t, st, "api.example.com", "abcde12345")
	rev, err := st.Update(context.Background(), func(tx store.Tx) error {
		return store.PutJSON(tx, model.RestAPIKey("a1b2c3d4e5"), model.RestAPI{ID: "a1b2c3d4e5", Name: "customer"})
	})
	if err != nil {
		t.Fatal(err)
	}
	r := start(t, Config{Store: st, Region: "us-east-1", PublicDomain: "localhost", PublicIP: net.ParseIP("192.0.2.10")})
	r.waitRevision(t, rev)

	for _, tc := range []struct {
		name  string
		qtype uint16
		rcode int
		want  string
	}{
		{"d-abcde12345.execute-api.us-east-1.localhost.", mdns.TypeA, mdns.RcodeSuccess, "[d-abcde12345.execute-api.us-east-1.localhost. 60 IN A 192.0.2.10]"},
		{"D-ABCDE12345.Execute-API.us-east-1.localhost.", mdns.TypeA, mdns.RcodeSuccess, "[d-abcde12345.execute-api.us-east-1.localhost. 60 IN A 192.0.2.10]"},
		{"a1b2c3d4e5.execute-api.us-east-1.localhost.", mdns.TypeA, mdns.RcodeSuccess, "[a1b2c3d4e5.execute-api.us-east-1.localhost. 60 IN A 192.0.2.10]"},
		{"a1b2c3d4e5.execute-api.us-east-1.localhost.", mdns.TypeAAAA, mdns.RcodeSuccess, "[]"},
		{"d-unknown00.execute-api.us-east-1.localhost.", mdns.TypeA, mdns.RcodeNameError, "[]"},
		{"execute-api.us-east-1.localhost.", mdns.TypeNS, mdns.RcodeSuccess, "[execute-api.us-east-1.localhost. 60 IN NS ns1.localhost. execute-api.us-east-1.localhost. 60 IN NS ns2.localhost.]"},
	} {
		for _, proto := range []string{"udp", "tcp"} {
			m := r.query(t, proto, tc.name, tc.qtype, 0)
			if m.Rcode != tc.rcode || !m.Authoritative {
				t.Errorf("%s %s %s: rcode %s aa=%v, want %s aa", proto, tc.name, mdns.TypeToString[tc.qtype],
					mdns.RcodeToString[m.Rcode], m.Authoritative, mdns.RcodeToString[tc.rcode])
			}
			if got := fmt.Sprint(rrStrings(m.Answer)); got != tc.want {
				t.Errorf("%s %s %s = %s, want %s", proto, tc.name, mdns.TypeToString[tc.qtype], got, tc.want)
			}
			if len(m.Answer) == 0 && (len(m.Ns) != 1 || m.Ns[0].Header().Rrtype != mdns.TypeSOA) {
				t.Errorf("%s %s: negative answer without the SOA: %v", proto, tc.name, m.Ns)
			}
		}
	}
}
