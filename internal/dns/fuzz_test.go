package dns

import (
	"testing"

	mdns "github.com/miekg/dns"
)

// FuzzServeDNS feeds arbitrary bytes to the packet path (respond), over
// "UDP" and "TCP": it must never panic, and whatever it answers must be a
// well-formed response to the same id that fits the transport.
func FuzzServeDNS(f *testing.F) {
	st := openStore(f)
	hz := "Z1UJRXOUMOOFQ8"
	putDomain(f, st, "api.example.com", domainID)
	putZone(f, st, testZoneID, "example.com.",
		rs(testZoneID, "www.example.com.", "A", 60, "192.0.2.1"),
		rs(testZoneID, "cname.example.com.", "CNAME", 60, "www.example.com"),
		rs(testZoneID, "*.wild.example.com.", "TXT", 60, `"wild"`),
		rs(testZoneID, "sub.example.com.", "NS", 60, "ns.sub.example.com"),
		rs(testZoneID, "ns.sub.example.com.", "A", 60, "192.0.2.53"),
		aliasRS(testZoneID, "api.example.com.", "A", hz, "d-"+domainID+".execute-api.us-east-1.localhost."),
	)
	s, err := New(Config{Store: st, Region: "us-east-1", PublicDomain: "localhost"})
	if err != nil {
		f.Fatal(err)
	}
	for _, tc := range malformedCases(f) {
		f.Add(tc.msg, false)
	}
	f.Add(packQuery(f, "www.example.com.", mdns.TypeA), false)
	f.Add(packQuery(f, "x.wild.example.com.", mdns.TypeANY), true)
	f.Add(packQuery(f, "a.sub.example.com.", mdns.TypeA), false)
	f.Add(packQuery(f, "cname.example.com.", mdns.TypeA), true)

	f.Fuzz(func(t *testing.T, msg []byte, tcp bool) {
		out := s.respond(msg, tcp)
		if out == nil {
			return
		}
		limit := 512
		if tcp {
			limit = maxTCPMsg
		} else {
			q := new(mdns.Msg)
			if q.Unpack(msg) == nil {
				if o := q.IsEdns0(); o != nil {
					limit = max(512, int(o.UDPSize()))
				}
			}
		}
		if len(out) > limit {
			t.Fatalf("answer of %d bytes over a %d-byte limit", len(out), limit)
		}
		m := new(mdns.Msg)
		if err := m.Unpack(out); err != nil {
			t.Fatalf("answer does not unpack: %v", err)
		}
		if !m.Response || len(msg) < 2 || m.Id != uint16(msg[0])<<8|uint16(msg[1]) {
			t.Fatalf("answer is not a response to the query: %v", m)
		}
	})
}
