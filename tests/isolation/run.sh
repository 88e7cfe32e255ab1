#!/usr/bin/env bash
# Isolation specs (pg_isolation_regress) against the running server (PGHOST/PGPORT/PGUSER),
# like tests/regress/run.sh. Each spec creates the extension in its setup and drops it in teardown.
#   tests/isolation/run.sh [spec ...]     every tests/isolation/specs/*.spec, or just the named ones
# Output (results/, regression.diffs) goes to $LMS_ISOLATION_OUT (default: a temporary folder).
# The last line is "N passed, M failed"; the exit status is non-zero on failure.
set -uo pipefail
cd "$(dirname "$0")"
pgxs=$(dirname "$(pg_config --pgxs)")/..
out=${LMS_ISOLATION_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/lms-isolation.XXXXXX")}
mkdir -p "$out"
specs=${*:-$(ls specs/*.spec 2>/dev/null | sed 's#specs/##; s#\.spec$##')}
[ -n "$specs" ] || { echo "0 passed, 1 failed (no specs)"; exit 1; }
rm -rf "$out/results" "$out/output_iso" "$out/regression.diffs" "$out/regression.out"
# shellcheck disable=SC2086
"$pgxs/test/isolation/pg_isolation_regress" --inputdir=. --outputdir="$out" \
  --bindir="$(pg_config --bindir)" ${PGHOST:+--host="$PGHOST"} ${PGPORT:+--port="$PGPORT"} ${PGUSER:+--user="$PGUSER"} \
  --dbname=lms_isolation $specs >"$out/isolation.txt" 2>&1
rc=$?
cat "$out/isolation.txt"
pass=$(grep -cE '\.\.\. ok' "$out/isolation.txt")
fail=$(grep -cE '\.\.\. FAILED' "$out/isolation.txt")
[ -s "$out/regression.diffs" ] && head -200 "$out/regression.diffs"
[ "$rc" -ne 0 ] && [ "$fail" -eq 0 ] && fail=1
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
