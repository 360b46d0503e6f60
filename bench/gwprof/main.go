// Command gwprof runs trustgate's serve path (app.Run) under a CPU profile,
// for bench/candidate.sh when BENCH_CPUPROFILE names the profile file. It
// exists only for the benchmark: the product binary has no profiling hook.
//
//	gwprof -cpuprofile FILE -listen ADDR -access-log stdout|off
//
// The rest of the configuration comes from TRUSTGATE_* like trustgate serve
// (TRUSTGATE_DATA_DIR, TRUSTGATE_ADMIN_LISTEN). The profile is written when
// the process gets SIGTERM or SIGINT.
package main

import (
	"context"
	"flag"
	"log"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"trustgate/internal/app"
)

func main() {
	cfg := app.Default()
	prof := flag.String("cpuprofile", "", "CPU profile file")
	flag.StringVar(&cfg.Listen, "listen", cfg.Listen, "data plane listener")
	flag.StringVar(&cfg.AccessLog, "access-log", cfg.AccessLog, "stdout, off or a file")
	flag.StringVar(&cfg.LogLevel, "log-level", "warn", "log level")
	flag.Parse()
	if v := os.Getenv("TRUSTGATE_DATA_DIR"); v != "" {
		cfg.DataDir = v
	}
	if v := os.Getenv("TRUSTGATE_ADMIN_LISTEN"); v != "" {
		cfg.AdminListen = v
	}
	f, err := os.Create(*prof)
	if err != nil {
		log.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = app.Run(ctx, cfg, app.Options{Stdout: os.Stdout, Stderr: os.Stderr})
	pprof.StopCPUProfile()
	_ = f.Close()
	if err != nil {
		log.Fatal(err)
	}
}
