#!/usr/bin/env bash
# What the xAPI statements lms emits for its own events cost the progress write (issue 16,
# docs/performance.md). The same build with lms.xapi_emit on and off, rounds alternating so the
# machine's other load falls on both alike, fresh learners in every run:
#   1. heartbeats through SQL: 16 pgbench clients, each a learner watching 10-minute videos
#      (a heartbeat every 5 s: 120 writes per lesson, reaching 25/50/75 % and the completion)
#   2. the worst case: every write is a learner's first on a lesson, at 30 % (each one emits)
#   3. heartbeats through the gateway: POST /api/v1/progress/lessons/{id}, wrk, 16 connections
# Prints tps (and p50/p99 for the gateway), statements per 1,000 writes, and on/off ratios.
#   bench/xapi_emit.sh          EMIT_LEARNERS=20000 EMIT_LESSONS=200 BENCH_SECONDS=15 ROUNDS=3 CLIENTS=16
BENCH_DB=${BENCH_DB:-lms_bench_emit}
source "$(dirname "$0")/xapi/common.sh"
here=$(cd "$(dirname "$0")" && pwd)
learners=${EMIT_LEARNERS:-20000}
lessons=${EMIT_LESSONS:-200}
secs=${BENCH_SECONDS:-15}
rounds=${ROUNDS:-3}
clients=${CLIENTS:-16}
conns=${BENCH_CONNECTIONS:-16}
per_gateway_run=$((conns * 4))

echo "== the statements lms emits, on the progress write (lms.xapi_emit on / off)"
machine
if [ "$fresh_db" = 1 ]; then
  psql -X -q -v learners="$learners" -v lessons="$lessons" -f "$here/xapi/emit_data.sql" >/dev/null
fi
first=$(psql -XAtc "SELECT min(id) FROM lms.users WHERE email LIKE 'emit%@example.com' AND role = 'student'")
lesson_lo=$(psql -XAtc "SELECT min(l.id) FROM lms.lessons l JOIN lms.courses c ON c.id = l.course_id WHERE c.slug = 'emit-course'")
next=$first                   # the next learner no run has used
statements() { psql -XAtc "SELECT count(*) FROM lms.xapi_statements"; }
tps_of() { sed -nE 's/^tps = ([0-9.]+).*/\1/p' "$1" | cut -d. -f1; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# 1 and 2: pgbench scripts; :first is the run's first learner, -D n=0 each client's counter
cat >"$work/heartbeat.sql" <<EOF
\\set n :n + 1
\\set step :n % 120 + 1
\\set sec :step * 5
\\set pct :step * 100 / 120
\\set lesson $lesson_lo + (:n / 120) % $lessons
\\set learner :first + :client_id
SELECT lms.record_progress(:learner, :lesson, :sec, :sec, :pct);
EOF
cat >"$work/first_write.sql" <<EOF
\\set n :n + 1
\\set lesson $lesson_lo + :n % $lessons
\\set learner :first + :client_id + $clients * (:n / $lessons)
SELECT lms.record_progress(:learner, :lesson, 180, 180, 30);
EOF
# One run on fresh learners; sets $t (tps) and $s (statements per 1,000 writes). Not in a
# subshell: it moves $next on.
pg_run() {  # pg_run on|off SCRIPT
  local mode=$1 script=$2 before after n
  before=$(statements)
  PGOPTIONS="-c lms.xapi_emit=$mode" pgbench -n -M prepared -c "$clients" -j 2 -T "$secs" -D n=0 -D first="$next" \
    -f "$work/$script.sql" >"$work/pg.out" 2>&1 || { cat "$work/pg.out"; exit 1; }
  after=$(statements)
  n=$(sed -nE 's/^number of transactions actually processed: ([0-9]+).*/\1/p' "$work/pg.out")
  # the first-write script moves on by $clients learners every $lessons writes of a client
  next=$((next + clients * (1 + n / (clients * lessons) + 1)))
  t=$(tps_of "$work/pg.out")
  s=$(( (after - before) * 1000 / (n > 0 ? n : 1) ))
}
compare() {  # compare SCRIPT LABEL ROUNDS
  local script=$1 label=$2 r on=() off=() son=() soff=() x
  echo "-- $label ($3 alternating rounds of ${secs}s, $clients clients, pgbench -M prepared)"
  for r in $(seq 1 "$3"); do
    for mode in $([ $((r % 2)) = 1 ] && echo "on off" || echo "off on"); do
      pg_run "$mode" "$script"
      if [ "$mode" = on ]; then on+=("$t"); son+=("$s"); else off+=("$t"); soff+=("$s"); fi
      printf '   round %d  emit %-3s %7s tps  %4s statements per 1,000 writes\n' "$r" "$mode" "$t" "$s"
    done
  done
  x=$(echo "scale=3; $(median "${on[@]}") / $(median "${off[@]}")" | bc)
  printf '   median: on %s tps, off %s tps: on/off %s\n' "$(median "${on[@]}")" "$(median "${off[@]}")" "$x"
}
compare heartbeat "1. heartbeats through SQL" "$rounds"
compare first_write "2. every write a learner's first on a lesson at 30 % (every write emits)" 1

# 3: the gateway; emission is switched for the database and the gateway restarted (new sessions)
echo "-- 3. heartbeats through the gateway ($rounds alternating rounds of ${secs}s, wrk -t2 -c$conns)"
gw_run() {  # gw_run on|off: sets rps p50 p99 s bad (not in a subshell: it moves $next on)
  local mode=$1 before after n
  psql -X -q -c "ALTER DATABASE $BENCH_DB SET lms.xapi_emit = $mode"
  psql -X -At -c "SELECT body::jsonb->>'access_token' FROM lms.users u,
                    LATERAL lms.api_auth_login(NULL, NULL, '{}', jsonb_build_object('email', u.email, 'password', 'bench-password'))
                   WHERE u.role = 'student' AND u.id >= $next ORDER BY u.id LIMIT $per_gateway_run" >"$work/tokens"
  next=$((next + per_gateway_run))
  [ -n "$gw" ] && { kill -TERM "$gw"; wait "$gw" 2>/dev/null || true; gw=""; }
  start_gateway
  before=$(statements)
  wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$here/xapi/heartbeat.lua" "$url" -- "$work/tokens" "$lesson_lo" "$lessons" 2 >"$work/wrk.out" 2>&1
  after=$(statements)
  rps=$(awk '/Requests\/sec/{print int($2)}' "$work/wrk.out")
  n=$(awk '/requests in/{print $1}' "$work/wrk.out")
  p50=$(awk '$1=="50%"{print $2}' "$work/wrk.out")
  p99=$(awk '$1=="99%"{print $2}' "$work/wrk.out")
  bad=$(awk '/Non-2xx/{print $NF}' "$work/wrk.out")
  bad=${bad:-0}
  s=$(( (after - before) * 1000 / (n > 0 ? n : 1) ))
}
gon=(); goff=()
for r in $(seq 1 "$rounds"); do
  for mode in $([ $((r % 2)) = 1 ] && echo "on off" || echo "off on"); do
    gw_run "$mode"
    if [ "$mode" = on ]; then gon+=("$rps"); else goff+=("$rps"); fi
    printf '   round %d  emit %-3s %7s req/s  p50 %7s  p99 %7s  %4s statements per 1,000 writes  non-2xx %s\n' \
      "$r" "$mode" "$rps" "$p50" "$p99" "$s" "$bad"
  done
done
psql -X -q -c "ALTER DATABASE $BENCH_DB RESET lms.xapi_emit"
printf '   median: on %s req/s, off %s req/s: on/off %s\n' "$(median "${gon[@]}")" "$(median "${goff[@]}")" \
  "$(echo "scale=3; $(median "${gon[@]}") / $(median "${goff[@]}")" | bc)"
echo "   load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "command: bench/xapi_emit.sh (EMIT_LEARNERS=$learners EMIT_LESSONS=$lessons BENCH_SECONDS=$secs ROUNDS=$rounds CLIENTS=$clients BENCH_CONNECTIONS=$conns), $(date -u +%F), $(nproc) cores"
