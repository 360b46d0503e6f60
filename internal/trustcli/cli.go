package trustcli

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"trustgate/internal/truststore"
)

// Fetcher reads an s3:// URI (s3://bucket/key, optionally ?versionId=V). The
// app wires it to the gateway's object store; nil means only local files can
// be read.
type Fetcher func(ctx context.Context, uri string) ([]byte, error)

// Exit codes shared by the commands.
const (
	exitOK      = 0
	exitProblem = 1 // lint found errors; check rejected the certificate
	exitUsage   = 2 // bad arguments or unreadable input
)

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ",") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// timeFlag is an RFC 3339 instant; zero means now.
type timeFlag struct{ t time.Time }

func (f *timeFlag) String() string {
	if f.t.IsZero() {
		return ""
	}
	return f.t.Format(time.RFC3339)
}

func (f *timeFlag) Set(v string) error {
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return fmt.Errorf("want an RFC 3339 time such as 2030-01-02T15:04:05Z")
	}
	f.t = t
	return nil
}

func (f *timeFlag) value() time.Time {
	if f.t.IsZero() {
		return time.Now()
	}
	return f.t
}

// parseArgs parses flags that may come before or after positional arguments
// ("lint FILE --json" as well as "lint --json FILE").
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// flagExit is the exit code for a flag parse error: 0 for -h (the usage was
// printed), else exitUsage (the flag package printed the problem).
func flagExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitUsage
}

// readSource reads a local file, or an s3:// URI through fetch.
func readSource(ctx context.Context, src string, fetch Fetcher) ([]byte, error) {
	if strings.HasPrefix(src, "s3://") {
		if fetch == nil {
			return nil, fmt.Errorf("reading %s: s3:// sources are not available here; download the object and pass the file", src)
		}
		data, err := fetch(ctx, src)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", src, err)
		}
		return data, nil
	}
	data, err := os.ReadFile(src)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", src, errors.Unwrap(err))
	}
	return data, nil
}

// readCerts reads the certificates of a PEM file (CERTIFICATE blocks, in
// order) or of concatenated DER. Other blocks are skipped and named in notes;
// their content is never printed.
func readCerts(path string) (certs []*x509.Certificate, notes []string, err error) {
	data, err := readSource(context.Background(), path, nil)
	if err != nil {
		return nil, nil, err
	}
	rest := data
	sawPEM := false
	for n := 1; ; n++ {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		sawPEM = true
		switch {
		case blk.Type == "CERTIFICATE":
			c, err := x509.ParseCertificate(blk.Bytes)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: PEM block %d is not a valid certificate: %w", path, n, err)
			}
			certs = append(certs, c)
		case strings.Contains(blk.Type, "PRIVATE KEY"):
			notes = append(notes, fmt.Sprintf("%s: ignored a private key (PEM block %d)", path, n))
		default:
			notes = append(notes, fmt.Sprintf("%s: ignored a non-certificate PEM block (PEM block %d)", path, n))
		}
	}
	if !sawPEM {
		certs, err = x509.ParseCertificates(data)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: neither PEM certificates nor DER: %w", path, err)
		}
	}
	if len(certs) == 0 {
		return nil, notes, fmt.Errorf("%s: no certificate found", path)
	}
	return certs, notes, nil
}

// readCRLs parses every CRL file.
func readCRLs(ctx context.Context, paths []string, fetch Fetcher) ([]*x509.RevocationList, error) {
	var out []*x509.RevocationList
	for _, p := range paths {
		data, err := readSource(ctx, p, fetch)
		if err != nil {
			return nil, err
		}
		crls, err := truststore.ParseCRLs(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		out = append(out, crls...)
	}
	return out, nil
}
