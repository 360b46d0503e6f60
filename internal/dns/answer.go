package dns

import (
	"encoding/binary"
	"strings"

	mdns "github.com/miekg/dns"
)

// Sizes.
const (
	headerLen = 12
	// udpAdvertised is the EDNS0 buffer size trustgate advertises (the DNS
	// flag day 2020 value: no IP fragmentation).
	udpAdvertised = 1232
	maxTCPMsg     = 65535
	// maxChase bounds CNAME chains followed inside a zone.
	maxChase = 8
)

// respond answers one query message. It returns nil when nothing should be
// sent (not a query header, or a response). It never panics on input and
// never reads anything but the installed snapshot.
func (s *Server) respond(req []byte, tcp bool) []byte {
	if len(req) < headerLen {
		return nil
	}
	id := binary.BigEndian.Uint16(req[0:])
	flags := binary.BigEndian.Uint16(req[2:])
	if flags&(1<<15) != 0 { // QR: a response; answering it could loop
		return nil
	}
	opcode := int(flags>>11) & 0xF
	rd := flags&(1<<8) != 0
	qd := binary.BigEndian.Uint16(req[4:])
	an := binary.BigEndian.Uint16(req[6:])
	ns := binary.BigEndian.Uint16(req[8:])
	ar := binary.BigEndian.Uint16(req[10:])
	// A query has exactly one question, and only OPT (and maybe a
	// signature) in the additional section.
	if qd != 1 || an != 0 || ns != 0 || ar > 2 {
		return s.headerOnly(id, opcode, rd, mdns.RcodeFormatError, tcp)
	}
	q := new(mdns.Msg)
	// miekg trims counts that lie; a query whose sections do not match its
	// header is malformed.
	if err := q.Unpack(req); err != nil || len(q.Question) != 1 || len(q.Extra) != int(ar) {
		return s.headerOnly(id, opcode, rd, mdns.RcodeFormatError, tcp)
	}
	m := new(mdns.Msg)
	m.Id = id
	m.Response = true
	m.Opcode = opcode
	m.RecursionDesired = rd
	m.CheckingDisabled = q.CheckingDisabled
	m.Question = q.Question

	limit := maxTCPMsg
	if !tcp {
		limit = mdns.MinMsgSize
	}
	var opt *mdns.OPT
	opts := 0
	for _, rr := range q.Extra {
		if o, ok := rr.(*mdns.OPT); ok {
			opt = o
			opts++
		}
	}
	switch {
	case opts > 1 || opt != nil && opt.Hdr.Name != ".":
		m.Rcode = mdns.RcodeFormatError
		return s.finish(m, nil, limit, tcp)
	case opt != nil:
		if !tcp {
			limit = max(mdns.MinMsgSize, int(opt.UDPSize()))
		}
		if opt.Version() != 0 {
			m.Rcode = mdns.RcodeBadVers
			return s.finish(m, opt, limit, tcp)
		}
	}
	if opcode != mdns.OpcodeQuery {
		m.Rcode = mdns.RcodeNotImplemented
		return s.finish(m, opt, limit, tcp)
	}
	question := q.Question[0]
	switch {
	case question.Qclass != mdns.ClassINET && question.Qclass != mdns.ClassANY,
		question.Qtype == mdns.TypeAXFR, question.Qtype == mdns.TypeIXFR:
		m.Rcode = mdns.RcodeRefused
		return s.finish(m, opt, limit, tcp)
	}
	snap := s.snap.Load()
	if snap == nil {
		m.Rcode = mdns.RcodeServerFailure
		return s.finish(m, opt, limit, tcp)
	}
	qname := strings.ToLower(question.Name)
	z := snap.findZone(qname)
	if z == nil {
		m.Rcode = mdns.RcodeRefused
		return s.finish(m, opt, limit, tcp)
	}
	z.answer(m, qname, question.Qtype)
	return s.finish(m, opt, limit, tcp)
}

// headerOnly is the answer to a message that cannot be parsed.
func (s *Server) headerOnly(id uint16, opcode int, rd bool, rcode int, tcp bool) []byte {
	m := new(mdns.Msg)
	m.Id = id
	m.Response = true
	m.Opcode = opcode
	m.RecursionDesired = rd
	m.Rcode = rcode
	return s.finish(m, nil, mdns.MinMsgSize, tcp)
}

// finish adds the OPT record if the query had one, truncates to the
// client's buffer, and packs.
func (s *Server) finish(m *mdns.Msg, reqOpt *mdns.OPT, limit int, tcp bool) []byte {
	if reqOpt != nil {
		o := &mdns.OPT{Hdr: mdns.RR_Header{Name: ".", Rrtype: mdns.TypeOPT}}
		o.SetUDPSize(udpAdvertised) // Pack sets the extended rcode bits
		m.Extra = append(m.Extra, o)
	}
	m.Truncate(limit)
	b, err := m.Pack()
	if err != nil {
		s.log.Debug("packing a dns answer failed", "err", err)
		// Fall back to a bare SERVFAIL that always packs.
		f := new(mdns.Msg)
		f.Id, f.Response, f.Opcode, f.Rcode = m.Id, true, m.Opcode, mdns.RcodeServerFailure
		f.Question = m.Question
		if b, err = f.Pack(); err != nil {
			f.Question = nil
			b, _ = f.Pack()
		}
	}
	proto := "udp"
	if tcp {
		proto = "tcp"
	}
	s.metrics.observe(proto, m.Rcode, m.Truncated)
	return b
}

// answer fills m for qname/qtype inside z: referral, positive answer (with
// CNAME chasing and wildcard synthesis), NODATA or NXDOMAIN.
func (z *zone) answer(m *mdns.Msg, qname string, qtype uint16) {
	m.Authoritative = true
	seen := map[string]bool{}
	for hop := 0; ; hop++ {
		if cut := z.cut(qname, qtype); cut != "" {
			if hop > 0 {
				// A CNAME into a delegated name: the chain stops here.
				return
			}
			z.referral(m, cut)
			return
		}
		n, owner := z.lookup(qname)
		if n == nil {
			if z.ents[qname] {
				z.nodata(m)
				return
			}
			m.Rcode = mdns.RcodeNameError
			z.nodata(m)
			return
		}
		if qtype == mdns.TypeANY {
			found := false
			for _, rrs := range n.sets {
				for _, rr := range rrs {
					m.Answer = append(m.Answer, own(rr, owner, qname))
					found = true
				}
			}
			if !found {
				z.nodata(m)
			}
			return
		}
		if rrs := n.sets[qtype]; len(rrs) > 0 {
			for _, rr := range rrs {
				m.Answer = append(m.Answer, own(rr, owner, qname))
			}
			return
		}
		cn := n.sets[mdns.TypeCNAME]
		if len(cn) == 0 || qtype == mdns.TypeCNAME {
			z.nodata(m)
			return
		}
		m.Answer = append(m.Answer, own(cn[0], owner, qname))
		seen[qname] = true
		target := strings.ToLower(cn[0].(*mdns.CNAME).Target)
		if hop >= maxChase || seen[target] || !inZone(target, z.name) {
			return
		}
		qname = target
	}
}

// lookup finds the node for qname: the exact name, or the wildcard that
// covers it (RFC 4592: "*." plus the closest encloser). The owner returned
// is the name the records carry in the snapshot.
func (z *zone) lookup(qname string) (*node, string) {
	if n := z.nodes[qname]; n != nil {
		return n, qname
	}
	if z.ents[qname] {
		return nil, ""
	}
	for _, off := range mdns.Split(qname)[1:] {
		ce := qname[off:]
		if len(ce) < len(z.name) {
			break
		}
		if _, ok := z.nodes[ce]; ok || z.ents[ce] || ce == z.name {
			wc := "*." + ce
			if n := z.nodes[wc]; n != nil {
				return n, wc
			}
			return nil, ""
		}
	}
	return nil, ""
}

// cut returns the highest delegation point at or above qname (below the
// apex), or "". A DS query at the cut itself is the parent's to answer.
func (z *zone) cut(qname string, qtype uint16) string {
	if len(z.cuts) == 0 {
		return ""
	}
	offs := mdns.Split(qname)
	for i := len(offs) - 1; i >= 0; i-- {
		name := qname[offs[i]:]
		if len(name) <= len(z.name) {
			continue
		}
		if z.cuts[name] && !(name == qname && qtype == mdns.TypeDS) {
			return name
		}
	}
	return ""
}

// referral answers with the delegation's NS records and any glue.
func (z *zone) referral(m *mdns.Msg, cut string) {
	m.Authoritative = false
	n := z.nodes[cut]
	for _, rr := range n.sets[mdns.TypeNS] {
		m.Ns = append(m.Ns, rr)
		host := strings.ToLower(rr.(*mdns.NS).Ns)
		if !inZone(host, z.name) {
			continue
		}
		if g := z.nodes[host]; g != nil {
			m.Extra = append(m.Extra, g.sets[mdns.TypeA]...)
			m.Extra = append(m.Extra, g.sets[mdns.TypeAAAA]...)
		}
	}
}

// nodata adds the zone's SOA (with the negative-caching TTL) to authority.
func (z *zone) nodata(m *mdns.Msg) {
	if z.negSOA != nil {
		m.Ns = append(m.Ns, z.negSOA)
	}
}

// own returns rr as owned by qname: the record itself, or a copy renamed
// when it comes from a wildcard.
func own(rr mdns.RR, owner, qname string) mdns.RR {
	if owner == qname {
		return rr
	}
	c := mdns.Copy(rr)
	c.Header().Name = qname
	return c
}

func inZone(name, zone string) bool {
	return name == zone || strings.HasSuffix(name, "."+zone)
}
