// Package route53 is Amazon Route 53's REST-XML API on trustgate's management
// endpoint: hosted zones (Create, Get, List, ListByName, Count, Delete),
// record sets (ChangeResourceRecordSets with CREATE, UPSERT and DELETE;
// ListResourceRecordSets in Route 53's order) and GetChange.
//
// Invariants:
//   - A change batch is applied in one store transaction: every change lands
//     or none does, and a refused batch writes nothing.
//   - Zones, record sets and changes live under model.PrefixZones,
//     PrefixRecordSets and PrefixChanges; the dns package serves them.
//   - An alias targets either a gateway regional domain name
//     (d-{id}.execute-api.{region}.{publicDomain} of an existing domain, with
//     the region's regional hosted zone id) or a record set of the same type
//     in the same zone; anything else is InvalidChangeBatch.
//   - A change is PENDING until the DNS server serves the store revision the
//     change landed at (Config.Served), then INSYNC.
//   - Errors are Route 53's ErrorResponse documents with Route 53's codes and,
//     where known, its messages.
package route53
