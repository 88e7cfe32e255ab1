#!/usr/bin/env bash
# The LRS at scale (docs/xapi.md, docs/performance.md): BENCH_STATEMENTS statements (default
# 10,000,000; 100,000 learners, 10,000 activities) generated set-based (bench/xapi/generate.sql),
# then through the gateway with wrk:
#   1. POST batches of 100 new statements (BENCH_CONNECTIONS=4 connections): p50/p95/p99
#   2. GET with an agent filter, and with an activity filter (limit 10 and 100): p50/p95/p99
#   3. `more` paging: the time of pages 1..20 from the newest end and of 20 pages from a
#      cursor at the oldest end of the whole store, and of every page of one activity
# Before measuring, the statements, their link tables and the indexes (17 GB at 10M) are read
# into the OS cache, as a server sized for its store keeps them in memory (PREWARM=0 measures with
# whatever the cache holds: after other work, most pages come from disk).
# Prints the figures and the commands; the database is dropped at the end (BENCH_KEEP=1 keeps it).
BENCH_DB=${BENCH_DB:-lms_bench_xapi}
source "$(dirname "$0")/xapi/common.sh"
n=${BENCH_STATEMENTS:-10000000}
agents=${BENCH_AGENTS:-100000}
activities=${BENCH_ACTIVITIES:-10000}
secs=${BENCH_SECONDS:-15}
conns=${BENCH_CONNECTIONS:-4}
here=$(cd "$(dirname "$0")" && pwd)

echo "== xAPI statements at scale"
machine
if [ "$fresh_db" = 1 ]; then
  t0=$(date +%s)
  psql -X -q -v n="$n" -v agents="$agents" -v activities="$activities" -f "$here/xapi/generate.sql"
  echo "   generated $n statements in $(( $(date +%s) - t0 )) s: $(psql -XAtc "SELECT pg_size_pretty(sum(pg_total_relation_size(c))) FROM unnest(ARRAY['lms.xapi_statements','lms.xapi_statement_agents','lms.xapi_statement_activities']::regclass[]) c")"
fi
echo "   $(psql -XAtc 'SELECT count(*) FROM lms.xapi_statements') statements stored"
if [ "${PREWARM:-1}" = 1 ]; then
  t0=$(date +%s)
  psql -X -q -c "SET client_min_messages = warning" -c "CREATE EXTENSION IF NOT EXISTS pg_prewarm"
  # the tables first, then their indexes: what is read last stays in the cache
  pages=$(psql -XAtc "WITH t(r) AS (VALUES ('lms.xapi_statements'::regclass), ('lms.xapi_statement_agents'), ('lms.xapi_statement_activities'))
    SELECT (SELECT sum(pg_prewarm(r, 'read')) FROM t) + (SELECT sum(pg_prewarm(i.indexrelid, 'read')) FROM pg_index i JOIN t ON i.indrelid = t.r)")
  echo "   the statements, link tables and their indexes read into the OS cache first (pg_prewarm 'read'): $((pages / 128)) MB in $(( $(date +%s) - t0 )) s"
fi
read -r key secret < <(psql -X -At -F ' ' -c "SELECT key, secret FROM lms.xapi_create_client('bench')")
auth="Basic $(printf '%s:%s' "$key" "$secret" | base64 -w0)"
start_gateway

run() { # label script args...
  local label=$1 script=$2; shift 2
  local cmd=(wrk -t2 -c"$conns" -d"${secs}s" --timeout 10s -s "$here/xapi/$script" "$url" -- "$@")
  echo "   \$ wrk -t2 -c$conns -d${secs}s -s bench/xapi/$script $url -- '<Basic auth>' ${*:2}"
  "${cmd[@]}" >"$work/wrk.out" 2>&1 || true
  printf "   %-34s %s\n" "$label" "$(grep '^RESULT' "$work/wrk.out" | sed 's/RESULT //') (ms)"
}
run "POST batch of 100" statements.lua "$auth" post "$activities"
run "GET ?agent= &limit=10" statements.lua "$auth" agent "$agents" 10
run "GET ?agent= &limit=100" statements.lua "$auth" agent "$agents" 100
run "GET ?activity= &limit=10" statements.lua "$auth" activity "$activities" 10
run "GET ?activity= &limit=100" statements.lua "$auth" activity "$activities" 100
echo "   \$ python3 bench/xapi/paging.py $url '<Basic auth>'"
python3 "$here/xapi/paging.py" "$url" "$auth" "$(psql -XAtc 'SELECT min(seq) FROM lms.xapi_statements')"
echo "   load after: $(cut -d' ' -f1-3 /proc/loadavg)"
