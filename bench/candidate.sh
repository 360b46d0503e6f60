#!/usr/bin/env bash
# bench/candidate.sh: trustgate as the candidate of ../shared/bench/run.sh.
#
#   ../shared/bench/run.sh --candidate bench/candidate.sh --candidate-port 28450
#
# Run from the repository root. It builds trustgate, starts it on
# 127.0.0.1:$BENCH_PORT with a fresh data dir under $BENCH_WORK, configures
# it through the management API with the AWS SDK (bench/configure), and then
# waits on the gateway. Access logging stays at its default (stdout, into the
# harness's log); BENCH_ACCESS_LOG=off turns it off for the second run.
set -euo pipefail
export PATH="/usr/local/go/bin:$PATH"
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
work=${BENCH_WORK:?run me from shared/bench/run.sh}
bin="$work/bin"
mkdir -p "$bin"
(cd "$root" && go build -o "$bin/trustgate" ./cmd/trustgate && go build -o "$bin/configure" ./bench/configure)
# BENCH_CPUPROFILE=FILE runs the same serve path under a CPU profile
# (bench/gwprof); the profile is written when the harness stops the gateway.
serve=("$bin/trustgate" serve)
if [ -n "${BENCH_CPUPROFILE:-}" ]; then
	(cd "$root" && go build -o "$bin/gwprof" ./bench/gwprof)
	serve=("$bin/gwprof" -cpuprofile "$BENCH_CPUPROFILE-$BENCH_KEYTYPE")
	# What trustgate serve adds to GODEBUG itself (cmd/trustgate/sysmon.go).
	export GODEBUG="${GODEBUG:-schedtrace=2147483647}"
fi

# The Go runtime setting recommended for a gateway (docs/performance.md):
# its live heap is small, so a higher GOGC trades a few MB for fewer
# collections. Set GOGC to override.
export GOGC="${GOGC:-400}"

data="$work/trustgate-data"
rm -rf "$data"
admin_port=$((BENCH_PORT + 1000))
export TRUSTGATE_DATA_DIR="$data" TRUSTGATE_ADMIN_LISTEN="127.0.0.1:$admin_port"
"${serve[@]}" --listen "127.0.0.1:$BENCH_PORT" --access-log "${BENCH_ACCESS_LOG:-stdout}" --log-level warn &
gw=$!
trap 'kill -TERM $gw 2>/dev/null; wait $gw' EXIT TERM INT

for _ in $(seq 100); do
	curl -fsS "http://127.0.0.1:$admin_port/readyz" >/dev/null 2>&1 && break
	kill -0 $gw || exit 1
	sleep 0.1
done
eval "$("$bin/trustgate" env)"
"$bin/configure" -endpoint "http://127.0.0.1:$admin_port" -backend "$BENCH_BACKEND" \
	-cert "$BENCH_SERVER_CERT" -key "$BENCH_SERVER_KEY" -truststore "$BENCH_TRUSTSTORE"
wait $gw
