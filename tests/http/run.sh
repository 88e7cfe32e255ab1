#!/usr/bin/env bash
# HTTP suite of lms-gateway against a real gateway and a real cluster.
#
# Called by the top-level harness with a RUNNING private cluster whose database $PGDATABASE
# already holds CREATE EXTENSION lms CASCADE; PGHOST (socket dir), PGPORT and PGUSER
# (superuser) are exported, LMS_TEST_CLUSTER is the cluster folder (devenv/cluster.sh
# stop|start it for the database-goes-away test). Builds nothing: runs gateway/lms-gateway,
# or $LMS_GATEWAY_BIN (e.g. gateway/lms-gateway-asan). Last line: "N passed, M failed".
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${LMS_GATEWAY_BIN:-$root/gateway/lms-gateway}
: "${PGDATABASE:?PGDATABASE must name the database holding the lms extension}"
: "${PGHOST:?}" "${PGPORT:?}" "${PGUSER:?}"

if [ ! -x "$bin" ]; then
  echo "gateway binary $bin not found (run make first)" >&2
  echo "0 passed, 1 failed"; exit 1
fi
psql -X -q -v ON_ERROR_STOP=1 -c "CREATE EXTENSION IF NOT EXISTS lms CASCADE" -c "ALTER ROLE lms_gateway LOGIN" >/dev/null 2>&1 || {
  echo "cannot grant LOGIN to lms_gateway" >&2; echo "0 passed, 1 failed"; exit 1; }

work=$(mktemp -d)
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log=$work/gateway.log
# ASan: report leaks but keep going; a sanitizer report still fails the shutdown test
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

LMS_DATABASE_URL="user=lms_gateway host=$PGHOST port=$PGPORT dbname=$PGDATABASE" \
LMS_LISTEN="127.0.0.1:$port" \
LMS_TRUST_PROXY=1 \
LMS_CORS_ORIGIN="https://app.example" \
LMS_POOL_SIZE=4 \
LMS_POOL_TIMEOUT_MS=3000 \
LMS_THREADS=64 \
LMS_LOG_LEVEL=${LMS_LOG_LEVEL:-warn} \
LMS_ACCESS_LOG=off \
  "$bin" >"$log" 2>&1 &
gw=$!

for _ in $(seq 1 100); do
  if /usr/bin/python3 - "$port" <<'EOF' 2>/dev/null; then break; fi
import sys, urllib.request
urllib.request.urlopen("http://127.0.0.1:%s/health" % sys.argv[1], timeout=1).read()
EOF
  kill -0 $gw 2>/dev/null || break
  sleep 0.1
done

GW_URL="http://127.0.0.1:$port" GW_BIN="$bin" GW_RESULTS="$work/results" \
  /usr/bin/python3 "$here/test_gateway.py"
py_rc=$?

# graceful shutdown: SIGTERM, in-flight work finishes, exit status 0 (and no sanitizer report)
passed=0; failed=0
if [ -f "$work/results" ]; then read -r passed failed <"$work/results"; else failed=1; fi
kill -TERM $gw 2>/dev/null
stopped=0
for _ in $(seq 1 150); do
  if ! kill -0 $gw 2>/dev/null; then stopped=1; break; fi
  sleep 0.1
done
if [ $stopped = 1 ]; then wait $gw; rc=$?; else kill -KILL $gw; rc=137; fi
if [ $rc = 0 ] && ! grep -q -E "(Address|Leak|Thread)Sanitizer|runtime error:" "$log"; then
  echo "ok   graceful shutdown on SIGTERM (exit 0, no sanitizer report)"
  passed=$((passed + 1))
else
  echo "FAIL graceful shutdown on SIGTERM: exit status $rc"
  grep -A30 -E "Sanitizer|runtime error" "$log" | head -60
  failed=$((failed + 1))
fi
if [ $failed -gt 0 ]; then
  echo "--- gateway log (last 40 lines) ---"; tail -40 "$log"
fi
rm -rf "$work"
[ $py_rc -le 1 ] || echo "(python suite exited with $py_rc)"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
