#!/usr/bin/env bash
# `make bench-side-by-side`: lms-gateway next to the Node 20 + Fastify 5 + pg + ioredis peer
# (../shared/peers/node-fastify), measured in one run by the shared harness
# (../shared/bench/compare: wrk, 32 connections, 10 s x 3 rounds interleaved, gzip, a token on
# every read), then the machine's limit in the same run: wrk on GET /ready (one trivial prepared
# SELECT through the gateway and its pool) and GET /health (no database), same settings; then a
# tail check of GET /gamification/me (wrk plain and at nice -n -10, the gateway's own share of
# requests above 10 ms): how much of its p99 is wrk waiting for a core.
# Prints the harness's table, then one table of medians, ratios and p99 with the issue's targets,
# the tail check, and the command that made it.
#
# Everything is set up from scratch the first time and reused afterwards (under SBS_WORK):
#   peers/          a copy of ../shared/peers (npm ci writes node_modules beside the Node peer;
#                   ../shared is read-only), its run.sh pointed at SBS_WORK and the ports below
#   peer-node/      the peer's own PostgreSQL cluster, Redis and pid files, seeded once with the
#                   peer README's data set (10,000 learners)
#   pg/             lms's cluster (shared_preload_libraries = 'pg_stat_statements,lms'), database
#                   lms_small from `make bench-data SCALE=small` (10,000 learners), made once
#   results/        the harness's data files (tokens) and one folder per run
# lms is built and installed first (`make install`; the cluster restarts to load the new library
# and `ALTER EXTENSION lms UPDATE` runs). Both servers are stopped at the end unless KEEP=1.
#
# Settings (environment): SBS_WORK (default /tmp/lms-side-by-side), PEERS (../shared/peers),
# HARNESS (../shared/bench), LMS_PORT (8083), PEER_PORT (8002), PEER_PG_PORT (55434),
# PEER_REDIS_PORT (56380), LIMIT_ROUNDS (3), TAIL_CHECK (1; 0 skips it), TAIL_ROUNDS (2), CHART_DATA (a folder, e.g. docs/charts: the run's
# side_by_side.tsv is copied there for `make charts`); any argument goes to compare as it is, e.g.
#   bench/side_by_side.sh --scenarios leaderboard,gamification_me --rounds 5
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
work=${SBS_WORK:-/tmp/lms-side-by-side}
peers_src=${PEERS:-$root/../shared/peers}
harness=${HARNESS:-$root/../shared/bench}
lms_port=${LMS_PORT:-8083}
peer_port=${PEER_PORT:-8002}
peer_pg_port=${PEER_PG_PORT:-55434}
peer_redis_port=${PEER_REDIS_PORT:-56380}
limit_rounds=${LIMIT_ROUNDS:-3}
db=lms_small
[ -x "$harness/compare" ] || { echo "side-by-side: no harness at $harness (set HARNESS=)" >&2; exit 2; }
[ -d "$peers_src/node-fastify" ] || { echo "side-by-side: no Node peer at $peers_src (set PEERS=)" >&2; exit 2; }
mkdir -p "$work/results"
chmod o+x "$work" 2>/dev/null || true
command_line="$0 $*"
log() { echo "side-by-side: $*" >&2; }

# ---- the Node peer: copy, point at our folder and ports, set up, seed once, start -------------
peer=$work/peers/node-fastify
if [ ! -f "$peer/run.sh" ]; then
  log "copying the peers from $peers_src"
  mkdir -p "$work/peers"
  cp -r "$peers_src/." "$work/peers/"
  chmod -R u+w "$work/peers"
fi
sed -i -E "s|^STATE=.*|STATE=$work/peer-node|; s|^PGPORT=.*|PGPORT=$peer_pg_port|; \
  s|^REDIS_PORT=.*|REDIS_PORT=$peer_redis_port|; s|^APP_PORT=.*|APP_PORT=$peer_port|" "$peer/run.sh"
seed_args=(--users 10000 --courses 50 --modules-per-course 5 --lessons-per-module 6 --enrollments-per-user 3 --progress-fraction 0.3)
if [ ! -f "$work/peer-node/seeded" ] || [ "$(cat "$work/peer-node/seeded")" != "${seed_args[*]}" ]; then
  log "setting the Node peer up and seeding it (${seed_args[*]})"
  "$peer/run.sh" setup
  "$peer/run.sh" seed "${seed_args[@]}"
  echo "${seed_args[*]}" >"$work/peer-node/seeded"
  rm -f "$work/results/data/node-"*   # its sessions went with the old data
fi
"$peer/run.sh" start >&2

# ---- lms: build, install, cluster, data once, gateway ------------------------------------------
"$root/devenv/deps.sh"
log "building and installing lms"
make -s -C "$root" >/dev/null && make -s -C "$root" install >/dev/null
"$root/devenv/cluster.sh" init "$work/pg" "shared_preload_libraries = 'pg_stat_statements,lms'" >/dev/null
"$root/devenv/cluster.sh" restart "$work/pg" >/dev/null 2>&1 || "$root/devenv/cluster.sh" start "$work/pg"
eval "$("$root/devenv/cluster.sh" env "$work/pg")"
export PGDATABASE=$db
if ! psql -X -At -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1 \
   || [ "$(psql -X -At -c "SELECT count(*) FROM lms.users WHERE role = 'student'" 2>/dev/null)" != 10000 ]; then
  log "generating lms data (make bench-data SCALE=small, about a minute)"
  FRESH=1 "$root/bench/data/generate.sh" small >"$work/bench-data.log" 2>&1 || { tail -20 "$work/bench-data.log"; exit 1; }
  rm -f "$work/results/data/lms-"*
fi
psql -X -q -c "SET client_min_messages = warning" -c "ALTER EXTENSION lms UPDATE" -c "ALTER ROLE lms_gateway LOGIN"
gw_pid=
stop_all() {
  if [ -n "$gw_pid" ]; then kill "$gw_pid" 2>/dev/null; wait "$gw_pid" 2>/dev/null || true; fi
  if [ "${KEEP:-0}" != 1 ]; then
    "$peer/run.sh" stop >&2 || true
    "$root/devenv/cluster.sh" stop "$work/pg" >/dev/null 2>&1 || true
  fi
}
trap stop_all EXIT
if curl -fs "http://127.0.0.1:$lms_port/health" >/dev/null 2>&1; then
  echo "side-by-side: something already listens on $lms_port (LMS_PORT=)" >&2; exit 1
fi
ulimit -n 65536 2>/dev/null || true
LMS_DATABASE_URL="host=$PGHOST port=$PGPORT dbname=$db user=lms_gateway" LMS_LISTEN=127.0.0.1:$lms_port \
  LMS_LOGIN_RATE=1000000 LMS_ACCESS_LOG=off LMS_LOG_LEVEL=warn LMS_MAX_CLIENT_CONNECTIONS=0 \
  "$root/gateway/lms-gateway" >"$work/gateway.log" 2>&1 &
gw_pid=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$lms_port/ready" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "http://127.0.0.1:$lms_port/ready" >/dev/null || { tail -5 "$work/gateway.log"; exit 1; }

# ---- the comparison, then the machine's limit ---------------------------------------------------
out=$work/results/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
uptime >"$out/uptime-before.txt"
log "compare (this takes about 15 minutes with the defaults)"
BENCH_RESULTS=$work/results python3 "$harness/compare" --a lms=http://127.0.0.1:$lms_port \
  --b node=http://127.0.0.1:$peer_port --login-workers 2 --out "$out" "$@" | tee "$out/compare.txt" >&2 || true
# the same wrk settings as the harness (it records them in compare.json)
read -r dur conns threads < <(python3 -c 'import json, sys; s = json.load(open(sys.argv[1]))["settings"]
print(s["duration"], s["connections"], s["threads"])' "$out/compare.json")
for path in /ready /health; do
  name=${path#/}
  for r in $(seq 1 "$limit_rounds"); do
    wrk -t"$threads" -c"$conns" -d"${dur}s" --latency "http://127.0.0.1:$lms_port$path" >"$out/limit-$name-$r.txt" 2>&1 || true
    sleep 1
  done
done

# ---- where /gamification/me's p99 is spent: the gateway's own share above 10 ms (its /metrics
# histogram) and wrk's p99, plain and with wrk favoured by the scheduler (nice -n -10), rounds
# alternating; wrk waiting for a core beside the server's threads shows as the difference --------
tail_check() {
  local data route='route="/api/v1/gamification/me"' r mode before after
  data=$(ls "$work"/results/data/lms-127.0.0.1_"$lms_port"-*.data 2>/dev/null | head -1 || true)
  [ -n "$data" ] || { echo "   tail check: no harness data file for lms (skipped)"; return 0; }
  gw_counts() { { curl -fs "http://127.0.0.1:$lms_port/metrics" || true; } | awk -v r="$route" \
    'index($0, r) && /_bucket/ && /le="0.01"/ {b = $NF} index($0, r) && /_count/ {c = $NF} END {print b + 0, c + 0}'; }
  for r in $(seq 1 "${TAIL_ROUNDS:-2}"); do
    for mode in plain nice; do
      local cmd=(wrk -t"$threads" -c"$conns" -d"${dur}s" --timeout 5s -s "$harness/lua/gamification_me.lua" "http://127.0.0.1:$lms_port")
      if [ "$mode" = nice ]; then
        nice -n -10 true 2>/dev/null || { echo "   tail check: nice -n -10 needs privileges (skipped)"; continue; }
        cmd=(nice -n -10 "${cmd[@]}")
      fi
      before=$(gw_counts)
      BENCH_DATA=$data "${cmd[@]}" >"$out/tail-$mode-$r.txt" 2>&1 || true
      after=$(gw_counts)
      python3 - "$out/tail-$mode-$r.txt" "$mode" "$before" "$after" <<'EOF'
import json, re, sys
m = re.search(r'LMSBENCH_RESULT (\{.*\})', open(sys.argv[1]).read())
lat = json.loads(m.group(1))["latency_ms"] if m else {}
(b0, c0), (b1, c1) = [map(float, s.split()) for s in sys.argv[3:5]]
share = 100.0 * ((c1 - c0) - (b1 - b0)) / (c1 - c0) if c1 > c0 else float("nan")
print(f"   tail check, wrk {sys.argv[2]:<5}: p50 {lat.get('p50', 0):.1f}  p99 {lat.get('p99', 0):.1f}  "
      f"p99.9 {lat.get('p999', 0):.1f} ms; in the gateway {share:.2f} % of these requests above 10 ms")
EOF
    done
  done
}
[ "${TAIL_CHECK:-1}" = 0 ] || tail_check | tee "$out/tail.txt"
uptime >"$out/uptime-after.txt"
python3 "$here/side_by_side_report.py" "$out" "$command_line" | tee "$out/summary.txt"
[ -s "$out/tail.txt" ] && cat "$out/tail.txt"
if [ -n "${CHART_DATA:-}" ]; then cp "$out/side_by_side.tsv" "$CHART_DATA/" && echo "chart data: $CHART_DATA/side_by_side.tsv (then: make charts)"; fi
