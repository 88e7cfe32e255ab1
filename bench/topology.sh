#!/usr/bin/env bash
# The topology benchmark: read-your-writes through two gateways on an asynchronous hot standby
# (k6, 1,000 learners, 60 s: stale reads and the standby's share of reads), direct vs PgBouncer
# (wrk, req/s and p99), and 1,000 client connections from two gateways over 20 server
# connections. Starts and stops every server itself (bench/topology/run.py says how); prints
# its figures and the commands that made them.
#   bench/topology.sh                       BENCH_SECONDS=60 BENCH_VUS=1000 BENCH_WRK_SECONDS=15
#   BENCH_ONLY=1 BENCH_SECONDS=20 bench/topology.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/devenv/deps.sh"
make -s -C "$root" >/dev/null && make -s -C "$root" install >/dev/null
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
exec python3 "$root/bench/topology/run.py"
