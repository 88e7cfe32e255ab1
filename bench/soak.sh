#!/usr/bin/env bash
# `make soak` (issue 10): the realistic mix for SOAK seconds (default 1800) against a gateway
# with its defaults, PostgreSQL restarted every RESTART_EVERY seconds (default 300), on a
# private throwaway cluster filled by bench/data/generate.sh (SCALE, default tiny).
# Prints gateway RSS, descriptors and backends over time, then the targets (bench/soak.py).
# Not part of `make test`. Output also goes to $SOAK_OUT (default /tmp/lms-soak-<time>.txt).
set -uo pipefail
cd "$(dirname "$0")/.."
out=${SOAK_OUT:-/tmp/lms-soak-$(date -u +%Y%m%dT%H%M%SZ).txt}
cluster=$(mktemp -d /tmp/lms-soak.XXXXXX)
gw=""
cleanup() {
  [ -n "$gw" ] && kill "$gw" 2>/dev/null && wait "$gw" 2>/dev/null
  devenv/cluster.sh stop "$cluster" >/dev/null 2>&1
  rm -rf "$cluster"
}
trap cleanup EXIT
devenv/cluster.sh init "$cluster" >/dev/null && devenv/cluster.sh start "$cluster" >/dev/null || exit 1
eval "$(devenv/cluster.sh env "$cluster")"
export PGDATABASE=lms_soak
bench/data/generate.sh "${SCALE:-tiny}" >"$cluster/generate.log" 2>&1 || { tail -20 "$cluster/generate.log"; exit 1; }
psql -X -q -d postgres -c "ALTER ROLE lms_gateway LOGIN" >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# one load generator on one address: no per-address cap; otherwise the gateway's defaults
LMS_DATABASE_URL="host=$PGHOST port=$PGPORT dbname=$PGDATABASE user=lms_gateway" LMS_LISTEN=127.0.0.1:$port \
  LMS_MAX_CLIENT_CONNECTIONS=0 LMS_LOGIN_RATE=1000000 LMS_LOG_LEVEL=warn "${LMS_GATEWAY_BIN:-gateway/lms-gateway}" \
  >"$cluster/gateway.log" 2>&1 &
gw=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/ready" >/dev/null 2>&1 && break; sleep 0.1; done
BASE_URL=http://127.0.0.1:$port GW_PID=$gw SOAK_CLUSTER=$cluster python3 bench/soak.py | tee "$out"
rc=${PIPESTATUS[0]}
echo "# gateway log: $(grep -c . "$cluster/gateway.log") lines; output in $out"
exit "$rc"
