#!/usr/bin/env bash
# `make test`: every suite on a private throwaway cluster.
# Installs what is missing, builds and installs the extension and gateway, initdb's a cluster in
# a temporary folder (unix socket only), runs each suite, and always stops the server and removes
# the folder. Each suite prints "N passed, M failed" as its last line; this script adds them up
# and ends with that line of its own, exiting non-zero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

devenv/deps.sh || { echo "0 passed, 1 failed"; exit 1; }

logdir=$(mktemp -d /tmp/lms-test-logs.XXXXXX)
echo "== build"
if ! { make -s >"$logdir/build.log" 2>&1 && make -s install >>"$logdir/build.log" 2>&1; }; then
  tail -40 "$logdir/build.log"; echo "0 passed, 1 failed"; exit 1
fi

cluster=$(mktemp -d /tmp/lms-test-cluster.XXXXXX)
cleanup() {
  devenv/cluster.sh stop "$cluster" >/dev/null 2>&1
  rm -rf "$cluster"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

devenv/cluster.sh init "$cluster" "lms.clock_override = ''" >/dev/null && devenv/cluster.sh start "$cluster" \
  || { echo "0 passed, 1 failed"; exit 1; }
eval "$(devenv/cluster.sh env "$cluster")"
export LMS_TEST_CLUSTER="$cluster" PGDATABASE=postgres

total_pass=0
total_fail=0
# run_suite NAME COMMAND...: runs one suite, shows its result line, keeps its log
run_suite() {
  local name=$1; shift
  local log="$logdir/$name.log"
  local t0=$SECONDS
  "$@" >"$log" 2>&1
  local rc=$?
  local line
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
  local p f
  if [ -n "$line" ]; then
    p=$(echo "$line" | sed -E 's/^([0-9]+) passed.*/\1/')
    f=$(echo "$line" | sed -E 's/^[0-9]+ passed, ([0-9]+) failed.*/\1/')
  else
    p=0; f=0
  fi
  # a suite that failed without saying how many counts as one failure
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  printf '%-12s %4d passed, %3d failed  (%ds)\n' "$name" "$p" "$f" $((SECONDS - t0))
  if [ "$f" -ne 0 ]; then
    echo "---- $name: last lines of $log"; tail -60 "$log" | sed 's/^/    /'; echo "----"
  fi
  total_pass=$((total_pass + p))
  total_fail=$((total_fail + f))
}

echo "== suites (logs in $logdir)"
run_suite regress tests/regress/run.sh
[ -f tests/isolation/run.sh ] && run_suite isolation tests/isolation/run.sh
[ -f tests/pgtap/run.sh ] && run_suite pgtap tests/pgtap/run.sh
[ -f tests/backup/run.sh ] && run_suite backup tests/backup/run.sh
[ -f tests/recovery/run.sh ] && run_suite recovery tests/recovery/run.sh
[ -f tests/upgrade/run.sh ] && run_suite upgrade tests/upgrade/run.sh
[ -f tests/worker/run.sh ] && run_suite worker tests/worker/run.sh
[ -f tests/topology/run.sh ] && run_suite topology tests/topology/run.sh
if [ -f tests/http/run.sh ]; then
  run_suite http tests/http/run.sh
  if make -s -C gateway asan >"$logdir/asan-build.log" 2>&1; then
    LMS_GATEWAY_BIN=gateway/lms-gateway-asan run_suite http-asan tests/http/run.sh
  else
    echo "http-asan: build failed"; tail -20 "$logdir/asan-build.log"; total_fail=$((total_fail + 1))
  fi
fi
[ -f tests/pages/run.sh ] && run_suite pages tests/pages/run.sh
[ -f tests/edge/run.sh ] && run_suite edge tests/edge/run.sh
[ -f tests/loadtest/run.sh ] && run_suite loadtest tests/loadtest/run.sh
[ -f tests/monitoring/run.sh ] && run_suite monitoring tests/monitoring/run.sh
[ -f tests/fuzz/run.sh ] && run_suite fuzz tests/fuzz/run.sh 20

echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
