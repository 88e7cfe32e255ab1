# Shared by bench/exports.sh, bench/dashboard.sh and bench/xapi.sh (sourced): a cluster (the
# caller's, from PGHOST/PGPORT/PGUSER, or a private throwaway one), a database $BENCH_DB with the
# extension, and a gateway on a free port ($url, pid $gw). Everything is stopped and removed on
# exit unless BENCH_KEEP=1 (then the database stays for another run).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bin=${LMS_GATEWAY_BIN:-$root/gateway/lms-gateway}
own_cluster=""
if [ -z "${PGHOST:-}" ]; then
  make -s -C "$root" >/dev/null && make -s -C "$root" install >/dev/null
  own_cluster=$(mktemp -d /tmp/lms-bench-xapi.XXXXXX)
  "$root/devenv/cluster.sh" init "$own_cluster" "shared_buffers = 2GB" "max_wal_size = 8GB" >/dev/null
  "$root/devenv/cluster.sh" start "$own_cluster" >/dev/null
  eval "$("$root/devenv/cluster.sh" env "$own_cluster")"
fi
export PGDATABASE=$BENCH_DB
work=$(mktemp -d)
gw=""
bench_cleanup() {
  [ -n "$gw" ] && kill -TERM "$gw" 2>/dev/null && wait "$gw" 2>/dev/null || true
  if [ "${BENCH_KEEP:-0}" != 1 ]; then
    PGOPTIONS="-c client_min_messages=warning" psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  if [ -n "$own_cluster" ]; then "$root/devenv/cluster.sh" stop "$own_cluster" >/dev/null 2>&1; rm -rf "$own_cluster"; fi
  rm -rf "$work"
}
trap bench_cleanup EXIT
fresh_db=0
if ! psql -X -d postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$BENCH_DB'" | grep -q 1; then
  psql -X -q -d postgres -c "CREATE DATABASE $BENCH_DB"
  PGOPTIONS="-c client_min_messages=warning" psql -X -q -c "CREATE EXTENSION lms CASCADE"
  fresh_db=1
fi
psql -X -q -c "ALTER ROLE lms_gateway LOGIN" >/dev/null
start_gateway() {
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  url="http://127.0.0.1:$port"
  LMS_DATABASE_URL="user=lms_gateway host=$PGHOST port=$PGPORT dbname=$PGDATABASE" \
  LMS_LISTEN="127.0.0.1:$port" LMS_LOGIN_RATE=1000000 LMS_ACCESS_LOG=off LMS_LOG_LEVEL=warn \
  LMS_MAX_CLIENT_CONNECTIONS=0 LMS_MAX_BODY=4M "$bin" >"$work/gateway.log" 2>&1 &
  gw=$!
  for _ in $(seq 1 100); do curl -fs "$url/health" >/dev/null 2>&1 && break; sleep 0.1; done
}
# a login token for an email (password 'bench-password')
token_for() {
  curl -fs -X POST -H 'Content-Type: application/json' -H "X-Forwarded-For: 10.9.$((RANDOM % 250)).$((RANDOM % 250))" \
    -d "{\"email\":\"$1\",\"password\":\"bench-password\"}" "$url/api/v1/auth/login" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
machine() {
  echo "   $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM, PostgreSQL $(psql -XAtc 'SHOW server_version'), load: $(cut -d' ' -f1-3 /proc/loadavg)"
}
