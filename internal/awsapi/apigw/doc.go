// Package apigw is Amazon API Gateway's management API (REST-JSON, v1 and the
// /v2/ paths) over trustgate's store: REST APIs with their resources,
// methods, integrations, deployments and stages; custom domain names with
// their certificate, security policy and mutual TLS truststore; base path
// mappings (v1) and API mappings (v2), which are two views of the same
// records; and tags.
//
// Every request goes through one adapter (Service.ServeHTTP): it finds the
// operation by method and path, runs a handler func(w, r) error, and renders
// any error through WriteError with awserr's table (x-amzn-ErrorType and
// {"message": …}; v2 NotFound adds "resourceType"). A handler writes nothing
// until all its checks have passed, and each operation reads or writes the
// store in one transaction, so a refused request changes nothing and
// uniqueness (one mapping per key and domain, one domain per name) holds
// across nodes. The one exception is a domain name whose truststore must be
// read: the object is fetched and validated between a checking read and the
// writing transaction (the object store may be the same store, and a bolt
// read inside a write can deadlock); the write re-checks everything and
// answers AWS's concurrent-modification ConflictException if the domain
// changed meanwhile.
//
// Invariants and decisions (where AWS's behaviour is unknown, the choice is
// stated here):
//   - Request bodies are decoded strictly: malformed JSON, a member of the
//     wrong type, an unknown member or trailing data is a BadRequestException
//     naming the problem. Input structs list every member of AWS's input
//     shapes, so a valid AWS request is never refused for its shape; members
//     trustgate does not use (authorizationScopes, tlsConfig, canary
//     settings, cache settings, endpointAccessMode, …) are accepted and
//     ignored.
//   - A path or method that names no operation is 404
//     UnknownOperationException.
//   - A deployment is a frozen deep copy of the API's resources, methods,
//     integrations and disableExecuteApiEndpoint; CreateDeployment with a
//     stageName creates the stage or points it at the new deployment in the
//     same transaction. Like AWS it refuses an API without methods or with a
//     method that has no integration.
//   - Deleting a REST API deletes its resources, deployments and stages but
//     is refused (BadRequestException, AWS's wording) while a base path or
//     API mapping uses it; deleting a stage a mapping uses is refused the
//     same way (trustgate's choice, so no mapping dangles). Deleting a
//     domain name deletes its mappings.
//   - Domain names are REGIONAL only (EDGE and PRIVATE are refused by
//     name); a request without an endpoint type is REGIONAL. The
//     certificate must be an ISSUED ACM certificate of this account and
//     Region that covers the name (RFC 6125 wildcards). Mutual TLS needs
//     TLS_1_2 or a TLS 1.3 policy.
//   - A truststore is read once, at create or update, at the given version or
//     the latest (whose version id is then pinned); the store keeps its own
//     copy of exactly those bytes. Overwriting the object changes nothing.
//     Any read failure is "Unable to access truststore URI … version ….";
//     a bundle truststore.Parse refuses is a BadRequestException with its
//     message, and the old truststore stays. truststoreWarnings are
//     recomputed from the stored copy as of now on every read.
//   - trustgate-only settings ride on domain tags (trustgate:…). The ones
//     the data plane understands (trustgate:crl, trustgate:crl-mode,
//     trustgate:crl-refresh) are checked with its rules
//     (Config.CheckDomainTags) on CreateDomainName and TagResource; a bad
//     value is a BadRequestException naming the tag. What the data plane
//     reports about a domain (Config.DomainHealth: a build that failed, a
//     CRL that could not be read or has expired) becomes
//     domainNameStatusMessage, and its CRL warnings are added to
//     truststoreWarnings; domainNameStatus stays as stored.
//   - Mappings: one key per domain ("Base path already exists for this
//     domain name", or "Only one base path mapping is allowed if the base path
//     is empty." for a second empty key), checked in the writing
//     transaction. The empty key is v1's "(none)" and v2's ""; "(none)" sent
//     to v2 also means the empty key. v1 refuses keys with "/" in AWS's
//     words; v2 makes them (not on a TLS_1_0 domain) and v1 lists and reads
//     them. A v1 mapping may omit the stage, as on AWS (Stage "" in the
//     record: callers name the stage in the URL).
//   - A domain's regionalHostedZoneId is AWS's fixed id for the Region
//     (model.RegionalHostedZoneID; us-east-1's for a Region AWS lacks).
//   - v1 lists use ?position=&limit= (1-500, default 25) and v2 lists
//     ?nextToken=&maxResults= (1-500, default 100); tokens are opaque and
//     resume at a sort key, so pages stay consistent under concurrent writes.
package apigw
