package dns

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"

	mdns "github.com/miekg/dns"

	"trustgate/internal/model"
	"trustgate/internal/store"
)

// aliasTTL is the TTL of records an alias to the gateway resolves to
// (Route 53 uses the target's; API Gateway's regional names have 60 s).
const aliasTTL = 60

// maxAliasDepth bounds alias chains inside a zone.
const maxAliasDepth = 8

// snapshot is everything the server answers from, built off the hot path
// and never changed after it is installed.
type snapshot struct {
	rev   int64
	zones map[string]*zone // by canonical apex name
}

// zone is one hosted zone, ready to answer.
type zone struct {
	id     string
	name   string
	soa    *mdns.SOA // nil if the zone lost its SOA (never through the API)
	negSOA *mdns.SOA // the SOA for negative answers: TTL = min(TTL, MINIMUM)
	nodes  map[string]*node
	ents   map[string]bool // empty non-terminals
	cuts   map[string]bool // delegation points below the apex
}

// node is the record sets at one owner name. A type present with no
// records (an alias to the gateway for AAAA without an IPv6 address) is
// NODATA.
type node struct {
	sets map[uint16][]mdns.RR
}

// findZone returns the most specific zone that contains qname, or nil.
func (s *snapshot) findZone(qname string) *zone {
	if len(s.zones) == 0 {
		return nil
	}
	for _, off := range mdns.Split(qname) {
		if z, ok := s.zones[qname[off:]]; ok {
			return z
		}
	}
	return nil
}

// builder turns store records into a snapshot.
type builder struct {
	region, publicDomain string
	ipv4, ipv6           net.IP
	log                  *slog.Logger
}

// build reads zones, record sets and domain names in one consistent view.
func (b *builder) build(ctx context.Context, st store.Store) (*snapshot, error) {
	var (
		zones   []model.HostedZone
		sets    []model.RecordSet
		domains []model.DomainName
		apis    []model.RestAPI
	)
	rev, err := st.View(ctx, func(tx store.Tx) error {
		var err error
		if zones, err = store.ListJSON[model.HostedZone](tx, model.PrefixZones); err != nil {
			return err
		}
		if sets, err = store.ListJSON[model.RecordSet](tx, model.PrefixRecordSets); err != nil {
			return err
		}
		if domains, err = store.ListJSON[model.DomainName](tx, model.PrefixDomains); err != nil {
			return err
		}
		apis, err = store.ListJSON[model.RestAPI](tx, model.PrefixRestAPIs)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("reading hosted zones: %w", err)
	}
	snap := b.assemble(rev, zones, sets, domains)
	b.addGatewayZone(snap, domains, apis)
	return snap, nil
}

// gatewayTTL is the TTL of the gateway's own names.
const gatewayTTL = 60

// addGatewayZone makes the server authoritative for the gateway's own names
// under execute-api.{region}.{public-domain}: each custom domain's
// regionalDomainName (d-{id}…) and each REST API's default endpoint host
// ({apiId}…) answer with --public-ip, as AWS's names answer with its
// endpoints. So a CNAME to a regionalDomainName resolves, and so does the
// default endpoint. A hosted zone of that very name, if a user made one,
// wins and this is skipped.
func (b *builder) addGatewayZone(snap *snapshot, domains []model.DomainName, apis []model.RestAPI) {
	pd := strings.TrimSuffix(strings.ToLower(b.publicDomain), ".")
	apex := mdns.Fqdn("execute-api." + strings.ToLower(b.region) + "." + pd)
	if _, taken := snap.zones[apex]; taken {
		return
	}
	z := &zone{id: "gateway", name: apex, nodes: map[string]*node{}, ents: map[string]bool{}, cuts: map[string]bool{}}
	ns1, ns2 := mdns.Fqdn("ns1."+pd), mdns.Fqdn("ns2."+pd)
	hdr := func(name string, t uint16) mdns.RR_Header {
		return mdns.RR_Header{Name: name, Rrtype: t, Class: mdns.ClassINET, Ttl: gatewayTTL}
	}
	z.soa = &mdns.SOA{Hdr: hdr(apex, mdns.TypeSOA), Ns: ns1, Mbox: mdns.Fqdn("hostmaster." + pd),
		Serial: uint32(snap.rev), Refresh: 7200, Retry: 900, Expire: 1209600, Minttl: gatewayTTL}
	top := z.node(apex)
	top.sets[mdns.TypeSOA] = []mdns.RR{z.soa}
	top.sets[mdns.TypeNS] = []mdns.RR{&mdns.NS{Hdr: hdr(apex, mdns.TypeNS), Ns: ns1}, &mdns.NS{Hdr: hdr(apex, mdns.TypeNS), Ns: ns2}}
	add := func(label string) {
		name := strings.ToLower(label) + "." + apex
		if _, ok := mdns.IsDomainName(name); !ok {
			return
		}
		n := z.node(name)
		n.sets[mdns.TypeA] = []mdns.RR{}
		n.sets[mdns.TypeAAAA] = []mdns.RR{}
		if b.ipv4 != nil {
			n.sets[mdns.TypeA] = []mdns.RR{&mdns.A{Hdr: hdr(name, mdns.TypeA), A: b.ipv4}}
		}
		if b.ipv6 != nil {
			n.sets[mdns.TypeAAAA] = []mdns.RR{&mdns.AAAA{Hdr: hdr(name, mdns.TypeAAAA), AAAA: b.ipv6}}
		}
	}
	for _, d := range domains {
		add("d-" + d.ID)
	}
	for _, a := range apis {
		add(a.ID)
	}
	z.finish()
	snap.zones[apex] = z
}

// assemble builds the snapshot from records already read. Records that do
// not parse are skipped and logged; they cannot come through the API.
func (b *builder) assemble(rev int64, zones []model.HostedZone, sets []model.RecordSet, domains []model.DomainName) *snapshot {
	snap := &snapshot{rev: rev, zones: make(map[string]*zone, len(zones))}
	byID := make(map[string]*zone, len(zones))
	for _, hz := range zones {
		if prev, dup := snap.zones[hz.Name]; dup {
			b.log.Warn("two hosted zones with one name; serving the first", "name", hz.Name, "served", prev.id, "ignored", hz.ID)
			continue
		}
		z := &zone{id: hz.ID, name: hz.Name, nodes: map[string]*node{}, ents: map[string]bool{}, cuts: map[string]bool{}}
		snap.zones[hz.Name] = z
		byID[hz.ID] = z
	}
	gateway := make(map[string]bool, len(domains))
	for _, d := range domains {
		gateway[strings.ToLower(d.ID)] = true
	}
	// Static records first; aliases after, as they read them.
	aliases := map[*zone][]model.RecordSet{}
	for _, rs := range sets {
		z := byID[rs.ZoneID]
		if z == nil || !model.InZone(rs.Name, z.name) {
			continue
		}
		t, ok := model.RecordType(rs.Type)
		if !ok {
			continue
		}
		if rs.Alias != nil {
			aliases[z] = append(aliases[z], rs)
			continue
		}
		n := z.node(rs.Name)
		for _, v := range rs.Values {
			rr, err := model.ParseRR(rs.Name, rs.Type, rs.TTL, v)
			if err != nil {
				b.log.Warn("skipping a record that does not parse", "zone", z.id, "name", rs.Name, "type", rs.Type, "err", err)
				continue
			}
			n.sets[t] = append(n.sets[t], rr)
		}
		if t == mdns.TypeSOA && rs.Name == z.name && len(n.sets[t]) == 1 {
			z.soa = n.sets[t][0].(*mdns.SOA)
		}
		if t == mdns.TypeNS && rs.Name != z.name {
			z.cuts[rs.Name] = true
		}
	}
	for z, list := range aliases {
		byKey := make(map[string]model.RecordSet, len(list))
		for _, rs := range list {
			byKey[rs.Name+"/"+rs.Type] = rs
		}
		for _, rs := range list {
			t, _ := model.RecordType(rs.Type)
			rrs := b.resolveAlias(z, rs, byKey, gateway, 0)
			n := z.node(rs.Name)
			n.sets[t] = append(n.sets[t], rrs...)
			if n.sets[t] == nil {
				n.sets[t] = []mdns.RR{}
			}
		}
	}
	for _, z := range snap.zones {
		z.finish()
	}
	return snap
}

func (z *zone) node(name string) *node {
	n := z.nodes[name]
	if n == nil {
		n = &node{sets: map[uint16][]mdns.RR{}}
		z.nodes[name] = n
	}
	return n
}

// finish derives empty non-terminals and the negative-answer SOA.
func (z *zone) finish() {
	for name := range z.nodes {
		for _, off := range mdns.Split(name)[1:] {
			parent := name[off:]
			if len(parent) <= len(z.name) {
				break
			}
			if _, ok := z.nodes[parent]; !ok {
				z.ents[parent] = true
			}
		}
	}
	if z.soa != nil {
		neg := mdns.Copy(z.soa).(*mdns.SOA)
		neg.Hdr.Ttl = min(z.soa.Hdr.Ttl, z.soa.Minttl)
		z.negSOA = neg
	}
}

// resolveAlias returns the records an alias record set stands for, owned by
// the alias's name: the gateway's public address for a regional domain
// name, or the same-type records of the target in this zone (following
// alias chains up to maxAliasDepth). Anything else resolves to nothing.
func (b *builder) resolveAlias(z *zone, rs model.RecordSet, aliases map[string]model.RecordSet, gateway map[string]bool, depth int) []mdns.RR {
	a := rs.Alias
	t, _ := model.RecordType(rs.Type)
	hdr := mdns.RR_Header{Name: rs.Name, Rrtype: t, Class: mdns.ClassINET, Ttl: aliasTTL}
	switch a.HostedZoneID {
	case model.RegionalHostedZoneID(b.region):
		suffix := ".execute-api." + strings.ToLower(b.region) + "." + strings.TrimSuffix(strings.ToLower(b.publicDomain), ".") + "."
		label, ok := strings.CutSuffix(a.DNSName, suffix)
		if !ok || !strings.HasPrefix(label, "d-") || !gateway[strings.TrimPrefix(label, "d-")] {
			return nil
		}
		switch {
		case t == mdns.TypeA && b.ipv4 != nil:
			return []mdns.RR{&mdns.A{Hdr: hdr, A: b.ipv4}}
		case t == mdns.TypeAAAA && b.ipv6 != nil:
			return []mdns.RR{&mdns.AAAA{Hdr: hdr, AAAA: b.ipv6}}
		}
		return nil
	case z.id:
		if depth >= maxAliasDepth || a.DNSName == rs.Name {
			return nil
		}
		var src []mdns.RR
		if next, ok := aliases[a.DNSName+"/"+rs.Type]; ok {
			src = b.resolveAlias(z, next, aliases, gateway, depth+1)
		} else if n := z.nodes[a.DNSName]; n != nil {
			src = n.sets[t]
		}
		out := make([]mdns.RR, 0, len(src))
		for _, rr := range src {
			c := mdns.Copy(rr)
			c.Header().Name = rs.Name
			out = append(out, c)
		}
		return out
	}
	return nil
}
