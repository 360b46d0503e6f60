// Package edge is trustgate's data plane: one TLS listener that serves every
// custom domain by SNI, the default execute-api endpoint, mTLS verdicts,
// routing through API mappings and deployed resource trees, and the HTTP_PROXY,
// HTTP and MOCK integrations.
//
// Configuration flows one way. Run watches the store's revision and builds a
// complete, immutable Snapshot off the hot path (certificates and truststores
// parsed, tls.Configs built, mappings and resource trees compiled) in one
// consistent store.View, then installs it with one atomic pointer store. The
// handshake (GetConfigForClient) and the request path only load the pointer:
// no lock, no I/O, nothing parsed per request.
//
// Failure isolation: a snapshot that cannot be built at all (the store cannot
// be read) is never installed; the previous one keeps serving, the failure is
// logged and counted. Inside a build, each domain's TLS side (certificate,
// truststore, policy) is built on its own: a domain whose record, certificate
// or truststore cannot be parsed keeps its previous build if it had one
// ("stale", logged, counted, exported as trustgate_edge_domain_stale). It
// never fails open: a domain that now asks for mTLS but whose truststore
// cannot be parsed never falls back to a previous build without mTLS; with no
// acceptable previous build the domain refuses every handshake. A mapping or
// stage record that cannot be decoded is left out (requests it would have
// served get 403), and a deployment that cannot be compiled answers 500.
//
// mTLS (DESIGN §5): an mTLS domain's tls.Config uses RequireAnyClientCert, so
// a client without a certificate never completes the handshake. The chain is
// verified by package truststore against the domain's truststore right after
// the handshake, cached on the connection together with the truststore
// generation it was computed for, and re-verified on the next request when
// that generation changes or the verified chain expires. A refused chain is a
// 403 {"message":"Forbidden"} with the precise reason in the access log.
// Resumed sessions carry their peer certificates and go through the same
// check. Session ticket keys are derived per domain and truststore content, so
// a ticket issued by one domain (or one truststore generation) never resumes a
// session on another.
//
// Revocation (beyond AWS): a domain tagged trustgate:crl=s3://bucket/key[,…]
// has each chain checked against those CRLs, verified against its
// truststore by package truststore. CRL objects are read by the CRL manager
// after the build's store transaction and never on the handshake or request
// path: with the embedded object store at every build (so a new CRL version
// is served with the revision that wrote it), with an external S3 at the
// first build that needs it and then by polling (trustgate:crl-refresh). A
// read that fails keeps the last good copy in memory; a CRL never read, or
// past its nextUpdate, refuses the certificates it covers (crl_unavailable,
// crl_expired) unless trustgate:crl-mode=soft; a revoked certificate is
// always refused. The CRLs a domain's verdicts use form a generation (a
// crlBinding) like its truststore: a connection's cached verdict is
// recomputed when either changes, or when a CRL passes its nextUpdate.
// DomainStatus explains what is wrong (DomainStatus.Message). The edge only
// reads objects; it never writes to the store.
//
// Handshakes are run by the package's own listener, one goroutine per
// connection, bounded by the handshake timeout; failed handshakes are counted
// and logged (access log) with their reason. An HTTP/1.x connection is then
// served on that goroutine by the h1 loop (h1conn.go, h1request.go,
// h1response.go), a strict RFC 9112 server built for the gateway's speed
// (no per-request goroutine, context or header map); an h2 connection goes
// to net/http's server. Both call the same ServeHTTP. What the h1 loop does
// not do that net/http does: it does not watch the client while the
// handler runs, so a client that disconnects while its request waits on the
// backend is noticed when the answer is written (the call stays bounded by
// the integration timeout); it never sniffs a Content-Type.
package edge
