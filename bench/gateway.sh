#!/usr/bin/env bash
# Gateway benchmark: prints figures and the exact commands that produced them.
#
# Needs a RUNNING cluster whose database $PGDATABASE holds the lms extension (PGHOST,
# PGPORT, PGUSER = superuser exported, as for tests/http/run.sh) and a built gateway.
#   bench/gateway.sh                      BENCH_SECONDS=10 per run by default
#   LMS_GATEWAY_BIN=... BENCH_SECONDS=30 bench/gateway.sh
#
# 1. Every hot route with wrk at 64 connections (a token on every request, gzip accepted),
#    beside pgbench -M prepared calling the same SQL function with the same arguments at 64
#    clients: GET /gamification/me, POST /progress/lessons/{id}, GET /progress/courses/{id},
#    GET /courses/{id}, GET /courses?page=1&limit=20, GET /leaderboards/global?window=all&limit=50.
#    The summary prints the gateway's share of pgbench's rate per route (target >= 80 %).
# 2. GET /health (no database): the HTTP-only ceiling.
# 3. 1,000 concurrent keep-alive connections on a mixed read load: errors, p99, gateway RSS
#    idle and under load.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
bin=${LMS_GATEWAY_BIN:-$root/gateway/lms-gateway}
secs=${BENCH_SECONDS:-10}
conns=${BENCH_CONNECTIONS:-64}
big=${BENCH_BIG_CONNECTIONS:-1000}
learners=${BENCH_LEARNERS:-64}
threads=$(nproc)
# Without a database named, build and install, and use a private cluster of our own.
own_cluster=""
if [ -z "${PGDATABASE:-}" ]; then
  "$root/devenv/deps.sh"
  make -s -C "$root" >/dev/null && make -s -C "$root" install >/dev/null
  own_cluster=$(mktemp -d /tmp/lms-bench-gw.XXXXXX)
  "$root/devenv/cluster.sh" init "$own_cluster" >/dev/null && "$root/devenv/cluster.sh" start "$own_cluster"
  eval "$("$root/devenv/cluster.sh" env "$own_cluster")"
  export PGDATABASE=lms_bench_gw
  psql -X -q -d postgres -c "CREATE DATABASE $PGDATABASE"
  psql -X -q -c "SET client_min_messages=warning" -c "CREATE EXTENSION lms CASCADE"
fi
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
work=$(mktemp -d)
gw=""
cleanup() {
  [ -n "$gw" ] && kill -TERM "$gw" 2>/dev/null && wait "$gw" 2>/dev/null
  rm -rf "$work"
  if [ -n "$own_cluster" ]; then "$root/devenv/cluster.sh" stop "$own_cluster" >/dev/null 2>&1; rm -rf "$own_cluster"; fi
}
trap cleanup EXIT

psql -X -q -c "ALTER ROLE lms_gateway LOGIN" >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
LMS_DATABASE_URL="user=lms_gateway host=$PGHOST port=$PGPORT dbname=$PGDATABASE" \
LMS_LISTEN="127.0.0.1:$port" LMS_LOGIN_RATE=1000000 LMS_ACCESS_LOG=off LMS_LOG_LEVEL=warn LMS_MAX_CLIENT_CONNECTIONS=0 \
LMS_THREADS=$((big + 100)) \
  "$bin" >"$work/gateway.log" 2>&1 &
gw=$!
for _ in $(seq 1 100); do curl -fs "$url/health" >/dev/null 2>&1 && break; sleep 0.1; done

echo "== lms-gateway benchmark  $(date -u +%Y-%m-%dT%H:%MZ)  $(uname -m), $(nproc) cores, $(awk '/MemTotal/{printf "%.1f GiB", $2/1048576}' /proc/meminfo) RAM"
echo "   gateway $("$bin" --version), pool $(( $(nproc) * 4 )) connections, PostgreSQL $(psql -XAtc 'SHOW server_version')"
python3 "$here/wrk/seed.py" "$url" "$work" "$learners"
lesson=$(sed -n 's/^lesson=//p' "$work/ids")

# wrk: run, print the command, pull req/s, p50, p99, errors
run_wrk() { # label conns script
  local label=$1 c=$2 script=$3
  local cmd=(wrk -t"$threads" -c"$c" -d"${secs}s" --timeout 10s --latency -s "$here/wrk/$script" "$url" -- "$work")
  echo
  echo "-- $label"
  echo "   \$ ${cmd[*]}"
  "${cmd[@]}" >"$work/wrk.out" 2>&1 || true
  local rps p50 p99 non2xx sockerr
  rps=$(awk '/^Requests\/sec/{print $2}' "$work/wrk.out")
  p50=$(awk '$1=="50%"{print $2}' "$work/wrk.out")
  p99=$(awk '$1=="99%"{print $2}' "$work/wrk.out")
  non2xx=$(awk '/Non-2xx/{print $NF}' "$work/wrk.out"); non2xx=${non2xx:-0}
  sockerr=$(grep -o 'Socket errors:.*' "$work/wrk.out" || echo "Socket errors: none")
  printf "   %-12s req/s %10s   p50 %8s   p99 %8s   non-2xx %s   %s\n" "$label" "$rps" "$p50" "$p99" "$non2xx" "$sockerr"
  echo "$label|$rps|$p50|$p99|$non2xx" >>"$work/summary"
}

# pgbench: one script per learner token, so each transaction is one learner's call of FUNCTION
# with PATH and QUERY (progress: a heartbeat body, as progress.lua sends)
run_pgbench() { # label function path query
  local label=$1 fn=$2 path=$3 query=$4 i=0 files=()
  while read -r tok; do
    i=$((i + 1))
    if [ "$fn" = api_progress_record ]; then
      cat >"$work/pg$i.sql" <<SQL
\\set s random(1, 500)
SELECT status, body FROM lms.api_progress_record('$tok', '$lesson', '{}', ('{"watched_seconds":' || :s || ',"last_position_seconds":' || :s || ',"completion_percentage":' || (:s * 80 / 600) || '}')::jsonb);
SQL
    else
      printf "SELECT status, body FROM lms.%s('%s', %s, '%s', NULL);\n" "$fn" "$tok" "$path" "$query" >"$work/pg$i.sql"
    fi
    files+=(-f "$work/pg$i.sql")
  done <"$work/tokens"
  local cmd=(pgbench -n -M prepared -c "$conns" -j "$threads" -T "$secs" -U lms_gateway "$PGDATABASE")
  echo
  echo "-- $label"
  echo "   \$ ${cmd[*]} -f <one script per learner token, $i files>"
  "${cmd[@]}" "${files[@]}" >"$work/pgb.out" 2>&1 || { tail -5 "$work/pgb.out"; return 0; }
  local tps lat
  tps=$(awk '/^tps/{print $3; exit}' "$work/pgb.out")
  lat=$(awk '/^latency average/{print $4 " " $5}' "$work/pgb.out")
  printf "   %-16s tps %12s   latency avg %s\n" "$label" "$tps" "$lat"
  echo "$label|$tps|avg $lat||" >>"$work/summary"
}

echo
echo "== 1. one SQL call per request, $conns connections, ${secs}s each"
course=$(sed -n 's/^course=//p' "$work/ids")
# name | wrk script | ROUTE_PATH | function | path argument (SQL) | query (JSON)
routes=(
  "me|route.lua|/api/v1/gamification/me|api_gamification_me|NULL|{}"
  "progress|progress.lua||api_progress_record||"
  "course_progress|route.lua|/api/v1/progress/courses/{course}|api_progress_course|'$course'|{}"
  "course|route.lua|/api/v1/courses/{course}|api_course_get|'$course'|{}"
  'catalog|route.lua|/api/v1/courses?page=1&limit=20|api_courses_list|NULL|{"page":"1","limit":"20"}'
  'board|route.lua|/api/v1/leaderboards/global?window=all&limit=50|api_leaderboard_global|NULL|{"limit":"50","window":"all"}'
)
for r in "${routes[@]}"; do
  IFS='|' read -r name script rpath fn parg query <<<"$r"
  export ROUTE_PATH=$rpath
  run_wrk "http $name" "$conns" "$script"
  run_pgbench "pgbench $name" "$fn" "$parg" "$query"
done

echo
echo "== 2. HTTP-only ceiling"
run_wrk "health" "$conns" health.lua

echo
echo "== 3. $big concurrent keep-alive connections, mixed reads"
rss_idle=$(awk '/VmRSS/{print $2}' /proc/$gw/status)
( peak=0; while kill -0 $gw 2>/dev/null; do
    r=$(awk '/VmRSS/{print $2}' /proc/$gw/status 2>/dev/null || echo 0); [ "${r:-0}" -gt "$peak" ] && peak=$r
    echo "$peak" >"$work/rss_peak"; sleep 0.5; done ) &
sampler=$!
run_wrk "mixed x$big" "$big" mixed.lua
echo "   \$ python3 bench/wrk/starvation.py $url <state> $big 5"
python3 "$here/wrk/starvation.py" "$url" "$work" "$big" 5 || true
kill $sampler 2>/dev/null || true
rss_peak=$(cat "$work/rss_peak" 2>/dev/null || echo 0)
printf "   gateway RSS idle %d MiB, under %d connections %d MiB (peak sampled every 0.5 s)\n" \
  $((rss_idle / 1024)) "$big" $((rss_peak / 1024))

echo
echo "== summary"
awk -F'|' '{printf "   %-16s %12s  %10s  %10s  %s\n", $1, $2, $3, $4, ($5 != "" ? "non-2xx " $5 : "")}' "$work/summary"
python3 - "$work/summary" <<'EOF'
import sys
rows = {}
for line in open(sys.argv[1]):
    f = line.rstrip("\n").split("|")
    rows[f[0]] = f[1]
print("   gateway / pgbench calling the same function (target >= 80 %):")
for label in [l for l in rows if l.startswith("http ") and "pgbench " + l[5:] in rows]:
    try:
        ratio = "%.0f %%" % (100 * float(rows[label]) / float(rows["pgbench " + label[5:]]))
    except (ValueError, ZeroDivisionError):
        ratio = "n/a"
    print("     %-16s %10s req/s  /  %10s tps  =  %s" % (label[5:], rows[label], rows["pgbench " + label[5:]], ratio))
EOF
if grep -q -i "error" "$work/gateway.log"; then echo "   gateway log:"; grep -i error "$work/gateway.log" | sort | uniq -c | head; fi
