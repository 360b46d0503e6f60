package trustcli

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"trustgate/internal/truststore"
)

const lintUsage = `usage: trustgate truststore lint FILE|s3://BUCKET/KEY [--json] [--at RFC3339] [--crl FILE]... [--strict]

Prints every certificate of a truststore bundle (subject, issuer, key,
validity) with its warnings, then the errors that would make the management
API refuse the bundle. Exit status: 0 no errors, 1 errors (or warnings with
--strict), 2 usage or unreadable input.

`

// lintReport is the --json output; the text output shows the same facts.
type lintReport struct {
	Source       string        `json:"source"`
	CheckedAt    string        `json:"checkedAt"`
	OK           bool          `json:"ok"`
	Certificates []lintCert    `json:"certificates"`
	CRLs         []lintCRL     `json:"crls,omitempty"`
	Warnings     []lintWarning `json:"warnings"`
	Errors       []lintError   `json:"errors"`
}

type lintCert struct {
	Index              int    `json:"index"`
	Block              int    `json:"block"`
	Line               int    `json:"line"`
	Subject            string `json:"subject"`
	Issuer             string `json:"issuer"`
	Serial             string `json:"serial"`
	Key                string `json:"key"`
	SignatureAlgorithm string `json:"signatureAlgorithm"`
	NotBefore          string `json:"notBefore"`
	NotAfter           string `json:"notAfter"`
	IsCA               bool   `json:"isCA"`
	SelfSigned         bool   `json:"selfSigned"`
	SHA256             string `json:"sha256"`
}

type lintCRL struct {
	Index      int    `json:"index"`
	Source     string `json:"source"`
	Issuer     string `json:"issuer"`
	ThisUpdate string `json:"thisUpdate"`
	NextUpdate string `json:"nextUpdate,omitempty"`
	Revoked    int    `json:"revoked"`
}

type lintWarning struct {
	Code    string `json:"code"`
	Subject string `json:"subject,omitempty"`
	Message string `json:"message"`
	// Certificate is the 1-based index of the certificate the warning is
	// about; 0 (omitted) for warnings about the file or a CRL.
	Certificate int `json:"certificate,omitempty"`
	// Source is "truststore" or "crl".
	Source string `json:"source"`
}

type lintError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Source  string `json:"source"`
	Block   int    `json:"block,omitempty"`
	Line    int    `json:"line,omitempty"`
}

// Lint runs `trustgate truststore lint`. It reads the bundle from a file, or
// from an s3:// URI through fetch (nil: files only), and writes the report to
// stdout; usage and input problems go to stderr. It returns the exit status.
func Lint(ctx context.Context, args []string, stdout, stderr io.Writer, fetch Fetcher) int {
	fs := flag.NewFlagSet("trustgate truststore lint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, lintUsage); fs.PrintDefaults() }
	asJSON := fs.Bool("json", false, "print a JSON report")
	strict := fs.Bool("strict", false, "exit 1 on warnings too")
	var at timeFlag
	fs.Var(&at, "at", "evaluate validity at this RFC 3339 time instead of now")
	var crlPaths stringList
	fs.Var(&crlPaths, "crl", "a CRL file (PEM or DER) to check against the truststore; repeatable")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "trustgate truststore lint: want exactly one FILE or s3:// URI")
		fs.Usage()
		return exitUsage
	}
	src := pos[0]
	data, err := readSource(ctx, src, fetch)
	if err != nil {
		fmt.Fprintf(stderr, "trustgate truststore lint: %v\n", err)
		return exitUsage
	}
	now := at.value()
	rep := buildLintReport(ctx, src, data, crlPaths, now, fetch)
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(stderr, "trustgate truststore lint: writing report: %v\n", err)
			return exitUsage
		}
	} else {
		writeLintText(stdout, rep)
	}
	switch {
	case len(rep.Errors) > 0:
		return exitProblem
	case *strict && len(rep.Warnings) > 0:
		return exitProblem
	}
	return exitOK
}

func buildLintReport(ctx context.Context, src string, data []byte, crlPaths []string, now time.Time, fetch Fetcher) lintReport {
	rep := lintReport{Source: src, CheckedAt: now.UTC().Format(time.RFC3339), Certificates: []lintCert{}, Warnings: []lintWarning{}, Errors: []lintError{}}
	b, errs := truststore.Inspect(data)
	for _, e := range errs {
		rep.Errors = append(rep.Errors, lintError{Code: e.Code, Message: e.Message, Source: "truststore", Block: e.Block, Line: e.Line})
	}
	if b != nil {
		for i, c := range b.Certs {
			block, line := b.Position(i)
			rep.Certificates = append(rep.Certificates, describe(i+1, block, line, c, b.SelfSigned(i)))
		}
		for _, w := range b.Warnings(now) {
			rep.Warnings = append(rep.Warnings, lintWarning{Code: w.Code, Subject: w.Subject, Message: w.Message, Certificate: w.Index + 1, Source: "truststore"})
		}
	}

	var crls []*x509.RevocationList
	for _, p := range crlPaths {
		data, err := readSource(ctx, p, fetch)
		if err == nil {
			var list []*x509.RevocationList
			list, err = truststore.ParseCRLs(data)
			for _, crl := range list {
				crls = append(crls, crl)
				rep.CRLs = append(rep.CRLs, describeCRL(len(crls), p, crl))
			}
		}
		if err != nil {
			code := "crl_unreadable"
			if ce, ok := err.(*truststore.CRLError); ok {
				code = ce.Code
			}
			rep.Errors = append(rep.Errors, lintError{Code: code, Message: fmt.Sprintf("%s: %v", p, err), Source: "crl"})
		}
	}
	if len(crlPaths) > 0 && b != nil && len(errs) == 0 {
		_, ws := b.NewCRLSet(crls, now)
		for _, w := range ws {
			rep.Warnings = append(rep.Warnings, lintWarning{Code: w.Code, Subject: w.Subject, Message: w.Message, Source: "crl"})
		}
	}
	rep.OK = len(rep.Errors) == 0
	return rep
}

func describe(index, block, line int, c *x509.Certificate, selfSigned bool) lintCert {
	return lintCert{
		Index: index, Block: block, Line: line,
		Subject:            truststore.DNString(c.Subject),
		Issuer:             truststore.DNString(c.Issuer),
		Serial:             truststore.SerialHex(c.SerialNumber),
		Key:                truststore.KeyDescription(c),
		SignatureAlgorithm: c.SignatureAlgorithm.String(),
		NotBefore:          c.NotBefore.UTC().Format(time.RFC3339),
		NotAfter:           c.NotAfter.UTC().Format(time.RFC3339),
		IsCA:               c.BasicConstraintsValid && c.IsCA,
		SelfSigned:         selfSigned,
		SHA256:             truststore.Fingerprint(c),
	}
}

func describeCRL(index int, src string, crl *x509.RevocationList) lintCRL {
	out := lintCRL{
		Index: index, Source: src,
		Issuer:     truststore.DNString(crl.Issuer),
		ThisUpdate: crl.ThisUpdate.UTC().Format(time.RFC3339),
		Revoked:    len(crl.RevokedCertificateEntries),
	}
	if !crl.NextUpdate.IsZero() {
		out.NextUpdate = crl.NextUpdate.UTC().Format(time.RFC3339)
	}
	return out
}

func certKind(c lintCert) string {
	switch {
	case c.IsCA && c.SelfSigned:
		return "root CA (self-signed)"
	case c.IsCA:
		return "intermediate CA"
	case c.SelfSigned:
		return "self-signed certificate, not a CA"
	default:
		return "end-entity certificate, not a CA"
	}
}

func writeLintText(w io.Writer, rep lintReport) {
	byCert := map[int][]lintWarning{}
	var other []lintWarning
	for _, wn := range rep.Warnings {
		if wn.Certificate > 0 {
			byCert[wn.Certificate] = append(byCert[wn.Certificate], wn)
		} else {
			other = append(other, wn)
		}
	}
	fmt.Fprintf(w, "truststore %s, checked at %s\n", rep.Source, rep.CheckedAt)
	for _, c := range rep.Certificates {
		fmt.Fprintf(w, "\ncertificate %d (PEM block %d, line %d)\n", c.Index, c.Block, c.Line)
		fmt.Fprintf(w, "  subject:    %s\n", c.Subject)
		fmt.Fprintf(w, "  issuer:     %s\n", c.Issuer)
		fmt.Fprintf(w, "  type:       %s\n", certKind(c))
		fmt.Fprintf(w, "  serial:     %s\n", c.Serial)
		fmt.Fprintf(w, "  key:        %s\n", c.Key)
		fmt.Fprintf(w, "  signature:  %s\n", c.SignatureAlgorithm)
		fmt.Fprintf(w, "  validity:   %s to %s\n", c.NotBefore, c.NotAfter)
		fmt.Fprintf(w, "  sha256:     %s\n", c.SHA256)
		for _, wn := range byCert[c.Index] {
			fmt.Fprintf(w, "  warning:    %s: %s\n", wn.Code, wn.Message)
		}
	}
	for _, c := range rep.CRLs {
		fmt.Fprintf(w, "\ncrl %d (%s)\n", c.Index, c.Source)
		fmt.Fprintf(w, "  issuer:     %s\n", c.Issuer)
		next := c.NextUpdate
		if next == "" {
			next = "(none)"
		}
		fmt.Fprintf(w, "  validity:   %s to %s\n", c.ThisUpdate, next)
		fmt.Fprintf(w, "  revoked:    %d\n", c.Revoked)
	}
	if len(other) > 0 || len(rep.Errors) > 0 {
		fmt.Fprintln(w)
	}
	for _, wn := range other {
		fmt.Fprintf(w, "warning: %s: %s\n", wn.Code, wn.Message)
	}
	for _, e := range rep.Errors {
		fmt.Fprintf(w, "error: %s: %s\n", e.Code, e.Message)
	}
	fmt.Fprintf(w, "\n%s, %s, %s\n", plural(len(rep.Certificates), "certificate"), plural(len(rep.Warnings), "warning"), plural(len(rep.Errors), "error"))
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
