package dns

import (
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	mdns "github.com/miekg/dns"
)

func packQuery(t testing.TB, name string, qtype uint16) []byte {
	t.Helper()
	m := new(mdns.Msg)
	m.SetQuestion(name, qtype)
	m.Id = 0x1234
	b, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// malformedCases are hostile or broken messages and the rcode they get
// (-1: no answer at all).
func malformedCases(t testing.TB) []struct {
	name  string
	msg   []byte
	rcode int
} {
	valid := packQuery(t, "www.example.com.", mdns.TypeA)
	hdr := func(flags, qd, an, ns, ar uint16) []byte {
		b := make([]byte, 12)
		binary.BigEndian.PutUint16(b[0:], 0x1234)
		binary.BigEndian.PutUint16(b[2:], flags)
		binary.BigEndian.PutUint16(b[4:], qd)
		binary.BigEndian.PutUint16(b[6:], an)
		binary.BigEndian.PutUint16(b[8:], ns)
		binary.BigEndian.PutUint16(b[10:], ar)
		return b
	}
	twoQ := new(mdns.Msg)
	twoQ.Question = []mdns.Question{{Name: "a.example.com.", Qtype: mdns.TypeA, Qclass: mdns.ClassINET}, {Name: "b.example.com.", Qtype: mdns.TypeA, Qclass: mdns.ClassINET}}
	twoQ.Id = 0x1234
	twoQB, _ := twoQ.Pack()

	twoOPT := new(mdns.Msg)
	twoOPT.SetQuestion("www.example.com.", mdns.TypeA)
	twoOPT.SetEdns0(1232, false)
	twoOPT.Extra = append(twoOPT.Extra, &mdns.OPT{Hdr: mdns.RR_Header{Name: ".", Rrtype: mdns.TypeOPT, Class: 512}})
	twoOPT.Id = 0x1234
	twoOPTB, _ := twoOPT.Pack()

	v1 := new(mdns.Msg)
	v1.SetQuestion("www.example.com.", mdns.TypeA)
	v1.SetEdns0(1232, false)
	v1.IsEdns0().SetVersion(1)
	v1.Id = 0x1234
	v1B, _ := v1.Pack()

	// A question whose name is a compression pointer to itself.
	loop := append(hdr(0x0100, 1, 0, 0, 0), 0xC0, 12, 0, 1, 0, 1)
	// Two pointers pointing at each other.
	loop2 := append(hdr(0x0100, 1, 0, 0, 0), 0xC0, 14, 0xC0, 12, 0, 1, 0, 1)
	// A label running past the end.
	long := append(hdr(0x0100, 1, 0, 0, 0), 63, 'a', 'b')

	return []struct {
		name  string
		msg   []byte
		rcode int
	}{
		{"empty", nil, -1},
		{"short header", valid[:11], -1},
		{"a response", append(hdr(0x8000, 1, 0, 0, 0), valid[12:]...), -1},
		{"no question", hdr(0x0100, 0, 0, 0, 0), mdns.RcodeFormatError},
		{"two questions", twoQB, mdns.RcodeFormatError},
		{"65535 questions claimed", append(hdr(0x0100, 65535, 0, 0, 0), valid[12:]...), mdns.RcodeFormatError},
		{"answer section in a query", append(hdr(0x0100, 1, 1, 0, 0), valid[12:]...), mdns.RcodeFormatError},
		{"truncated question", valid[:len(valid)-3], mdns.RcodeFormatError},
		{"compression loop", loop, mdns.RcodeFormatError},
		{"compression ping-pong", loop2, mdns.RcodeFormatError},
		{"label past the end", long, mdns.RcodeFormatError},
		{"additional count lies", append(hdr(0x0100, 1, 0, 0, 1), valid[12:]...), mdns.RcodeFormatError},
		{"two OPT records", twoOPTB, mdns.RcodeFormatError},
		{"EDNS version 1", v1B, mdns.RcodeBadVers},
	}
}

func TestRespondMalformed(t *testing.T) {
	st := openStore(t)
	putZone(t, st, testZoneID, "example.com.", rs(testZoneID, "www.example.com.", "A", 60, "192.0.2.1"))
	s, err := New(Config{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range malformedCases(t) {
		for _, tcp := range []bool{false, true} {
			got := s.respond(tc.msg, tcp)
			if tc.rcode < 0 {
				if got != nil {
					t.Errorf("%s: answered %x, want silence", tc.name, got)
				}
				continue
			}
			m := new(mdns.Msg)
			if err := m.Unpack(got); err != nil {
				t.Fatalf("%s: answer does not unpack: %v", tc.name, err)
			}
			if m.Rcode != tc.rcode || m.Id != 0x1234 || !m.Response {
				t.Errorf("%s: rcode %s id %x qr %v, want %s", tc.name, mdns.RcodeToString[m.Rcode], m.Id, m.Response, mdns.RcodeToString[tc.rcode])
			}
		}
	}
}

func TestMalformedOverTheWire(t *testing.T) {
	st := openStore(t)
	rev := putZone(t, st, testZoneID, "example.com.", rs(testZoneID, "www.example.com.", "A", 60, "192.0.2.1"))
	r := start(t, Config{Store: st})
	r.waitRevision(t, rev)

	// UDP: garbage of every kind, then a real query still works.
	uc, err := net.Dial("udp", r.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	for _, tc := range malformedCases(t) {
		if len(tc.msg) == 0 {
			continue
		}
		uc.Write(tc.msg)
	}
	uc.Write(make([]byte, 65000)) // a huge datagram of zeros
	if resp := r.query(t, "udp", "www.example.com.", mdns.TypeA, 0); len(resp.Answer) != 1 {
		t.Fatalf("after garbage: %v", resp)
	}

	dial := func() net.Conn {
		t.Helper()
		c, err := net.Dial("tcp", r.addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		return c
	}
	frame := func(b []byte) []byte {
		out := make([]byte, 2+len(b))
		binary.BigEndian.PutUint16(out, uint16(len(b)))
		copy(out[2:], b)
		return out
	}
	readFrame := func(c net.Conn) *mdns.Msg {
		t.Helper()
		var l [2]byte
		if _, err := io.ReadFull(c, l[:]); err != nil {
			t.Fatalf("reading frame length: %v", err)
		}
		b := make([]byte, binary.BigEndian.Uint16(l[:]))
		if _, err := io.ReadFull(c, b); err != nil {
			t.Fatalf("reading frame: %v", err)
		}
		m := new(mdns.Msg)
		if err := m.Unpack(b); err != nil {
			t.Fatal(err)
		}
		return m
	}

	// A frame too short to hold a header: the connection is closed.
	c := dial()
	c.Write([]byte{0, 5, 1, 2, 3, 4, 5})
	if n, err := c.Read(make([]byte, 1)); err == nil {
		t.Errorf("short frame: read %d bytes, want the connection closed", n)
	}
	c.Close()
	// A frame that announces 65535 bytes and stops: nothing breaks.
	c = dial()
	c.Write(append([]byte{0xFF, 0xFF}, make([]byte, 100)...))
	c.Close()
	// Pipelined queries on one connection, one malformed: answered in order.
	c = dial()
	c.Write(append(append(frame(packQuery(t, "www.example.com.", mdns.TypeA)), frame(malformedCases(t)[4].msg)...),
		frame(packQuery(t, "nope.example.com.", mdns.TypeA))...))
	if m := readFrame(c); m.Rcode != 0 || len(m.Answer) != 1 {
		t.Errorf("first pipelined: %v", m)
	}
	if m := readFrame(c); m.Rcode != mdns.RcodeFormatError {
		t.Errorf("second pipelined: %v", m)
	}
	if m := readFrame(c); m.Rcode != mdns.RcodeNameError {
		t.Errorf("third pipelined: %v", m)
	}
	c.Close()
	if resp := r.query(t, "tcp", "www.example.com.", mdns.TypeA, 0); len(resp.Answer) != 1 {
		t.Fatalf("tcp after garbage: %v", resp)
	}
}
