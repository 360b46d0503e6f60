package dns

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"trustgate/internal/model"
	"trustgate/internal/store"
	"trustgate/internal/store/bolt"
)

const (
	testZoneID  = "ZTESTZONE000000000001"
	childZoneID = "ZTESTZONE000000000002"
	domainID    = "abcdef1234"
)

func openStore(t testing.TB) store.Store {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// rs is a test record set: "name TYPE ttl value|value".
func rs(zoneID, name, typ string, ttl int64, values ...string) model.RecordSet {
	return model.RecordSet{ZoneID: zoneID, Name: name, Type: typ, TTL: ttl, Values: values}
}

func aliasRS(zoneID, name, typ, hz, target string) model.RecordSet {
	return model.RecordSet{ZoneID: zoneID, Name: name, Type: typ, Alias: &model.AliasTarget{HostedZoneID: hz, DNSName: target}}
}

// putZone writes a zone with its apex SOA and NS and the given record sets,
// as the route53 service would, and returns the revision.
func putZone(t testing.TB, st store.Store, id, name string, sets ...model.RecordSet) int64 {
	t.Helper()
	all := append([]model.RecordSet{
		rs(id, name, "SOA", 900, "ns1.localhost. hostmaster.localhost. 1 7200 900 1209600 300"),
		rs(id, name, "NS", 172800, "ns1.localhost.", "ns2.localhost."),
	}, sets...)
	rev, err := st.Update(context.Background(), func(tx store.Tx) error {
		if err := store.PutJSON(tx, model.ZoneKey(id), model.HostedZone{ID: id, Name: name, CallerReference: id}); err != nil {
			return err
		}
		for _, r := range all {
			if err := store.PutJSON(tx, model.RecordSetKey(id, r.Name, r.Type), r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rev
}

func putDomain(t testing.TB, st store.Store, name, id string) {
	t.Helper()
	_, err := st.Update(context.Background(), func(tx store.Tx) error {
		return store.PutJSON(tx, model.DomainKey(name), model.DomainName{Name: name, ID: id})
	})
	if err != nil {
		t.Fatal(err)
	}
}

type running struct {
	srv  *Server
	addr string
}

// start runs a server on 127.0.0.1 (UDP and TCP on one port) until the test ends.
func start(t *testing.T, cfg Config) *running {
	t.Helper()
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var (
		pc net.PacketConn
		ln net.Listener
	)
	for range 20 {
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if ln, err = net.Listen("tcp", pc.LocalAddr().String()); err == nil {
			break
		}
		pc.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	serveDone := make(chan error, 1)
	go func() { runDone <- srv.Run(ctx) }()
	go func() { serveDone <- srv.Serve(pc, ln) }()
	t.Cleanup(func() {
		cancel()
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		if err := srv.Shutdown(sctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-serveDone; err != nil {
			t.Errorf("Serve: %v", err)
		}
		if err := <-runDone; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return &running{srv: srv, addr: pc.LocalAddr().String()}
}

// waitRevision waits until the server serves rev (changes are served within 1 s).
func (r *running) waitRevision(t *testing.T, rev int64) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for r.srv.Revision() < rev {
		if time.Now().After(deadline) {
			t.Fatalf("revision %d not served within 1s (serving %d)", rev, r.srv.Revision())
		}
		time.Sleep(time.Millisecond)
	}
}

func (r *running) query(t *testing.T, proto, name string, qtype uint16, edns uint16) *mdns.Msg {
	t.Helper()
	m := new(mdns.Msg)
	m.SetQuestion(name, qtype)
	if edns > 0 {
		m.SetEdns0(edns, false)
	}
	c := &mdns.Client{Net: proto, Timeout: 5 * time.Second, UDPSize: max(edns, 512)}
	resp, _, err := c.Exchange(m, r.addr)
	if err != nil {
		t.Fatalf("%s %s %s: %v", proto, name, mdns.TypeToString[qtype], err)
	}
	if resp.Id != m.Id {
		t.Fatalf("id %d, want %d", resp.Id, m.Id)
	}
	return resp
}

func rrStrings(rrs []mdns.RR) []string {
	var out []string
	for _, rr := range rrs {
		if rr.Header().Rrtype == mdns.TypeOPT {
			continue
		}
		out = append(out, strings.ReplaceAll(rr.String(), "\t", " "))
	}
	slices.Sort(out)
	return out
}

func zoneFixture(t *testing.T, st store.Store) int64 {
	t.Helper()
	hz := model.RegionalHostedZoneID("us-east-1")
	regional := model.RegionalDomainName(domainID, "us-east-1", "localhost") + "."
	putDomain(t, st, "api.example.com", domainID)
	putZone(t, st, childZoneID, "child.example.com.",
		rs(childZoneID, "host.child.example.com.", "A", 60, "192.0.2.99"))
	return putZone(t, st, testZoneID, "example.com.",
		rs(testZoneID, "www.example.com.", "A", 300, "192.0.2.1", "192.0.2.2"),
		rs(testZoneID, "www.example.com.", "AAAA", 300, "2001:db8::1"),
		rs(testZoneID, "example.com.", "MX", 300, "10 mail.example.com"),
		rs(testZoneID, "example.com.", "TXT", 300, `"v=spf1 -all"`, `"hello world" "two"`),
		rs(testZoneID, "example.com.", "CAA", 300, `0 issue "amazon.com"`),
		rs(testZoneID, "_sip._tcp.example.com.", "SRV", 300, "1 10 5060 sip.example.com"),
		rs(testZoneID, "cname.example.com.", "CNAME", 300, "www.example.com"),
		rs(testZoneID, "chain.example.com.", "CNAME", 300, "cname.example.com"),
		rs(testZoneID, "loop1.example.com.", "CNAME", 300, "loop2.example.com"),
		rs(testZoneID, "loop2.example.com.", "CNAME", 300, "loop1.example.com"),
		rs(testZoneID, "dangling.example.com.", "CNAME", 300, "missing.example.com"),
		rs(testZoneID, "out.example.com.", "CNAME", 300, "www.example.org"),
		rs(testZoneID, "*.wild.example.com.", "A", 60, "192.0.2.50"),
		rs(testZoneID, "*.wild.example.com.", "TXT", 60, `"wild"`),
		rs(testZoneID, "exists.wild.example.com.", "TXT", 60, `"exists"`),
		rs(testZoneID, "a.b.example.com.", "A", 60, "192.0.2.60"),
		rs(testZoneID, "sub.example.com.", "NS", 3600, "ns.sub.example.com", "ns.elsewhere.net"),
		rs(testZoneID, "ns.sub.example.com.", "A", 3600, "192.0.2.53"),
		aliasRS(testZoneID, "api.example.com.", "A", hz, regional),
		aliasRS(testZoneID, "api.example.com.", "AAAA", hz, regional),
		aliasRS(testZoneID, "gone.example.com.", "A", hz, "d-nosuch.execute-api.us-east-1.localhost."),
		aliasRS(testZoneID, "example.com.", "A", testZoneID, "www.example.com."),
		aliasRS(testZoneID, "alias2.example.com.", "A", testZoneID, "example.com."),
	)
}

func TestAnswers(t *testing.T) {
	st := openStore(t)
	rev := zoneFixture(t, st)
	r := start(t, Config{Store: st, Region: "us-east-1", PublicDomain: "localhost", PublicIP: net.ParseIP("203.0.113.7")})
	r.waitRevision(t, rev)

	soa := "example.com. 300 IN SOA ns1.localhost. hostmaster.localhost. 1 7200 900 1209600 300"
	cases := []struct {
		name, qname string
		qtype       uint16
		rcode       int
		aa          bool
		answer, ns  []string
		extra       []string
	}{
		{"A", "www.example.com.", mdns.TypeA, 0, true,
			[]string{"www.example.com. 300 IN A 192.0.2.1", "www.example.com. 300 IN A 192.0.2.2"}, nil, nil},
		{"case-insensitive", "WwW.ExAmPlE.CoM.", mdns.TypeAAAA, 0, true,
			[]string{"www.example.com. 300 IN AAAA 2001:db8::1"}, nil, nil},
		{"NODATA", "www.example.com.", mdns.TypeMX, 0, true, nil, []string{soa}, nil},
		{"NXDOMAIN", "nope.example.com.", mdns.TypeA, mdns.RcodeNameError, true, nil, []string{soa}, nil},
		{"empty non-terminal", "b.example.com.", mdns.TypeA, 0, true, nil, []string{soa}, nil},
		{"below an existing name", "x.a.b.example.com.", mdns.TypeA, mdns.RcodeNameError, true, nil, []string{soa}, nil},
		{"SOA", "example.com.", mdns.TypeSOA, 0, true,
			[]string{"example.com. 900 IN SOA ns1.localhost. hostmaster.localhost. 1 7200 900 1209600 300"}, nil, nil},
		{"NS", "example.com.", mdns.TypeNS, 0, true,
			[]string{"example.com. 172800 IN NS ns1.localhost.", "example.com. 172800 IN NS ns2.localhost."}, nil, nil},
		{"MX", "example.com.", mdns.TypeMX, 0, true, []string{"example.com. 300 IN MX 10 mail.example.com."}, nil, nil},
		{"TXT", "example.com.", mdns.TypeTXT, 0, true,
			[]string{`example.com. 300 IN TXT "hello world" "two"`, `example.com. 300 IN TXT "v=spf1 -all"`}, nil, nil},
		{"CAA", "example.com.", mdns.TypeCAA, 0, true, []string{`example.com. 300 IN CAA 0 issue "amazon.com"`}, nil, nil},
		{"SRV", "_sip._tcp.example.com.", mdns.TypeSRV, 0, true,
			[]string{"_sip._tcp.example.com. 300 IN SRV 1 10 5060 sip.example.com."}, nil, nil},
		{"CNAME chased", "chain.example.com.", mdns.TypeA, 0, true, []string{
			"chain.example.com. 300 IN CNAME cname.example.com.", "cname.example.com. 300 IN CNAME www.example.com.",
			"www.example.com. 300 IN A 192.0.2.1", "www.example.com. 300 IN A 192.0.2.2"}, nil, nil},
		{"CNAME asked for", "cname.example.com.", mdns.TypeCNAME, 0, true,
			[]string{"cname.example.com. 300 IN CNAME www.example.com."}, nil, nil},
		{"CNAME loop", "loop1.example.com.", mdns.TypeA, 0, true, []string{
			"loop1.example.com. 300 IN CNAME loop2.example.com.", "loop2.example.com. 300 IN CNAME loop1.example.com."}, nil, nil},
		{"CNAME to nothing", "dangling.example.com.", mdns.TypeA, mdns.RcodeNameError, true,
			[]string{"dangling.example.com. 300 IN CNAME missing.example.com."}, []string{soa}, nil},
		{"CNAME out of zone", "out.example.com.", mdns.TypeA, 0, true,
			[]string{"out.example.com. 300 IN CNAME www.example.org."}, nil, nil},
		{"wildcard", "x.wild.example.com.", mdns.TypeA, 0, true, []string{"x.wild.example.com. 60 IN A 192.0.2.50"}, nil, nil},
		{"wildcard, deeper", "a.x.wild.example.com.", mdns.TypeA, 0, true, []string{"a.x.wild.example.com. 60 IN A 192.0.2.50"}, nil, nil},
		{"wildcard NODATA", "x.wild.example.com.", mdns.TypeMX, 0, true, nil, []string{soa}, nil},
		{"existing name beats wildcard", "exists.wild.example.com.", mdns.TypeA, 0, true, nil, []string{soa}, nil},
		{"below an existing name, no wildcard", "a.exists.wild.example.com.", mdns.TypeA, mdns.RcodeNameError, true, nil, []string{soa}, nil},
		{"alias to the gateway", "api.example.com.", mdns.TypeA, 0, true, []string{"api.example.com. 60 IN A 203.0.113.7"}, nil, nil},
		{"alias AAAA without IPv6", "api.example.com.", mdns.TypeAAAA, 0, true, nil, []string{soa}, nil},
		{"alias to a deleted domain", "gone.example.com.", mdns.TypeA, 0, true, nil, []string{soa}, nil},
		{"alias at the apex", "example.com.", mdns.TypeA, 0, true,
			[]string{"example.com. 300 IN A 192.0.2.1", "example.com. 300 IN A 192.0.2.2"}, nil, nil},
		{"alias to an alias", "alias2.example.com.", mdns.TypeA, 0, true,
			[]string{"alias2.example.com. 300 IN A 192.0.2.1", "alias2.example.com. 300 IN A 192.0.2.2"}, nil, nil},
		{"referral", "host.sub.example.com.", mdns.TypeA, 0, false, nil,
			[]string{"sub.example.com. 3600 IN NS ns.elsewhere.net.", "sub.example.com. 3600 IN NS ns.sub.example.com."},
			[]string{"ns.sub.example.com. 3600 IN A 192.0.2.53"}},
		{"nested zone wins", "host.child.example.com.", mdns.TypeA, 0, true,
			[]string{"host.child.example.com. 60 IN A 192.0.2.99"}, nil, nil},
		{"nested zone NXDOMAIN has its SOA", "nope.child.example.com.", mdns.TypeA, mdns.RcodeNameError, true, nil,
			[]string{"child.example.com. 300 IN SOA ns1.localhost. hostmaster.localhost. 1 7200 900 1209600 300"}, nil},
		{"no zone", "www.example.org.", mdns.TypeA, mdns.RcodeRefused, false, nil, nil, nil},
		{"root", ".", mdns.TypeNS, mdns.RcodeRefused, false, nil, nil, nil},
	}
	for _, proto := range []string{"udp", "tcp"} {
		for _, tc := range cases {
			t.Run(proto+"/"+tc.name, func(t *testing.T) {
				resp := r.query(t, proto, tc.qname, tc.qtype, 0)
				if resp.Rcode != tc.rcode || resp.Authoritative != tc.aa || resp.Truncated {
					t.Errorf("rcode %s aa %v tc %v, want %s aa %v", mdns.RcodeToString[resp.Rcode], resp.Authoritative, resp.Truncated,
						mdns.RcodeToString[tc.rcode], tc.aa)
				}
				if resp.Question[0].Name != tc.qname {
					t.Errorf("question %q, want %q as asked", resp.Question[0].Name, tc.qname)
				}
				want := slices.Clone(tc.answer)
				slices.Sort(want)
				if got := rrStrings(resp.Answer); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("answer\n got %q\nwant %q", got, want)
				}
				want = slices.Clone(tc.ns)
				slices.Sort(want)
				if got := rrStrings(resp.Ns); fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("authority\n got %q\nwant %q", got, want)
				}
				if got := rrStrings(resp.Extra); fmt.Sprint(got) != fmt.Sprint(tc.extra) {
					t.Errorf("additional\n got %q\nwant %q", got, tc.extra)
				}
			})
		}
	}

	// ANY returns every record set at the name.
	resp := r.query(t, "tcp", "www.example.com.", mdns.TypeANY, 0)
	if len(resp.Answer) != 3 {
		t.Errorf("ANY: %v", resp.Answer)
	}
	// Another class, zone transfers and other opcodes are refused.
	m := new(mdns.Msg)
	m.SetQuestion("www.example.com.", mdns.TypeA)
	m.Question[0].Qclass = mdns.ClassCHAOS
	if resp, _, err := (&mdns.Client{}).Exchange(m, r.addr); err != nil || resp.Rcode != mdns.RcodeRefused {
		t.Errorf("CHAOS: %v %v", resp, err)
	}
	m.SetAxfr("example.com.")
	if resp, _, err := (&mdns.Client{Net: "tcp"}).Exchange(m, r.addr); err != nil || resp.Rcode != mdns.RcodeRefused {
		t.Errorf("AXFR: %v %v", resp, err)
	}
	m.SetNotify("example.com.")
	if resp, _, err := (&mdns.Client{}).Exchange(m, r.addr); err != nil || resp.Rcode != mdns.RcodeNotImplemented {
		t.Errorf("NOTIFY: %v %v", resp, err)
	}
}

func TestAliasAAAAWithIPv6(t *testing.T) {
	st := openStore(t)
	rev := zoneFixture(t, st)
	r := start(t, Config{Store: st, Region: "us-east-1", PublicDomain: "localhost", PublicIPv6: net.ParseIP("2001:db8::7")})
	r.waitRevision(t, rev)
	if got := rrStrings(r.query(t, "udp", "api.example.com.", mdns.TypeAAAA, 0).Answer); fmt.Sprint(got) != "[api.example.com. 60 IN AAAA 2001:db8::7]" {
		t.Errorf("AAAA = %q", got)
	}
	// PublicIP defaults to 127.0.0.1.
	if got := rrStrings(r.query(t, "udp", "api.example.com.", mdns.TypeA, 0).Answer); fmt.Sprint(got) != "[api.example.com. 60 IN A 127.0.0.1]" {
		t.Errorf("A = %q", got)
	}
}

func TestTruncation(t *testing.T) {
	st := openStore(t)
	var values []string
	for i := range 60 {
		values = append(values, fmt.Sprintf("192.0.2.%d", i+1))
	}
	rev := putZone(t, st, testZoneID, "example.com.", rs(testZoneID, "big.example.com.", "A", 60, values...))
	reg := prometheus.NewRegistry()
	r := start(t, Config{Store: st, Registry: reg})
	r.waitRevision(t, rev)

	m := new(mdns.Msg)
	m.SetQuestion("big.example.com.", mdns.TypeA)
	// Plain UDP: 512 bytes at most, TC set.
	resp := rawExchange(t, "udp", r.addr, m)
	if !resp.Truncated || wireLen(resp) > 512 || len(resp.Answer) >= 60 {
		t.Errorf("udp/512: tc %v len %d answers %d", resp.Truncated, wireLen(resp), len(resp.Answer))
	}
	// EDNS0 with a big enough buffer: everything, no TC.
	full := r.query(t, "udp", "big.example.com.", mdns.TypeA, 4096)
	if full.Truncated || len(full.Answer) != 60 || full.IsEdns0() == nil || full.IsEdns0().UDPSize() != udpAdvertised {
		t.Errorf("udp/4096: tc %v answers %d opt %v", full.Truncated, len(full.Answer), full.IsEdns0())
	}
	// EDNS0 with a small buffer: TC within that buffer.
	m.SetEdns0(600, false)
	small := rawExchange(t, "udp", r.addr, m)
	if !small.Truncated || wireLen(small) > 600 || small.IsEdns0() == nil {
		t.Errorf("udp/600: tc %v len %d", small.Truncated, wireLen(small))
	}
	// TCP: the full answer without EDNS0.
	tcp := r.query(t, "tcp", "big.example.com.", mdns.TypeA, 0)
	if tcp.Truncated || len(tcp.Answer) != 60 {
		t.Errorf("tcp: tc %v answers %d", tcp.Truncated, len(tcp.Answer))
	}
	// The miekg client retries truncated UDP over TCP like a resolver.
	c := &mdns.Client{Net: "udp"}
	m = new(mdns.Msg)
	m.SetQuestion("big.example.com.", mdns.TypeA)
	if resp, _, err := c.Exchange(m, r.addr); err != nil || !resp.Truncated {
		t.Fatalf("udp exchange: %v %v", resp, err)
	}

	// The metrics saw it all, with bounded labels.
	if got := testutil.ToFloat64(r.srv.metrics.truncated.WithLabelValues("udp")); got != 3 {
		t.Errorf("truncated udp = %v, want 3", got)
	}
	if got := testutil.ToFloat64(r.srv.metrics.queries.WithLabelValues("tcp", "NOERROR")); got != 1 {
		t.Errorf("tcp NOERROR = %v, want 1", got)
	}
	if got := testutil.ToFloat64(r.srv.metrics.revision); got != float64(rev) {
		t.Errorf("revision gauge = %v, want %d", got, rev)
	}
	if n, err := testutil.GatherAndCount(reg); err != nil || n == 0 {
		t.Errorf("registry: %d metrics, %v", n, err)
	}
}

// wireLen is the compressed size of m, as it came over the wire.
func wireLen(m *mdns.Msg) int {
	m.Compress = true
	return m.Len()
}

// rawExchange sends m over proto and returns the reply exactly as received
// (the miekg client would otherwise refuse nothing but keep it unchanged).
func rawExchange(t *testing.T, proto, addr string, m *mdns.Msg) *mdns.Msg {
	t.Helper()
	c := &mdns.Client{Net: proto, Timeout: 5 * time.Second, UDPSize: 65535}
	resp, _, err := c.Exchange(m, addr)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestSnapshotFollowsStore(t *testing.T) {
	st := openStore(t)
	rev := putZone(t, st, testZoneID, "example.com.")
	r := start(t, Config{Store: st})
	r.waitRevision(t, rev)
	if resp := r.query(t, "udp", "new.example.com.", mdns.TypeA, 0); resp.Rcode != mdns.RcodeNameError {
		t.Fatalf("before: %v", resp)
	}
	rev, err := st.Update(context.Background(), func(tx store.Tx) error {
		r := rs(testZoneID, "new.example.com.", "A", 60, "192.0.2.9")
		return store.PutJSON(tx, model.RecordSetKey(testZoneID, r.Name, r.Type), r)
	})
	if err != nil {
		t.Fatal(err)
	}
	r.waitRevision(t, rev)
	if got := rrStrings(r.query(t, "udp", "new.example.com.", mdns.TypeA, 0).Answer); fmt.Sprint(got) != "[new.example.com. 60 IN A 192.0.2.9]" {
		t.Errorf("after: %q", got)
	}
	// A zone's removal is served too.
	rev, err = st.Update(context.Background(), func(tx store.Tx) error { return tx.Delete(model.ZoneKey(testZoneID)) })
	if err != nil {
		t.Fatal(err)
	}
	r.waitRevision(t, rev)
	if resp := r.query(t, "udp", "new.example.com.", mdns.TypeA, 0); resp.Rcode != mdns.RcodeRefused {
		t.Errorf("after zone removal: %v", resp)
	}
}

// Queries race snapshot swaps (run with -race).
func TestQueriesDuringSwaps(t *testing.T) {
	st := openStore(t)
	rev := putZone(t, st, testZoneID, "example.com.", rs(testZoneID, "www.example.com.", "A", 60, "192.0.2.1"))
	r := start(t, Config{Store: st})
	r.waitRevision(t, rev)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 50 {
			st.Update(context.Background(), func(tx store.Tx) error {
				x := rs(testZoneID, "www.example.com.", "A", 60, fmt.Sprintf("192.0.2.%d", i+1))
				return store.PutJSON(tx, model.RecordSetKey(testZoneID, x.Name, x.Type), x)
			})
		}
	}()
	for range 100 {
		resp := r.query(t, "udp", "www.example.com.", mdns.TypeA, 0)
		if resp.Rcode != 0 || len(resp.Answer) != 1 {
			t.Fatalf("during swaps: %v", resp)
		}
	}
	<-done
}
