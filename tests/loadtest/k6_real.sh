#!/usr/bin/env bash
# The k6 scenarios of k6/ on real k6, when a k6 binary is at hand (called by run.sh; about 1.5
# minutes). Usage: k6_real.sh K6 BASE_URL WORKDIR, with PG* naming the database behind BASE_URL
# and LMS_GATEWAY_BIN / LMS_DATABASE_URL to start the throttled gateways of part 2.
#
# 1. Against the test's gateway (login limit lifted), with pooled sessions (bench/loadtest/pool.sh)
#    where a scenario takes them: smoke.js, realistic.js (learners, instructors and admins from
#    the pools), video_progress.js, catalog.js, enrollment_spike.js, each a few seconds; every
#    check and threshold must hold (k6 exits 0).
# 2. Against gateways with the default login limit (5 a minute per client), in the background
#    while part 1 runs:
#    - smoke.js as it is: a pass logs in 6 times, the last waits out its 429;
#    - enrollment_spike.js after the limit was used up: setup() waits out the 429 and the spike
#      still seats exactly SEATS learners;
#    - realistic.js with real logins (limit 2 a minute): the login requests stay a handful per VU
#      (every 429 is followed by its Retry-After), where a script that retries at once sends
#      thousands a second.
# Speed is not what this checks (the benchmarks do, docs/performance.md): the latency thresholds
# are raised far above anything a busy machine shows, the checks, error rates, seat counts and
# lessons completed stay as the scripts set them.
# Prints "ok NAME" / "FAILED NAME: why" lines and ends with "N passed, M failed".
set -uo pipefail
cd "$(dirname "$0")/../.."
k6=$1 base=$2 work=$3
gateway_bin=${LMS_GATEWAY_BIN:-gateway/lms-gateway}
passed=0
failed=0
pids=()
result() {  # result NAME RC [detail]
  if [ "$2" -eq 0 ]; then passed=$((passed + 1)); echo "ok     $1"
  else failed=$((failed + 1)); echo "FAILED $1${3:+: $3}"; fi
}
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; }
trap cleanup EXIT
mkdir -p "$work"
relaxed=(-e P95_MS=60000 -e AUTH_P95_MS=60000 -e PROGRESS_P95_MS=60000 -e CATALOG_P95_MS=60000 -e ENROLL_P95_MS=60000)
metric() {  # metric SUMMARY.json NAME FIELD: a value of k6's --summary-export, 0 when absent
  python3 -c 'import json, sys
m = json.load(open(sys.argv[1]))["metrics"].get(sys.argv[2], {})
print(int(m.get(sys.argv[3], 0)))' "$@" 2>/dev/null || echo 0
}
k6run() {  # k6run NAME [k6 args...]: runs k6 quietly, output in $work/NAME.txt
  local name=$1; shift
  K6_NO_USAGE_REPORT=true "$k6" run -q --no-color --summary-export "$work/$name.json" "$@" >"$work/$name.txt" 2>&1
}
why() {  # the crossed thresholds and failed checks of a run, on one line
  grep -E 'level=error|✗' "$work/$1.txt" | head -6 | tr -s ' ' | tr '\n' ' '
}
start_gateway() {  # start_gateway PORT RATE: a gateway with that login limit, pid appended to pids
  LMS_DATABASE_URL="host=$PGHOST port=$PGPORT dbname=$PGDATABASE user=lms_gateway" LMS_LISTEN=127.0.0.1:$1 \
    LMS_LOGIN_RATE=$2 LMS_ACCESS_LOG=off LMS_POOL_SIZE=2 LMS_THREADS=64 LMS_MAX_CLIENT_CONNECTIONS=0 \
    "$gateway_bin" >"$work/gateway-$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$1/ready" >/dev/null 2>&1 && return 0; sleep 0.2; done
  return 1
}
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
learners=$(psql -X -At -c "SELECT count(*) FROM lms.users WHERE role = 'student'")
instructors=$(psql -X -At -c "SELECT count(*) FROM lms.users WHERE role = 'instructor'")
common=(-e LEARNERS="$learners" -e INSTRUCTORS="$instructors")

LMS_POOL_DIR=$work/pool POOL=100 bench/loadtest/pool.sh >"$work/pool.log" 2>&1 \
  || { result "token pool for k6" 1 "$(tail -3 "$work/pool.log" | tr '\n' ' ')"; echo "$passed passed, $failed failed"; exit 1; }
tokens=(-e TOKENS_FILE="$work/pool/learners.tsv" -e STAFF_TOKENS_FILE="$work/pool/staff.tsv")

# ---- 2. the throttled gateways, in the background -----------------------------------------
pa=$(free_port); pb=$(free_port); pc=$(free_port)
if start_gateway "$pa" 5 && start_gateway "$pb" 5 && start_gateway "$pc" 2; then
  k6run throttled-smoke -e BASE_URL="http://127.0.0.1:$pa" "${common[@]}" "${relaxed[@]}" k6/smoke.js &
  bg_smoke=$!
  for _ in 1 2 3 4 5 6; do   # use up gateway B's login limit before the spike's setup logs in
    last=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
      -d '{"email":"nobody@example.com","password":"x"}' "http://127.0.0.1:$pb/api/v1/auth/login")
  done
  [ "$last" = 429 ] || result "gateway B's login limit used up before the spike" 1 "the 6th login got $last"
  k6run throttled-spike -e BASE_URL="http://127.0.0.1:$pb" "${common[@]}" "${relaxed[@]}" "${tokens[@]:0:2}" \
    -e LEARNERS_SPIKE=12 -e SEATS=8 -e GATHER_SECONDS=2 k6/enrollment_spike.js &
  bg_spike=$!
  k6run throttled-realistic -e BASE_URL="http://127.0.0.1:$pc" "${common[@]}" "${relaxed[@]}" -e VUS=6 -e DURATION=10s \
    -e THINK_MIN=0.1 -e THINK_MAX=0.3 -e LOGIN_WAIT=300 k6/realistic.js &
  bg_real=$!
else
  result "throttled gateways started" 1 "$(tail -3 "$work"/gateway-*.log | tr '\n' ' ')"
  bg_smoke= bg_spike= bg_real=
fi

# ---- 1. the lifted gateway --------------------------------------------------------------------
k6run smoke -e BASE_URL="$base" "${common[@]}" "${relaxed[@]}" k6/smoke.js
rc=$?
result "k6 smoke.js: $(metric "$work/smoke.json" checks passes) checks passed, $(metric "$work/smoke.json" checks fails) failed" $rc "$(why smoke)"

k6run realistic -e BASE_URL="$base" "${common[@]}" "${relaxed[@]}" "${tokens[@]}" -e VUS=10 -e DURATION=8s \
  -e THINK_MIN=0.1 -e THINK_MAX=0.3 -e PROGRESS_INTERVAL=0.3 -e WATCH_STEPS=2 k6/realistic.js
rc=$?
result "k6 realistic.js (pooled learners, instructors and admin): $(metric "$work/realistic.json" http_reqs count) requests, $(metric "$work/realistic.json" lessons_completed count) lessons completed" $rc "$(why realistic)"

k6run video -e BASE_URL="$base" "${common[@]}" "${relaxed[@]}" "${tokens[@]}" -e VUS=20 -e DURATION=6s \
  -e PROGRESS_INTERVAL=0.3 k6/video_progress.js
rc=$?
result "k6 video_progress.js: $(metric "$work/video.json" progress_writes count) progress writes" $rc "$(why video)"

k6run catalog -e BASE_URL="$base" "${common[@]}" "${relaxed[@]}" -e VUS=20 -e DURATION=6s \
  -e THINK_MIN=0.1 -e THINK_MAX=0.3 k6/catalog.js
rc=$?
result "k6 catalog.js: $(metric "$work/catalog.json" http_reqs count) requests" $rc "$(why catalog)"

k6run spike -e BASE_URL="$base" "${common[@]}" "${relaxed[@]}" "${tokens[@]}" -e LEARNERS_SPIKE=40 -e SEATS=30 \
  -e GATHER_SECONDS=3 k6/enrollment_spike.js
rc=$?
result "k6 enrollment_spike.js: $(metric "$work/spike.json" enroll_created count) created for 30 seats, $(metric "$work/spike.json" enroll_course_full count) course_full" $rc "$(why spike)"

# ---- 2. the throttled gateways' results -------------------------------------------------------
if [ -n "$bg_smoke" ]; then
  wait "$bg_smoke"; rc=$?
  t=$(metric "$work/throttled-smoke.json" auth_throttled count)
  result "k6 smoke.js against the default login limit: $(metric "$work/throttled-smoke.json" checks passes) checks passed, $t login(s) waited out a 429" \
    "$([ $rc -eq 0 ] && [ "$t" -ge 1 ] && echo 0 || echo 1)" "exit $rc; $(why throttled-smoke)"
  wait "$bg_spike"; rc=$?
  t=$(metric "$work/throttled-spike.json" auth_throttled count)
  result "k6 enrollment_spike.js with a throttled setup: the instructor's login waited out $t 429(s), $(metric "$work/throttled-spike.json" enroll_created count) created for 8 seats" \
    "$([ $rc -eq 0 ] && [ "$t" -ge 1 ] && echo 0 || echo 1)" "exit $rc; $(why throttled-spike)"
  wait "$bg_real"
  logins=$(curl -s "http://127.0.0.1:$pc/metrics" | awk '/^lms_http_requests_total\{route="\/api\/v1\/auth\/login",method="POST"/ {n += $NF} END {print n + 0}')
  limited=$(curl -s "http://127.0.0.1:$pc/metrics" | awk '/^lms_http_requests_total\{route="\/api\/v1\/auth\/login",method="POST",status="429"/ {n += $NF} END {print n + 0}')
  result "k6 realistic.js against a login limit of 2 a minute: $logins login requests from 6 VUs in 10 s ($limited answered 429), each 429 waited out" \
    "$([ "$limited" -ge 1 ] && [ "$logins" -le 30 ] && echo 0 || echo 1)"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
