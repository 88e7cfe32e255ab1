#!/usr/bin/env bash
# A pool with dead slots (issue 10): LMS_POOL_SIZE=8 against a server that takes only 3 of
# the gateway's connections (a role with CONNECTION LIMIT 3, refused exactly as a full
# max_connections is: SQLSTATE 53300), beside LMS_POOL_SIZE=3 on the same limit, alternating
# ROUNDS times. wrk, 32 connections, GET /api/v1/courses?limit=5, DURATION seconds each.
# Target: 0 x 503 and the pool of 8 within 20 % of the pool of 3 (2xx answers per second,
# median of the rounds).
#   make bench-pool_dead_slots [DURATION=10] [ROUNDS=3]
set -uo pipefail
cd "$(dirname "$0")/.."
secs=${DURATION:-10}; rounds=${ROUNDS:-3}
cluster=$(mktemp -d /tmp/lms-pool-bench.XXXXXX)
gw=""
trap '[ -n "$gw" ] && kill $gw 2>/dev/null; devenv/cluster.sh stop "$cluster" >/dev/null 2>&1; rm -rf "$cluster"' EXIT
devenv/cluster.sh init "$cluster" >/dev/null && devenv/cluster.sh start "$cluster" >/dev/null || exit 1
eval "$(devenv/cluster.sh env "$cluster")"
psql -X -q -d postgres -c "CREATE DATABASE lms_pool" >/dev/null
psql -X -q -d lms_pool -c "SET client_min_messages = warning" -c "CREATE EXTENSION lms CASCADE" \
  -c "CREATE ROLE lms_gw3 LOGIN CONNECTION LIMIT 3 IN ROLE lms_gateway" >/dev/null || exit 1
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
echo "# bench/pool_dead_slots.sh: DURATION=$secs ROUNDS=$rounds; load $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A rates
for r in $(seq 1 "$rounds"); do
  for size in 8 3; do
    LMS_DATABASE_URL="host=$PGHOST port=$PGPORT dbname=lms_pool user=lms_gw3" LMS_LISTEN=127.0.0.1:$port \
      LMS_POOL_SIZE=$size LMS_MAX_CLIENT_CONNECTIONS=0 LMS_LOG_LEVEL=error "${LMS_GATEWAY_BIN:-gateway/lms-gateway}" &
    gw=$!
    for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/ready" >/dev/null 2>&1 && break; sleep 0.1; done
    sleep 1   # let the background reconnects meet the limit
    out=$(wrk -t2 -c32 -d"${secs}s" --latency "http://127.0.0.1:$port/api/v1/courses?limit=5" 2>&1)
    kill $gw; wait $gw 2>/dev/null; gw=""
    non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}'); non2xx=${non2xx:-0}
    total=$(echo "$out" | awk '/requests in/ {print $1}')
    rps=$(echo "scale=1; ($total - $non2xx) / $secs" | bc)   # answered with 2xx, per second
    p99=$(echo "$out" | awk '$1=="99%" {print $2}')
    echo "round $r pool $size: $rps 2xx/s, p99 $p99, non-2xx $non2xx of $total"
    rates[$size]="${rates[$size]:-} $rps"
    [ "$non2xx" = 0 ] || bad503=1
  done
done
med() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
m8=$(echo "${rates[8]}" | med); m3=$(echo "${rates[3]}" | med)
ratio=$(echo "scale=3; $m8 / $m3" | bc)
ok=$(echo "$ratio >= 0.8" | bc)
echo "median pool 8 (5 dead slots): $m8 2xx/s; pool 3: $m3 2xx/s; ratio $ratio -> within 20 %: $([ "$ok" = 1 ] && echo met || echo MISSED); 503s: $([ -z "${bad503:-}" ] && echo "0 (met)" || echo "some (MISSED)")"
echo "# load $(cut -d' ' -f1-3 /proc/loadavg); command: DURATION=$secs ROUNDS=$rounds bench/pool_dead_slots.sh"
[ "$ok" = 1 ] && [ -z "${bad503:-}" ]
