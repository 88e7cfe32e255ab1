#!/usr/bin/env bash
# Short libFuzzer run of tests/fuzz/fuzz_parse.c (the gateway's own parsers).
#   tests/fuzz/run.sh [seconds]      default 20 s; last line "N passed, M failed"
# Builds gateway/fuzz_parse with clang (make -C gateway fuzz); a crash or a failed check
# leaves its reproducer in tests/fuzz/artifacts/ and counts as one failure.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
secs=${1:-20}
if ! make -s -C "$root/gateway" fuzz >&2; then
  echo "0 passed, 1 failed"; exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$here/artifacts" "$work/corpus"
cp "$here"/corpus/* "$work/corpus/" 2>/dev/null || true
if "$root/gateway/fuzz_parse" -max_total_time="$secs" -max_len=4096 -timeout=10 -dict="$here/fuzz_parse.dict" \
     -artifact_prefix="$here/artifacts/" -print_final_stats=1 "$work/corpus" >"$work/log" 2>&1; then
  grep -E "^(stat::number_of_executed_units|#[0-9]+ *DONE)" "$work/log" | tail -2
  echo "1 passed, 0 failed"
else
  tail -40 "$work/log"
  echo "0 passed, 1 failed"; exit 1
fi
