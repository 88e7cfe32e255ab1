#!/usr/bin/env bash
# Load-test smoke for CI (a minute at most): called by devenv/test.sh with a running private
# cluster holding the extension (PGHOST/PGPORT/PGUSER exported, $LMS_TEST_CLUSTER its folder).
#  1. bench/data/generate.sh tiny into a database of its own (200 learners; every counter and
#     the gamification recompute checked by the generator itself)
#  2. gateway/lms-gateway on a free 127.0.0.1 port, connected as lms_gateway
#  3. the k6 scenarios: loaded under every profile by tests/loadtest/k6_syntax.mjs, then one
#     real pass of each through its curl stand-in (--live); then on real k6 (k6_real.sh) when a
#     k6 binary is at hand: $K6, k6 on PATH, or ../shared/tools/k6 beside the checkout
#     (otherwise it says "skipped")
#  4. a 3-second wrk run of each scenario of bench/loadtest/ (zero unexpected statuses,
#     exactly SEATS enrollments in the spike)
#  5. the counters still agree with their rows after all that traffic
# Stops the gateway, drops the database and ends with "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
db=lms_loadtest_$$
work=$(mktemp -d /tmp/lms-loadtest-ci.XXXXXX)
gateway_bin=${LMS_GATEWAY_BIN:-gateway/lms-gateway}
passed=0
failed=0
gw_pid=

result() {  # result NAME RC [detail]
  if [ "$2" -eq 0 ]; then passed=$((passed + 1)); echo "ok     $1"
  else failed=$((failed + 1)); echo "FAILED $1${3:+: $3}"; fi
}
cleanup() {
  if [ -n "$gw_pid" ] && kill -0 "$gw_pid" 2>/dev/null; then
    kill "$gw_pid"; wait "$gw_pid" 2>/dev/null
  fi
  psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

# 1. data
if PGDATABASE=$db BCRYPT_COST=4 bench/data/generate.sh tiny >"$work/data.log" 2>&1; then
  result "bench-data tiny (counters and recompute checked)" 0
else
  result "bench-data tiny" 1 "$(tail -5 "$work/data.log" | tr '\n' ' ')"
  finish
fi
sed 's/^/    /' "$work/data.log"

# 2. gateway
psql -X -q -d postgres -c "ALTER ROLE lms_gateway LOGIN" >/dev/null
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
base=http://127.0.0.1:$port
if [ ! -x "$gateway_bin" ]; then
  result "gateway binary $gateway_bin" 1 "not built"
  finish
fi
LMS_DATABASE_URL="host=$PGHOST port=$PGPORT dbname=$db user=lms_gateway" LMS_LISTEN=127.0.0.1:$port \
  LMS_LOGIN_RATE=100000 LMS_ACCESS_LOG=off LMS_POOL_SIZE=4 LMS_MAX_CLIENT_CONNECTIONS=0 "$gateway_bin" >"$work/gateway.log" 2>&1 &
gw_pid=$!
for _ in $(seq 1 50); do curl -fs "$base/ready" >/dev/null 2>&1 && break; sleep 0.2; done
if curl -fs "$base/ready" >/dev/null 2>&1; then
  result "gateway ready on $base" 0
else
  result "gateway ready on $base" 1 "$(tail -5 "$work/gateway.log" | tr '\n' ' ')"
  finish
fi

# 3. k6 scenarios without k6
if command -v node >/dev/null; then
  LEARNERS=200 INSTRUCTORS=2 node tests/loadtest/k6_syntax.mjs --live "$base" >"$work/k6.log" 2>&1
  rc=$?
  result "k6 scripts: $(tail -1 "$work/k6.log") (every profile loaded, one live pass each)" $rc \
    "$(grep FAILED "$work/k6.log" | head -5 | tr '\n' ' ')"
else
  result "k6 scripts" 1 "node is not installed (Debian package nodejs)"
fi

# 3b. real k6
k6=${K6:-$(command -v k6 || true)}
[ -n "$k6" ] || [ ! -x "$root/../shared/tools/k6" ] || k6=$root/../shared/tools/k6
if [ -n "$k6" ] && [ -x "$k6" ]; then
  PGDATABASE=$db LMS_GATEWAY_BIN=$gateway_bin tests/loadtest/k6_real.sh "$k6" "$base" "$work/k6" >"$work/k6-real.log" 2>&1
  while IFS= read -r line; do
    case "$line" in
      "ok     "*) result "${line#ok     }" 0 ;;
      "FAILED "*) result "${line#FAILED }" 1 ;;
    esac
  done <"$work/k6-real.log"
  grep -qE '^(ok|FAILED) ' "$work/k6-real.log" || result "k6 on real k6" 1 "$(tail -3 "$work/k6-real.log" | tr '\n' ' ')"
else
  echo "skipped real k6: no k6 binary (set K6=/path/to/k6, or put k6 on PATH or at ../shared/tools/k6)"
fi

# 4. wrk, 3 s per scenario
export BASE_URL=$base PGDATABASE=$db LMS_POOL_DIR=$work/pool DURATION=3s POOL=200
for scenario in smoke realistic video_progress enrollment_spike catalog; do
  case "$scenario" in
    smoke) opts=(CONNECTIONS=1) ;;
    enrollment_spike) opts=(CONNECTIONS=40 SEATS=30) ;;
    *) opts=(CONNECTIONS=20 THINK=0) ;;
  esac
  env "${opts[@]}" bench/loadtest/run.sh "$scenario" >"$work/wrk-$scenario.log" 2>&1
  rc=$?
  summary=$(grep -E '^(loadtest|enrollment_spike:)' "$work/wrk-$scenario.log" | tail -2 | tr '\n' ' ')
  result "wrk $scenario 3 s: $(awk -F'\t' '$1 == "TOTAL" {print $2 " requests, " $3 " req/s"}' "$work"/pool/"$scenario"-*.routes 2>/dev/null | tail -1)" $rc "$summary"
  if [ $rc -ne 0 ]; then sed -n '/^route/,$p' "$work/wrk-$scenario.log" | sed 's/^/    /'; fi
done

if ! kill -0 "$gw_pid" 2>/dev/null; then
  result "gateway still running after the load" 1 "$(tail -5 "$work/gateway.log" | tr '\n' ' ')"
fi

# 5. the write traffic kept every counter right
bad=$(PGDATABASE=$db psql -X -At -F ' ' -f tests/backup/invariants.sql 2>&1 | awk '$NF != 0')
result "counters and gamification agree with their rows after the load" "$([ -z "$bad" ] && echo 0 || echo 1)" "$bad"

finish
