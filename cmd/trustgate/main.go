// Command trustgate is a self-hosted API gateway for mutual-TLS partner and
// device APIs, managed through Amazon API Gateway's own management API.
//
//	trustgate serve [flags]        run the gateway
//	trustgate env [--data-dir D]   print the AWS CLI environment for this gateway
//	trustgate truststore lint|check ...
//	trustgate version
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"trustgate/internal/app"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		applyRuntimeSettings() // may re-execute the process
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stderr)
	case "env":
		return env(args[1:], stdout, stderr)
	case "truststore":
		return app.Truststore(context.Background(), args[1:], stdout, stderr)
	case "version", "--version", "-v":
		fmt.Fprintf(stdout, "trustgate %s\n", version)
		return 0
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	default:
		fmt.Fprintf(stderr, "trustgate: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage:
  trustgate serve [flags]                  run the gateway (flags: trustgate serve -h)
  trustgate env [--data-dir DIR]           print export lines for the AWS CLI
  trustgate truststore lint FILE|s3://...  check a truststore bundle
  trustgate truststore check --truststore FILE --cert FILE [--chain FILE] [--crl FILE]... [--at RFC3339]
  trustgate version
`)
}

// bind registers the static configuration's flags on fs; each also reads
// TRUSTGATE_<FLAG> from the environment (flags win).
func bind(fs *flag.FlagSet, c *app.Config) {
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "state, local CA and admin credentials (files 0600)")
	fs.StringVar(&c.Listen, "listen", c.Listen, "data plane HTTPS listener")
	fs.StringVar(&c.AdminListen, "admin-listen", c.AdminListen, "management endpoint (AWS-compatible, SigV4), /metrics, /healthz, /readyz")
	fs.StringVar(&c.DNSListen, "dns-listen", c.DNSListen, "authoritative DNS for hosted zones, UDP and TCP (off when empty)")
	fs.StringVar(&c.Region, "region", c.Region, "region used in ARNs, host names and the SigV4 scope")
	fs.StringVar(&c.AccountID, "account-id", c.AccountID, "account id used in ARNs")
	fs.StringVar(&c.PublicDomain, "public-domain", c.PublicDomain, "suffix of {apiId}.execute-api.{region}.{public-domain} and d-{id}.execute-api.… names")
	fs.StringVar(&c.PublicIP, "public-ip", c.PublicIP, "address DNS alias records to the gateway resolve to")
	fs.StringVar(&c.Store, "store", c.Store, "bolt (embedded) or etcd")
	fs.StringVar(&c.EtcdEndpoints, "etcd-endpoints", c.EtcdEndpoints, "comma-separated etcd endpoints for --store etcd")
	fs.StringVar(&c.EtcdPrefix, "etcd-prefix", c.EtcdPrefix, "key prefix in etcd; nodes sharing it form one gateway")
	fs.StringVar(&c.S3, "s3", c.S3, "where s3:// truststore URIs are read: embedded, or an S3-compatible URL")
	fs.StringVar(&c.AccessLog, "access-log", c.AccessLog, "access log: stdout, off, or a file path")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "how long in-flight requests may take to finish on SIGINT/SIGTERM")
}

// fromEnv applies TRUSTGATE_* variables for the flags not set on the command line.
func fromEnv(fs *flag.FlagSet) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		name := "TRUSTGATE_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("%s=%q: %w", name, v, e)
			}
		}
	})
	return err
}

func parse(name string, args []string, stderr io.Writer, c *app.Config) (*flag.FlagSet, bool) {
	fs := flag.NewFlagSet("trustgate "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	bind(fs, c)
	if err := fs.Parse(args); err != nil {
		return fs, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "trustgate %s: unexpected argument %q\n", name, fs.Arg(0))
		return fs, false
	}
	if err := fromEnv(fs); err != nil {
		fmt.Fprintf(stderr, "trustgate %s: %v\n", name, err)
		return fs, false
	}
	return fs, true
}

func serve(args []string, stderr io.Writer) int {
	cfg := app.Default()
	if _, ok := parse("serve", args, stderr, &cfg); !ok {
		return 2
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintf(stderr, "trustgate serve: %v\n", err)
		return 2
	}
	// The gateway's live heap is small (tens of MB even with 10,000
	// domains) and allocation-heavy per request; the default GOGC=100
	// collects every few hundred requests. 400 cut GC time enough for +25 %
	// keep-alive throughput (docs/performance.md). An explicit GOGC wins.
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(400)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.Run(ctx, cfg, app.Options{Stdout: os.Stdout, Stderr: stderr, Version: version}); err != nil {
		fmt.Fprintf(stderr, "trustgate: %v\n", err)
		return 1
	}
	return 0
}

func env(args []string, stdout, stderr io.Writer) int {
	cfg := app.Default()
	if _, ok := parse("env", args, stderr, &cfg); !ok {
		return 2
	}
	out, err := app.Env(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "trustgate env: %v\n", err)
		return 1
	}
	fmt.Fprint(stdout, out)
	return 0
}
