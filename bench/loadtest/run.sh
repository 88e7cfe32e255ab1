#!/usr/bin/env bash
# `make loadtest SCENARIO=smoke|realistic|video_progress|enrollment_spike|catalog`: the k6
# scenarios of k6/ run with wrk and the Lua scripts beside this file, against a running gateway.
# Prints wrk's own summary, then requests/s, p50/p95/p99 and errors per route, and exits
# non-zero when any answer was unexpected (a status the scenario does not allow, or a socket
# error).
#
#   BASE_URL      the gateway (default http://127.0.0.1:8080, the demo's); loopback only
#   DURATION      how long wrk runs (default 30s; 5s for enrollment_spike)
#   CONNECTIONS   concurrent connections = simulated users (default: smoke 1, realistic 100,
#                 video_progress 1000, enrollment_spike 200, catalog 500)
#   THREADS       wrk threads (default 2)
#   THINK         1: the scenario's think times (default); 0: none, i.e. peak throughput
#   POOL          learners in the token pool (default: max(1000, CONNECTIONS))
#   SEATS         enrollment_spike: seats of the fresh course (default 150 or 3/4 of CONNECTIONS)
#   PG*           the database behind the gateway, for the token pool (default: the demo's)
#   LMS_POOL_DIR  where the pool and the results go (default /tmp/lms-loadtest)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
scenario=${1:-${SCENARIO:-}}
[ -f "$here/$scenario.lua" ] && [ "$scenario" != common ] || {
  echo "usage: make loadtest SCENARIO=smoke|realistic|video_progress|enrollment_spike|catalog" >&2; exit 2; }
base=${BASE_URL:-http://127.0.0.1:8080}
base=${base%/}
case "$base" in
  http://127.*|http://localhost|http://localhost:*|http://\[::1\]*) ;;
  *) echo "loadtest: $base is not a loopback address; load is only sent to this machine" >&2; exit 2 ;;
esac
case "$scenario" in
  smoke) conns=1; dur=5s ;;
  realistic) conns=100; dur=30s ;;
  video_progress) conns=1000; dur=30s ;;
  enrollment_spike) conns=200; dur=5s ;;
  catalog) conns=500; dur=30s ;;
esac
conns=${CONNECTIONS:-$conns}
dur=${DURATION:-$dur}
threads=${THREADS:-2}
[ "$threads" -le "$conns" ] || threads=$conns
pool=${POOL:-$(( conns > 1000 ? conns : 1000 ))}
export LMS_POOL_DIR=${LMS_POOL_DIR:-/tmp/lms-loadtest}
export LMS_LOADTEST_DIR=$here LMS_THREADS=$threads LMS_CONNECTIONS=$conns
mkdir -p "$LMS_POOL_DIR"

if [ -z "${PGHOST:-}" ] && [ -d "$root/.demo/pg" ]; then
  eval "$("$root/devenv/cluster.sh" env "$root/.demo/pg")"
  export PGDATABASE=${PGDATABASE:-lms}
fi

curl -fsS --max-time 5 "$base/ready" >/dev/null || { echo "loadtest: the gateway at $base is not ready" >&2; exit 1; }
POOL=$pool "$here/pool.sh"

extra=()
if [ "$scenario" = enrollment_spike ]; then
  seats=${SEATS:-$(( conns * 3 / 4 > 0 ? conns * 3 / 4 : 1 ))}
  [ "$seats" -lt "$conns" ] || { echo "loadtest: SEATS ($seats) must be below CONNECTIONS ($conns)" >&2; exit 2; }
  [ "$(wc -l <"$LMS_POOL_DIR/learners.tsv")" -ge "$conns" ] || { echo "loadtest: fewer pooled learners than CONNECTIONS" >&2; exit 2; }
  itok=$(awk -F'\t' '$1 == "instructor" {print $4; exit}' "$LMS_POOL_DIR/staff.tsv")
  jget() { python3 -c 'import json, sys; v = json.load(sys.stdin).get(sys.argv[1]); print("null" if v is None else v)' "$1"; }
  api() {  # api METHOD PATH [BODY]: the JSON answer; fails on a non-2xx
    curl -fsS --max-time 10 -X "$1" -H "Authorization: Bearer $itok" -H 'Content-Type: application/json' \
      ${3:+--data-binary "$3"} "$base/api/v1$2"
  }
  course=$(api POST /courses "{\"title\":\"Spike cohort $(date +%s%N)\",\"capacity\":$seats}" | jget id)
  module=$(api POST "/courses/$course/modules" '{"title":"Week 1"}' | jget id)
  api POST "/modules/$module/lessons" '{"title":"Welcome","kind":"video","duration_seconds":60,"video_playback_id":"spike"}' >/dev/null
  api POST "/courses/$course/publish" >/dev/null
  echo "enrollment_spike: course $course with $seats seats, $conns learners enrolling at once"
  export LMS_SPIKE_COURSE=$course LMS_SPIKE_LEARNERS=$conns
fi

out="$LMS_POOL_DIR/$scenario-$(date -u +%Y%m%dT%H%M%SZ).txt"
cmd=(wrk -t "$threads" -c "$conns" -d "$dur" --timeout 10s --latency -s "$here/$scenario.lua" "$base")
echo "command: THINK=${THINK:-1} ${cmd[*]}"
export LMS_ROUTES_FILE="$out.routes"
rm -f "$LMS_ROUTES_FILE"
"${cmd[@]}" | tee "$out"

total=$(awk -F'\t' '$1 == "TOTAL"' "$LMS_ROUTES_FILE" 2>/dev/null || true)
[ -n "$total" ] || { echo "loadtest: wrk printed no per-route figures"; exit 1; }
errors=$(echo "$total" | cut -f4)
socket=$(echo "$total" | cut -f5)
status=0
if [ "$scenario" = enrollment_spike ]; then
  line=$(awk -F'\t' '$1 == "ROUTE" && $2 == "POST /courses/:id/enroll"' "$LMS_ROUTES_FILE")
  created=$(echo "$line" | cut -f9 | tr ' ' '\n' | sed -n 's/^201://p')
  attempts=$(echo "$line" | cut -f3)
  c=$(curl -fsS "$base/api/v1/courses/$course")
  left=$(echo "$c" | jget seats_left)
  count=$(echo "$c" | jget enrollment_count)
  max=$(echo "$line" | cut -f10)
  echo "enrollment_spike: $attempts attempts, ${created:-0} created (want $seats), seats_left $left (want 0), enrollment_count $count (want $seats)"
  echo "enrollment_spike: every attempt answered within $max ms of its send ($(echo "scale=0; $attempts * 1000 / $max" | bc) attempts/s into one course)"
  if [ "$attempts" != "$conns" ] || [ "${created:-0}" != "$seats" ] || [ "$left" != 0 ] || [ "$count" != "$seats" ]; then
    echo "enrollment_spike: SEAT COUNT WRONG"; status=1
  fi
fi
echo "loadtest $scenario: $errors unexpected answers, $socket socket errors (figures in $out)"
[ "$errors" = 0 ] && [ "$socket" = 0 ] || status=1
exit $status
