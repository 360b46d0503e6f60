package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"trustgate/internal/awsapi"
	"trustgate/internal/awsapi/acm"
	"trustgate/internal/awsapi/apigw"
	"trustgate/internal/awsapi/route53"
	"trustgate/internal/awsapi/s3api"
	"trustgate/internal/dns"
	"trustgate/internal/edge"
	"trustgate/internal/localca"
	"trustgate/internal/objects"
	"trustgate/internal/store"
	"trustgate/internal/store/bolt"
	etcdstore "trustgate/internal/store/etcd"
)

// StoreFile is the bolt database inside the data directory.
const StoreFile = "trustgate.db"

// Options are the process's outside world.
type Options struct {
	Stdout, Stderr io.Writer
	Version        string
	// Ready, when not nil, receives the bound addresses once every listener
	// is up (tests use it to learn the ports of ":0" listeners).
	Ready func(Addrs)
}

// Addrs are the addresses the listeners bound.
type Addrs struct {
	Listen, Admin, DNS string
}

// Run starts trustgate and blocks until ctx ends, then shuts down: listeners
// stop accepting, in-flight requests get cfg.ShutdownTimeout to finish.
func Run(ctx context.Context, cfg Config, opts Options) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	log := newLogger(opts.Stderr, cfg.LogLevel)

	st, err := openStore(cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	ca, err := localca.LoadOrCreate(cfg.DataDir)
	if err != nil {
		return err
	}
	defCert, err := ca.DefaultCertificate(cfg.Region, cfg.PublicDomain)
	if err != nil {
		return err
	}
	creds, err := awsapi.LoadOrCreateCredentials(cfg.DataDir)
	if err != nil {
		return err
	}
	accessLog, closeAccessLog, err := openAccessLog(cfg.AccessLog, opts.Stdout)
	if err != nil {
		return err
	}
	defer closeAccessLog()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	// Truststores and CRLs are read from the same place: the embedded
	// object store (in st) or an external S3.
	objs := objects.New(st)
	truststores, err := truststoreSource(ctx, cfg, objs)
	if err != nil {
		return err
	}
	gw, err := edge.New(edge.Config{
		Store:              st,
		Region:             cfg.Region,
		AccountID:          cfg.AccountID,
		PublicDomain:       cfg.PublicDomain,
		DefaultCertificate: defCert,
		Logger:             log.With("component", "edge"),
		AccessLog:          accessLog,
		Registry:           reg,
		CRLSource:          crlSource(cfg, objs, truststores),
		CRLSourceInStore:   cfg.S3 == "embedded",
	})
	if err != nil {
		return err
	}

	publicIP := net.ParseIP(cfg.PublicIP)
	var dnsSrv *dns.Server
	served := func() int64 { return -1 }
	if cfg.DNSListen != "" {
		dnsSrv, err = dns.New(dns.Config{
			Store:        st,
			Region:       cfg.Region,
			PublicDomain: cfg.PublicDomain,
			PublicIP:     publicIP,
			Logger:       log.With("component", "dns"),
			Registry:     reg,
		})
		if err != nil {
			return err
		}
		served = dnsSrv.Revision
	}

	services := map[string]awsapi.Service{
		"apigateway": apigw.New(apigw.Config{
			Store: st, Region: cfg.Region, AccountID: cfg.AccountID, PublicDomain: cfg.PublicDomain,
			Objects: truststores, Logger: log.With("component", "apigateway"),
			CheckDomainTags: edge.ValidateTags, DomainHealth: domainHealth(gw),
		}),
		"acm": acm.New(acm.Config{
			Store: st, Region: cfg.Region, AccountID: cfg.AccountID, Issuer: ca,
			Logger: log.With("component", "acm"),
		}),
		"s3": s3api.New(s3api.Config{Store: st, Objects: objs, Region: cfg.Region, Logger: log.With("component", "s3")}),
		"route53": route53.New(route53.Config{
			Store: st, Region: cfg.Region, PublicDomain: cfg.PublicDomain, PublicIP: publicIP,
			Served: served, Logger: log.With("component", "route53"),
		}),
	}
	admin := awsapi.New(awsapi.Config{
		Credentials: creds,
		Region:      cfg.Region,
		Services:    services,
		Logger:      log, // the endpoint names its own component
		Extra:       promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}),
		Registerer:  reg,
	})

	// Bind every listener before serving anything, so a port clash fails the
	// start instead of leaving a half-up gateway.
	var lc net.ListenConfig
	dataLn, err := lc.Listen(ctx, "tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", cfg.Listen, err)
	}
	adminLn, err := lc.Listen(ctx, "tcp", cfg.AdminListen)
	if err != nil {
		dataLn.Close()
		return fmt.Errorf("--admin-listen %s: %w", cfg.AdminListen, err)
	}
	var (
		dnsPC net.PacketConn
		dnsLn net.Listener
	)
	if dnsSrv != nil {
		if dnsPC, err = lc.ListenPacket(ctx, "udp", cfg.DNSListen); err == nil {
			// Same port for TCP as UDP got, so ":0" works in tests.
			dnsLn, err = lc.Listen(ctx, "tcp", dnsPC.LocalAddr().String())
		}
		if err != nil {
			dataLn.Close()
			adminLn.Close()
			if dnsPC != nil {
				dnsPC.Close()
			}
			return fmt.Errorf("--dns-listen %s: %w", cfg.DNSListen, err)
		}
	}

	followers := []func() int64{gw.Revision}
	if dnsSrv != nil {
		followers = append(followers, dnsSrv.Revision)
	}
	adminSrv := &http.Server{
		Handler:           settle(admin, st, followers...),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	runCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 6)
	goRun := func(name string, f func() error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f(); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, context.Canceled) {
				errc <- fmt.Errorf("%s: %w", name, err)
			}
		}()
	}
	goRun("edge snapshots", func() error { return gw.Run(runCtx) })
	goRun("data plane", func() error { return gw.Serve(dataLn) })
	goRun("management endpoint", func() error { return adminSrv.Serve(adminLn) })
	if dnsSrv != nil {
		goRun("dns snapshots", func() error { return dnsSrv.Run(runCtx) })
		goRun("dns", func() error { return dnsSrv.Serve(dnsPC, dnsLn) })
	}

	addrs := Addrs{Listen: dataLn.Addr().String(), Admin: adminLn.Addr().String()}
	if dnsPC != nil {
		addrs.DNS = dnsPC.LocalAddr().String()
	}
	log.Info("trustgate started", "version", opts.Version, "listen", addrs.Listen, "admin", addrs.Admin,
		"dns", addrs.DNS, "data_dir", cfg.DataDir, "region", cfg.Region, "store", cfg.Store, "s3", cfg.S3)
	if opts.Ready != nil {
		opts.Ready(addrs)
	}

	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	case runErr = <-errc:
		log.Error("stopping after a failure", "err", runErr)
	}
	sctx, scancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer scancel()
	var shutdownErrs []error
	if err := gw.Shutdown(sctx); err != nil {
		shutdownErrs = append(shutdownErrs, fmt.Errorf("data plane shutdown: %w", err))
	}
	if err := adminSrv.Shutdown(sctx); err != nil {
		shutdownErrs = append(shutdownErrs, fmt.Errorf("management shutdown: %w", err))
	}
	if dnsSrv != nil {
		if err := dnsSrv.Shutdown(sctx); err != nil {
			shutdownErrs = append(shutdownErrs, fmt.Errorf("dns shutdown: %w", err))
		}
	}
	cancel()
	wg.Wait()
	log.Info("trustgate stopped")
	return errors.Join(append([]error{runErr}, shutdownErrs...)...)
}

func openStore(cfg Config) (store.Store, error) {
	switch cfg.Store {
	case "bolt":
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("creating data dir %s: %w", cfg.DataDir, err)
		}
		return bolt.Open(filepath.Join(cfg.DataDir, StoreFile))
	case "etcd":
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		return etcdstore.Open(ctx, cfg.EtcdEndpoints, cfg.EtcdPrefix)
	default:
		return nil, fmt.Errorf("--store %s: use bolt or etcd", cfg.Store)
	}
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var lv slog.Level
	lv.UnmarshalText([]byte(strings.ToUpper(level)))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: lv}))
}

func openAccessLog(dest string, stdout io.Writer) (io.Writer, func(), error) {
	switch dest {
	case "off":
		return nil, func() {}, nil
	case "stdout", "-":
		return stdout, func() {}, nil
	}
	f, err := os.OpenFile(dest, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("--access-log %s: %w", dest, err)
	}
	return f, func() { f.Close() }, nil
}

// Env prints the export lines that point the AWS CLI at this gateway.
func Env(cfg Config) (string, error) {
	creds, err := awsapi.LoadOrCreateCredentials(cfg.DataDir)
	if err != nil {
		return "", err
	}
	return creds.EnvLines(cfg.Region, "http://"+clientAddr(cfg.AdminListen)), nil
}

// clientAddr turns a listen address into one a client can dial.
func clientAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}
