// Package dns is trustgate's authoritative DNS server for Route 53 hosted
// zones, over UDP and TCP, built on github.com/miekg/dns's message codec.
//
// Data flows one way, as in the data plane: the route53 service writes
// zones and record sets to the store; Run watches the store's revision,
// builds a complete immutable snapshot off the hot path (values parsed,
// aliases resolved to the gateway's public address or to records of the
// same zone) and installs it with one atomic pointer store. Answering a
// query reads only the installed snapshot: no lock, no store access.
// Revision reports the store revision served, which route53's GetChange
// compares against to move a change from PENDING to INSYNC.
//
// Answers: the most specific zone containing the name is authoritative (AA);
// names in no zone are REFUSED. Besides the hosted zones the server is
// authoritative for the gateway's own names, execute-api.{region}.{public
// domain}: each domain's regionalDomainName (d-{id}…) and each REST API's
// default endpoint host answer with the public address, so a CNAME to a
// regionalDomainName resolves as on AWS. NXDOMAIN and NODATA carry the zone's SOA in
// the authority section with TTL min(SOA TTL, SOA MINIMUM) (RFC 2308).
// Wildcards follow RFC 4592's closest-encloser rule; CNAMEs are chased
// inside the zone; NS record sets below the apex are delegations answered
// with referrals. UDP answers are truncated (TC) to the client's EDNS0
// buffer (512 without EDNS0); TCP carries the full answer. Malformed
// messages, several questions or unexpected sections get FORMERR; responses
// are never answered.
package dns
