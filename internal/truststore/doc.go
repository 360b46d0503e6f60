// Package truststore parses and validates truststore bundles and verifies
// client certificate chains against them. It is the one verifier shared by
// the data plane (per-connection mTLS verdicts), the management API
// (truststoreWarnings and BadRequestException on create/update) and the
// `trustgate truststore` commands.
//
// A bundle is a PEM file of CERTIFICATE blocks (at most MaxBundleBytes and
// MaxCertificates). Parse refuses a bundle only for problems with the bundle
// as a whole (*BundleError, whose message never echoes the input); problems
// with single certificates become Warnings, recomputed for any instant so the
// API can report them "as of now".
//
// Verification semantics, as in DESIGN §5/§6:
//   - every certificate in the bundle is a trust anchor, including an
//     intermediate CA or a self-signed client certificate;
//   - the intermediates a client sends are used to build the chain;
//   - chains are built and checked by crypto/x509 (clientAuth usage, no
//     extended key usage counting as any); on top of that a chain may hold at
//     most MaxDepth CA certificates above the leaf, every key must be RSA 2048+,
//     ECDSA P-256+ or Ed25519, and no certificate in the chain (trust anchor
//     included) may carry an MD5 or SHA-1 signature;
//   - with a CRLSet, each certificate below the trust anchor must be covered
//     by a current CRL of its issuer (fail closed, or soft mode), and a listed
//     serial is always refused.
//
// A refusal carries a stable Reason (usable as a metric label) and a human
// sentence. Invariants: a Bundle and a CRLSet are immutable once built and
// safe for concurrent use; Verify does no I/O and takes no lock; the
// diagnosis that explains a refusal never turns it into trust.
package truststore
