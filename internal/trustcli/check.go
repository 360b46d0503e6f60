package trustcli

import (
	"context"
	"flag"
	"fmt"
	"io"

	"trustgate/internal/truststore"
)

const checkUsage = `usage: trustgate truststore check --truststore FILE --cert FILE [--chain FILE] [--crl FILE]... [--soft-crl] [--at RFC3339]

Verifies a client certificate against a truststore exactly as the gateway
does for a connection, and prints "trusted" or "rejected: <reason>: <why>".
--cert may hold the client certificate followed by its intermediates;
--chain adds more intermediates. With --crl, revocation is enforced (every
issuer needs a current CRL; --soft-crl lets a missing or expired CRL pass).
Exit status: 0 trusted, 1 rejected, 2 usage or unreadable input.

`

// Check runs `trustgate truststore check`: it prints the verdict on stdout
// and warnings or usage problems on stderr, and returns the exit status.
func Check(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("trustgate truststore check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, checkUsage); fs.PrintDefaults() }
	storePath := fs.String("truststore", "", "the truststore bundle (PEM)")
	certPath := fs.String("cert", "", "the client certificate (PEM or DER), optionally followed by intermediates")
	var chainPaths, crlPaths stringList
	fs.Var(&chainPaths, "chain", "intermediates the client sends (PEM or DER); repeatable")
	fs.Var(&crlPaths, "crl", "a CRL file (PEM or DER); repeatable; turns on revocation checking")
	soft := fs.Bool("soft-crl", false, "accept a certificate whose CRL is missing or expired (a revoked one is still refused)")
	var at timeFlag
	fs.Var(&at, "at", "verify at this RFC 3339 time instead of now")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) > 0 || *storePath == "" || *certPath == "" {
		fmt.Fprintln(stderr, "trustgate truststore check: --truststore and --cert are required, and nothing else")
		fs.Usage()
		return exitUsage
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "trustgate truststore check: %v\n", err)
		return exitUsage
	}
	now := at.value()

	data, err := readSource(ctx, *storePath, nil)
	if err != nil {
		return fail(err)
	}
	bundle, err := truststore.Parse(data)
	if err != nil {
		return fail(fmt.Errorf("truststore %s: %w", *storePath, err))
	}
	for _, w := range bundle.Warnings(now) {
		fmt.Fprintf(stderr, "warning: %s: %s\n", w.Code, w.Message)
	}

	chain, notes, err := readCerts(*certPath)
	if err != nil {
		return fail(err)
	}
	for _, p := range chainPaths {
		more, n, err := readCerts(p)
		if err != nil {
			return fail(err)
		}
		chain = append(chain, more...)
		notes = append(notes, n...)
	}
	for _, n := range notes {
		fmt.Fprintf(stderr, "note: %s\n", n)
	}

	opts := truststore.VerifyOptions{At: now, SoftCRL: *soft}
	if len(crlPaths) > 0 {
		crls, err := readCRLs(ctx, crlPaths, nil)
		if err != nil {
			return fail(err)
		}
		set, ws := bundle.NewCRLSet(crls, now)
		for _, w := range ws {
			fmt.Fprintf(stderr, "warning: %s: %s\n", w.Code, w.Message)
		}
		opts.CRLs = set
	}

	v := bundle.Verify(chain, opts)
	fmt.Fprintln(stdout, v.String())
	if !v.Trusted {
		return exitProblem
	}
	if v.SoftFailure != "" {
		fmt.Fprintf(stderr, "warning: %s: %s\n", v.SoftFailure, v.Message)
	}
	return exitOK
}
