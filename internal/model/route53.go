package model

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	mdns "github.com/miekg/dns"
)

// Route 53 store prefixes (owner: awsapi/route53; reader: dns).
const (
	PrefixZones      = "zones/"
	PrefixRecordSets = "rrsets/"
	PrefixChanges    = "changes/"
)

// ZoneKey is the key of a HostedZone, by its bare id ("Z…").
func ZoneKey(id string) string { return PrefixZones + id }

// RecordSetsPrefix lists a hosted zone's record sets.
func RecordSetsPrefix(zoneID string) string { return PrefixRecordSets + zoneID + "/" }

// RecordSetKey is the key of a RecordSet: one per zone, name and type. The
// name is canonical (lower-case, trailing dot), so it holds no "/".
func RecordSetKey(zoneID, name, typ string) string {
	return RecordSetsPrefix(zoneID) + name + "/" + typ
}

// ChangeKey is the key of a Change, by its bare id ("C…").
func ChangeKey(id string) string { return PrefixChanges + id }

// Route 53 limits trustgate keeps.
const (
	// MaxTTL is the largest TTL Route 53 accepts (2^31-1).
	MaxTTL = 2147483647
	// MaxChangesPerBatch caps the Change elements of one request.
	MaxChangesPerBatch = 1000
	// MaxRecordsPerBatch caps the ResourceRecord elements of one request.
	MaxRecordsPerBatch = 1000
	// MaxValueCharsPerBatch caps the characters of all Value elements of one request.
	MaxValueCharsPerBatch = 32000
	// MaxRecordSetsPerZone caps the record sets of one hosted zone.
	MaxRecordSetsPerZone = 10000
	// MaxValueLen is the longest one Value may be (the model's RData).
	MaxValueLen = 4000
)

// HostedZone is a public Route 53 hosted zone served by trustgate's DNS
// server. Its apex SOA and NS record sets are ordinary RecordSets.
type HostedZone struct {
	ID              string    `json:"id"`   // bare, "Z…"
	Name            string    `json:"name"` // canonical: lower-case, trailing dot
	CallerReference string    `json:"callerReference"`
	Comment         string    `json:"comment,omitempty"`
	NameServers     []string  `json:"nameServers"`
	CreatedDate     time.Time `json:"createdDate"`
}

// AliasTarget is where an alias record set points: a gateway regional domain
// name (HostedZoneID = RegionalHostedZoneID) or a record set in the same zone.
type AliasTarget struct {
	HostedZoneID         string `json:"hostedZoneId"`
	DNSName              string `json:"dnsName"` // canonical
	EvaluateTargetHealth bool   `json:"evaluateTargetHealth"`
}

// RecordSet is one Route 53 resource record set: every value of one type at
// one name, or an alias. Values are kept as the client sent them (Route 53's
// presentation form, e.g. `10 mail.example.com` or `"v=spf1 -all"`).
type RecordSet struct {
	ZoneID string       `json:"zoneId"`
	Name   string       `json:"name"` // canonical
	Type   string       `json:"type"`
	TTL    int64        `json:"ttl,omitempty"` // unused for aliases
	Values []string     `json:"values,omitempty"`
	Alias  *AliasTarget `json:"alias,omitempty"`
}

// Change is a submitted change batch (or zone creation/deletion); GetChange
// reports it PENDING until the DNS server serves it.
type Change struct {
	ID          string    `json:"id"` // bare, "C…"
	ZoneID      string    `json:"zoneId,omitempty"`
	Comment     string    `json:"comment,omitempty"`
	SubmittedAt time.Time `json:"submittedAt"`
}

// RecordTypes are the record types trustgate stores and serves (Route 53's
// RRType enum less none: DS, TLSA, SSHFP, SVCB and HTTPS are accepted too).
var recordTypes = map[string]uint16{
	"SOA": mdns.TypeSOA, "A": mdns.TypeA, "TXT": mdns.TypeTXT, "NS": mdns.TypeNS,
	"CNAME": mdns.TypeCNAME, "MX": mdns.TypeMX, "NAPTR": mdns.TypeNAPTR, "PTR": mdns.TypePTR,
	"SRV": mdns.TypeSRV, "SPF": mdns.TypeSPF, "AAAA": mdns.TypeAAAA, "CAA": mdns.TypeCAA,
	"DS": mdns.TypeDS, "TLSA": mdns.TypeTLSA, "SSHFP": mdns.TypeSSHFP, "SVCB": mdns.TypeSVCB,
	"HTTPS": mdns.TypeHTTPS,
}

// RecordType returns the DNS type code of a Route 53 RRType, or false.
func RecordType(typ string) (uint16, bool) {
	t, ok := recordTypes[typ]
	return t, ok
}

// NameError is a malformed DNS name, worded as Route 53 words it.
type NameError struct{ Msg string }

func (e *NameError) Error() string { return e.Msg }

func fatal(problem, desc, value string) *NameError {
	return &NameError{Msg: fmt.Sprintf("FATAL problem: %s (%s) encountered with '%s'", problem, desc, value)}
}

// CanonicalName validates a DNS name the way Route 53 takes it (letters,
// digits, '-' and '_' in labels; '*' only as a whole leftmost label when
// wildcard is true; an optional trailing dot) and returns it lower-cased with
// a trailing dot. Errors are *NameError.
func CanonicalName(name string, wildcard bool) (string, error) {
	n := strings.ToLower(strings.TrimSuffix(name, "."))
	if n == "" {
		return "", fatal("DomainNameEmpty", "Domain name is empty", name)
	}
	// 255 octets on the wire: labels plus length bytes plus the root.
	if len(n)+2 > 255 {
		return "", fatal("DomainNameTooLong", "Domain name is too long", name)
	}
	labels := strings.Split(n, ".")
	for i, l := range labels {
		switch {
		case l == "":
			return "", fatal("DomainLabelEmpty", "Domain label is empty", name)
		case len(l) > 63:
			return "", fatal("DomainLabelTooLong", "Domain label is too long", name)
		case l == "*" && i == 0 && wildcard:
			continue
		}
		for j := 0; j < len(l); j++ {
			c := l[j]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return "", fatal("UnsupportedCharacter", "Value contains unsupported characters", name)
			}
		}
	}
	return n + ".", nil
}

// ZoneName validates a hosted zone name: a canonical name of two labels or
// more (Route 53 refuses top-level domains).
func ZoneName(name string) (string, error) {
	n, err := CanonicalName(name, false)
	if err != nil {
		return "", err
	}
	if strings.Count(n, ".") < 2 {
		return "", &NameError{Msg: n + " is reserved by AWS!"}
	}
	return n, nil
}

// InZone reports whether canonical name is zone or below it.
func InZone(name, zone string) bool {
	return name == zone || strings.HasSuffix(name, "."+zone)
}

// IsApex reports whether rs sits at the apex of zone.
func (rs *RecordSet) IsApex(zone string) bool { return rs.Name == zone }

// Validate checks a record set's type, TTL and values (or alias) as Route 53
// does, without looking at other record sets. Name must already be
// canonical. The error message is Route 53's wording where known.
func (rs *RecordSet) Validate() error {
	if _, ok := recordTypes[rs.Type]; !ok {
		return fmt.Errorf("Unsupported record type %s", rs.Type)
	}
	if rs.Alias != nil {
		if len(rs.Values) > 0 || rs.TTL != 0 {
			return errors.New("alias record sets take no TTL or ResourceRecords")
		}
		switch rs.Type {
		case "SOA", "NS", "DS":
			return fmt.Errorf("RRSet of type %s with DNS name %s cannot be an alias", rs.Type, rs.Name)
		}
		return nil
	}
	if rs.TTL < 0 || rs.TTL > MaxTTL {
		return fmt.Errorf("TTL %d is out of range [0, %d]", rs.TTL, MaxTTL)
	}
	if len(rs.Values) == 0 {
		return errors.New("ResourceRecords must contain at least one ResourceRecord")
	}
	if strings.HasPrefix(rs.Name, "*.") && (rs.Type == "NS" || rs.Type == "SOA") {
		return fmt.Errorf("RRSet of type %s with DNS name %s is not permitted: wildcard names take no %s records", rs.Type, rs.Name, rs.Type)
	}
	if len(rs.Values) > 1 && (rs.Type == "CNAME" || rs.Type == "SOA") {
		return fmt.Errorf("RRSet of type %s with DNS name %s has more than one value", rs.Type, rs.Name)
	}
	seen := make(map[string]bool, len(rs.Values))
	for _, v := range rs.Values {
		if seen[v] {
			return fmt.Errorf("Duplicate Resource Record: '%s'", v)
		}
		seen[v] = true
		if err := ValidateValue(rs.Type, v); err != nil {
			return err
		}
	}
	return nil
}

// ValidateValue checks one Value of a record of type typ (Route 53's
// presentation form). The error message is Route 53's where known.
func ValidateValue(typ, v string) error {
	bad := func(problem, desc string) error {
		return fmt.Errorf("Invalid Resource Record: '%s'", fatal(problem, desc, v).Msg)
	}
	if v == "" {
		return bad("EmptyRData", "Value is empty")
	}
	if len(v) > MaxValueLen {
		return bad("RDataTooLong", "Value is too long")
	}
	if err := plainValue(v); err != nil {
		return bad("InvalidCharacterString", err.Error())
	}
	switch typ {
	case "A":
		if ip := net.ParseIP(v); ip == nil || ip.To4() == nil || strings.Contains(v, ":") {
			return bad("ARRDATAIllegalIPv4Address", "Value is not a valid IPv4 address")
		}
		return nil
	case "AAAA":
		if ip := net.ParseIP(v); ip == nil || !strings.Contains(v, ":") {
			return bad("AAAARRDATAIllegalIPv6Address", "Value is not a valid IPv6 address")
		}
		return nil
	case "TXT", "SPF":
		if problem, desc := characterStrings(v); problem != "" {
			return bad(problem, desc)
		}
	}
	if _, err := ParseRR("x.", typ, 0, v); err != nil {
		return bad("InvalidRData", "Value is not valid for type "+typ)
	}
	return nil
}

// characterStrings checks a TXT value: one or more quoted strings, apart
// by blanks, each at most 255 octets once escapes are decoded. It returns
// Route 53's problem name and description, or "".
func characterStrings(v string) (problem, desc string) {
	const (
		unquoted = "InvalidCharacterString"
		tooLong  = "CharacterStringTooLong"
	)
	i := 0
	for i < len(v) {
		if v[i] == ' ' || v[i] == '\t' {
			i++
			continue
		}
		if v[i] != '"' {
			return unquoted, "Value should be enclosed in quotation marks"
		}
		i++
		n := 0
		for i < len(v) && v[i] != '"' {
			if v[i] == '\\' {
				// \DDD is one octet, \X is X.
				if i+3 < len(v) && isDigit(v[i+1]) && isDigit(v[i+2]) && isDigit(v[i+3]) {
					i += 3
				} else {
					i++
				}
			}
			i++
			n++
		}
		if i >= len(v) {
			return unquoted, "Value should be enclosed in quotation marks"
		}
		i++ // closing quote
		if n > 255 {
			return tooLong, "Value is too long"
		}
	}
	return "", ""
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// plainValue refuses what would make a value more than one field of one
// record in zone-file syntax: control characters, and outside quotes a
// comment (';') or parentheses (multi-line records).
func plainValue(v string) error {
	inQuote, esc := false, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < 0x20 || c == 0x7f {
			return errors.New("Value contains a control character")
		}
		switch {
		case esc:
			esc = false
		case c == '\\':
			esc = true
		case c == '"':
			inQuote = !inQuote
		case !inQuote && (c == ';' || c == '(' || c == ')' || c == '$'):
			return fmt.Errorf("Value contains '%c' outside quotation marks", c)
		}
	}
	if inQuote || esc {
		return errors.New("Value has an unterminated quoted string")
	}
	return nil
}

// ParseRR builds the DNS record for one value of a record set. name must be
// canonical; relative names inside the value are taken as absolute, as
// Route 53 does.
func ParseRR(name, typ string, ttl int64, value string) (mdns.RR, error) {
	if _, ok := recordTypes[typ]; !ok {
		return nil, fmt.Errorf("unsupported record type %s", typ)
	}
	if err := plainValue(value); err != nil {
		return nil, err
	}
	rr, err := mdns.NewRR(name + " " + strconv.FormatInt(ttl, 10) + " IN " + typ + " " + value)
	if err != nil {
		return nil, err
	}
	if rr == nil || mdns.TypeToString[rr.Header().Rrtype] != typ {
		return nil, fmt.Errorf("value %q is not a %s record", value, typ)
	}
	return rr, nil
}

// SameValues reports whether two record sets hold the same TTL and values
// (in any order) or the same alias target: what DELETE requires.
func (rs *RecordSet) SameValues(o *RecordSet) bool {
	if (rs.Alias == nil) != (o.Alias == nil) {
		return false
	}
	if rs.Alias != nil {
		return *rs.Alias == *o.Alias
	}
	if rs.TTL != o.TTL || len(rs.Values) != len(o.Values) {
		return false
	}
	a, b := slices.Clone(rs.Values), slices.Clone(o.Values)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}
