#!/usr/bin/env bash
# The measurement matrix behind docs/performance.md, for one generated database:
#   bench/loadtest/capacity.sh SCALE      (database lms_<SCALE>, made by
#                                          PGDATABASE=lms_<SCALE> make bench-data SCALE=<SCALE>)
# Starts gateway/lms-gateway on 127.0.0.1:$PORT (default 18080) against that database as
# lms_gateway (login limit lifted, access log off, otherwise the defaults), runs each scenario
# through bench/loadtest/measure.sh and keeps every output in $OUT (default
# /tmp/lms-capacity-<SCALE>). RUN (default 60s) is the length of the runs with think times,
# PEAK (default 30s) of the runs without, SMOKE (default 20s) of the smoke pass (long enough
# for every route at 1M learners, where an analytics call takes 0.5-4 s); LMS_GATEWAY_BIN
# another gateway binary; ONLY="run run..." runs just those (names below). Each figure of the
# report names its file here.
# k6's own figures: when a k6 binary is at hand (K6=, k6 on PATH, or ../shared/tools/k6), each
# scenario of k6/ also runs on real k6 with the shape of its wrk twin (k6-<run>.txt: the same
# users, duration and think times, the token pools of bench/loadtest/pool.sh, login limit lifted),
# right after it; K6=none skips them.
set -uo pipefail
cd "$(dirname "$0")/../.."
scale=${1:?usage: capacity.sh SCALE}
db=${DB:-lms_$scale}
port=${PORT:-18080}
run=${RUN:-60s}
peak=${PEAK:-30s}
peak_conns=${PEAK_CONNECTIONS:-16}
out=${OUT:-/tmp/lms-capacity-$scale}
mkdir -p "$out"
export PGDATABASE=$db BASE_URL=http://127.0.0.1:$port LMS_POOL_DIR=$out/pool

psql -X -q -d postgres -c "ALTER ROLE lms_gateway LOGIN" >/dev/null
LMS_DATABASE_URL="host=$PGHOST port=$PGPORT dbname=$db user=lms_gateway" LMS_LISTEN=127.0.0.1:$port \
  LMS_LOGIN_RATE=1000000 LMS_ACCESS_LOG=off LMS_MAX_CLIENT_CONNECTIONS=0 "${LMS_GATEWAY_BIN:-gateway/lms-gateway}" >"$out/gateway.log" 2>&1 &
gw=$!
trap 'kill $gw 2>/dev/null; wait $gw 2>/dev/null' EXIT
for _ in $(seq 1 50); do curl -fs "$BASE_URL/ready" >/dev/null 2>&1 && break; sleep 0.2; done
export GATEWAY_PID=$gw

measure() {  # measure NAME SCENARIO VAR=value...
  local name=$1 scenario=$2
  shift 2
  case " ${ONLY:-$name} " in *" $name "*) ;; *) return 0 ;; esac
  echo "######## $name: $* bench/loadtest/measure.sh $scenario" | tee "$out/$name.txt"
  env "$@" bench/loadtest/measure.sh "$scenario" >>"$out/$name.txt" 2>&1
  echo "exit $?" >>"$out/$name.txt"
  sed -n '/^route/,/^all routes/p;/^enrollment_spike: every/p;/^== where/,/^  WAL/p' "$out/$name.txt"
  sleep 5
}

k6=${K6:-$(command -v k6 || true)}
[ -n "$k6" ] || [ ! -x ../shared/tools/k6 ] || k6=$(cd ../shared/tools && pwd)/k6
[ "$k6" = none ] && k6=
measure_k6() {  # measure_k6 NAME SCRIPT [-e VAR=value ...]: the k6 twin of run NAME
  local name=$1 script=$2
  shift 2
  [ -n "$k6" ] && [ -x "$k6" ] || return 0
  case " ${ONLY:-$name} " in *" $name "*) ;; *) return 0 ;; esac
  [ -f "$out/pool/learners.tsv" ] || POOL=2000 bench/loadtest/pool.sh >/dev/null
  local learners instructors
  learners=$(psql -X -At -c "SELECT count(*) FROM lms.users WHERE role = 'student'")
  instructors=$(psql -X -At -c "SELECT count(*) FROM lms.users WHERE role = 'instructor'")
  echo "######## k6-$name: $k6 run -e BASE_URL=$BASE_URL $* k6/$script" | tee "$out/k6-$name.txt"
  K6_NO_USAGE_REPORT=true "$k6" run -q --no-color --summary-trend-stats "avg,med,p(95),p(99),max" \
    --summary-export "$out/k6-$name.json" -e BASE_URL="$BASE_URL" -e LEARNERS="$learners" -e INSTRUCTORS="$instructors" \
    -e TOKENS_FILE="$out/pool/learners.tsv" -e STAFF_TOKENS_FILE="$out/pool/staff.tsv" "$@" "k6/$script" >>"$out/k6-$name.txt" 2>&1
  echo "exit $?" >>"$out/k6-$name.txt"
  python3 bench/loadtest/k6_summary.py "$out/k6-$name.json" | tee -a "$out/k6-$name.txt"
  sleep 5
}

psql -X -At -c "SELECT 'database ' || current_database() || ': ' || pg_size_pretty(pg_database_size(current_database()))
  || ', learners ' || (SELECT count(*) FROM lms.users WHERE role = 'student')" | tee "$out/database.txt"
measure smoke smoke DURATION="${SMOKE:-20s}"
measure_k6 smoke smoke.js
measure catalog catalog CONNECTIONS=500 DURATION="$run"
measure_k6 catalog catalog.js -e VUS=500 -e DURATION="$run"
measure catalog-peak catalog CONNECTIONS="$peak_conns" THINK=0 DURATION="$peak"
measure video-1000 video_progress CONNECTIONS=1000 DURATION="$run"
measure_k6 video-1000 video_progress.js -e VUS=1000 -e DURATION="$run"
# 1,000 connections writing every 1 s / 0.5 s: the write rate of 5,000 / 10,000 watchers at 5 s
measure video-5000eq video_progress CONNECTIONS=1000 PROGRESS_INTERVAL=1 DURATION="$run"
measure video-10000eq video_progress CONNECTIONS=1000 PROGRESS_INTERVAL=0.5 DURATION="$run"
measure video-peak video_progress CONNECTIONS="$peak_conns" THINK=0 DURATION="$peak"
measure realistic realistic CONNECTIONS=100 DURATION="$run"
measure_k6 realistic realistic.js -e VUS=100 -e DURATION="$run"
measure realistic-peak realistic CONNECTIONS="$peak_conns" THINK=0 DURATION="$peak"
measure realistic-peak-nologin realistic CONNECTIONS="$peak_conns" THINK=0 LOGIN=0 DURATION="$peak"
measure spike-200 enrollment_spike CONNECTIONS=200 SEATS=150 DURATION=5s
measure_k6 spike-200 enrollment_spike.js -e LEARNERS_SPIKE=200 -e SEATS=150 -e OFFSET=1000
measure spike-1000 enrollment_spike CONNECTIONS=1000 SEATS=500 DURATION=8s
echo "results in $out"
